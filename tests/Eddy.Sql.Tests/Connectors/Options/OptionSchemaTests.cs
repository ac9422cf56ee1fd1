using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors;
using Eddy.Sql.Connectors.Options;

namespace Eddy.Sql.Tests.Connectors.Options;

/// <summary>
/// The option schema: unknown options refused with the nearest name, values of the wrong form named with the form
/// expected, required options named, secrets masked; and the one Flink duration/memory-size parser, whose expected
/// values follow Flink's unit definitions (TimeUtils: ms, s, min, h, d; MemorySize: powers of 1024).
/// </summary>
public class OptionSchemaTests
{
    private static readonly ConnectorOption<string> Url = Option.String("url", "where").AsRequired();
    private static readonly ConnectorOption<string> Password = Option.String("password", "the password").AsSecret();
    private static readonly ConnectorOption<int> Retries = Option.Int("max-retries", "how often", min: 0).WithDefault(3);
    private static readonly ConnectorOption<TimeSpan> Interval = Option.Duration("flush.interval", "how long").WithDefault(TimeSpan.FromSeconds(1));
    private static readonly ConnectorOption<long> Size = Option.MemorySize("buffer.size", "how much");
    private static readonly ConnectorOption<string> Mode = Option.Enum("mode", "which", "append", "upsert");
    private static readonly ConnectorOption<string> Properties = Option.Prefix("properties.", "passed through");

    private static readonly OptionSchema Schema = new("test", Url, Password, Retries, Interval, Size, Mode, Properties);

    private static ConnectorOptions Validate(params (string Key, string Value)[] options) =>
        Schema.Validate("t", options.ToDictionary(o => o.Key, o => o.Value));

    private static string Refused(params (string Key, string Value)[] options) =>
        Assert.Throws<ConnectorOptionException>(() => Validate(options)).Message;

    [Fact]
    public void Values_are_read_typed_with_defaults_for_those_not_given()
    {
        var o = Validate(("connector", "test"), ("url", "x://h"), ("flush.interval", "2 min"), ("buffer.size", "4 kb"), ("mode", "UPSERT"),
            ("properties.acks", "all"), ("properties.linger.ms", "5"));
        Assert.Equal("x://h", o.Get(Url));
        Assert.Equal(3, o.Get(Retries));
        Assert.False(o.Has(Retries));
        Assert.Equal(TimeSpan.FromMinutes(2), o.Get(Interval));
        Assert.Equal(4 * 1024L, o.Find(Size));
        Assert.Equal("upsert", o.Get(Mode));
        Assert.Equal(new Dictionary<string, string> { ["acks"] = "all", ["linger.ms"] = "5" }, o.Family(Properties));
        Assert.Null(o.FindString(Password));
    }

    [Fact]
    public void An_unknown_option_is_refused_with_the_nearest_name()
    {
        Assert.Equal("table 't', option 'max-retry': unknown option for connector 'test'; did you mean 'max-retries'?",
            Refused(("url", "u"), ("max-retry", "1")));
        Assert.Equal("table 't', option 'zzz': unknown option for connector 'test'; its options are connector, url, password, max-retries, "
            + "flush.interval, buffer.size, mode, properties.*", Refused(("url", "u"), ("zzz", "1")));
        Assert.Equal("table 't', option 'connector': expected 'test', got 'other'", Refused(("connector", "other"), ("url", "u")));
    }

    [Theory]
    [InlineData("max-retries", "-1", "expected a non-negative integer, got '-1'")]
    [InlineData("max-retries", "many", "expected a non-negative integer, got 'many'")]
    [InlineData("flush.interval", "1.5 s", "expected a duration such as '5000', '10 s' or '1 min', got '1.5 s'")]
    [InlineData("flush.interval", "5 parsecs", "unknown time unit 'parsecs' in '5 parsecs'; use ms, s, min, h or d")]
    [InlineData("buffer.size", "1 zb", "unknown size unit 'zb' in '1 zb' (b, kb, mb, gb, tb)")]
    [InlineData("mode", "upsrt", "expected one of append, upsert, got 'upsrt'; did you mean 'upsert'?")]
    public void A_value_of_the_wrong_form_names_the_option_and_the_form_expected(string key, string value, string problem) =>
        Assert.Equal($"table 't', option '{key}': {problem}", Refused(("url", "u"), (key, value)));

    [Fact]
    public void A_template_option_reads_one_typed_value_per_placeholder()
    {
        var kind = Option.Enum("fields.<name>.kind", "how", "random", "sequence").WithDefault("random");
        var min = Option.Int("fields.<name>.min", "least");
        var schema = new OptionSchema("gen", kind, min);
        var o = schema.Validate("t", new Dictionary<string, string> { ["fields.a.kind"] = "SEQUENCE", ["fields.a.b.min"] = "3", ["fields.c.min"] = "-1" });
        Assert.Equal(new Dictionary<string, string> { ["a"] = "sequence" }, o.PerName(kind));
        Assert.Equal(new Dictionary<string, int> { ["a.b"] = 3, ["c"] = -1 }, o.PerName(min));
        Assert.Equal("fields.x.min", min.KeyFor("x"));

        var e = Assert.Throws<ConnectorOptionException>(() => schema.Validate("t", new Dictionary<string, string> { ["fields.a.min"] = "low" }));
        Assert.Equal("table 't', option 'fields.a.min': expected an integer, got 'low'", e.Message);
        // The nearest name is the template instantiated with the key's own placeholder.
        e = Assert.Throws<ConnectorOptionException>(() => schema.Validate("t", new Dictionary<string, string> { ["fields.a.mni"] = "1" }));
        Assert.Equal("table 't', option 'fields.a.mni': unknown option for connector 'gen'; did you mean 'fields.a.min'?", e.Message);
        // No placeholder between the template's head and tail is no key of it.
        e = Assert.Throws<ConnectorOptionException>(() => schema.Validate("t", new Dictionary<string, string> { ["fields.min"] = "1" }));
        Assert.StartsWith("table 't', option 'fields.min': unknown option for connector 'gen'", e.Message);
    }

    [Fact]
    public void A_family_another_component_reads_refuses_names_it_does_not_know()
    {
        // A format's options (json.*): the format reads them, the schema still refuses a misspelt one.
        var json = Option.Family("json.", "options of the json format", () => ["ignore-parse-errors", "fail-on-missing-field"]);
        var valueJson = Option.Family("value.json.", "the same, after 'value.format'", () => ["ignore-parse-errors"]);
        var schema = new OptionSchema("f", json, valueJson, Properties);
        var o = schema.Validate("t", new Dictionary<string, string> { ["json.ignore-parse-errors"] = "true", ["value.json.ignore-parse-errors"] = "x" });
        Assert.Equal(new Dictionary<string, string> { ["ignore-parse-errors"] = "true" }, o.Family(json));
        Assert.Equal(new Dictionary<string, string> { ["ignore-parse-errors"] = "x" }, o.Family(valueJson));
        Assert.Equal("table 't', option 'json.ignore-parse-error': unknown option for connector 'f'; did you mean 'json.ignore-parse-errors'?",
            Assert.Throws<ConnectorOptionException>(() => schema.Validate("t", new Dictionary<string, string> { ["json.ignore-parse-error"] = "true" })).Message);
        Assert.Equal("table 't', option 'value.json.fail-on-missing-field': unknown option for connector 'f'; did you mean 'json.fail-on-missing-field'?",
            Assert.Throws<ConnectorOptionException>(() => schema.Validate("t", new Dictionary<string, string> { ["value.json.fail-on-missing-field"] = "true" })).Message);
    }

    [Fact]
    public void A_Flink_option_Eddy_does_not_implement_is_refused_with_its_reason_and_documented()
    {
        var discovery = Option.Refused("scan.topic-partition-discovery.interval", "not supported: partitions are listed once");
        var debezium = Option.Refused("debezium.", "not supported: no Debezium engine");
        var publication = Option.String("debezium.publication.name", "the publication");
        var schema = new OptionSchema("u", discovery, debezium, publication);
        Assert.Equal("table 't', option 'scan.topic-partition-discovery.interval': not supported: partitions are listed once",
            Assert.Throws<ConnectorOptionException>(() => schema.Validate("t", new Dictionary<string, string> { ["scan.topic-partition-discovery.interval"] = "1 min" })).Message);
        Assert.Equal("table 't', option 'debezium.snapshot.mode': not supported: no Debezium engine",
            Assert.Throws<ConnectorOptionException>(() => schema.Validate("t", new Dictionary<string, string> { ["debezium.snapshot.mode"] = "never" })).Message);
        Assert.Equal("p", schema.Validate("t", new Dictionary<string, string> { ["debezium.publication.name"] = "p" }).FindString(publication));
        Assert.Contains("| `debezium.*` | - |  |  |  | not supported: no Debezium engine |", schema.ToMarkdown());
    }

    [Fact]
    public void A_missing_required_option_is_named()
    {
        Assert.Equal("table 't', option 'url': missing: connector 'test' requires it (where)", Refused(("mode", "append")));
    }

    [Fact]
    public void A_secret_value_never_appears_in_an_error_or_in_shown_options()
    {
        var secretInt = Option.Int("api-token", "a numeric token", min: 0).AsSecret();
        var schema = new OptionSchema("s", secretInt);
        var e = Assert.Throws<ConnectorOptionException>(() => schema.Validate("t", new Dictionary<string, string> { ["api-token"] = "hunter2" }));
        Assert.DoesNotContain("hunter2", e.Message);
        Assert.Equal("table 't', option 'api-token': expected a non-negative integer", e.Message);

        var shown = Schema.Redact(new Dictionary<string, string> { ["url"] = "x://u:pw@h/db", ["password"] = "pw", ["mode"] = "append" });
        Assert.Equal(SecretOptions.Mask, shown["password"]);
        Assert.Equal("x://u:******@h/db", shown["url"]);
        Assert.Equal("append", shown["mode"]);
    }

    [Fact]
    public void A_schema_that_disagrees_with_SecretOptions_is_refused_when_declared()
    {
        // Whatever shows options (the server, the dashboard, EXPLAIN) masks by name: a secret it would not mask, or a
        // masked option not declared secret, is a declaration error.
        Assert.Contains("declares 'color' secret", Assert.Throws<ArgumentException>(() => new OptionSchema("s", Option.String("color", "c").AsSecret())).Message);
        Assert.Contains("declare it secret", Assert.Throws<ArgumentException>(() => new OptionSchema("s", Option.String("password", "p"))).Message);
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => new OptionSchema("s", Url, Url)).Message);
    }

    [Theory]
    [InlineData("5000", 5000)]
    [InlineData("10 s", 10_000)]
    [InlineData("10s", 10_000)]
    [InlineData("1 min", 60_000)]
    [InlineData("3 minutes", 180_000)]
    [InlineData("2 h", 7_200_000)]
    [InlineData("1 d", 86_400_000)]
    [InlineData("500 ms", 500)]
    public void Durations_read_as_Flink_reads_them(string text, long milliseconds)
    {
        Assert.True(FlinkValues.TryParseDuration(text, out var d, out var problem), problem);
        Assert.Equal(milliseconds, (long)d.TotalMilliseconds);
    }

    [Theory]
    [InlineData("1024", 1024)]
    [InlineData("1 kb", 1024)]
    [InlineData("128MB", 128L * 1024 * 1024)]
    [InlineData("2 g", 2L * 1024 * 1024 * 1024)]
    public void Memory_sizes_read_as_Flink_reads_them(string text, long bytes)
    {
        Assert.True(FlinkValues.TryParseMemorySize(text, out long b, out var problem), problem);
        Assert.Equal(bytes, b);
    }

    [Fact]
    public void The_built_in_sinks_validate_their_options_through_their_schemas()
    {
        static string Error(string with)
        {
            var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
            var e = Assert.ThrowsAny<Exception>(() => session.Execute($"""
                CREATE TABLE src (a INT) WITH ('connector' = 'datagen', 'number-of-rows' = '1');
                CREATE TABLE snk (a INT) WITH ({with});
                INSERT INTO snk SELECT a FROM src;
                """));
            return e.Message;
        }
        Assert.Contains("option 'print-identifer': unknown option for connector 'print'; did you mean 'print-identifier'?",
            Error("'connector' = 'print', 'print-identifer' = 'x'"));
        Assert.Contains("option 'standard-error': expected true or false, got 'yes'", Error("'connector' = 'print', 'standard-error' = 'yes'"));
        Assert.Contains("option 'sink.rows-per-second': expected a positive number, got '0'", Error("'connector' = 'blackhole', 'sink.rows-per-second' = '0'"));
        Assert.Contains("option 'print-identifier': unknown option for connector 'blackhole'", Error("'connector' = 'blackhole', 'print-identifier' = 'x'"));
    }

    [Fact]
    public void The_registry_lists_each_declared_schema_as_a_table_of_options()
    {
        var docs = TestConnectors.Registry.OptionsMarkdown();
        Assert.Contains("## `print`", docs);
        Assert.Contains("| `standard-error` | Boolean | `false` |  |  | print to the job's error output instead of its output |", docs);
        Assert.Contains("| `sink.rows-per-second` | Double |  |  |  |", docs);
    }
}
