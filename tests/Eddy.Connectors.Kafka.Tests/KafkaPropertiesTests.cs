namespace Eddy.Connectors.Kafka.Tests;

public class KafkaPropertiesTests
{
    private static Dictionary<string, string> Translate(params (string Key, string Value)[] properties) =>
        KafkaProperties.FromJava(properties.Select(p => KeyValuePair.Create(p.Key, p.Value)));

    [Fact]
    public void The_labs_shaded_plain_login_becomes_sasl_username_and_password()
    {
        // As the Flink lab's job builds it: f'...PlainLoginModule required username="{key}" password="{secret}";'
        var result = Translate(
            ("security.protocol", "SASL_SSL"),
            ("sasl.mechanism", "PLAIN"),
            ("sasl.jaas.config", "org.apache.flink.kafka.shaded.org.apache.kafka.common.security.plain.PlainLoginModule required username=\"ABCDEFG123\" password=\"s3cr+t/xyz==\";"));
        Assert.Equal("sasl_ssl", result["security.protocol"]);
        Assert.Equal("PLAIN", result["sasl.mechanism"]);
        Assert.Equal("ABCDEFG123", result["sasl.username"]);
        Assert.Equal("s3cr+t/xyz==", result["sasl.password"]);
        Assert.False(result.ContainsKey("sasl.jaas.config"));
    }

    [Fact]
    public void Unshaded_plain_and_scram_modules_are_understood()
    {
        var plain = Translate(("sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username='x' password=\"p w\";"
            .Replace('\'', '"')));
        Assert.Equal(("x", "p w"), (plain["sasl.username"], plain["sasl.password"]));
        Assert.Equal("PLAIN", plain["sasl.mechanism"]); // implied by a user name and password

        var scram = Translate(
            ("sasl.mechanism", "SCRAM-SHA-512"),
            ("sasl.jaas.config", "  org.apache.kafka.common.security.scram.ScramLoginModule required\n  username=alice\n  password=\"a\\\"b\" ;  "));
        Assert.Equal(("alice", "a\"b", "SCRAM-SHA-512"), (scram["sasl.username"], scram["sasl.password"], scram["sasl.mechanism"]));
    }

    [Fact]
    public void Empty_endpoint_identification_turns_verification_off_and_same_named_ssl_passes()
    {
        var result = Translate(("ssl.endpoint.identification.algorithm", ""), ("ssl.ca.location", "/etc/ca.pem"), ("client.id", "job"), ("linger.ms", "5"));
        Assert.Equal("none", result["ssl.endpoint.identification.algorithm"]);
        Assert.Equal("/etc/ca.pem", result["ssl.ca.location"]);
        Assert.Equal("job", result["client.id"]);
        Assert.Equal("5", result["linger.ms"]);
        Assert.Equal("https", Translate(("ssl.endpoint.identification.algorithm", "https"))["ssl.endpoint.identification.algorithm"]);
    }

    [Theory]
    [InlineData("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer", "'properties.key.deserializer'")]
    [InlineData("ssl.truststore.location", "/x.jks", "ssl.ca.location")]
    [InlineData("ssl.foo.bar", "x", "'properties.ssl.foo.bar': librdkafka has no such SSL property")]
    [InlineData("security.protocol", "SASL_TLS", "unknown protocol")]
    [InlineData("sasl.mechanism", "PLAN", "unknown mechanism")]
    public void Java_only_and_unknown_properties_are_errors_naming_them(string key, string value, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => Translate((key, value)));
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"hunter2-SECRET\"", "closing ';'")]
    [InlineData("org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"hunter2-SECRET;", "not closed")]
    [InlineData("org.apache.kafka.common.security.plain.PlainLoginModule optional username=\"u\" password=\"hunter2-SECRET\";", "'required'")]
    [InlineData("com.sun.security.auth.module.Krb5LoginModule required password=\"hunter2-SECRET\";", "Krb5LoginModule' is not supported")]
    [InlineData("org.apache.kafka.common.security.plain.PlainLoginModule required password=\"hunter2-SECRET\";", "needs username")]
    [InlineData("org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"hunter2-SECRET\" extra=\"hunter2-SECRET\";", "extra")]
    [InlineData("org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"hunter2-SECRET\"; x", "after the closing")]
    public void Bad_jaas_lines_are_errors_that_never_show_the_password(string jaas, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => Translate(("sasl.jaas.config", jaas)));
        Assert.Contains("properties.sasl.jaas.config", e.Message);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain("hunter2", e.ToString());
    }

    /// <summary>Eddy's consumers do not push client metrics unless the job asks (docs: KafkaProperties.ConsumerDefaults).</summary>
    [Fact]
    public void Consumers_leave_metrics_push_off_unless_the_job_sets_it()
    {
        var plain = new KafkaSourceOptions { Topics = ["t"], BootstrapServers = "localhost:9092" }.ConsumerConfig();
        Assert.Equal("false", plain.Get("enable.metrics.push"));
        var asked = new KafkaSourceOptions
        {
            Topics = ["t"], BootstrapServers = "localhost:9092",
            Properties = new Dictionary<string, string> { ["enable.metrics.push"] = "true", ["client.id"] = "job" },
        }.ConsumerConfig();
        Assert.Equal(("true", "job"), (asked.Get("enable.metrics.push"), asked.Get("client.id")));
        var exchange = new Eddy.Connectors.Kafka.Repartition.KafkaRepartitionExchange("localhost:9092");
        Assert.Equal("false", exchange.ConsumerConfig("g").Get("enable.metrics.push"));
        var exchangeAsked = new Eddy.Connectors.Kafka.Repartition.KafkaRepartitionExchange("localhost:9092",
            new Dictionary<string, string> { ["enable.metrics.push"] = "true" });
        Assert.Equal("true", exchangeAsked.ConsumerConfig("g").Get("enable.metrics.push"));
    }
}
