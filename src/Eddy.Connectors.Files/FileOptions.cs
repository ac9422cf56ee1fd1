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

    /// <summary>The file extension of part files: <c>jsonl</c> or <c>csv</c>.</summary>
    public string Extension => Format == FileFormat.JsonLines ? "jsonl" : "csv";

    public static FileConnectorOptions Parse(IReadOnlyDictionary<string, string> options)
    {
        string path = options.TryGetValue("path", out var p) && p.Length > 0 ? p : throw Error("path", "required");
        if (!options.TryGetValue("format", out var formatText)) throw Error("format", "required ('json' or 'csv')");
        var format = formatText switch
        {
            "json" => FileFormat.JsonLines,
            "csv" => FileFormat.Csv,
            _ => throw Error("format", $"expected 'json' or 'csv', got '{formatText}'"),
        };
        var result = new FileConnectorOptions(path, format);
        foreach (var (key, value) in options.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            switch (key)
            {
                case "path" or "format":
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
                default:
                    throw Error(key, $"unknown option for format '{formatText}'");
            }
        }
        if (result.CsvDelimiter is '"' or '\r' or '\n')
            throw Error("csv.field-delimiter", "must not be a quote or a line break");
        return result;
    }

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
