namespace Eddy.Connectors;

/// <summary>Makes one column's values for one reader. Sequences keep their position; random ones only use the random source.</summary>
internal abstract class ValueGenerator
{
    public abstract object? Next(FastRandom random, DateTimeOffset now);

    /// <summary>Writes the generator's position (sequences) for a checkpoint; random generators have none.</summary>
    public virtual void Save(BinaryWriter state) { }

    /// <summary>Takes back a position written by <see cref="Save"/>.</summary>
    public virtual void Load(BinaryReader state) { }

    /// <summary>How many values this generator can still make (sequences end; random ones do not).</summary>
    public virtual long Remaining => long.MaxValue;

    public static ValueGenerator For(DatagenField field, int subtask, int parallelism)
    {
        var type = field.Column.Type;
        ValueGenerator generator = field.Kind == DatagenKind.Sequence
            ? new SequenceGenerator(type, field.Start, field.End, subtask, parallelism)
            : Random(type, field);
        return field.NullRate > 0 ? new NullableGenerator(generator, field.NullRate) : generator;
    }

    /// <summary>A random generator for a type; nested types (array elements, row fields) use the defaults.</summary>
    public static ValueGenerator Random(DataType type, DatagenField? field = null)
    {
        int? length = field?.Length;
        switch (type.Kind)
        {
            case TypeKind.Boolean:
                return new BooleanGenerator();
            case TypeKind.TinyInt or TypeKind.SmallInt or TypeKind.Int or TypeKind.BigInt:
                var (lo, hi) = DatagenOptions.IntegerRange(type.Kind);
                return new IntegerGenerator(type.Kind, (long?)field?.Min ?? lo, (long?)field?.Max ?? hi);
            case TypeKind.Float:
                return new DoubleGenerator((double?)field?.Min ?? -float.MaxValue, (double?)field?.Max ?? float.MaxValue, isFloat: true);
            case TypeKind.Double:
                return new DoubleGenerator((double?)field?.Min ?? -double.MaxValue, (double?)field?.Max ?? double.MaxValue, isFloat: false);
            case TypeKind.Decimal:
                decimal largest = DecimalLargest(type.Precision, type.Scale);
                return new DecimalGenerator((decimal?)field?.Min ?? -largest, (decimal?)field?.Max ?? largest, type.Scale);
            case TypeKind.String:
                return new StringGenerator(length ?? DatagenOptions.DefaultStringLength, field?.VariableLength ?? false);
            case TypeKind.Char:
                return new StringGenerator(Math.Max(1, type.Precision), variableLength: false);
            case TypeKind.Date or TypeKind.Time or TypeKind.Timestamp or TypeKind.TimestampLtz:
                return new TemporalGenerator(type, field?.MaxPast ?? TimeSpan.Zero);
            case TypeKind.Array:
                return new ArrayGenerator(Random(type.Element!), length ?? DatagenOptions.DefaultCollectionLength);
            case TypeKind.Map:
                return new MapGenerator(Random(type.Element!), Random(type.Value!), length ?? DatagenOptions.DefaultCollectionLength);
            case TypeKind.Row:
                return new RowGenerator(type.Fields!.Select(f => Random(f.Type)).ToArray());
            default:
                throw new NotSupportedException($"datagen cannot generate {type}");
        }
    }

    /// <summary>The largest DECIMAL(p, s) value (decimal holds at most 28 digits).</summary>
    private static decimal DecimalLargest(int precision, int scale)
    {
        int p = Math.Clamp(precision, 1, 28);
        int s = Math.Clamp(scale, 0, p);
        decimal integerPart = 1m;
        for (int i = 0; i < p - s; i++) integerPart *= 10m;
        decimal unit = 1m;
        for (int i = 0; i < s; i++) unit /= 10m;
        return integerPart - unit;
    }
}

internal sealed class NullableGenerator(ValueGenerator inner, double nullRate) : ValueGenerator
{
    public override long Remaining => inner.Remaining;

    public override void Save(BinaryWriter state) => inner.Save(state);

    public override void Load(BinaryReader state) => inner.Load(state);

    // The inner value is drawn even for nulls so that a sequence does not shift with the null rate.
    public override object? Next(FastRandom random, DateTimeOffset now)
    {
        var value = inner.Next(random, now);
        return random.NextDouble() < nullRate ? null : value;
    }
}

/// <summary>
/// Flink's sequence partitioning: subtask <c>i</c> of <c>p</c> emits <c>start + i, start + i + p, …</c> up to <c>end</c>,
/// so the subtasks together emit every value exactly once.
/// </summary>
internal sealed class SequenceGenerator : ValueGenerator
{
    private readonly TypeKind kind;
    private readonly long parallelism;
    private long next;
    private long remaining;

    public SequenceGenerator(DataType type, long start, long end, int subtask, int parallelism)
    {
        kind = type.Kind;
        this.parallelism = parallelism;
        // UInt128 keeps the count exact for the whole long range.
        var total = (UInt128)(ulong)(end - start) + 1;
        var share = total / (uint)parallelism + (total % (uint)parallelism > (uint)subtask ? 1u : 0u);
        remaining = share > long.MaxValue ? long.MaxValue : (long)share;
        next = start + subtask;
    }

    public override long Remaining => remaining;

    public override void Save(BinaryWriter state)
    {
        state.Write(next);
        state.Write(remaining);
    }

    public override void Load(BinaryReader state)
    {
        next = state.ReadInt64();
        remaining = state.ReadInt64();
    }

    public override object? Next(FastRandom random, DateTimeOffset now)
    {
        if (remaining <= 0) throw new InvalidOperationException("the sequence is exhausted");
        long v = next;
        remaining--;
        if (remaining > 0) next += parallelism;
        return kind switch
        {
            TypeKind.TinyInt => (object)(sbyte)v,
            TypeKind.SmallInt => (short)v,
            TypeKind.Int => (int)v,
            TypeKind.BigInt => v,
            TypeKind.Float => (float)v,
            TypeKind.Double => (double)v,
            TypeKind.Decimal => (decimal)v,
            _ => v.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
    }
}

internal sealed class BooleanGenerator : ValueGenerator
{
    private static readonly object True = true, False = false;

    public override object? Next(FastRandom random, DateTimeOffset now) => random.NextBool() ? True : False;
}

internal sealed class IntegerGenerator(TypeKind kind, long min, long max) : ValueGenerator
{
    public override object? Next(FastRandom random, DateTimeOffset now)
    {
        long v = random.NextLong(min, max);
        return kind switch
        {
            // Boxed arm by arm: a switch of numeric arms would widen them all to long.
            TypeKind.TinyInt => (object)(sbyte)v,
            TypeKind.SmallInt => (short)v,
            TypeKind.Int => (int)v,
            _ => v,
        };
    }
}

internal sealed class DoubleGenerator(double min, double max, bool isFloat) : ValueGenerator
{
    public override object? Next(FastRandom random, DateTimeOffset now)
    {
        double u = random.NextDouble();
        // Interpolating (not min + u·(max − min)) cannot overflow for the full range of the type.
        double v = Math.Clamp(min * (1 - u) + max * u, min, max);
        return isFloat ? (object)(float)v : v;
    }
}

internal sealed class DecimalGenerator(decimal min, decimal max, int scale) : ValueGenerator
{
    public override object? Next(FastRandom random, DateTimeOffset now)
    {
        double u = random.NextDouble();
        decimal v = min + (decimal)u * (max - min);
        return Math.Clamp(Math.Round(v, Math.Clamp(scale, 0, 28), MidpointRounding.AwayFromZero), min, max);
    }
}

/// <summary>Flink's random strings: lower-case hex digits.</summary>
internal sealed class StringGenerator(int length, bool variableLength) : ValueGenerator
{
    public override object? Next(FastRandom random, DateTimeOffset now)
    {
        int n = variableLength && length > 0 ? (int)random.NextLong(1, length) : length;
        return string.Create(n, random, static (chars, r) =>
        {
            ulong bits = 0;
            for (int i = 0; i < chars.Length; i++)
            {
                if ((i & 15) == 0) bits = r.NextULong();
                chars[i] = "0123456789abcdef"[(int)(bits & 15)];
                bits >>= 4;
            }
        });
    }
}

/// <summary>The current time of the reader's clock minus a random part of <c>max-past</c>, cut to the type's precision.</summary>
internal sealed class TemporalGenerator(DataType type, TimeSpan maxPast) : ValueGenerator
{
    private readonly long maxPastTicks = maxPast.Ticks;
    private readonly long unitTicks = type.Precision >= 7 ? 1 : (long)Math.Pow(10, 7 - Math.Max(0, type.Precision));

    public override object? Next(FastRandom random, DateTimeOffset now)
    {
        long past = maxPastTicks == 0 ? 0 : random.NextLong(0, maxPastTicks);
        long ticks = now.UtcTicks - past;
        ticks -= ticks % unitTicks;
        var utc = new DateTime(ticks, DateTimeKind.Unspecified);
        return type.Kind switch
        {
            TypeKind.Date => DateOnly.FromDateTime(utc),
            TypeKind.Time => TimeOnly.FromDateTime(utc),
            TypeKind.Timestamp => utc,
            _ => new DateTimeOffset(utc, TimeSpan.Zero),
        };
    }
}

internal sealed class ArrayGenerator(ValueGenerator element, int length) : ValueGenerator
{
    public override object? Next(FastRandom random, DateTimeOffset now)
    {
        var items = new object?[length];
        for (int i = 0; i < length; i++) items[i] = element.Next(random, now);
        return items;
    }
}

internal sealed class MapGenerator(ValueGenerator key, ValueGenerator value, int length) : ValueGenerator
{
    public override object? Next(FastRandom random, DateTimeOffset now)
    {
        var map = new Dictionary<object, object?>(length);
        // Equal random keys collapse into one entry, as in Flink.
        for (int i = 0; i < length; i++) map[key.Next(random, now)!] = value.Next(random, now);
        return map;
    }
}

internal sealed class RowGenerator(ValueGenerator[] fields) : ValueGenerator
{
    public override object? Next(FastRandom random, DateTimeOffset now)
    {
        var values = new object?[fields.Length];
        for (int i = 0; i < fields.Length; i++) values[i] = fields[i].Next(random, now);
        return new Row(RowKind.Insert, values);
    }
}
