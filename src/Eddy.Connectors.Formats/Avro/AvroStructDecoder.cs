using System.Collections.Concurrent;
using System.Linq.Expressions;

namespace Eddy.Connectors.Formats.Avro;

/// <summary>
/// A read plan (<see cref="AvroReadPlan"/>) turned into steps that store straight into the planner's row struct
/// (<see cref="RowTypes.For"/>): int, long, float, double, boolean, string and bytes values, bare or in a union with
/// null, are read by typed steps and stored into their fields (no <see cref="Row"/>, no boxing); other values
/// (decimals, temporal values, enums, arrays, maps, records, promotions) are read by the plan's node and stored as
/// objects. The same resolution, the same errors as the row path.
/// </summary>
internal sealed class AvroStructReader<T> where T : struct
{
    private delegate void Store<TValue>(ref T row, TValue value);

    private abstract class Step
    {
        public abstract void Read(ref AvroReader reader, ref T row);
    }

    /// <summary>How one Avro primitive is read: a struct, so that each step is compiled for its type and the read inlined.</summary>
    private interface IPrimitive<TValue>
    {
        TValue Read(ref AvroReader reader);
    }

    private readonly struct IntRead : IPrimitive<int> { public int Read(ref AvroReader r) => r.ReadInt(); }
    private readonly struct LongRead : IPrimitive<long> { public long Read(ref AvroReader r) => r.ReadLong(); }
    private readonly struct FloatRead : IPrimitive<float> { public float Read(ref AvroReader r) => r.ReadFloat(); }
    private readonly struct DoubleRead : IPrimitive<double> { public double Read(ref AvroReader r) => r.ReadDouble(); }
    private readonly struct BooleanRead : IPrimitive<bool> { public bool Read(ref AvroReader r) => r.ReadBoolean(); }
    private readonly struct StringRead : IPrimitive<string> { public string Read(ref AvroReader r) => r.ReadString(); }
    private readonly struct BytesRead : IPrimitive<byte[]> { public byte[] Read(ref AvroReader r) => r.ReadBytes(); }

    private sealed class PrimitiveStep<TValue, TRead>(Store<TValue> store) : Step where TRead : struct, IPrimitive<TValue>
    {
        public override void Read(ref AvroReader reader, ref T row) => store(ref row, default(TRead).Read(ref reader));
    }

    /// <summary>A union of null and the primitive (either order): the branch index, then the value or nothing.</summary>
    private sealed class NullablePrimitiveStep<TValue, TRead>(Store<TValue> store, bool[] isNull, AvroNode[] branches) : Step where TRead : struct, IPrimitive<TValue>
    {
        public override void Read(ref AvroReader reader, ref T row)
        {
            long index = reader.ReadLong();
            if ((ulong)index >= (ulong)isNull.Length) throw new FormatException($"avro: union branch {index} of {isNull.Length}");
            if (isNull[index])
            {
                // A NOT NULL column's null branch fails as in the row path; a nullable one stays null (the struct's default).
                branches[index].Read(ref reader);
                return;
            }
            store(ref row, default(TRead).Read(ref reader));
        }
    }

    private sealed class ObjectStep(AvroNode node, Store<object?> store) : Step
    {
        public override void Read(ref AvroReader reader, ref T row) => store(ref row, node.Read(ref reader));
    }

    private sealed class SkipStep(AvroNode node) : Step
    {
        public override void Read(ref AvroReader reader, ref T row) => node.Read(ref reader);
    }

    private readonly Step[] steps;

    public AvroStructReader(RecordReader plan)
    {
        steps = [.. plan.Steps.Select(s => s.Target < 0 ? new SkipStep(s.Node) : Make(s.Node, RowTypes.FieldOf(typeof(T), s.Target)))];
    }

    /// <summary>How many columns are read by typed steps (not as objects): for tests.</summary>
    internal int TypedSteps => steps.Count(s => s is not (ObjectStep or SkipStep));

    private static Step Make(AvroNode node, System.Reflection.FieldInfo field)
    {
        if (Typed(node, field, out var step)) return step!;
        if (node is UnionNode union)
        {
            var branches = union.Branches;
            bool[] isNull = [.. branches.Select(b => b is NullNode or FailNode)];
            var values = branches.Where((_, i) => !isNull[i]).ToList();
            if (values.Count == 1 && Nullable(values[0], field, isNull, branches, out var nullable)) return nullable!;
        }
        return new ObjectStep(node, Setter<object?>(field));
    }

    private static bool Typed(AvroNode node, System.Reflection.FieldInfo field, out Step? step)
    {
        step = node switch
        {
            _ when ReferenceEquals(node, IntNode.Plain) => new PrimitiveStep<int, IntRead>(Setter<int>(field)),
            LongNode => new PrimitiveStep<long, LongRead>(Setter<long>(field)),
            FloatNode => new PrimitiveStep<float, FloatRead>(Setter<float>(field)),
            DoubleNode => new PrimitiveStep<double, DoubleRead>(Setter<double>(field)),
            BooleanNode => new PrimitiveStep<bool, BooleanRead>(Setter<bool>(field)),
            StringNode => new PrimitiveStep<string, StringRead>(Setter<string>(field)),
            BytesNode => new PrimitiveStep<byte[], BytesRead>(Setter<byte[]>(field)),
            _ => null,
        };
        return step is not null;
    }

    private static bool Nullable(AvroNode value, System.Reflection.FieldInfo field, bool[] isNull, AvroNode[] branches, out Step? step)
    {
        step = value switch
        {
            _ when ReferenceEquals(value, IntNode.Plain) => new NullablePrimitiveStep<int, IntRead>(Setter<int>(field), isNull, branches),
            LongNode => new NullablePrimitiveStep<long, LongRead>(Setter<long>(field), isNull, branches),
            FloatNode => new NullablePrimitiveStep<float, FloatRead>(Setter<float>(field), isNull, branches),
            DoubleNode => new NullablePrimitiveStep<double, DoubleRead>(Setter<double>(field), isNull, branches),
            BooleanNode => new NullablePrimitiveStep<bool, BooleanRead>(Setter<bool>(field), isNull, branches),
            StringNode => new NullablePrimitiveStep<string, StringRead>(Setter<string>(field), isNull, branches),
            BytesNode => new NullablePrimitiveStep<byte[], BytesRead>(Setter<byte[]>(field), isNull, branches),
            _ => null,
        };
        return step is not null;
    }

    /// <summary><c>(ref T row, v) => row.cN = v</c>, converted to the field's type (nullable, or a reference cast).</summary>
    private static Store<TValue> Setter<TValue>(System.Reflection.FieldInfo field)
    {
        var row = Expression.Parameter(typeof(T).MakeByRefType(), "row");
        var value = Expression.Parameter(typeof(TValue), "value");
        Expression converted = field.FieldType == typeof(TValue) ? value : Expression.Convert(value, field.FieldType);
        return Expression.Lambda<Store<TValue>>(Expression.Assign(Expression.Field(row, field), converted), row, value).Compile();
    }

    /// <summary>One record from <paramref name="body"/>; bytes after it are an error, as in the row path.</summary>
    public void Read(ReadOnlySpan<byte> body, out T row)
    {
        row = default;
        var reader = new AvroReader(body);
        foreach (var step in steps) step.Read(ref reader, ref row);
        if (!reader.AtEnd)
            throw new FormatException($"avro: {body.Length - reader.Position} bytes follow the record (is the message in another format, e.g. Confluent's wire format?)");
    }
}

/// <summary><c>avro</c> into row structs: the plan of the table's own schema.</summary>
internal sealed class AvroStructDecoder<T>(RecordReader plan) : StructDecoder<T> where T : struct
{
    private readonly AvroStructReader<T> reader = new(plan);

    public override void Decode(byte[] message, out T row) => reader.Read(message, out row);
}

/// <summary><c>avro-confluent</c> into row structs: a struct reader per writer schema id, from the row decoder's plans.</summary>
internal sealed class ConfluentAvroStructDecoder<T>(ConfluentAvroDecoder plans) : StructDecoder<T> where T : struct
{
    private readonly ConcurrentDictionary<int, AvroStructReader<T>> readers = new();

    public override void Decode(byte[] message, out T row)
    {
        int id = ConfluentWire.SchemaId(message);
        if (!readers.TryGetValue(id, out var reader)) reader = readers.GetOrAdd(id, i => new AvroStructReader<T>(plans.PlanOf(i)));
        reader.Read(message.AsSpan(5), out row);
    }
}
