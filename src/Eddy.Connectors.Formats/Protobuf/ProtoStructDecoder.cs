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

    private sealed class ScalarReader<TValue>(Func<CodedInputStream, TValue> read, Store<TValue> store, TValue fallback) : ColumnReader
    {
        public override void Read(CodedInputStream input, ref T row) => store(ref row, read(input));

        public override void StoreDefault(ref T row) => store(ref row, fallback);
    }

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
        ColumnReader Make<TValue>(Func<CodedInputStream, TValue> read) => new ScalarReader<TValue>(read, Setter<TValue>(field), (TValue)column.ScalarDefault!);
        return column.Field.FieldType switch
        {
        FieldType.Int32 => Make(i => i.ReadInt32()),
        FieldType.SInt32 => Make(i => i.ReadSInt32()),
        FieldType.SFixed32 => Make(i => i.ReadSFixed32()),
        FieldType.UInt32 => Make(i => unchecked((int)i.ReadUInt32())),
        FieldType.Fixed32 => Make(i => unchecked((int)i.ReadFixed32())),
        FieldType.Int64 => Make(i => i.ReadInt64()),
        FieldType.SInt64 => Make(i => i.ReadSInt64()),
        FieldType.SFixed64 => Make(i => i.ReadSFixed64()),
        FieldType.UInt64 => Make(i => unchecked((long)i.ReadUInt64())),
        FieldType.Fixed64 => Make(i => unchecked((long)i.ReadFixed64())),
        FieldType.Double => Make(i => i.ReadDouble()),
        FieldType.Float => Make(i => i.ReadFloat()),
        FieldType.Bool => Make(i => i.ReadBool()),
        FieldType.String => Make(i => i.ReadString()),
        FieldType.Bytes => Make(i => i.ReadBytes().ToByteArray()),
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
