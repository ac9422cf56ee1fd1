using System.Linq.Expressions;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Eddy.Connectors.Formats.Protobuf;

/// <summary>
/// Reads a serialized message with <see cref="CodedInputStream"/> straight into the planner's row struct
/// (<see cref="RowTypes.For"/>): numbers, booleans, strings and bytes of singular fields are stored into their
/// fields by typed readers (no <see cref="Row"/>, no boxed value); enums, messages, repeated and map fields are read
/// as <see cref="ProtoRowDecoder"/> reads them and stored when the message ends. Same rules as the row decoder.
/// </summary>
internal sealed class ProtoStructDecoder<T> : StructDecoder<T> where T : struct
{
    private delegate void Store<TValue>(ref T row, TValue value);

    private abstract class ColumnReader
    {
        /// <summary>Reads the value at the stream into the row.</summary>
        public abstract void Read(CodedInputStream input, ref T row);

        /// <summary>Stores the value of an absent field (read-default-values).</summary>
        public abstract void StoreDefault(ref T row);
    }

    /// <summary>How one wire type is read: a struct, so that each reader is compiled for its type and the read inlined.</summary>
    private interface IWireRead<TValue>
    {
        TValue Read(CodedInputStream input);
    }

    private sealed class ScalarReader<TValue, TRead>(Store<TValue> store, TValue fallback) : ColumnReader where TRead : struct, IWireRead<TValue>
    {
        public override void Read(CodedInputStream input, ref T row) => store(ref row, default(TRead).Read(input));

        public override void StoreDefault(ref T row) => store(ref row, fallback);
    }

    private readonly struct Int32Read : IWireRead<int> { public int Read(CodedInputStream i) => i.ReadInt32(); }
    private readonly struct SInt32Read : IWireRead<int> { public int Read(CodedInputStream i) => i.ReadSInt32(); }
    private readonly struct SFixed32Read : IWireRead<int> { public int Read(CodedInputStream i) => i.ReadSFixed32(); }
    private readonly struct UInt32Read : IWireRead<int> { public int Read(CodedInputStream i) => unchecked((int)i.ReadUInt32()); }
    private readonly struct Fixed32Read : IWireRead<int> { public int Read(CodedInputStream i) => unchecked((int)i.ReadFixed32()); }
    private readonly struct Int64Read : IWireRead<long> { public long Read(CodedInputStream i) => i.ReadInt64(); }
    private readonly struct SInt64Read : IWireRead<long> { public long Read(CodedInputStream i) => i.ReadSInt64(); }
    private readonly struct SFixed64Read : IWireRead<long> { public long Read(CodedInputStream i) => i.ReadSFixed64(); }
    private readonly struct UInt64Read : IWireRead<long> { public long Read(CodedInputStream i) => unchecked((long)i.ReadUInt64()); }
    private readonly struct Fixed64Read : IWireRead<long> { public long Read(CodedInputStream i) => unchecked((long)i.ReadFixed64()); }
    private readonly struct DoubleRead : IWireRead<double> { public double Read(CodedInputStream i) => i.ReadDouble(); }
    private readonly struct FloatRead : IWireRead<float> { public float Read(CodedInputStream i) => i.ReadFloat(); }
    private readonly struct BoolRead : IWireRead<bool> { public bool Read(CodedInputStream i) => i.ReadBool(); }
    private readonly struct StringRead : IWireRead<string> { public string Read(CodedInputStream i) => i.ReadString(); }
    private readonly struct BytesRead : IWireRead<byte[]> { public byte[] Read(CodedInputStream i) => i.ReadBytes().ToByteArray(); }

    private readonly ProtoMessagePlan plan;
    /// <summary>Per column: its typed reader, or null when it is read as an object (enums, messages, repeated, maps).</summary>
    private readonly ColumnReader?[] scalars;
    private readonly WireFormat.WireType[] wires;
    private readonly Store<object?>?[] objects;
    private readonly int[] objectColumns;

    private ProtoStructDecoder(ProtoMessagePlan plan)
    {
        this.plan = plan;
        int n = plan.Columns.Length;
        scalars = new ColumnReader?[n];
        wires = new WireFormat.WireType[n];
        objects = new Store<object?>?[n];
        for (int i = 0; i < n; i++)
        {
            var column = plan.Columns[i];
            var field = RowTypes.FieldOf(typeof(T), i);
            wires[i] = ProtoRowDecoder.Expected(column.Field.FieldType);
            scalars[i] = column.Field.IsRepeated || column.Message is not null ? null : Scalar(column, field);
            if (scalars[i] is null) objects[i] = Setter<object?>(field);
        }
        objectColumns = [.. Enumerable.Range(0, n).Where(i => scalars[i] is null)];
    }

    /// <summary>A decoder for the struct, or null when it cannot be made (more than 64 columns: the row decoder reads them).</summary>
    public static ProtoStructDecoder<T>? TryCreate(ProtoMessagePlan plan) => plan.Columns.Length > 64 ? null : new(plan);

    private static ColumnReader? Scalar(ProtoFieldPlan column, System.Reflection.FieldInfo field)
    {
        ColumnReader Make<TValue, TRead>() where TRead : struct, IWireRead<TValue> =>
            new ScalarReader<TValue, TRead>(Setter<TValue>(field), (TValue)column.ScalarDefault!);
        return column.Field.FieldType switch
        {
            FieldType.Int32 => Make<int, Int32Read>(),
            FieldType.SInt32 => Make<int, SInt32Read>(),
            FieldType.SFixed32 => Make<int, SFixed32Read>(),
            FieldType.UInt32 => Make<int, UInt32Read>(),
            FieldType.Fixed32 => Make<int, Fixed32Read>(),
            FieldType.Int64 => Make<long, Int64Read>(),
            FieldType.SInt64 => Make<long, SInt64Read>(),
            FieldType.SFixed64 => Make<long, SFixed64Read>(),
            FieldType.UInt64 => Make<long, UInt64Read>(),
            FieldType.Fixed64 => Make<long, Fixed64Read>(),
            FieldType.Double => Make<double, DoubleRead>(),
            FieldType.Float => Make<float, FloatRead>(),
            FieldType.Bool => Make<bool, BoolRead>(),
            FieldType.String => Make<string, StringRead>(),
            FieldType.Bytes => Make<byte[], BytesRead>(),
            _ => null,
        };
    }

    /// <summary><c>(ref T row, v) => row.cN = v</c>, converted to the field's type (nullable, or a reference cast).</summary>
    private static Store<TValue> Setter<TValue>(System.Reflection.FieldInfo field)
    {
        var row = Expression.Parameter(typeof(T).MakeByRefType(), "row");
        var value = Expression.Parameter(typeof(TValue), "value");
        Expression converted = field.FieldType == typeof(TValue) ? value : Expression.Convert(value, field.FieldType);
        return Expression.Lambda<Store<TValue>>(Expression.Assign(Expression.Field(row, field), converted), row, value).Compile();
    }

    public override void Decode(byte[] message, out T row)
    {
        row = default;
        try
        {
            var input = new CodedInputStream(message);
            ulong seen = 0;
            object?[]? values = null;
            long end = message.Length;
            while (input.Position < end)
            {
                uint tag = input.ReadTag();
                if (tag == 0) throw new RecordFormatException($"invalid protobuf message {plan.Descriptor.FullName}: a field with number 0");
                int column = plan.ColumnOf(WireFormat.GetTagFieldNumber(tag));
                if (column < 0)
                {
                    input.SkipLastField();
                    continue;
                }
                var wire = WireFormat.GetTagWireType(tag);
                if (scalars[column] is { } reader)
                {
                    if (wire != wires[column])
                    {
                        input.SkipLastField();
                        continue;
                    }
                    reader.Read(input, ref row);
                    seen |= 1UL << column;
                    continue;
                }
                values ??= new object?[scalars.Length];
                ProtoRowDecoder.ReadField(input, plan.Columns[column], values, wire);
            }
            if (input.Position != end) throw new RecordFormatException($"invalid protobuf message {plan.Descriptor.FullName}: a field runs past the end of its message");
            foreach (int column in objectColumns)
                objects[column]!(ref row, ProtoRowDecoder.FinishColumn(plan, plan.Columns[column], values?[column]));
            if (plan.ReadDefaults && seen != (scalars.Length == 64 ? ulong.MaxValue : (1UL << scalars.Length) - 1))
            {
                for (int i = 0; i < scalars.Length; i++)
                {
                    if ((seen & (1UL << i)) == 0) scalars[i]?.StoreDefault(ref row);
                }
            }
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new RecordFormatException($"invalid protobuf message {plan.Descriptor.FullName}: {e.Message}");
        }
    }
}
