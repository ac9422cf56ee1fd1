using System.Globalization;
using Eddy.Sql.Connectors;
using Eddy.Sql.Connectors.Options;

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
/// Options of the file source and sink, read from a table's options validated by <see cref="FilesystemOptions.Schema"/>
/// (Flink's filesystem-connector names: <c>path</c>, <c>format</c>, the format's own <c>json.*</c> / <c>csv.*</c> /
/// <c>parquet.*</c> options, <c>sink.rolling-policy.*</c>, <c>sink.partition-commit.*</c>, <c>partition.*</c>).
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

    /// <summary>
    /// The first option the table gives that only a partitioned sink honours (<c>sink.rolling-policy.*</c>,
    /// <c>sink.partition-commit.*</c>, <c>partition.*</c>), or null: an unpartitioned sink refuses it.
    /// </summary>
    public string? PartitionedSinkOption { get; init; }

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

    /// <summary>Validates <paramref name="options"/> against the schema of the connector with <paramref name="formats"/> and reads them.</summary>
    /// <param name="formats">The formats beyond json, csv and parquet that the connector was built with.</param>
    /// <exception cref="ConnectorOptionException">a bad option, named with <paramref name="table"/>.</exception>
    public static FileConnectorOptions Parse(string table, IReadOnlyDictionary<string, string> options, IReadOnlyList<IFileFormat>? formats = null) =>
        FilesystemOptions.Read(table, FilesystemOptions.SchemaFor(formats ?? []).Validate(table, options), formats ?? []);
}

/// <summary>
/// One format of the filesystem connector: its name (<c>'format' = ...</c>), its options (declared with
/// <see cref="ConnectorOption{T}.ForFormat"/> so that the schema refuses them under another format) and how they set
/// the <see cref="FileConnectorOptions"/>. A new format is one more entry in <see cref="FilesystemOptions.Formats"/>.
/// </summary>
public sealed record FileFormatOptions(string Name, FileFormat Format, IReadOnlyList<ConnectorOption> Options,
    Func<FileConnectorOptions, ConnectorOptions, string, FileConnectorOptions> Read);

/// <summary>The filesystem connector's options, each declared once (names, types and defaults as Flink's).</summary>
public static class FilesystemOptions
{
    public static readonly ConnectorOption<string> PathOption =
        Option.String("path", "the file, folder (read recursively) or glob to read, or the file or folder to write; a local path or file:// URI").AsRequired();

    public static readonly ConnectorOption<string> FormatOption =
        Option.String("format", "the file format: json, csv or parquet").AsRequired();

    /// <summary>Flink's continuous reading (how often the source looks for new files): refused, the source reads the path once.</summary>
    public static readonly ConnectorOption<string> MonitorIntervalOption =
        Option.Refused("source.monitor-interval", "continuous monitoring is not supported by Eddy: the source reads the path once, as a bounded source (remove the option)");

    public static readonly ConnectorOption<string> DefaultPartitionNameOption =
        Option.String("partition.default-name", "the folder name of a NULL or empty partition value").WithDefault("__DEFAULT_PARTITION__");

    public static readonly ConnectorOption<long> RollingFileSizeOption =
        Option.MemorySize("sink.rolling-policy.file-size", "a part file is closed when it reaches this size").WithDefault(128L << 20);

    public static readonly ConnectorOption<TimeSpan> RolloverIntervalOption =
        Option.Duration("sink.rolling-policy.rollover-interval", "a part file is closed when it has been open this long").WithDefault(TimeSpan.FromMinutes(30));

    public static readonly ConnectorOption<TimeSpan> CheckIntervalOption =
        Option.Duration("sink.rolling-policy.check-interval", "how often the time-based rolling conditions are checked").WithDefault(TimeSpan.FromMinutes(1));

    public static readonly ConnectorOption<TimeSpan> InactivityIntervalOption =
        Option.Duration("sink.rolling-policy.inactivity-interval", "a part file is closed when it has not been written for this long").WithDefault(TimeSpan.FromMinutes(30));

    public static readonly ConnectorOption<string> CommitTriggerOption =
        Option.Enum("sink.partition-commit.trigger", "when a partition commits: process-time (its creation time + delay has passed) or partition-time (the watermark has passed the time in its values + delay)",
            "process-time", "partition-time").WithDefault("process-time");

    public static readonly ConnectorOption<TimeSpan> CommitDelayOption =
        Option.Duration("sink.partition-commit.delay", "how long after its time a partition commits").WithDefault(TimeSpan.Zero);

    public static readonly ConnectorOption<string> WatermarkTimeZoneOption =
        Option.String("sink.partition-commit.watermark-time-zone", "the time zone in which watermarks are compared with partition times; Eddy: UTC only").WithDefault("UTC");

    public static readonly ConnectorOption<string> CommitPolicyOption =
        Option.String("sink.partition-commit.policy.kind", "what committing a partition does, a comma-separated list; Eddy: success-file (metastore and custom are refused)");

    public static readonly ConnectorOption<string> SuccessFileNameOption =
        Option.String("sink.partition-commit.success-file.name", "the name of the success-file policy's file").WithDefault("_SUCCESS");

    public static readonly ConnectorOption<string> TimeExtractorKindOption =
        Option.Enum("partition.time-extractor.kind", "how a partition's time is read from its values; Eddy: default only", "default", "custom").WithDefault("default");

    public static readonly ConnectorOption<string> TimestampPatternOption =
        Option.String("partition.time-extractor.timestamp-pattern", "how the default extractor builds a timestamp from the partition values, such as '$dt $hm:00' (default: the first value)");

    public static readonly ConnectorOption<string> TimestampFormatterOption =
        Option.String("partition.time-extractor.timestamp-formatter", "the pattern the extracted timestamp is read with (default: yyyy-MM-dd HH:mm:ss, or a date)");

    public static readonly ConnectorOption<TimeSpan> LookupCacheTtlOption =
        Option.Duration("lookup.join.cache.ttl", "a lookup table is read whole and read again after this long").WithDefault(TimeSpan.FromMinutes(60));

    public static readonly ConnectorOption<string> LookupCacheOption =
        Option.Enum("lookup.cache", "Eddy: the lookup cache; a filesystem lookup table is always read whole, so FULL only", "NONE", "PARTIAL", "FULL");

    public static readonly ConnectorOption<TimeSpan> LookupReloadIntervalOption =
        Option.Duration("lookup.full-cache.periodic-reload.interval", "Eddy: read the lookup table again this often (instead of lookup.join.cache.ttl)");

    public static readonly ConnectorOption<string> LookupReloadStrategyOption =
        Option.Enum("lookup.full-cache.reload-strategy", "Eddy: how the full cache reloads; PERIODIC only", "PERIODIC", "TIMED").WithDefault("PERIODIC");

    public static readonly ConnectorOption<string> LookupScheduleModeOption =
        Option.Enum("lookup.full-cache.periodic-reload.schedule-mode", "Eddy: how periodic reloads are scheduled; FIXED_DELAY only", "FIXED_DELAY", "FIXED_RATE").WithDefault("FIXED_DELAY");

    public static readonly ConnectorOption<bool> JsonIgnoreParseErrorsOption =
        Option.Boolean("json.ignore-parse-errors", "skip (and count) records that fail to parse instead of failing the job").WithDefault(false).ForFormat("format", "json");

    public static readonly ConnectorOption<bool> JsonFailOnMissingFieldOption =
        Option.Boolean("json.fail-on-missing-field", "a field of the table missing from a record fails the job instead of reading as NULL").WithDefault(false).ForFormat("format", "json");

    public static readonly ConnectorOption<string> JsonTimestampFormatOption =
        Option.Enum("json.timestamp-format.standard", "how timestamps are written (reading takes both)", "SQL", "ISO-8601").WithDefault("SQL").ForFormat("format", "json");

    public static readonly ConnectorOption<bool> CsvIgnoreParseErrorsOption =
        Option.Boolean("csv.ignore-parse-errors", "skip (and count) records that fail to parse instead of failing the job").WithDefault(false).ForFormat("format", "csv");

    public static readonly ConnectorOption<char> CsvFieldDelimiterOption =
        Character("csv.field-delimiter", "the field delimiter, one character ('\\t' for a tab)", ',').ForFormat("format", "csv");

    public static readonly ConnectorOption<char> CsvArrayElementDelimiterOption =
        Character("csv.array-element-delimiter", "the delimiter of array elements within a field", ';').ForFormat("format", "csv");

    public static readonly ConnectorOption<bool> CsvHeaderOption =
        Option.Boolean("csv.header", "Eddy: the first line of every file names the columns (the sink writes one)").WithDefault(false).ForFormat("format", "csv");

    public static readonly ConnectorOption<long> ParquetBlockSizeOption =
        Option.MemorySize("parquet.block.size", "the row group size, estimated from the buffered values").WithDefault(128L << 20).ForFormat("format", "parquet");

    public static readonly ConnectorOption<string> ParquetCompressionOption =
        Option.Enum("parquet.compression", "the page compression", "UNCOMPRESSED", "SNAPPY", "GZIP", "ZSTD").WithDefault("SNAPPY").ForFormat("format", "parquet");

    /// <summary>The formats, by name: the one list the format dispatch reads.</summary>
    public static readonly IReadOnlyList<FileFormatOptions> Formats =
    [
        new("json", FileFormat.JsonLines, [JsonIgnoreParseErrorsOption, JsonFailOnMissingFieldOption, JsonTimestampFormatOption], (o, v, _) => o with
        {
            IgnoreParseErrors = v.Get(JsonIgnoreParseErrorsOption),
            FailOnMissingField = v.Get(JsonFailOnMissingFieldOption),
            TimestampFormat = v.Get(JsonTimestampFormatOption) == "ISO-8601" ? TimestampFormat.Iso8601 : TimestampFormat.Sql,
        }),
        new("csv", FileFormat.Csv, [CsvIgnoreParseErrorsOption, CsvFieldDelimiterOption, CsvArrayElementDelimiterOption, CsvHeaderOption], (o, v, table) => o with
        {
            IgnoreParseErrors = v.Get(CsvIgnoreParseErrorsOption),
            CsvDelimiter = v.Get(CsvFieldDelimiterOption) is not ('"' or '\r' or '\n') and var delimiter
                ? delimiter
                : throw new ConnectorOptionException(table, CsvFieldDelimiterOption.Name, "must not be a quote or a line break"),
            CsvArrayDelimiter = v.Get(CsvArrayElementDelimiterOption),
            CsvHeader = v.Get(CsvHeaderOption),
        }),
        new("parquet", FileFormat.Parquet, [ParquetBlockSizeOption, ParquetCompressionOption], (o, v, table) => o with
        {
            ParquetBlockSize = Positive(table, v, ParquetBlockSizeOption),
            ParquetCompression = v.Get(ParquetCompressionOption),
        }),
    ];

    /// <summary>The options a filesystem table takes with the built-in formats.</summary>
    public static OptionSchema Schema { get; } = new("filesystem",
    [
        PathOption, FormatOption, MonitorIntervalOption, DefaultPartitionNameOption,
        RollingFileSizeOption, RolloverIntervalOption, CheckIntervalOption, InactivityIntervalOption,
        CommitTriggerOption, CommitDelayOption, WatermarkTimeZoneOption, CommitPolicyOption, SuccessFileNameOption,
        TimeExtractorKindOption, TimestampPatternOption, TimestampFormatterOption,
        LookupCacheTtlOption, LookupCacheOption, LookupReloadIntervalOption, LookupReloadStrategyOption, LookupScheduleModeOption,
        .. Formats.SelectMany(f => f.Options),
    ]);

    /// <summary>
    /// The options of the connector built with <paramref name="plugged"/> formats: <see cref="Schema"/> and each plugged
    /// format's options, tagged with the format (the format checks their values).
    /// </summary>
    public static OptionSchema SchemaFor(IReadOnlyList<IFileFormat> plugged) => plugged.Count == 0 ? Schema : new("filesystem",
    [
        .. Schema.Options,
        .. plugged.SelectMany(f => f.Options.Select(name => Option.String(name, $"an option of the {f.Name} format, which checks it").ForFormat(FormatOption.Name, f.Name))),
    ]);

    /// <summary>The options only a partitioned sink honours (an unpartitioned one refuses them).</summary>
    private static readonly ConnectorOption[] PartitionedSinkOptions =
    [
        RollingFileSizeOption, RolloverIntervalOption, CheckIntervalOption, InactivityIntervalOption, CommitTriggerOption, CommitDelayOption,
        WatermarkTimeZoneOption, CommitPolicyOption, SuccessFileNameOption, DefaultPartitionNameOption, TimeExtractorKindOption,
        TimestampPatternOption, TimestampFormatterOption,
    ];

    /// <summary>Reads options validated by <see cref="Schema"/> (the checks across options happen here).</summary>
    public static FileConnectorOptions Read(string table, ConnectorOptions options, IReadOnlyList<IFileFormat> plugged)
    {
        string path = options.Get(PathOption);
        if (path.Length == 0) throw new ConnectorOptionException(table, PathOption.Name, "must not be empty");
        // Flink's paths are URIs; the local file system is the one Eddy has.
        if (path.StartsWith("file://", StringComparison.OrdinalIgnoreCase)) path = path["file://".Length..];
        else if (path.StartsWith("file:", StringComparison.OrdinalIgnoreCase)) path = path["file:".Length..];
        else if (System.Text.RegularExpressions.Regex.IsMatch(path, "^[a-zA-Z][a-zA-Z0-9+.-]*://"))
            throw new ConnectorOptionException(table, PathOption.Name, $"'{path}': only local paths (or file://) are supported");

        string formatName = options.Get(FormatOption);
        string[] names = [.. Formats.Select(f => f.Name), .. plugged.Select(f => f.Name)];
        var pluggedFormat = plugged.FirstOrDefault(f => f.Name == formatName);
        var format = Formats.FirstOrDefault(f => f.Name == formatName);
        if (format is null && pluggedFormat is null)
        {
            throw new ConnectorOptionException(table, FormatOption.Name, formatName == "avro"
                ? $"'avro' files need Eddy.Connectors.Formats, which this process's filesystem connector was not built with; expected one of {string.Join(", ", names)}"
                : $"expected one of {string.Join(", ", names)}, got '{formatName}'{Eddy.Sql.SqlErrors.Suggest(formatName, names)}");
        }

        if (!WatermarkTimeZoneOption.Default.Equals(options.Get(WatermarkTimeZoneOption), StringComparison.Ordinal)
            && options.Get(WatermarkTimeZoneOption) is not ("Z" or "GMT" or "+00:00"))
            throw new ConnectorOptionException(table, WatermarkTimeZoneOption.Name,
                $"Eddy compares watermarks with partition times in UTC only, got '{options.Get(WatermarkTimeZoneOption)}'");
        if (options.Get(TimeExtractorKindOption) != "default")
            throw new ConnectorOptionException(table, TimeExtractorKindOption.Name, $"only the 'default' extractor is supported by Eddy, got '{options.Get(TimeExtractorKindOption)}'");

        bool successFile = false;
        foreach (var kind in (options.FindString(CommitPolicyOption) ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            successFile |= kind switch
            {
                "success-file" => true,
                "metastore" => throw new ConnectorOptionException(table, CommitPolicyOption.Name, "'metastore' needs a Hive metastore, which Eddy does not have (use 'success-file')"),
                "custom" => throw new ConnectorOptionException(table, CommitPolicyOption.Name, "'custom' commit policies (Java classes) are not supported by Eddy (use 'success-file')"),
                _ => throw new ConnectorOptionException(table, CommitPolicyOption.Name, $"expected 'success-file', got '{kind}'"),
            };
        }
        string successFileName = options.Get(SuccessFileNameOption);
        if (successFileName.Length == 0 || successFileName.IndexOfAny(['/', '\\']) >= 0)
            throw new ConnectorOptionException(table, SuccessFileNameOption.Name, $"expected a file name, got '{successFileName}'");

        var result = new FileConnectorOptions(path, format?.Format ?? FileFormat.Plugged)
        {
            Rolling = new RollingPolicy
            {
                FileSize = Positive(table, options, RollingFileSizeOption),
                RolloverInterval = Positive(table, options, RolloverIntervalOption),
                CheckInterval = Positive(table, options, CheckIntervalOption),
                InactivityInterval = Positive(table, options, InactivityIntervalOption),
            },
            Commit = new PartitionCommitOptions
            {
                Trigger = options.Get(CommitTriggerOption) == "partition-time" ? PartitionCommitTrigger.PartitionTime : PartitionCommitTrigger.ProcessTime,
                Delay = options.Get(CommitDelayOption),
                SuccessFile = successFile,
                SuccessFileName = successFileName,
                TimestampPattern = options.FindString(TimestampPatternOption),
                TimestampFormatter = options.FindString(TimestampFormatterOption),
                DefaultPartitionName = options.Get(DefaultPartitionNameOption),
            },
            PartitionedSinkOption = PartitionedSinkOptions.FirstOrDefault(options.Has)?.Name,
        };
        if (pluggedFormat is not null)
        {
            var given = pluggedFormat.Options.Where(name => options.FindString(Option.String(name, "")) is not null)
                .ToDictionary(name => name, name => options.FindString(Option.String(name, ""))!, StringComparer.Ordinal);
            return result with { Plugged = pluggedFormat, FormatOptions = given.Count == 0 ? result.FormatOptions : given };
        }
        return format!.Read(result, options, table);
    }

    private static T Positive<T>(string table, ConnectorOptions options, ConnectorOption<T> option) where T : IComparable<T> =>
        options.Get(option) is var value && value.CompareTo(default!) > 0 ? value : throw new ConnectorOptionException(table, option.Name, "must be positive");

    /// <summary>One character, as Flink's csv options take it (<c>\t</c> for a tab).</summary>
    private static ConnectorOption<char> Character(string name, string description, char fallback) =>
        new ConnectorOption<char>(name, description, "String", "a single character", text =>
            (text == "\\t" ? "\t" : text) is { Length: 1 } c ? (true, c[0], null) : (false, '\0', null)).WithDefault(fallback);
}
