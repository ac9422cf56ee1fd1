using System.Globalization;

namespace Eddy.Connectors;

/// <summary>Flink's <c>json.timestamp-format.standard</c>.</summary>
public enum TimestampFormat
{
    /// <summary><c>yyyy-MM-dd HH:mm:ss.fff</c> (TIMESTAMP_LTZ with a trailing <c>Z</c>).</summary>
    Sql,
    /// <summary><c>yyyy-MM-ddTHH:mm:ss.fff</c> (TIMESTAMP_LTZ with a trailing <c>Z</c>).</summary>
    Iso8601,
}

public enum FileFormat
{
    /// <summary>One JSON object per line (Flink's <c>json</c> format).</summary>
    JsonLines,
    /// <summary>RFC 4180 CSV, columns by position (Flink's <c>csv</c> format).</summary>
    Csv,
    /// <summary>Apache Parquet (Flink's <c>parquet</c> format), written and read with Parquet.Net.</summary>
    Parquet,
    /// <summary>A format handed to the connector by the composition root (<see cref="FileConnectorOptions.Plugged"/>: <c>avro</c>).</summary>
    Plugged,
}

/// <summary>
/// Options of the file source and sink, with Flink's filesystem-connector names for <see cref="Parse"/>:
/// <c>path</c>, <c>format</c> (<c>json</c> | <c>csv</c>), <c>json.ignore-parse-errors</c>, <c>csv.ignore-parse-errors</c>,
/// <c>json.fail-on-missing-field</c>, <c>json.timestamp-format.standard</c> (<c>SQL</c> | <c>ISO-8601</c>),
/// <c>csv.field-delimiter</c>, <c>csv.array-element-delimiter</c>; Eddy extension: <c>csv.header</c> (the first line
/// of every file names the columns; the sink writes one).
/// </summary>
public sealed record FileConnectorOptions(string Path, FileFormat Format)
{
    /// <summary>Skip (and count) records that fail to parse instead of failing the job.</summary>
    public bool IgnoreParseErrors { get; init; }

    /// <summary>JSON: a field of the schema missing from a record is an error instead of null.</summary>
    public bool FailOnMissingField { get; init; }

    /// <summary>How the sink writes timestamps (the source reads both).</summary>
    public TimestampFormat TimestampFormat { get; init; } = TimestampFormat.Sql;

    public char CsvDelimiter { get; init; } = ',';

    public char CsvArrayDelimiter { get; init; } = ';';

    public bool CsvHeader { get; init; }

    /// <summary>When the sink closes a part file (<c>sink.rolling-policy.*</c>).</summary>
    public RollingPolicy Rolling { get; init; } = new();

    /// <summary>How a partitioned sink commits partitions (<c>sink.partition-commit.*</c>).</summary>
    public PartitionCommitOptions Commit { get; init; } = new();

    /// <summary>Parquet: the row group size in bytes (Flink's <c>parquet.block.size</c>, 128 MiB), estimated from the buffered values.</summary>
    public long ParquetBlockSize { get; init; } = 128L << 20;

    /// <summary>Parquet: the page compression (Flink's <c>parquet.compression</c>, SNAPPY).</summary>
    public string ParquetCompression { get; init; } = "SNAPPY";

    /// <summary>The format when it is not built in (<see cref="FileFormat.Plugged"/>).</summary>
    public IFileFormat? Plugged { get; init; }

    /// <summary>The options of a <see cref="Plugged"/> format, as the table gives them.</summary>
    public IReadOnlyDictionary<string, string> FormatOptions { get; init; } = NoFormatOptions;

    /// <summary>One instance, so that options without a plugged format compare equal (records compare by reference here).</summary>
    private static readonly IReadOnlyDictionary<string, string> NoFormatOptions = new Dictionary<string, string>();

    /// <summary>The file extension of part files: <c>jsonl</c>, <c>csv</c>, <c>parquet</c> or the plugged format's.</summary>
    public string Extension => Format switch { FileFormat.JsonLines => "jsonl", FileFormat.Csv => "csv", FileFormat.Plugged => Plugged!.Extension, _ => "parquet" };

    /// <summary>Checks that the format can hold <paramref name="columns"/> (planning).</summary>
    public void CheckColumns(IEnumerable<Column> columns)
    {
        if (Format == FileFormat.Parquet) ParquetColumns.Check(columns);
        else if (Plugged is { } plugged) plugged.Check(this, columns.ToList());
    }

    /// <param name="formats">The formats beyond json, csv and parquet that this connector was built with.</param>
    public static FileConnectorOptions Parse(IReadOnlyDictionary<string, string> options, IReadOnlyList<IFileFormat>? formats = null)
    {
        string path = options.TryGetValue("path", out var p) && p.Length > 0 ? p : throw Error("path", "required");
        // Flink's paths are URIs; the local file system is the one Eddy has.
        if (path.StartsWith("file://", StringComparison.OrdinalIgnoreCase)) path = path["file://".Length..];
        else if (path.StartsWith("file:", StringComparison.OrdinalIgnoreCase)) path = path["file:".Length..];
        else if (System.Text.RegularExpressions.Regex.IsMatch(path, "^[a-zA-Z][a-zA-Z0-9+.-]*://"))
            throw Error("path", $"'{path}': only local paths (or file://) are supported");
        formats ??= [];
        string[] names = ["'json'", "'csv'", "'parquet'", .. formats.Select(f => $"'{f.Name}'")];
        string known = string.Join(", ", names[..^1]) + " or " + names[^1];
        if (!options.TryGetValue("format", out var formatText)) throw Error("format", $"required ({known})");
        var plugged = formats.FirstOrDefault(f => f.Name == formatText);
        var format = formatText switch
        {
            "json" => FileFormat.JsonLines,
            "csv" => FileFormat.Csv,
            "parquet" => FileFormat.Parquet,
            _ when plugged is not null => FileFormat.Plugged,
            "avro" => throw Error("format", $"'avro' files need Eddy.Connectors.Formats, which this process's filesystem connector was not built with; expected {known}"),
            _ => throw Error("format", $"expected {known}, got '{formatText}'"),
        };
        var result = new FileConnectorOptions(path, format) { Plugged = plugged };
        var formatOptions = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in options.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            switch (key)
            {
                case "path" or "format":
                    break;
                case var own when plugged is not null && plugged.Options.Contains(own):
                    formatOptions[own] = value;
                    break;
                case "connector":
                    if (value != "filesystem") throw Error(key, $"expected 'filesystem', got '{value}'");
                    break;
                case "json.ignore-parse-errors" when format == FileFormat.JsonLines:
                case "csv.ignore-parse-errors" when format == FileFormat.Csv:
                    result = result with { IgnoreParseErrors = Bool(key, value) };
                    break;
                case "json.fail-on-missing-field" when format == FileFormat.JsonLines:
                    result = result with { FailOnMissingField = Bool(key, value) };
                    break;
                case "json.timestamp-format.standard" when format == FileFormat.JsonLines:
                    result = result with
                    {
                        TimestampFormat = value switch
                        {
                            "SQL" => TimestampFormat.Sql,
                            "ISO-8601" => TimestampFormat.Iso8601,
                            _ => throw Error(key, $"expected 'SQL' or 'ISO-8601', got '{value}'"),
                        },
                    };
                    break;
                case "csv.header" when format == FileFormat.Csv:
                    result = result with { CsvHeader = Bool(key, value) };
                    break;
                case "csv.field-delimiter" when format == FileFormat.Csv:
                    result = result with { CsvDelimiter = Char(key, value) };
                    break;
                case "csv.array-element-delimiter" when format == FileFormat.Csv:
                    result = result with { CsvArrayDelimiter = Char(key, value) };
                    break;
                case "parquet.block.size" when format == FileFormat.Parquet:
                    result = result with { ParquetBlockSize = Positive(key, FileOptionValues.MemorySize(key, value)) };
                    break;
                case "parquet.compression" when format == FileFormat.Parquet:
                    string codec = value.ToUpperInvariant();
                    if (codec is not ("UNCOMPRESSED" or "SNAPPY" or "GZIP" or "ZSTD"))
                        throw Error(key, $"expected UNCOMPRESSED, SNAPPY, GZIP or ZSTD, got '{value}'");
                    result = result with { ParquetCompression = codec };
                    break;
                case "sink.rolling-policy.file-size":
                    result = result with { Rolling = result.Rolling with { FileSize = Positive(key, FileOptionValues.MemorySize(key, value)) } };
                    break;
                case "sink.rolling-policy.rollover-interval":
                    result = result with { Rolling = result.Rolling with { RolloverInterval = Positive(key, FileOptionValues.Duration(key, value)) } };
                    break;
                case "sink.rolling-policy.check-interval":
                    result = result with { Rolling = result.Rolling with { CheckInterval = Positive(key, FileOptionValues.Duration(key, value)) } };
                    break;
                case "sink.rolling-policy.inactivity-interval":
                    result = result with { Rolling = result.Rolling with { InactivityInterval = Positive(key, FileOptionValues.Duration(key, value)) } };
                    break;
                case "sink.partition-commit.trigger":
                    result = result with
                    {
                        Commit = result.Commit with
                        {
                            Given = true,
                            Trigger = value switch
                            {
                                "process-time" => PartitionCommitTrigger.ProcessTime,
                                "partition-time" => PartitionCommitTrigger.PartitionTime,
                                _ => throw Error(key, $"expected 'process-time' or 'partition-time', got '{value}'"),
                            },
                        },
                    };
                    break;
                case "sink.partition-commit.delay":
                    result = result with { Commit = result.Commit with { Given = true, Delay = FileOptionValues.Duration(key, value) } };
                    break;
                case "sink.partition-commit.watermark-time-zone":
                    if (value is not ("UTC" or "Z" or "GMT" or "+00:00"))
                        throw Error(key, $"Eddy compares watermarks with partition times in UTC only, got '{value}'");
                    result = result with { Commit = result.Commit with { Given = true } };
                    break;
                case "sink.partition-commit.policy.kind":
                    foreach (var kind in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                    {
                        if (kind == "success-file") result = result with { Commit = result.Commit with { Given = true, SuccessFile = true } };
                        else if (kind == "metastore") throw Error(key, "'metastore' needs a Hive metastore, which Eddy does not have (use 'success-file')");
                        else if (kind == "custom") throw Error(key, "'custom' commit policies (Java classes) are not supported by Eddy (use 'success-file')");
                        else throw Error(key, $"expected 'success-file', got '{kind}'");
                    }
                    break;
                case "sink.partition-commit.success-file.name":
                    if (value.Length == 0 || value.IndexOfAny(['/', '\\']) >= 0) throw Error(key, $"expected a file name, got '{value}'");
                    result = result with { Commit = result.Commit with { Given = true, SuccessFileName = value } };
                    break;
                case "partition.time-extractor.kind":
                    if (value != "default") throw Error(key, $"only the 'default' extractor is supported by Eddy, got '{value}'");
                    break;
                case "partition.time-extractor.timestamp-pattern":
                    result = result with { Commit = result.Commit with { Given = true, TimestampPattern = value } };
                    break;
                case "partition.time-extractor.timestamp-formatter":
                    result = result with { Commit = result.Commit with { Given = true, TimestampFormatter = value } };
                    break;
                case "partition.default-name":
                    result = result with { Commit = result.Commit with { DefaultPartitionName = value } };
                    break;
                default:
                    throw Error(key, $"unknown option for format '{formatText}'");
            }
        }
        if (result.CsvDelimiter is '"' or '\r' or '\n')
            throw Error("csv.field-delimiter", "must not be a quote or a line break");
        return formatOptions.Count == 0 ? result : result with { FormatOptions = formatOptions };
    }

    private static T Positive<T>(string key, T value) where T : IComparable<T> =>
        value.CompareTo(default!) > 0 ? value : throw Error(key, "must be positive");

    private static bool Bool(string key, string value) => value.ToLowerInvariant() switch
    {
        "true" => true,
        "false" => false,
        _ => throw Error(key, $"expected 'true' or 'false', got '{value}'"),
    };

    private static char Char(string key, string value)
    {
        string v = value == "\\t" ? "\t" : value;
        return v.Length == 1 ? v[0] : throw Error(key, $"expected a single character, got '{value}'");
    }

    private static ArgumentException Error(string key, string problem) =>
        new(string.Create(CultureInfo.InvariantCulture, $"filesystem option '{key}': {problem}"));
}
