using System.Numerics;
using AvroSchema = Avro.Schema;

namespace Eddy.Connectors.Formats.Avro;

/// <summary>
/// How a message written with one Avro schema (the writer's) is read into the table's columns (the reader's), by
/// Avro's schema resolution: record fields matched by name (writer fields the table lacks are skipped; a table column
/// the writer lacks is null, or an error when it is NOT NULL), unions resolved per branch, the promotions int → long →
/// float → double and string ↔ bytes, enum → STRING, fixed → BYTES. Built once per writer schema; decoding then reads
/// the binary data straight into the row's values (no intermediate generic record).
/// </summary>
internal static class AvroReadPlan
{
    /// <summary>The top-level plan: a writer record into the table's columns.</summary>
    /// <exception cref="AvroResolutionException">the writer's schema cannot be read as the table's columns.</exception>
    public static RecordReader Build(AvroSchema writer, IReadOnlyList<Column> columns)
    {
        if (writer is not global::Avro.RecordSchema record)
            throw new AvroResolutionException($"the writer's schema is {writer.Tag}, not a record");
        return BuildRecord(record, columns, "");
    }

    private static RecordReader BuildRecord(global::Avro.RecordSchema writer, IReadOnlyList<Column> columns, string path)
    {
        var steps = new List<(int Target, AvroNode Node)>();
        var seen = new HashSet<int>();
        foreach (var field in writer.Fields)
        {
            int target = -1;
            for (int i = 0; i < columns.Count; i++)
            {
                if (columns[i].Name == field.Name) { target = i; break; }
            }
            if (target < 0) steps.Add((-1, Skip(field.Schema)));
            else
            {
                steps.Add((target, Resolve(field.Schema, columns[target].Type, path + field.Name)));
                seen.Add(target);
            }
        }
        for (int i = 0; i < columns.Count; i++)
        {
            if (seen.Contains(i)) continue;
            if (!columns[i].Type.Nullable)
                throw new AvroResolutionException($"column '{path}{columns[i].Name}' is NOT NULL, and the writer's schema ({writer.Fullname}) has no field of that name");
        }
        return new RecordReader([.. steps], columns.Count);
    }

    private static AvroNode Resolve(AvroSchema writer, DataType reader, string path)
    {
        if (writer is global::Avro.UnionSchema union)
        {
            var branches = new AvroNode[union.Schemas.Count];
            bool any = false;
            string? firstProblem = null;
            for (int i = 0; i < branches.Length; i++)
            {
                var branch = union.Schemas[i];
                if (branch.Tag == AvroSchema.Type.Null)
                {
                    branches[i] = reader.Nullable ? NullNode.Instance : new FailNode($"column '{path}' is NOT NULL, and the message holds null");
                    continue;
                }
                try
                {
                    branches[i] = Resolve(branch, reader, path);
                    any = true;
                }
                catch (AvroResolutionException e)
                {
                    // Avro resolves a union branch only when a message uses it.
                    firstProblem ??= e.Message;
                    branches[i] = new FailNode(e.Message);
                }
            }
            if (!any && firstProblem is not null) throw new AvroResolutionException(firstProblem);
            return new UnionNode(branches);
        }
        string logical = writer is global::Avro.LogicalSchema ls ? ls.LogicalTypeName : "";
        var tag = writer is global::Avro.LogicalSchema l ? l.BaseSchema.Tag : writer.Tag;
        AvroNode? node = reader.Kind switch
        {
            TypeKind.String or TypeKind.Char => tag switch
            {
                AvroSchema.Type.String => StringNode.Instance,
                AvroSchema.Type.Bytes when logical == "" => StringNode.Instance,
                AvroSchema.Type.Enumeration => new EnumNode([.. ((global::Avro.EnumSchema)writer).Symbols]),
                _ => null,
            },
            TypeKind.Binary => tag switch
            {
                AvroSchema.Type.Bytes or AvroSchema.Type.String when logical == "" => BytesNode.Instance,
                AvroSchema.Type.Fixed when logical == "" => new FixedNode(((global::Avro.FixedSchema)writer).Size),
                _ => null,
            },
            TypeKind.Boolean => tag == AvroSchema.Type.Boolean ? BooleanNode.Instance : null,
            TypeKind.TinyInt => tag == AvroSchema.Type.Int && logical == "" ? new IntNode(sbyte.MinValue, sbyte.MaxValue, v => (sbyte)v, path) : null,
            TypeKind.SmallInt => tag == AvroSchema.Type.Int && logical == "" ? new IntNode(short.MinValue, short.MaxValue, v => (short)v, path) : null,
            TypeKind.Int => tag == AvroSchema.Type.Int && logical == "" ? IntNode.Plain : null,
            TypeKind.BigInt => tag is AvroSchema.Type.Int or AvroSchema.Type.Long && logical == "" ? LongNode.Instance : null,
            TypeKind.Float => tag switch
            {
                AvroSchema.Type.Int or AvroSchema.Type.Long when logical == "" => new LongToFloatNode(),
                AvroSchema.Type.Float => FloatNode.Instance,
                _ => null,
            },
            TypeKind.Double => tag switch
            {
                AvroSchema.Type.Int or AvroSchema.Type.Long when logical == "" => LongToDoubleNode.Instance,
                AvroSchema.Type.Float => FloatToDoubleNode.Instance,
                AvroSchema.Type.Double => DoubleNode.Instance,
                _ => null,
            },
            TypeKind.Decimal => logical == "decimal" ? Decimal(writer, reader, tag, path) : null,
            TypeKind.Date => tag == AvroSchema.Type.Int && logical == "date" ? DateNode.Instance : null,
            TypeKind.Time => (tag, logical) switch
            {
                (AvroSchema.Type.Int, "time-millis") => new TimeNode(TimeSpan.TicksPerMillisecond, isLong: false),
                (AvroSchema.Type.Long, "time-micros") => new TimeNode(10, isLong: true),
                _ => null,
            },
            TypeKind.Timestamp or TypeKind.TimestampLtz when tag == AvroSchema.Type.Long => logical switch
            {
                "timestamp-millis" or "local-timestamp-millis" => new TimestampNode(TimeSpan.TicksPerMillisecond, reader.Kind == TypeKind.TimestampLtz),
                "timestamp-micros" or "local-timestamp-micros" => new TimestampNode(10, reader.Kind == TypeKind.TimestampLtz),
                _ => null,
            },
            TypeKind.Array when writer is global::Avro.ArraySchema array => new ArrayNode(Resolve(array.ItemSchema, reader.Element!, path + "[]")),
            TypeKind.Map when writer is global::Avro.MapSchema map && reader.Element!.Kind is TypeKind.String or TypeKind.Char =>
                new MapNode(Resolve(map.ValueSchema, reader.Value!, path + "{}")),
            TypeKind.Row when writer is global::Avro.RecordSchema record => new NestedRecordNode(BuildRecord(record, reader.Fields!, path + ".")),
            _ => null,
        };
        return node ?? throw new AvroResolutionException(
            $"column '{path}' is {reader}, and the writer's schema has {Describe(writer)} there, which Avro's resolution (as Flink reads it) does not turn into {reader.Kind.ToString().ToUpperInvariant()}");
    }

    private static AvroNode Decimal(AvroSchema writer, DataType reader, AvroSchema.Type tag, string path)
    {
        var logical = (global::Avro.LogicalSchema)writer;
        int scale = int.TryParse(logical.GetProperty("scale"), out int s) ? s : 0;
        int precision = int.TryParse(logical.GetProperty("precision"), out int p) ? p : 0;
        if (scale != reader.Scale)
            throw new AvroResolutionException(
                $"column '{path}' is {reader}, and the writer's decimal has scale {scale}: Flink would read the unscaled digits with the column's scale (a value off by a power of ten), so Eddy refuses");
        if (precision - scale > reader.Precision - reader.Scale)
            throw new AvroResolutionException($"column '{path}' is {reader}, too narrow for the writer's decimal({precision}, {scale})");
        return new DecimalNode(reader.Scale, reader.Precision, tag == AvroSchema.Type.Fixed ? ((global::Avro.FixedSchema)logical.BaseSchema).Size : -1, path);
    }

    private static string Describe(AvroSchema writer) => writer is global::Avro.LogicalSchema l
        ? $"{l.BaseSchema.Tag.ToString().ToLowerInvariant()} ({l.LogicalTypeName})"
        : writer.Tag switch
        {
            AvroSchema.Type.Enumeration => "an enum",
            AvroSchema.Type.Record => "a record",
            var t => t.ToString().ToLowerInvariant(),
        };

    /// <summary>A node that reads a writer's value and drops it (a field the table does not have).</summary>
    private static AvroNode Skip(AvroSchema writer) => writer switch
    {
        global::Avro.LogicalSchema l => Skip(l.BaseSchema),
        global::Avro.UnionSchema u => new UnionNode([.. u.Schemas.Select(Skip)]),
        global::Avro.RecordSchema r => new SkipRecordNode([.. r.Fields.Select(f => Skip(f.Schema))]),
        global::Avro.ArraySchema a => new ArrayNode(Skip(a.ItemSchema)),
        global::Avro.MapSchema m => new MapNode(Skip(m.ValueSchema)),
        global::Avro.FixedSchema f => new FixedNode(f.Size),
        global::Avro.EnumSchema => IntNode.Plain,
        _ => writer.Tag switch
        {
            AvroSchema.Type.Null => NullNode.Instance,
            AvroSchema.Type.Boolean => BooleanNode.Instance,
            AvroSchema.Type.Int or AvroSchema.Type.Long => LongNode.Instance,
            AvroSchema.Type.Float => FloatNode.Instance,
            AvroSchema.Type.Double => DoubleNode.Instance,
            AvroSchema.Type.Bytes or AvroSchema.Type.String => SkipBytesNode.Instance,
            var t => throw new AvroResolutionException($"the writer's schema has a {t}, which Eddy cannot read"),
        },
    };
}

/// <summary>The writer's schema cannot be read as the table's columns.</summary>
internal sealed class AvroResolutionException(string message) : Exception(message);

/// <summary>One step of a read plan: reads a value of the writer's schema and gives the column's value.</summary>
internal abstract class AvroNode
{
    public abstract object? Read(ref AvroReader reader);
}

/// <summary>A record: its fields in the writer's order, each stored into its column (or skipped).</summary>
internal sealed class RecordReader((int Target, AvroNode Node)[] steps, int width)
{
    public int Width => width;

    /// <summary>The writer's fields in order: the column each goes to (−1: skipped) and how it is read.</summary>
    public (int Target, AvroNode Node)[] Steps => steps;

    public void Read(ref AvroReader reader, object?[] values)
    {
        foreach (var (target, node) in steps)
        {
            object? value = node.Read(ref reader);
            if (target >= 0) values[target] = value;
        }
    }
}

internal sealed class NestedRecordNode(RecordReader record) : AvroNode
{
    public override object? Read(ref AvroReader reader)
    {
        var values = new object?[record.Width];
        record.Read(ref reader, values);
        return new Row(RowKind.Insert, values);
    }
}

internal sealed class SkipRecordNode(AvroNode[] fields) : AvroNode
{
    public override object? Read(ref AvroReader reader)
    {
        foreach (var f in fields) f.Read(ref reader);
        return null;
    }
}

internal sealed class NullNode : AvroNode
{
    public static readonly NullNode Instance = new();

    public override object? Read(ref AvroReader reader) => null;
}

internal sealed class FailNode(string message) : AvroNode
{
    public override object? Read(ref AvroReader reader) => throw new FormatException(message);
}

internal sealed class UnionNode(AvroNode[] branches) : AvroNode
{
    public AvroNode[] Branches => branches;

    public override object? Read(ref AvroReader reader)
    {
        long index = reader.ReadLong();
        if ((ulong)index >= (ulong)branches.Length) throw new FormatException($"avro: union branch {index} of {branches.Length}");
        return branches[index].Read(ref reader);
    }
}

internal sealed class StringNode : AvroNode
{
    public static readonly StringNode Instance = new();

    public override object? Read(ref AvroReader reader) => reader.ReadString();
}

internal sealed class EnumNode(string[] symbols) : AvroNode
{
    public override object? Read(ref AvroReader reader)
    {
        int index = reader.ReadInt();
        return (uint)index < (uint)symbols.Length ? symbols[index] : throw new FormatException($"avro: enum symbol {index} of {symbols.Length}");
    }
}

internal sealed class BytesNode : AvroNode
{
    public static readonly BytesNode Instance = new();

    public override object? Read(ref AvroReader reader) => reader.ReadBytes();
}

internal sealed class SkipBytesNode : AvroNode
{
    public static readonly SkipBytesNode Instance = new();

    public override object? Read(ref AvroReader reader)
    {
        reader.ReadBytesSpan();
        return null;
    }
}

internal sealed class FixedNode(int size) : AvroNode
{
    public override object? Read(ref AvroReader reader) => reader.Take(size).ToArray();
}

internal sealed class BooleanNode : AvroNode
{
    public static readonly BooleanNode Instance = new();

    public override object? Read(ref AvroReader reader) => reader.ReadBoolean() ? True : False;

    private static readonly object True = true;
    private static readonly object False = false;
}

/// <summary>An int into INT, or into TINYINT / SMALLINT when it fits (a value that does not is a bad record).</summary>
internal sealed class IntNode(int min, int max, Func<int, object>? narrow, string path) : AvroNode
{
    public static readonly IntNode Plain = new(int.MinValue, int.MaxValue, null, "");

    public override object? Read(ref AvroReader reader)
    {
        int v = reader.ReadInt();
        if (narrow is null) return v;
        return v >= min && v <= max ? narrow(v) : throw new FormatException($"column '{path}': {v} is out of range ({min}..{max})");
    }
}

internal sealed class LongNode : AvroNode
{
    public static readonly LongNode Instance = new();

    public override object? Read(ref AvroReader reader) => reader.ReadLong();
}

internal sealed class LongToFloatNode : AvroNode
{
    public override object? Read(ref AvroReader reader) => (float)reader.ReadLong();
}

internal sealed class LongToDoubleNode : AvroNode
{
    public static readonly LongToDoubleNode Instance = new();

    public override object? Read(ref AvroReader reader) => (double)reader.ReadLong();
}

internal sealed class FloatNode : AvroNode
{
    public static readonly FloatNode Instance = new();

    public override object? Read(ref AvroReader reader) => reader.ReadFloat();
}

internal sealed class FloatToDoubleNode : AvroNode
{
    public static readonly FloatToDoubleNode Instance = new();

    public override object? Read(ref AvroReader reader) => (double)reader.ReadFloat();
}

internal sealed class DoubleNode : AvroNode
{
    public static readonly DoubleNode Instance = new();

    public override object? Read(ref AvroReader reader) => reader.ReadDouble();
}

/// <summary>A decimal's unscaled two's-complement big-endian bytes (bytes or fixed) with the column's scale.</summary>
internal sealed class DecimalNode(int scale, int precision, int fixedSize, string path) : AvroNode
{
    private readonly BigInteger limit = BigInteger.Pow(10, precision);

    public override object? Read(ref AvroReader reader)
    {
        var bytes = fixedSize >= 0 ? reader.Take(fixedSize) : reader.ReadBytesSpan();
        return AvroDecimal.FromUnscaled(bytes, scale, limit, path);
    }
}

internal static class AvroDecimal
{
    private static readonly BigInteger MaxMantissa = new(decimal.MaxValue);

    /// <param name="limit">10 to the column's precision: a value of as many digits or more does not fit.</param>
    public static decimal FromUnscaled(ReadOnlySpan<byte> bytes, int scale, BigInteger limit, string path)
    {
        if (bytes.Length == 0) throw new FormatException($"column '{path}': a decimal of no bytes");
        var unscaled = new BigInteger(bytes, isUnsigned: false, isBigEndian: true);
        if (BigInteger.Abs(unscaled) > MaxMantissa || scale > 28)
            throw new FormatException($"column '{path}': the decimal {unscaled}E-{scale} does not fit Eddy's decimal (28 digits)");
        bool negative = unscaled.Sign < 0;
        var magnitude = BigInteger.Abs(unscaled);
        Span<byte> le = stackalloc byte[16];
        le.Clear();
        magnitude.TryWriteBytes(le, out _, isUnsigned: true, isBigEndian: false);
        int lo = BitConverter.ToInt32(le[..4]), mid = BitConverter.ToInt32(le[4..8]), hi = BitConverter.ToInt32(le[8..12]);
        var value = new decimal(lo, mid, hi, negative, (byte)scale);
        if (magnitude >= limit)
            throw new FormatException($"column '{path}': {value} has more digits than the column's precision");
        return value;
    }

    /// <summary>The unscaled two's-complement big-endian bytes of <paramref name="value"/> at <paramref name="scale"/>.</summary>
    public static byte[] ToUnscaled(decimal value, int scale, string path)
    {
        decimal scaled = decimal.Round(value, scale, MidpointRounding.ToEven);
        if (scaled != value)
            throw new FormatException($"column '{path}': {value} has more than {scale} decimal places");
        var bits = decimal.GetBits(scaled);
        int current = (bits[3] >> 16) & 0xff;
        var magnitude = new BigInteger((uint)bits[0]) | (new BigInteger((uint)bits[1]) << 32) | (new BigInteger((uint)bits[2]) << 64);
        magnitude *= BigInteger.Pow(10, scale - current);
        if (scaled < 0) magnitude = -magnitude;
        return magnitude.ToByteArray(isUnsigned: false, isBigEndian: true);
    }
}

internal sealed class DateNode : AvroNode
{
    public static readonly DateNode Instance = new();

    private static readonly int EpochDay = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;

    public override object? Read(ref AvroReader reader)
    {
        int days = reader.ReadInt();
        long day = (long)EpochDay + days;
        return day is >= 0 and <= 3652058 ? DateOnly.FromDayNumber((int)day) : throw new FormatException($"avro: date {days} days from 1970-01-01 is out of range");
    }
}

internal sealed class TimeNode(long ticksPerUnit, bool isLong) : AvroNode
{
    public override object? Read(ref AvroReader reader)
    {
        long units = isLong ? reader.ReadLong() : reader.ReadInt();
        long ticks = units * ticksPerUnit;
        return ticks is >= 0 and < TimeSpan.TicksPerDay ? new TimeOnly(ticks) : throw new FormatException($"avro: time of day {units} is out of range");
    }
}

/// <summary>Epoch millis or micros into TIMESTAMP (the UTC wall clock, as Flink reads it) or TIMESTAMP_LTZ (the instant).</summary>
internal sealed class TimestampNode(long ticksPerUnit, bool instant) : AvroNode
{
    public override object? Read(ref AvroReader reader)
    {
        long units = reader.ReadLong();
        long ticks;
        try
        {
            ticks = checked(DateTime.UnixEpoch.Ticks + units * ticksPerUnit);
        }
        catch (OverflowException)
        {
            throw new FormatException($"avro: timestamp {units} is out of range");
        }
        if (ticks < 0 || ticks > DateTime.MaxValue.Ticks) throw new FormatException($"avro: timestamp {units} is out of range");
        // Boxed apart: DateTime converts implicitly to DateTimeOffset, which a conditional would pick for both.
        if (instant) return new DateTimeOffset(ticks, TimeSpan.Zero);
        return new DateTime(ticks, DateTimeKind.Unspecified);
    }
}

internal sealed class ArrayNode(AvroNode items) : AvroNode
{
    public override object? Read(ref AvroReader reader)
    {
        List<object?>? values = null;
        while (true)
        {
            long count = reader.ReadBlockCount();
            if (count == 0) break;
            values ??= new List<object?>((int)Math.Min(count, 1024));
            for (long i = 0; i < count; i++) values.Add(items.Read(ref reader));
        }
        return values is null ? Array.Empty<object?>() : values.ToArray();
    }
}

internal sealed class MapNode(AvroNode values) : AvroNode
{
    public override object? Read(ref AvroReader reader)
    {
        var map = new Dictionary<object, object?>();
        while (true)
        {
            long count = reader.ReadBlockCount();
            if (count == 0) break;
            for (long i = 0; i < count; i++)
            {
                string key = reader.ReadString();
                map[key] = values.Read(ref reader);
            }
        }
        return map;
    }
}
