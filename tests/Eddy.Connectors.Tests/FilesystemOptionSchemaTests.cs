using Eddy.Connectors;
using Eddy.Sql;
using Eddy.Sql.Connectors;
using Eddy.Sql.Parsing;

namespace Eddy.Tests;

/// <summary>
/// The filesystem connector checks its options through its declared schema when a query uses the table: each error
/// names the table and the option and is located at the option in the CREATE TABLE (the option sits on line 2).
/// </summary>
public class FilesystemOptionSchemaTests
{
    private static readonly ConnectorRegistry Registry = new([.. FileConnectors.All, .. DatagenConnectors.All]);

    private static SqlParseException RefusedSink(string with, string partitioned = "")
    {
        var session = new SqlSession(Registry, TextWriter.Null, TextWriter.Null);
        return Assert.Throws<SqlParseException>(() => session.Execute(
            $"CREATE TABLE snk (a INT, b STRING) {partitioned}WITH (\n  {with});\n"
            + "CREATE TABLE src (a INT, b STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '1');\nINSERT INTO snk SELECT * FROM src;"));
    }

    private static SqlParseException RefusedSource(string with)
    {
        var session = new SqlSession(Registry, TextWriter.Null, TextWriter.Null);
        return Assert.Throws<SqlParseException>(() => session.Execute(
            $"CREATE TABLE src (a INT, b STRING) WITH (\n  {with});\nCREATE TABLE snk (a INT, b STRING) WITH ('connector' = 'blackhole');\nINSERT INTO snk SELECT * FROM src;"));
    }

    [Fact]
    public void An_unknown_option_is_refused_at_the_option_with_the_nearest_name()
    {
        using var dir = new TempDir();
        var e = RefusedSink($"'connector' = 'filesystem', 'path' = '{dir.Path}', 'format' = 'csv', 'sink.rolling-policy.file-sise' = '1mb'", "PARTITIONED BY (b) ");
        Assert.Equal("table 'snk', option 'sink.rolling-policy.file-sise': unknown option for connector 'filesystem'; did you mean 'sink.rolling-policy.file-size'?", e.Reason);
        Assert.Equal(2, e.Line);
        Assert.Equal(3 + $"'connector' = 'filesystem', 'path' = '{dir.Path}', 'format' = 'csv', ".Length, e.Column);
    }

    [Fact]
    public void A_value_of_the_wrong_form_names_the_form()
    {
        using var dir = new TempDir();
        Assert.Equal("table 'snk', option 'sink.partition-commit.delay': expected a duration such as '5000', '10 s' or '1 min', got 'an hour'",
            RefusedSink($"'connector' = 'filesystem', 'path' = '{dir.Path}', 'format' = 'csv', 'sink.partition-commit.delay' = 'an hour'", "PARTITIONED BY (b) ").Reason);
        Assert.Equal("table 'snk', option 'parquet.compression': expected one of UNCOMPRESSED, SNAPPY, GZIP, ZSTD, got 'lz4'",
            RefusedSink($"'connector' = 'filesystem', 'path' = '{dir.Path}', 'format' = 'parquet', 'parquet.compression' = 'lz4'").Reason);
    }

    [Fact]
    public void A_format_option_under_another_format_is_refused_naming_both()
    {
        using var dir = new TempDir();
        var e = RefusedSource($"'connector' = 'filesystem', 'path' = '{dir.Path}', 'format' = 'json', 'csv.header' = 'true'");
        Assert.Equal("table 'src', option 'csv.header': an option of format 'csv', but 'format' is 'json'", e.Reason);
        Assert.Equal(2, e.Line);
    }

    [Fact]
    public void Missing_required_options_are_named()
    {
        using var dir = new TempDir();
        Assert.StartsWith("table 'src', option 'path': missing: connector 'filesystem' requires it",
            RefusedSource("'connector' = 'filesystem', 'format' = 'json'").Reason, StringComparison.Ordinal);
        Assert.StartsWith("table 'src', option 'format': missing: connector 'filesystem' requires it",
            RefusedSource($"'connector' = 'filesystem', 'path' = '{dir.Path}'").Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_Eddy_does_not_honour_are_refused_not_ignored()
    {
        using var dir = new TempDir();
        Assert.Equal("table 'src', option 'source.monitor-interval': continuous monitoring is not supported by Eddy: the source reads the path once, as a bounded source (remove the option)",
            RefusedSource($"'connector' = 'filesystem', 'path' = '{dir.Path}', 'format' = 'json', 'source.monitor-interval' = '10 s'").Reason);
        Assert.Equal("table 'snk', option 'sink.rolling-policy.rollover-interval': supported on a partitioned table only (PARTITIONED BY)",
            RefusedSink($"'connector' = 'filesystem', 'path' = '{dir.Path}', 'format' = 'csv', 'sink.rolling-policy.rollover-interval' = '1 min'").Reason);
    }

    [Fact]
    public void The_schema_declares_Flinks_defaults()
    {
        // Defaults from Flink's filesystem connector page (rolling policy, commit) and format pages (csv, parquet).
        var markdown = FilesystemOptions.Schema.ToMarkdown();
        Assert.Contains("| `sink.rolling-policy.file-size` | MemorySize | `128 mb` |", markdown);
        Assert.Contains("| `sink.rolling-policy.rollover-interval` | Duration | `30 min` |", markdown);
        Assert.Contains("| `sink.rolling-policy.check-interval` | Duration | `1 min` |", markdown);
        Assert.Contains("| `sink.partition-commit.trigger` | Enum | `process-time` |", markdown);
        Assert.Contains("| `sink.partition-commit.success-file.name` | String | `_SUCCESS` |", markdown);
        Assert.Contains("| `partition.default-name` | String | `__DEFAULT_PARTITION__` |", markdown);
        Assert.Contains("| `csv.field-delimiter` | String | `,` |", markdown);
        Assert.Contains("| `parquet.compression` | Enum | `SNAPPY` |", markdown);
        Assert.Contains("| `lookup.join.cache.ttl` | Duration | `1 h` |", markdown);
    }
}
