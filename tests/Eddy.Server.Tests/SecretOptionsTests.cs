using Eddy.Sql;

namespace Eddy.Server.Tests;

public class SecretOptionsTests
{
    [Theory]
    [InlineData("password", true)]
    [InlineData("properties.sasl.jaas.config", true)]
    [InlineData("properties.ssl.key.password", true)]
    [InlineData("properties.ssl.key.pem", true)]
    [InlineData("properties.sasl.oauthbearer.client.secret", true)]
    [InlineData("api-key", true)]
    [InlineData("token", true)]
    [InlineData("username", false)]
    [InlineData("key.format", false)]
    [InlineData("key.fields", false)]
    [InlineData("fields.token.kind", false)]
    [InlineData("properties.bootstrap.servers", false)]
    [InlineData("topic", false)]
    public void Secret_keys_are_recognised(string key, bool secret) => Assert.Equal(secret, SecretOptions.IsSecret(key));

    [Fact]
    public void Sql_text_keeps_everything_but_secret_values()
    {
        var sql = """
            CREATE TABLE t (a INT) WITH ('connector' = 'jdbc', 'url' = 'jdbc:postgresql://db/x', 'username' = 'eddy',
              'password' = 'it''s secret');
            SET 'properties.sasl.jaas.config' = 'x required username="u" password="p";';
            """;
        var redacted = SecretOptions.RedactSql(sql);
        Assert.Equal("""
            CREATE TABLE t (a INT) WITH ('connector' = 'jdbc', 'url' = 'jdbc:postgresql://db/x', 'username' = 'eddy',
              'password' = '******');
            SET 'properties.sasl.jaas.config' = '******';
            """, redacted);
    }

    [Fact]
    public void Messages_with_key_value_pairs_are_masked()
    {
        Assert.Equal("connect failed: host=db password=****** user=eddy",
            SecretOptions.RedactText("connect failed: host=db password=hunter2 user=eddy"));
        var options = SecretOptions.Redact(new Dictionary<string, string> { ["password"] = "p", ["topic"] = "t" });
        Assert.Equal(("******", "t"), (options["password"], options["topic"]));
    }
}
