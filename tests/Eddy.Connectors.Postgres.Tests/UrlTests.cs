using Npgsql;

namespace Eddy.Connectors.Postgres.Tests;

public class UrlTests
{
    [Fact]
    public void Jdbc_url_becomes_an_npgsql_connection_string()
    {
        var b = PostgresUrls.FromJdbcUrl(
            "jdbc:postgresql://db.example:6543/lab?sslmode=verify-full&user=flink&password=p%40ss&currentSchema=analytics&ApplicationName=eddy%20job");
        Assert.Equal("db.example", b.Host);
        Assert.Equal(6543, b.Port);
        Assert.Equal("lab", b.Database);
        Assert.Equal(SslMode.VerifyFull, b.SslMode);
        Assert.Equal("flink", b.Username);
        Assert.Equal("p@ss", b.Password);
        Assert.Equal("analytics", b.SearchPath);
        Assert.Equal("eddy job", b.ApplicationName);
    }

    [Fact]
    public void Default_port_and_the_lab_url()
    {
        var b = PostgresUrls.FromJdbcUrl("jdbc:postgresql://host.docker.internal/postgres");
        Assert.Equal("host.docker.internal", b.Host);
        Assert.Equal(5432, b.Port);
        Assert.Equal("postgres", b.Database);
    }

    [Fact]
    public void Unsupported_parameter_is_an_error_naming_it()
    {
        var e = Assert.Throws<PostgresConfigException>(() => PostgresUrls.FromJdbcUrl("jdbc:postgresql://h:5432/db?ssl=true&user=u"));
        Assert.Contains("'ssl'", e.Message);
        Assert.Contains("sslmode", e.Message);
    }

    [Fact]
    public void Quoted_url_from_an_env_file_is_rejected_with_a_hint()
    {
        var e = Assert.Throws<PostgresConfigException>(() => PostgresUrls.FromJdbcUrl("\"jdbc:postgresql://host.docker.internal:5432/postgres\""));
        Assert.Contains("remove the surrounding quotes", e.Message);
    }

    [Theory]
    [InlineData("jdbc:mysql://h/db", "jdbc:postgresql://")]
    [InlineData("jdbc:postgresql://h:99999/db", "bad port")]
    [InlineData("jdbc:postgresql://h/db?sslmode=sometimes", "sslmode")]
    public void Malformed_urls_are_errors(string url, string expected)
    {
        var e = Assert.Throws<PostgresConfigException>(() => PostgresUrls.FromJdbcUrl(url));
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("processed_events", "\"processed_events\"")]
    [InlineData("Public.Events", "\"public\".\"events\"")]
    [InlineData("\"Mixed\".\"Odd\"\"Name\"", "\"Mixed\".\"Odd\"\"Name\"")]
    [InlineData("x; DROP TABLE y", "\"x; drop table y\"")]
    public void Table_names_are_folded_and_quoted_as_postgresql_does(string name, string quoted) =>
        Assert.Equal(quoted, PgTableName.Parse(name).Quoted);

    [Theory]
    [InlineData("a.b.c")]
    [InlineData("a.")]
    [InlineData("\"open")]
    public void Bad_table_names_are_errors(string name) =>
        Assert.Throws<PostgresConfigException>(() => PgTableName.Parse(name));
}
