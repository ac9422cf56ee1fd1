using Eddy.Sql;
using Eddy.Sql.Connectors;
using Eddy.Sql.Parsing;

namespace Eddy.Connectors.Kafka.Tests;

/// <summary>
/// The kafka and upsert-kafka option schemas (<see cref="KafkaOptions"/>): unknown options refused with the nearest
/// name (a format's options too), values of the wrong form named with the form expected, missing required options
/// named, secrets never echoed. Planning only: no broker is contacted.
/// </summary>
public class KafkaOptionsTests
{
    private const string Kafka = "'connector' = 'kafka', 'topic' = 't', 'properties.bootstrap.servers' = '127.0.0.1:1'";

    private const string Upsert = "'connector' = 'upsert-kafka', 'topic' = 't', 'properties.bootstrap.servers' = '127.0.0.1:1'";

    /// <summary>The planning error of reading (or, with <paramref name="write"/>, writing) a table with these options.</summary>
    private static SqlParseException PlanError(string with, bool write = false, string key = "")
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null, _ => null);
        string sql = write
            ? $"""
              CREATE TABLE k (host STRING, n INT{key}) WITH ({with});
              INSERT INTO k SELECT host, n FROM (VALUES ('a', 1)) AS v(host, n);
              """
            : $"""
              CREATE TABLE k (host STRING, n INT{key}) WITH ({with});
              CREATE TABLE o (host STRING, n INT) WITH ('connector' = 'blackhole');
              INSERT INTO o SELECT host, n FROM k;
              """;
        return Assert.Throws<SqlParseException>(() => session.Execute(sql));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_unknown_option_is_refused_at_the_option_with_the_nearest_name(bool write)
    {
        var e = PlanError(Kafka + ", 'format' = 'json', 'scan.startup.mod' = 'earliest-offset'", write);
        Assert.Contains("table 'k', option 'scan.startup.mod': unknown option for connector 'kafka'; did you mean 'scan.startup.mode'?", e.Message);
        // Located at the option in the WITH clause.
        Assert.Equal(1, e.Line);
        Assert.Equal($"CREATE TABLE k (host STRING, n INT) WITH ({Kafka}, ".Length + "'format' = 'json', ".Length + 1, e.Column);
    }

    [Fact]
    public void A_misspelt_format_option_is_unknown_too()
    {
        Assert.Contains("option 'json.ignore-parse-error': unknown option for connector 'kafka'; did you mean 'json.ignore-parse-errors'?",
            PlanError(Kafka + ", 'format' = 'json', 'json.ignore-parse-error' = 'true'").Message);
        Assert.Contains("option 'value.avro-confluent.urll': unknown option for connector 'kafka'; did you mean 'value.avro-confluent.url'?",
            PlanError(Kafka + ", 'value.format' = 'avro-confluent', 'value.avro-confluent.urll' = 'http://r:1'").Message);
        Assert.Contains("option 'key.avro.codecc': unknown option for connector 'kafka'; did you mean 'key.avro.codec'?",
            PlanError(Kafka + ", 'format' = 'json', 'key.format' = 'avro', 'key.fields' = 'host', 'key.avro.codecc' = 'null'").Message);
    }

    [Theory]
    [InlineData("'scan.startup.mode' = 'timestamp', 'scan.startup.timestamp-millis' = 'yesterday'", "option 'scan.startup.timestamp-millis': expected a non-negative integer, got 'yesterday'")]
    [InlineData("'properties.enable.auto.commit' = 'yes'", "option 'properties.enable.auto.commit': expected true or false, got 'yes'")]
    [InlineData("'properties.auto.commit.interval.ms' = '5 s'", "option 'properties.auto.commit.interval.ms': expected a non-negative integer, got '5 s'")]
    [InlineData("'value.fields-include' = 'SOME'", "option 'value.fields-include': expected one of ALL, EXCEPT_KEY, got 'SOME'")]
    [InlineData("'sink.delivery-guarantee' = 'exactly-onse'", "option 'sink.delivery-guarantee': expected one of none, at-least-once, exactly-once, got 'exactly-onse'; did you mean 'exactly-once'?")]
    [InlineData("'sink.parallelism' = '0'", "option 'sink.parallelism': expected a positive integer, got '0'")]
    [InlineData("'key.format' = 'csv', 'key.fields' = 'host'", "option 'key.format': expected one of json, raw, avro, got 'csv'")]
    public void A_value_of_the_wrong_form_names_the_option_and_the_form(string options, string expected) =>
        Assert.Contains($"table 'k', {expected}", PlanError(Kafka + ", 'format' = 'json', " + options).Message);

    [Fact]
    public void A_missing_required_option_is_named()
    {
        Assert.Contains("option 'properties.bootstrap.servers': missing: connector 'kafka' requires it",
            PlanError("'connector' = 'kafka', 'topic' = 't', 'format' = 'json'").Message);
        Assert.Contains("option 'format': required", PlanError(Kafka).Message);
        Assert.Contains("option 'topic': required", PlanError("'connector' = 'kafka', 'properties.bootstrap.servers' = '127.0.0.1:1', 'format' = 'json'", write: true).Message);
        Assert.Contains("option 'key.format': missing: connector 'upsert-kafka' requires it",
            PlanError(Upsert + ", 'value.format' = 'json'", write: true, key: ", PRIMARY KEY (host) NOT ENFORCED").Message);
    }

    [Fact]
    public void Options_upsert_kafka_or_Eddy_do_not_take_are_refused_with_the_reason()
    {
        Assert.Contains("option 'key.fields': not allowed with 'upsert-kafka': the PRIMARY KEY columns are the key",
            PlanError(Upsert + ", 'key.format' = 'json', 'value.format' = 'json', 'key.fields' = 'host'", key: ", PRIMARY KEY (host) NOT ENFORCED").Message);
        Assert.Contains("option 'sink.buffer-flush.max-rows': not supported",
            PlanError(Upsert + ", 'key.format' = 'json', 'value.format' = 'json', 'sink.buffer-flush.max-rows' = '10'", write: true, key: ", PRIMARY KEY (host) NOT ENFORCED").Message);
        Assert.Contains("option 'key.fields-prefix': not supported",
            PlanError(Kafka + ", 'format' = 'json', 'key.fields-prefix' = 'k_'").Message);
    }

    [Fact]
    public void A_secret_property_is_declared_secret_and_never_echoed()
    {
        const string Password = "hunter2-SECRET";
        var e = PlanError(Kafka + $", 'format' = 'json', 'properties.sasl.jaas.config' = 'org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"{Password}\"'");
        Assert.Contains("option 'properties.sasl.jaas.config': missing the closing ';'", e.Message);
        Assert.DoesNotContain(Password, e.Message);
        Assert.DoesNotContain(Password, e.ToString());
        foreach (var key in new[] { "properties.sasl.jaas.config", "properties.ssl.key.password", "properties.ssl.keystore.password", "properties.sasl.password" })
        {
            Assert.True(KafkaOptions.Kafka.Find(key)?.Secret, key);
            Assert.True(KafkaOptions.UpsertKafka.Find(key)?.Secret, key);
            Assert.Equal(SecretOptions.Mask, KafkaOptions.Kafka.Redact(new Dictionary<string, string> { [key] = Password })[key]);
        }
        Assert.False(KafkaOptions.Kafka.Find("properties.client.id")!.Secret);
    }

    [Fact]
    public void Secret_properties_still_reach_the_client()
    {
        // Declared on their own for masking, they are passed with the rest of properties.* (here translated by KafkaProperties).
        var options = KafkaOptions.Kafka.Validate("k", new Dictionary<string, string>
        {
            ["properties.bootstrap.servers"] = "127.0.0.1:1",
            ["properties.sasl.jaas.config"] = "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"u\" password=\"p\";",
            ["properties.security.protocol"] = "SASL_SSL",
            ["properties.ssl.key.password"] = "kp",
        });
        var properties = KafkaTableConnector.Properties(options);
        Assert.Equal("u", properties["sasl.username"]);
        Assert.Equal("p", properties["sasl.password"]);
        Assert.Equal("kp", properties["ssl.key.password"]);
        Assert.Equal("sasl_ssl", properties["security.protocol"]);
        Assert.False(properties.ContainsKey("bootstrap.servers"));
    }
}
