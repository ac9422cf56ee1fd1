using System.Globalization;
using Eddy.Sql;
using Eddy.Sql.Connectors;
using Eddy.Sql.Connectors.Options;

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
/// The options of the datagen connector, declared once in <see cref="OptionSchema"/> with Flink's names so that a SQL
/// <c>WITH (...)</c> clause passes straight through: <c>rows-per-second</c>, <c>number-of-rows</c> and, per column,
/// the template options <c>fields.&lt;name&gt;.kind</c> (<c>random</c> | <c>sequence</c>), <c>.min</c>, <c>.max</c>,
/// <c>.length</c>, <c>.var-len</c>, <c>.max-past</c>, <c>.null-rate</c>, <c>.start</c>, <c>.end</c>.
/// Eddy extension: <c>seed</c> (a long) makes the random values the same on every run at the same parallelism.
/// </summary>
public sealed class DatagenOptions
{
    public const long DefaultRowsPerSecond = 10_000;
    public const int DefaultStringLength = 100;
    public const int DefaultCollectionLength = 3;

    private const int MaxLength = 1_000_000;

    internal static readonly ConnectorOption<long> RowsPerSecondOption =
        Option.Long("rows-per-second", "the rate of rows over all subtasks", min: 1).WithDefault(DefaultRowsPerSecond);

    internal static readonly ConnectorOption<long> NumberOfRowsOption =
        Option.Long("number-of-rows", "the number of rows to emit, which makes the source bounded (default: unbounded)", min: 0);

    internal static readonly ConnectorOption<long> SeedOption =
        Option.Long("seed", "Eddy: the seed of every random value, so that the same seed and parallelism give the same rows (default: a new seed per run)");

    internal static readonly ConnectorOption<string> KindOption =
        Option.Enum("fields.<name>.kind", "how the column's values are made: random values, or a sequence from start to end", "random", "sequence").WithDefault("random");

    internal static readonly ConnectorOption<string> MinOption =
        Option.OfColumnType("fields.<name>.min", "random numeric columns: the smallest value (default: the type's smallest)");

    internal static readonly ConnectorOption<string> MaxOption =
        Option.OfColumnType("fields.<name>.max", "random numeric columns: the largest value (default: the type's largest)");

    internal static readonly ConnectorOption<TimeSpan> MaxPastOption =
        Option.Duration("fields.<name>.max-past", "random TIMESTAMP, TIMESTAMP_LTZ, DATE and TIME columns: how far before the current time a value may lie").WithDefault(TimeSpan.Zero);

    internal static readonly ConnectorOption<int> LengthOption =
        Option.Int("fields.<name>.length", $"random STRING columns: the string length (default {DefaultStringLength}); ARRAY and MAP columns: the number of elements (default {DefaultCollectionLength}); at most {MaxLength}", min: 0);

    internal static readonly ConnectorOption<bool> VarLenOption =
        Option.Boolean("fields.<name>.var-len", "random STRING columns: a length drawn from 1 to the length instead of exactly it").WithDefault(false);

    internal static readonly ConnectorOption<double> NullRateOption =
        Option.DoubleBetween("fields.<name>.null-rate", "the share of NULL values (nullable columns only)", 0, 1).WithDefault(0);

    internal static readonly ConnectorOption<long> StartOption =
        Option.Long("fields.<name>.start", "sequence columns (numeric or string): the first value; required for a sequence");

    internal static readonly ConnectorOption<long> EndOption =
        Option.Long("fields.<name>.end", "sequence columns (numeric or string): the last value; required for a sequence");

    /// <summary>The options a datagen table takes, each declared once.</summary>
    public static OptionSchema OptionSchema { get; } = new("datagen",
        RowsPerSecondOption, NumberOfRowsOption, SeedOption, KindOption, MinOption, MaxOption, MaxPastOption, LengthOption, VarLenOption,
        NullRateOption, StartOption, EndOption);

    private static readonly ConnectorOption[] FieldOptions =
        [KindOption, MinOption, MaxOption, MaxPastOption, LengthOption, VarLenOption, NullRateOption, StartOption, EndOption];

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

    /// <summary>Validates <paramref name="options"/> against <see cref="OptionSchema"/> and reads them for the table's columns.</summary>
    /// <exception cref="ConnectorOptionException">a bad option, named with the table.</exception>
    public static DatagenOptions Parse(string table, Schema schema, IReadOnlyDictionary<string, string> options) =>
        From(table, schema, OptionSchema.Validate(table, options));

    /// <summary>Reads validated options for the table's columns (the checks that need the columns happen here).</summary>
    public static DatagenOptions From(string table, Schema schema, ConnectorOptions options)
    {
        foreach (var option in FieldOptions)
        {
            foreach (string column in options.PerNameKeys(option).Order(StringComparer.Ordinal))
            {
                if (schema.IndexOf(column) < 0)
                    throw Error(table, option.KeyFor(column), $"no column '{column}' (the columns are {string.Join(", ", schema.Columns.Select(c => c.Name))}){SqlErrors.Suggest(column, schema.Columns.Select(c => c.Name))}");
            }
        }
        var fields = new DatagenField[schema.Count];
        for (int i = 0; i < schema.Count; i++)
            fields[i] = ReadField(table, schema[i], options);
        return new DatagenOptions(schema, options.Get(RowsPerSecondOption), options.Find(NumberOfRowsOption), options.Find(SeedOption), fields);
    }

    private static DatagenField ReadField(string table, Column column, ConnectorOptions options)
    {
        var type = column.Type;
        string name = column.Name;
        bool Given(ConnectorOption option) => options.PerNameKeys(option).Contains(name);
        T Value<T>(ConnectorOption<T> option) => options.PerName(option).TryGetValue(name, out var v) ? v : option.Default;

        var kind = Value(KindOption) == "sequence" ? DatagenKind.Sequence : DatagenKind.Random;
        var field = new DatagenField(column, kind);

        if (Given(NullRateOption))
        {
            double rate = Value(NullRateOption);
            if (rate > 0 && !type.Nullable) throw Error(table, NullRateOption.KeyFor(name), $"column '{name}' is {type}");
            field = field with { NullRate = rate };
        }

        if (kind == DatagenKind.Sequence)
        {
            foreach (var option in (ConnectorOption[])[MinOption, MaxOption, LengthOption, VarLenOption, MaxPastOption])
            {
                if (Given(option)) throw Error(table, option.KeyFor(name), "not allowed for a sequence field");
            }
            if (!(type.IsNumeric || type.Kind is TypeKind.String or TypeKind.Char))
                throw Error(table, KindOption.KeyFor(name), $"a sequence needs a numeric or string column; '{name}' is {type}");
            foreach (var option in (ConnectorOption[])[StartOption, EndOption])
            {
                if (!Given(option)) throw Error(table, option.KeyFor(name), "required for a sequence field");
            }
            long s = SequenceBound(table, StartOption.KeyFor(name), Value(StartOption), type);
            long e = SequenceBound(table, EndOption.KeyFor(name), Value(EndOption), type);
            if (e < s) throw Error(table, EndOption.KeyFor(name), $"end {e} is less than start {s}");
            return field with { Start = s, End = e };
        }

        foreach (var option in (ConnectorOption[])[StartOption, EndOption])
        {
            if (Given(option)) throw Error(table, option.KeyFor(name), $"not allowed for a random field (set '{KindOption.KeyFor(name)}' = 'sequence')");
        }

        object? min = Given(MinOption) ? ParseNumber(table, MinOption.KeyFor(name), Value(MinOption), column) : null;
        object? max = Given(MaxOption) ? ParseNumber(table, MaxOption.KeyFor(name), Value(MaxOption), column) : null;
        if (min is not null && max is not null && Comparer<object>.Default.Compare(min, max) > 0)
            throw Error(table, MinOption.KeyFor(name), $"{Value(MinOption)} is greater than max {Value(MaxOption)}");
        field = field with { Min = min, Max = max };

        if (Given(LengthOption))
        {
            if (type.Kind is not (TypeKind.String or TypeKind.Array or TypeKind.Map))
                throw Error(table, LengthOption.KeyFor(name), $"only for STRING, ARRAY and MAP columns; '{name}' is {type}");
            int length = Value(LengthOption);
            if (length > MaxLength) throw Error(table, LengthOption.KeyFor(name), $"at most {MaxLength}, got '{length}'");
            field = field with { Length = length };
        }

        if (Given(VarLenOption))
        {
            if (type.Kind != TypeKind.String) throw Error(table, VarLenOption.KeyFor(name), $"only for STRING columns; '{name}' is {type}");
            field = field with { VariableLength = Value(VarLenOption) };
        }

        if (Given(MaxPastOption))
        {
            if (type.Kind is not (TypeKind.Timestamp or TypeKind.TimestampLtz or TypeKind.Date or TypeKind.Time))
                throw Error(table, MaxPastOption.KeyFor(name), $"only for TIMESTAMP, TIMESTAMP_LTZ, DATE and TIME columns; '{name}' is {type}");
            field = field with { MaxPast = Value(MaxPastOption) };
        }
        return field;
    }

    private static long SequenceBound(string table, string key, long value, DataType type)
    {
        var (lo, hi) = IntegerRange(type.Kind);
        if (value < lo || value > hi) throw Error(table, key, $"{value} is out of the range of {type}");
        return value;
    }

    /// <summary>The range of an integer kind; other kinds take any long.</summary>
    internal static (long Min, long Max) IntegerRange(TypeKind kind) => kind switch
    {
        TypeKind.TinyInt => (sbyte.MinValue, sbyte.MaxValue),
        TypeKind.SmallInt => (short.MinValue, short.MaxValue),
        TypeKind.Int => (int.MinValue, int.MaxValue),
        _ => (long.MinValue, long.MaxValue),
    };

    private static object ParseNumber(string table, string key, string text, Column column)
    {
        var type = column.Type;
        var inv = CultureInfo.InvariantCulture;
        switch (type.Kind)
        {
            case TypeKind.TinyInt or TypeKind.SmallInt or TypeKind.Int or TypeKind.BigInt:
                if (!long.TryParse(text, NumberStyles.AllowLeadingSign, inv, out long l))
                    throw Error(table, key, $"expected a value of type {type}, got '{text}'");
                var (lo, hi) = IntegerRange(type.Kind);
                if (l < lo || l > hi) throw Error(table, key, $"{l} is out of the range of {type}");
                return l;
            case TypeKind.Float or TypeKind.Double:
                if (!double.TryParse(text, NumberStyles.Float, inv, out double d) || !double.IsFinite(d))
                    throw Error(table, key, $"expected a value of type {type}, got '{text}'");
                return d;
            case TypeKind.Decimal:
                if (!decimal.TryParse(text, NumberStyles.Number, inv, out decimal m))
                    throw Error(table, key, $"expected a value of type {type}, got '{text}'");
                return m;
            default:
                throw Error(table, key, $"only for numeric columns; '{column.Name}' is {type}");
        }
    }

    private static ConnectorOptionException Error(string table, string key, string problem) => new(table, key, problem);
}
