namespace Eddy.Tests;

/// <summary>Inputs that used to end the CLI with a stack trace, a dead process or a secret on screen.</summary>
public class HostileInputTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("eddy-hostile-").FullName;

    public void Dispose()
    {
        Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    [Theory]
    [InlineData("AND")]
    [InlineData("OR")]
    [InlineData("+")]
    [InlineData("||")]
    public void Explain_plans_a_script_of_one_3000_term_chain(string op)
    {
        var terms = Enumerable.Range(0, 3000);
        string expr = op is "AND" or "OR" ? string.Join($" {op} ", terms.Select(i => $"a = {i}")) : string.Join($" {op} ", terms.Select(_ => op == "+" ? "a" : "b"));
        string path = Path.Combine(dir, "chain.sql");
        File.WriteAllText(path, $"""
            CREATE TABLE src (a INT, b STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '10');
            CREATE TABLE out_t (x {(op == "||" ? "STRING" : op == "+" ? "INT" : "BOOLEAN")}) WITH ('connector' = 'blackhole');
            INSERT INTO out_t SELECT {expr} FROM src;
            """);
        var (code, output, error) = CliTests.Run("explain", path);
        Assert.True(code == 0, error);
        Assert.Contains("== Physical Plan ==", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_misspelled_option_is_named_with_the_nearest()
    {
        string path = Path.Combine(dir, "x.sql");
        File.WriteAllText(path, "SELECT 1;");
        var (code, _, error) = CliTests.Run("run", path, "--paralelism", "3");
        Assert.Equal(2, code);
        Assert.Equal("error: unknown option '--paralelism' for 'eddy run'; did you mean '--set parallelism.default=...'? (see 'eddy run --help')", error.Trim());
        (code, _, error) = CliTests.Run("explain", path, "--sett", "a=b");
        Assert.Equal(2, code);
        Assert.Contains("unknown option '--sett' for 'eddy explain'; did you mean '--set'?", error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_offending_line_of_an_error_is_printed_with_secrets_masked()
    {
        string path = Path.Combine(dir, "secret.sql");
        File.WriteAllText(path, """
            CREATE TABLE t (a INT) WITH ('connector' = 'datagen', 'password' = 'hunter2-secret' 'oops');
            """);
        var (code, _, error) = CliTests.Run("explain", path);
        Assert.Equal(1, code);
        Assert.DoesNotContain("hunter2", error, StringComparison.Ordinal);
        Assert.Contains("'password' = '******' 'oops'", error, StringComparison.Ordinal);
        // The caret still points at the offending token after the masking shortened the line.
        var lines = error.Split('\n');
        int source = Array.FindIndex(lines, l => l.StartsWith("1 | ", StringComparison.Ordinal));
        Assert.Equal(lines[source].IndexOf("'oops'", StringComparison.Ordinal), lines[source + 1].IndexOf('^'));

        File.WriteAllText(path, """
            CREATE TABLE t (a INT) WITH ('connector' = 'jdbc', 'url' = 'jdbc:postgresql://h/db?user=u&password=pw-in-url', 'table-name' = '${NOT_SET_ANYWHERE}');
            """);
        (code, _, error) = CliTests.Run("explain", path);
        Assert.Equal(1, code);
        Assert.DoesNotContain("pw-in-url", error, StringComparison.Ordinal);
        Assert.Contains("password=******", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_kafka_bootstrap_servers_are_refused_at_the_option()
    {
        string path = Path.Combine(dir, "kafka.sql");
        File.WriteAllText(path, """
            CREATE TABLE events (host STRING) WITH ('connector' = 'kafka', 'topic' = 'web', 'format' = 'json',
              'properties.bootstrap.servers' = '[[[[[', 'scan.startup.mode' = 'earliest-offset');
            CREATE TABLE out_t (host STRING) WITH ('connector' = 'blackhole');
            INSERT INTO out_t SELECT host FROM events;
            """);
        var (code, _, error) = CliTests.Run("explain", path);
        Assert.Equal(1, code);
        Assert.StartsWith("error: kafka.sql: line 2, column 3: table 'events', option 'properties.bootstrap.servers': '[[[[[' is not host:port", error, StringComparison.Ordinal);
    }
}
