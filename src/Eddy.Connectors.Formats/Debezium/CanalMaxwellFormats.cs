using System.Text.Json;
using System.Text.RegularExpressions;

namespace Eddy.Connectors.Formats.Debezium;

/// <summary>
/// Flink's <c>canal-json</c>: <c>{"data": [rows], "old": [changed fields], "type": "INSERT|UPDATE|DELETE|CREATE",
/// "database", "table", "ts", "es", "sqlType", "pkNames", ...}</c>. INSERT → +I per row of <c>data</c>; UPDATE → per
/// row, -U of the old row (the fields of <c>old</c>, and for a field that is NULL there and named nowhere in
/// <c>old</c>, the new value: it did not change) and +U of <c>data</c>; DELETE → -D per row; CREATE (a DDL event) →
/// nothing. <c>canal-json.database.include</c> / <c>table.include</c> (regular expressions matching the whole name)
/// keep only the events of those databases / tables.
/// </summary>
public sealed class CanalJsonFormat : IWritableValueFormat
{
    public string Name => "canal-json";

    public bool IsChangelog => true;

    public IReadOnlyCollection<string> Options { get; } =
    [
        "canal-json.ignore-parse-errors", "canal-json.timestamp-format.standard", "canal-json.map-null-key.mode", "canal-json.map-null-key.literal",
        "canal-json.encode.decimal-as-plain-number", "canal-json.encode.ignore-null-fields", "canal-json.database.include", "canal-json.table.include",
    ];

    public IReadOnlyDictionary<string, DataType> Metadata { get; } = new Dictionary<string, DataType>
    {
        ["database"] = DataType.String,
        ["table"] = DataType.String,
        ["sql-type"] = DataType.MapOf(DataType.String, DataType.Int),
        ["pk-names"] = DataType.ArrayOf(DataType.String),
        ["ingestion-timestamp"] = DataType.TimestampLtz3,
        ["event-timestamp"] = DataType.TimestampLtz3,
    };

    public MessageDecoder CreateDecoder(FormatContext context)
    {
        ChangelogJson.CheckJsonOptions(context, "canal-json");
        return new ChangelogRowsDecoder(ChangelogRowsDecoder.Dialect.Canal, context.Physical, context.Metadata,
            Pattern(context, "canal-json.database.include"), Pattern(context, "canal-json.table.include"))
        {
            IgnoreParseErrors = context.Flag("canal-json.ignore-parse-errors"),
        };
    }

    public bool WritesChangelog => true;

    /// <summary>Flink's canal-json writer: <c>{"data": [row], "type": "INSERT"|"DELETE"}</c> (see <see cref="ChangelogJsonEncoder"/>).</summary>
    public MessageEncoder CreateEncoder(FormatContext context, IReadOnlyList<int> positions) =>
        new ChangelogJsonEncoder(ChangelogEnvelope.Canal, context.Physical.Columns, positions, JsonEncodingOf(context));

    public void ValidateForWriting(FormatContext context) => JsonEncodingOf(context);

    private JsonEncoding JsonEncodingOf(FormatContext context)
    {
        ChangelogJsonEncoder.CheckWritable(context.Physical.Columns, Name);
        return JsonEncoding.From(context, Name);
    }

    private static Regex? Pattern(FormatContext context, string option)
    {
        string? text = context.Option(option);
        if (text is null) return null;
        try
        {
            return new Regex($"^(?:{text})$", RegexOptions.CultureInvariant);
        }
        catch (ArgumentException e)
        {
            throw new FormatOptionException(context.OptionKey(option), $"not a regular expression: {e.Message}");
        }
    }
}

/// <summary>
/// Flink's <c>maxwell-json</c>: <c>{"database", "table", "type": "insert|update|delete", "ts" (seconds), "data":
/// {row}, "old": {changed fields}, "primary_key_columns"}</c>. insert → +I; update → -U of the old row (the fields of
/// <c>old</c>, others from <c>data</c>) and +U of <c>data</c>; delete → -D.
/// </summary>
public sealed class MaxwellJsonFormat : IWritableValueFormat
{
    public string Name => "maxwell-json";

    public bool IsChangelog => true;

    public IReadOnlyCollection<string> Options { get; } =
    [
        "maxwell-json.ignore-parse-errors", "maxwell-json.timestamp-format.standard", "maxwell-json.map-null-key.mode",
        "maxwell-json.map-null-key.literal", "maxwell-json.encode.decimal-as-plain-number", "maxwell-json.encode.ignore-null-fields",
    ];

    public IReadOnlyDictionary<string, DataType> Metadata { get; } = new Dictionary<string, DataType>
    {
        ["database"] = DataType.String,
        ["table"] = DataType.String,
        ["primary-key-columns"] = DataType.ArrayOf(DataType.String),
        ["ingestion-timestamp"] = DataType.TimestampLtz3,
    };

    public MessageDecoder CreateDecoder(FormatContext context)
    {
        ChangelogJson.CheckJsonOptions(context, "maxwell-json");
        return new ChangelogRowsDecoder(ChangelogRowsDecoder.Dialect.Maxwell, context.Physical, context.Metadata, null, null)
        {
            IgnoreParseErrors = context.Flag("maxwell-json.ignore-parse-errors"),
        };
    }

    public bool WritesChangelog => true;

    /// <summary>Flink's maxwell-json writer: <c>{"data": row, "type": "insert"|"delete"}</c> (see <see cref="ChangelogJsonEncoder"/>).</summary>
    public MessageEncoder CreateEncoder(FormatContext context, IReadOnlyList<int> positions) =>
        new ChangelogJsonEncoder(ChangelogEnvelope.Maxwell, context.Physical.Columns, positions, JsonEncodingOf(context));

    public void ValidateForWriting(FormatContext context) => JsonEncodingOf(context);

    private JsonEncoding JsonEncodingOf(FormatContext context)
    {
        ChangelogJsonEncoder.CheckWritable(context.Physical.Columns, Name);
        return JsonEncoding.From(context, Name);
    }
}

/// <summary>
/// Canal's and Maxwell's envelopes, read as Flink reads them: the whole message as one row of the envelope's fields
/// (<c>data</c> and <c>old</c> typed as the table's row), with <see cref="JsonRowDecoder"/>'s rules.
/// </summary>
internal sealed class ChangelogRowsDecoder : MessageDecoder
{
    public enum Dialect { Canal, Maxwell }

    private readonly Dialect dialect;
    private readonly JsonRowDecoder envelope;
    private readonly string[] fieldNames;
    private readonly string[] metadata;
    private readonly Regex? databases;
    private readonly Regex? tables;

    // Positions in the envelope row.
    private const int Data = 0, Old = 1, Type = 2, Database = 3, Table = 4, Ts = 5, Extra1 = 6, Extra2 = 7;

    public ChangelogRowsDecoder(Dialect dialect, Schema physical, IReadOnlyList<string> metadata, Regex? databases, Regex? tables)
    {
        this.dialect = dialect;
        this.metadata = [.. metadata];
        this.databases = databases;
        this.tables = tables;
        fieldNames = [.. physical.Columns.Select(c => c.Name)];
        var row = DataType.RowOf([.. physical.Columns]);
        envelope = new JsonRowDecoder(dialect == Dialect.Canal
            ? Schema.Of(("data", DataType.ArrayOf(row)), ("old", DataType.ArrayOf(row)), ("type", DataType.String), ("database", DataType.String),
                ("table", DataType.String), ("ts", DataType.BigInt), ("es", DataType.BigInt), ("sqlType", DataType.MapOf(DataType.String, DataType.Int)),
                ("pkNames", DataType.ArrayOf(DataType.String)))
            : Schema.Of(("data", row), ("old", row), ("type", DataType.String), ("database", DataType.String), ("table", DataType.String),
                ("ts", DataType.BigInt), ("primary_key_columns", DataType.ArrayOf(DataType.String))));
    }

    private string Name => dialect == Dialect.Canal ? "Canal" : "Maxwell";

    public override void Decode(byte[] message, List<Row> output)
    {
        if (message.Length == 0) return;
        try
        {
            DecodeEnvelope(message, output);
        }
        catch (Exception e) when (e is RecordFormatException or JsonException or InvalidOperationException)
        {
            throw new RecordFormatException($"corrupt {Name} JSON message ({e.Message}): '{JsonEnvelope.Quote(message)}'");
        }
    }

    private void DecodeEnvelope(byte[] message, List<Row> output)
    {
        var root = envelope.Decode(message);
        if (databases is not null && !databases.IsMatch(root[Database] as string ?? "")) return;
        if (tables is not null && !tables.IsMatch(root[Table] as string ?? "")) return;
        string? type = root[Type] as string;
        object?[]? meta = metadata.Length == 0 ? null : Metadata(root);
        if (dialect == Dialect.Canal)
        {
            switch (type)
            {
                case "INSERT":
                    foreach (var r in Rows(root[Data], "data")) output.Add(ChangelogJson.WithMetadata(r, RowKind.Insert, Copy(meta)));
                    return;
                case "DELETE":
                    foreach (var r in Rows(root[Data], "data")) output.Add(ChangelogJson.WithMetadata(r, RowKind.Delete, Copy(meta)));
                    return;
                case "UPDATE":
                    var data = Rows(root[Data], "data");
                    var old = Rows(root[Old], "old");
                    if (old.Length < data.Length) throw new RecordFormatException($"\"old\" has {old.Length} rows for {data.Length} in \"data\"");
                    var named = NamesIn(message, recursive: true);
                    for (int i = 0; i < data.Length; i++)
                    {
                        output.Add(ChangelogJson.WithMetadata(Before(old[i], data[i], named), RowKind.UpdateBefore, Copy(meta)));
                        output.Add(ChangelogJson.WithMetadata(data[i], RowKind.UpdateAfter, Copy(meta)));
                    }
                    return;
                case "CREATE":
                    return;
            }
        }
        else
        {
            switch (type)
            {
                case "insert":
                    output.Add(ChangelogJson.WithMetadata(One(root[Data], "data"), RowKind.Insert, meta));
                    return;
                case "delete":
                    output.Add(ChangelogJson.WithMetadata(One(root[Data], "data"), RowKind.Delete, meta));
                    return;
                case "update":
                    var after = One(root[Data], "data");
                    var before = Before(One(root[Old], "old"), after, NamesIn(message, recursive: false));
                    output.Add(ChangelogJson.WithMetadata(before, RowKind.UpdateBefore, meta));
                    output.Add(ChangelogJson.WithMetadata(after, RowKind.UpdateAfter, Copy(meta)));
                    return;
            }
        }
        throw new RecordFormatException(type is null ? "no \"type\" field" : $"unknown \"type\" value \"{type}\"");
    }

    private static object?[]? Copy(object?[]? meta) => meta is null ? null : (object?[])meta.Clone();

    private static Row[] Rows(object? value, string field) => value is object?[] items
        ? [.. items.Select(r => r as Row ?? throw new RecordFormatException($"\"{field}\" holds a null row"))]
        : throw new RecordFormatException($"\"{field}\" is missing or null");

    private static Row One(object? value, string field) => value as Row ?? throw new RecordFormatException($"\"{field}\" is missing or null");

    /// <summary>The old row: its fields, and where one is NULL and not named in <c>old</c>, the new value (it did not change).</summary>
    private Row Before(Row old, Row after, HashSet<string> namedInOld)
    {
        var fields = old.Fields.ToArray();
        for (int f = 0; f < fields.Length; f++)
        {
            if (fields[f] is null && !namedInOld.Contains(fieldNames[f])) fields[f] = after[f];
        }
        return new Row(RowKind.Insert, fields);
    }

    /// <summary>
    /// The property names inside the message's <c>old</c> value: at any depth for Canal (Flink asks Jackson's
    /// <c>findValue</c>, which searches the whole array), at its top level for Maxwell (<c>has</c>).
    /// </summary>
    private static HashSet<string> NamesIn(byte[] message, bool recursive)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(message);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool isOld = reader.ValueTextEquals("old"u8);
            reader.Read();
            if (!isOld)
            {
                reader.Skip();
                continue;
            }
            int depth = reader.CurrentDepth;
            if (reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray)) continue;
            while (reader.Read() && reader.CurrentDepth > depth)
            {
                if (reader.TokenType != JsonTokenType.PropertyName) continue;
                if (recursive || reader.CurrentDepth == depth + 1) names.Add(reader.GetString()!);
            }
        }
        return names;
    }

    private object?[] Metadata(Row root)
    {
        var values = new object?[metadata.Length];
        for (int i = 0; i < metadata.Length; i++)
        {
            values[i] = metadata[i] switch
            {
                "database" => root[Database],
                "table" => root[Table],
                "sql-type" => root[Extra2],
                "pk-names" => root[Extra2 + 1],
                "primary-key-columns" => root[Extra1],
                "ingestion-timestamp" => root[Ts] is long ts ? DateTimeOffset.FromUnixTimeMilliseconds(dialect == Dialect.Maxwell ? ts * 1000 : ts) : null,
                "event-timestamp" => root[Extra1] is long es ? DateTimeOffset.FromUnixTimeMilliseconds(es) : null,
                var k => throw new FormatOptionException("format", $"{Name.ToLowerInvariant()}-json has no metadata '{k}'"),
            };
        }
        return values;
    }
}
