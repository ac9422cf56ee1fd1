using Eddy.Connectors.Postgres.Cdc;
using Eddy.Sql;
using Eddy.Sql.Parsing;

namespace Eddy.Connectors.Postgres.Tests;

/// <summary>
/// The jdbc, postgres and postgres-cdc option schemas (<see cref="PostgresOptions"/>, <see cref="PostgresCdcSchema"/>):
/// unknown options refused with the nearest name, values of the wrong form named with the form expected, missing
/// required options named, passwords never echoed. Planning only: every table points at a closed port (no option
/// error waits for a server).
/// </summary>
public class PostgresOptionsTests
{
    private const string Jdbc = "'connector' = 'jdbc', 'url' = 'jdbc:postgresql://127.0.0.1:1/db', 'table-name' = 't'";

    private const string Postgres = "'connector' = 'postgres', 'hostname' = '127.0.0.1', 'table-name' = 't'";

    private const string Cdc = "'connector' = 'postgres-cdc', 'hostname' = '127.0.0.1', 'port' = '1', 'username' = 'u', 'database-name' = 'db', "
        + "'schema-name' = 'public', 'table-name' = 't', 'slot.name' = 's'";

    private static SqlParseException SinkError(string with) =>
        Assert.Throws<SqlParseException>(() => new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null).Execute($"""
            CREATE TABLE k (id INT, v STRING) WITH ({with});
            INSERT INTO k VALUES (1, 'a');
            """).ToList());

    private static SqlParseException SourceError(string with) =>
        Assert.Throws<SqlParseException>(() => new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null).Execute($"""
            CREATE TABLE k (id INT, v STRING, PRIMARY KEY (id) NOT ENFORCED) WITH ({with});
            CREATE TABLE o (id INT) WITH ('connector' = 'blackhole');
            INSERT INTO o SELECT id FROM k;
            """).ToList());

    [Fact]
    public void An_unknown_option_is_refused_at_the_option_with_the_nearest_name()
    {
        var e = SinkError(Jdbc + ", 'sink.buffer-flush.max-row' = '10'");
        Assert.Contains("table 'k', option 'sink.buffer-flush.max-row': unknown option for connector 'jdbc'; did you mean 'sink.buffer-flush.max-rows'?", e.Message);
        Assert.Equal(1, e.Line);
        Assert.Equal($"CREATE TABLE k (id INT, v STRING) WITH ({Jdbc}, ".Length + 1, e.Column);
        Assert.Contains("option 'databse': unknown option for connector 'postgres'; did you mean 'database'?", SinkError(Postgres + ", 'databse' = 'x'").Message);
        Assert.Contains("option 'slot_name': unknown option for connector 'postgres-cdc'; did you mean 'slot.name'?", SourceError(Cdc + ", 'slot_name' = 's'").Message);
    }

    [Theory]
    [InlineData(Jdbc + ", 'sink.buffer-flush.max-rows' = 'many'", "option 'sink.buffer-flush.max-rows': expected a positive integer, got 'many'")]
    [InlineData(Jdbc + ", 'sink.max-retries' = '-1'", "option 'sink.max-retries': expected a non-negative integer, got '-1'")]
    [InlineData(Jdbc + ", 'sink.create-table' = 'yes'", "option 'sink.create-table': expected true or false, got 'yes'")]
    [InlineData(Jdbc + ", 'lookup.partial-cache.expire-after-write' = 'an hour'", "option 'lookup.partial-cache.expire-after-write': expected a duration")]
    [InlineData(Postgres + ", 'port' = '70000'", "option 'port': expected a port number (1 to 65535), got '70000'")]
    public void A_sink_value_of_the_wrong_form_names_the_option_and_the_form(string with, string expected) =>
        Assert.Contains($"table 'k', {expected}", SinkError(with).Message);

    [Theory]
    [InlineData(", 'port' = 'five'", "option 'port': expected a port number (1 to 65535), got 'five'")]
    [InlineData(", 'scan.startup.mode' = 'earliest'", "option 'scan.startup.mode': expected initial, latest-offset or committed-offset, got 'earliest'")]
    [InlineData(", 'scan.incremental.snapshot.enabled' = 'true'", "option 'scan.incremental.snapshot.enabled': the incremental (chunked, parallel) snapshot is not supported")]
    public void A_cdc_value_of_the_wrong_form_names_the_option_and_the_form(string extra, string expected) =>
        Assert.Contains($"table 'k', {expected}", SourceError(Cdc.Replace(", 'port' = '1'", "", StringComparison.Ordinal) + extra).Message);

    [Fact]
    public void A_missing_required_option_is_named()
    {
        Assert.Contains("option 'url': missing: connector 'jdbc' requires it", SinkError("'connector' = 'jdbc', 'table-name' = 't'").Message);
        Assert.Contains("option 'table-name': missing: connector 'postgres' requires it", SinkError("'connector' = 'postgres', 'hostname' = '127.0.0.1'").Message);
        Assert.Contains("option 'hostname': required (or 'url'", SinkError("'connector' = 'postgres', 'table-name' = 't'").Message);
        Assert.Contains("option 'slot.name': missing: connector 'postgres-cdc' requires it", SourceError(Cdc.Replace(", 'slot.name' = 's'", "", StringComparison.Ordinal)).Message);
    }

    [Fact]
    public void A_password_is_declared_secret_and_never_echoed()
    {
        const string Password = "hunter2-SECRET";
        foreach (var schema in new[] { PostgresOptions.Jdbc, PostgresOptions.Postgres, PostgresCdcSchema.Schema })
        {
            Assert.True(schema.Find("password")!.Secret, schema.Connector);
            Assert.Equal(SecretOptions.Mask, schema.Redact(new Dictionary<string, string> { ["password"] = Password })["password"]);
        }
        // The url's password and the option differ: the error names the option, shows neither.
        var e = SinkError($"'connector' = 'jdbc', 'url' = 'jdbc:postgresql://127.0.0.1:1/db?password=other', 'table-name' = 't', 'password' = '{Password}'");
        Assert.Contains("option 'password': differs from the password in the url", e.Message);
        Assert.DoesNotContain(Password, e.Message);
        Assert.DoesNotContain("other", e.Message);
    }

    [Fact]
    public void Options_Eddy_does_not_take_are_refused_with_the_reason()
    {
        Assert.Contains("option 'scan.fetch-size': not supported: Eddy's PostgreSQL tables are sinks and lookup tables",
            SinkError(Jdbc + ", 'scan.fetch-size' = '100'").Message);
        Assert.Contains("option 'debezium.snapshot.mode': Eddy reads PostgreSQL itself, not through Debezium",
            SourceError(Cdc + ", 'debezium.snapshot.mode' = 'never'").Message);
    }
}
