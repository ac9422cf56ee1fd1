using System.Globalization;

namespace Eddy.Connectors;

public enum DatagenKind
{
    Random,
    Sequence,
}

/// <summary>How one column is generated, from its <c>fields.&lt;name&gt;.*</c> options.</summary>
public sealed record DatagenField(Column Column, DatagenKind Kind)
{
    /// <summary>Random numbers: the inclusive bounds, of the column's CLR type (null: the type's own range).</summary>
    public object? Min { get; init; }

    public object? Max { get; init; }

    /// <summary>Random strings: characters; arrays and maps: elements (null: 100 for strings, 3 for collections).</summary>
    public int? Length { get; init; }

    /// <summary>Random strings: a length drawn from 1..<see cref="Length"/> instead of exactly it.</summary>
    public bool VariableLength { get; init; }

    /// <summary>Random temporal values: how far before the current time they may lie.</summary>
    public TimeSpan MaxPast { get; init; }

    /// <summary>The share of nulls (0..1).</summary>
    public double NullRate { get; init; }

    /// <summary>Sequences: the first and last value (inclusive).</summary>
    public long Start { get; init; }

    public long End { get; init; }
}

/// <summary>
/// The options of the datagen connector, named as Flink names them so that a SQL <c>WITH (...)</c> clause passes
/// straight through: <c>rows-per-second</c>, <c>number-of-rows</c> and, per column, <c>fields.&lt;name&gt;.kind</c>
/// (<c>random</c> | <c>sequence</c>), <c>.min</c>, <c>.max</c>, <c>.length</c>, <c>.var-len</c>, <c>.max-past</c>,
/// <c>.null-rate</c>, <c>.start</c>, <c>.end</c>.
/// Eddy extension: <c>seed</c> (a long) makes the random values the same on every run at the same parallelism.
/// </summary>
public sealed class DatagenOptions
{
    public const long DefaultRowsPerSecond = 10_000;
    public const int DefaultStringLength = 100;
    public const int DefaultCollectionLength = 3;

    private static readonly string[] TopLevelOptions = ["connector", "rows-per-second", "number-of-rows", "seed"];
    private static readonly string[] FieldOptions = ["kind", "min", "max", "length", "var-len", "max-past", "null-rate", "start", "end"];

    private DatagenOptions(Schema schema, long rowsPerSecond, long? numberOfRows, long? seed, IReadOnlyList<DatagenField> fields)
    {
        Schema = schema;
        RowsPerSecond = rowsPerSecond;
        NumberOfRows = numberOfRows;
        Seed = seed;
        Fields = fields;
    }

    public Schema Schema { get; }

    public long RowsPerSecond { get; }

    public long? NumberOfRows { get; }

    public long? Seed { get; }

    /// <summary>One entry per column of <see cref="Schema"/>, in order.</summary>
    public IReadOnlyList<DatagenField> Fields { get; }

    /// <summary>Bounded when <c>number-of-rows</c> is set or some column is a sequence (it ends with the first sequence).</summary>
    public bool IsBounded => NumberOfRows is not null || Fields.Any(f => f.Kind == DatagenKind.Sequence);

    public static DatagenOptions Parse(Schema schema, IReadOnlyDictionary<string, string> options)
    {
        long rowsPerSecond = DefaultRowsPerSecond;
        long? numberOfRows = null;
        long? seed = null;
        var perField = new Dictionary<int, Dictionary<string, (string Key, string Value)>>();

        foreach (var (key, value) in options.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            switch (key)
            {
                case "connector":
                    if (value != "datagen") throw Error(key, $"expected 'datagen', got '{value}'");
                    break;
                case "rows-per-second":
                    rowsPerSecond = ParsePositive(key, value);
                    break;
                case "number-of-rows":
                    numberOfRows = ParseNonNegative(key, value);
                    break;
                case "seed":
                    seed = long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long s)
                        ? s
                        : throw Error(key, $"expected a long, got '{value}'");
                    break;
                default:
                    int lastDot = key.LastIndexOf('.');
                    if (!key.StartsWith("fields.", StringComparison.Ordinal) || lastDot <= "fields.".Length)
                        throw Error(key, $"unknown option; the options are {string.Join(", ", TopLevelOptions)} and fields.<name>.<{string.Join("|", FieldOptions)}>");
                    string column = key["fields.".Length..lastDot];
                    string option = key[(lastDot + 1)..];
                    int index = schema.IndexOf(column);
                    if (index < 0)
                        throw Error(key, $"no column '{column}'; the columns are {string.Join(", ", schema.Columns.Select(c => c.Name))}");
                    if (!FieldOptions.Contains(option))
                        throw Error(key, $"unknown field option '{option}'; field options are {string.Join(", ", FieldOptions)}");
                    if (!perField.TryGetValue(index, out var fieldOptions)) perField[index] = fieldOptions = [];
                    fieldOptions[option] = (key, value);
                    break;
            }
        }

        var fields = new DatagenField[schema.Count];
        for (int i = 0; i < schema.Count; i++)
            fields[i] = ParseField(schema[i], perField.GetValueOrDefault(i) ?? []);
        return new DatagenOptions(schema, rowsPerSecond, numberOfRows, seed, fields);
    }

    private static DatagenField ParseField(Column column, Dictionary<string, (string Key, string Value)> options)
    {
        var type = column.Type;
        var kind = DatagenKind.Random;
        if (options.TryGetValue("kind", out var k))
        {
            kind = k.Value switch
            {
                "random" => DatagenKind.Random,
                "sequence" => DatagenKind.Sequence,
                _ => throw Error(k.Key, $"expected 'random' or 'sequence', got '{k.Value}'"),
            };
        }
        var field = new DatagenField(column, kind);

        if (options.TryGetValue("null-rate", out var nr))
        {
            if (!double.TryParse(nr.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double rate) || rate is < 0 or > 1)
                throw Error(nr.Key, $"expected a number between 0 and 1, got '{nr.Value}'");
            if (rate > 0 && !type.Nullable) throw Error(nr.Key, $"column '{column.Name}' is {type}");
            field = field with { NullRate = rate };
        }

        if (kind == DatagenKind.Sequence)
        {
            foreach (var option in (string[])["min", "max", "length", "var-len", "max-past"])
            {
                if (options.TryGetValue(option, out var o)) throw Error(o.Key, "not allowed for a sequence field");
            }
            if (!(type.IsNumeric || type.Kind is TypeKind.String or TypeKind.Char))
                throw Error(k.Key, $"a sequence needs a numeric or string column; '{column.Name}' is {type}");
            var start = Required(options, "start", column);
            var end = Required(options, "end", column);
            long s = ParseSequenceBound(start.Key, start.Value, type);
            long e = ParseSequenceBound(end.Key, end.Value, type);
            if (e < s) throw Error(end.Key, $"end {e} is less than start {s}");
            return field with { Start = s, End = e };
        }

        foreach (var option in (string[])["start", "end"])
        {
            if (options.TryGetValue(option, out var o))
                throw Error(o.Key, $"not allowed for a random field (set 'fields.{column.Name}.kind' = 'sequence')");
        }

        object? min = null, max = null;
        if (options.TryGetValue("min", out var mn)) min = ParseNumber(mn.Key, mn.Value, column);
        if (options.TryGetValue("max", out var mx)) max = ParseNumber(mx.Key, mx.Value, column);
        if (min is not null && max is not null && Comparer<object>.Default.Compare(min, max) > 0)
            throw Error(mn.Key, $"{mn.Value} is greater than max {mx.Value}");
        field = field with { Min = min, Max = max };

        if (options.TryGetValue("length", out var len))
        {
            if (type.Kind is not (TypeKind.String or TypeKind.Array or TypeKind.Map))
                throw Error(len.Key, $"only for STRING, ARRAY and MAP columns; '{column.Name}' is {type}");
            long l = ParseNonNegative(len.Key, len.Value);
            if (l > 1_000_000) throw Error(len.Key, $"at most 1000000, got '{len.Value}'");
            field = field with { Length = (int)l };
        }

        if (options.TryGetValue("var-len", out var vl))
        {
            if (type.Kind != TypeKind.String) throw Error(vl.Key, $"only for STRING columns; '{column.Name}' is {type}");
            field = field with
            {
                VariableLength = vl.Value.ToLowerInvariant() switch
                {
                    "true" => true,
                    "false" => false,
                    _ => throw Error(vl.Key, $"expected 'true' or 'false', got '{vl.Value}'"),
                },
            };
        }

        if (options.TryGetValue("max-past", out var mp))
        {
            if (type.Kind is not (TypeKind.Timestamp or TypeKind.TimestampLtz or TypeKind.Date or TypeKind.Time))
                throw Error(mp.Key, $"only for TIMESTAMP, TIMESTAMP_LTZ, DATE and TIME columns; '{column.Name}' is {type}");
            field = field with { MaxPast = ParseDuration(mp.Key, mp.Value) };
        }
        return field;
    }

    private static (string Key, string Value) Required(Dictionary<string, (string Key, string Value)> options, string option, Column column) =>
        options.TryGetValue(option, out var o) ? o : throw Error($"fields.{column.Name}.{option}", "required for a sequence field");

    private static long ParseSequenceBound(string key, string text, DataType type)
    {
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v))
            throw Error(key, $"expected a long, got '{text}'");
        var (lo, hi) = IntegerRange(type.Kind);
        if (v < lo || v > hi) throw Error(key, $"{v} is out of the range of {type}");
        return v;
    }

    /// <summary>The range of an integer kind; other kinds take any long.</summary>
    internal static (long Min, long Max) IntegerRange(TypeKind kind) => kind switch
    {
        TypeKind.TinyInt => (sbyte.MinValue, sbyte.MaxValue),
        TypeKind.SmallInt => (short.MinValue, short.MaxValue),
        TypeKind.Int => (int.MinValue, int.MaxValue),
        _ => (long.MinValue, long.MaxValue),
    };

    private static object ParseNumber(string key, string text, Column column)
    {
        var type = column.Type;
        var inv = CultureInfo.InvariantCulture;
        switch (type.Kind)
        {
            case TypeKind.TinyInt or TypeKind.SmallInt or TypeKind.Int or TypeKind.BigInt:
                if (!long.TryParse(text, NumberStyles.AllowLeadingSign, inv, out long l))
                    throw Error(key, $"expected a value of type {type}, got '{text}'");
                var (lo, hi) = IntegerRange(type.Kind);
                if (l < lo || l > hi) throw Error(key, $"{l} is out of the range of {type}");
                return l;
            case TypeKind.Float or TypeKind.Double:
                if (!double.TryParse(text, NumberStyles.Float, inv, out double d) || !double.IsFinite(d))
                    throw Error(key, $"expected a value of type {type}, got '{text}'");
                return d;
            case TypeKind.Decimal:
                if (!decimal.TryParse(text, NumberStyles.Number, inv, out decimal m))
                    throw Error(key, $"expected a value of type {type}, got '{text}'");
                return m;
            default:
                throw Error(key, $"only for numeric columns; '{column.Name}' is {type}");
        }
    }

    private static long ParseNonNegative(string key, string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long v)
            ? v
            : throw Error(key, $"expected a non-negative integer, got '{text}'");

    private static long ParsePositive(string key, string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long v) && v > 0
            ? v
            : throw Error(key, $"expected a positive integer, got '{text}'");

    /// <summary>Flink's duration syntax: a number with an optional unit (ms when none): <c>5000</c>, <c>5 s</c>, <c>1min</c>, <c>2 h</c>, <c>1 d</c>.</summary>
    public static TimeSpan ParseDuration(string key, string text) =>
        TryParseDuration(text, out var duration, out string? problem) ? duration : throw Error(key, problem);

    /// <summary>As <see cref="ParseDuration"/>, with the problem in words when the text is not a duration.</summary>
    public static bool TryParseDuration(string text, out TimeSpan duration, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? problem) =>
        Eddy.Sql.Connectors.Options.FlinkValues.TryParseDuration(text, out duration, out problem);

    private static ArgumentException Error(string key, string problem) => new($"datagen option '{key}': {problem}");
}
