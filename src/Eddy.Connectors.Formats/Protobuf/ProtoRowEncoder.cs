using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Eddy.Connectors.Formats.Protobuf;

/// <summary>
/// Writes rows as protobuf messages the way Flink's protobuf serializer builds them (a generated builder per
/// message, then <c>toByteArray()</c>), from the same plan the reader uses:
/// <list type="bullet">
/// <item>A NULL column or ROW field is not set: absent on the wire (proto3 reads it back as the default).</item>
/// <item>A set field is written unless it has no presence (a plain proto3 scalar or enum) and holds its default,
/// which the builder leaves out; a real oneof keeps the last of its columns set, in column order.</item>
/// <item>A NULL element of an ARRAY, or NULL key or value of a MAP, becomes the field type's default (0, false, empty
/// bytes, the enum's first value, the empty message), a string <c>protobuf.write-null-string-literal</c> (default
/// empty): protobuf has no null there.</item>
/// <item>An enum from STRING takes the value of that name, from INT the value of that number; a name or number the
/// enum lacks becomes its first value. An enum from TINYINT, SMALLINT or BIGINT is refused (Flink's code generator
/// has no such conversion).</item>
/// <item>Fields are written in field-number order, repeated numbers packed where the field is (proto3 default,
/// proto2 <c>[packed = true]</c>), map entries with both key and value.</item>
/// </list>
/// Not thread-safe: one per sink writer.
/// </summary>
internal sealed class ProtoRowEncoder : MessageEncoder
{
    private readonly ProtoMessagePlan plan;
    private readonly IReadOnlyList<int> positions;
    private readonly string nullString;
    private readonly MemoryStream buffer = new();

    public ProtoRowEncoder(ProtoMessagePlan plan, IReadOnlyList<int> positions, string nullString)
    {
        CheckWritable(plan);
        this.plan = plan;
        this.positions = positions;
        this.nullString = nullString;
    }

    /// <summary>Refuses, at planning, what Flink's serializer cannot write.</summary>
    internal static void CheckWritable(ProtoMessagePlan plan)
    {
        foreach (var column in plan.Columns)
        {
            if (column.Field.FieldType == FieldType.Enum && !column.EnumAsName)
            {
                var kind = column.IsList ? column.Type.Element!.Kind : column.Type.Kind;
                if (kind != TypeKind.Int)
                    throw new FormatOptionException("protobuf.message-class-name",
                        $"column '{column.Path}' ({column.Type}): an enum is written from STRING (its name) or INT (its number), as Flink's protobuf serializer");
            }
            if (column.MapKey is { } key) CheckWritable(new[] { key, column.MapValue! });
            if (column.Message is { } nested) CheckWritable(nested);
        }
    }

    private static void CheckWritable(ProtoFieldPlan[] entry)
    {
        foreach (var field in entry)
            if (field.Field.FieldType == FieldType.Enum && !field.EnumAsName && field.Type.Kind != TypeKind.Int)
                throw new FormatOptionException("protobuf.message-class-name",
                    $"column '{field.Path}' ({field.Type}): an enum is written from STRING (its name) or INT (its number), as Flink's protobuf serializer");
    }

    public override byte[] Encode(Row row)
    {
        buffer.SetLength(0);
        var output = new CodedOutputStream(buffer, leaveOpen: true);
        WriteMessage(output, plan, i => row[positions[i]]);
        output.Flush();
        return buffer.ToArray();
    }

    private void WriteMessage(CodedOutputStream output, ProtoMessagePlan message, Func<int, object?> value)
    {
        foreach (var column in message.WriteOrder)
        {
            object? v = value(column.Column);
            if (v is null) continue;
            if (column.LaterInOneof is { } later && later.Any(c => value(c) is not null)) continue;
            try
            {
                WriteField(output, column, v);
            }
            catch (InvalidCastException)
            {
                throw new FormatException($"protobuf: column '{column.Path}' ({column.Type}) cannot be written from a {v.GetType().Name}");
            }
        }
    }

    private void WriteField(CodedOutputStream output, ProtoFieldPlan column, object value)
    {
        var field = column.Field;
        if (field.IsMap)
        {
            foreach (System.Collections.DictionaryEntry entry in (System.Collections.IDictionary)value)
            {
                byte[] bytes = Nested(o =>
                {
                    WriteSingle(o, column.MapKey!, entry.Key ?? DefaultOf(column.MapKey!), always: true);
                    WriteSingle(o, column.MapValue!, entry.Value ?? DefaultOf(column.MapValue!), always: true);
                });
                output.WriteTag(field.FieldNumber, WireFormat.WireType.LengthDelimited);
                output.WriteBytes(UnsafeByteOperations.UnsafeWrap(bytes));
            }
            return;
        }
        if (field.IsRepeated)
        {
            var items = (object?[])value;
            if (items.Length == 0) return;
            if (column.Packable && field.IsPacked)
            {
                byte[] packed = Nested(o =>
                {
                    foreach (var item in items) WriteScalar(o, column, item ?? DefaultOf(column));
                });
                output.WriteTag(field.FieldNumber, WireFormat.WireType.LengthDelimited);
                output.WriteBytes(UnsafeByteOperations.UnsafeWrap(packed));
                return;
            }
            foreach (var item in items) WriteSingle(output, column, item ?? DefaultOf(column), always: true);
            return;
        }
        WriteSingle(output, column, value, always: field.HasPresence);
    }

    /// <summary>One value with its tag; without <paramref name="always"/> a default value is left out (no presence).</summary>
    private void WriteSingle(CodedOutputStream output, ProtoFieldPlan column, object value, bool always)
    {
        var field = column.Field;
        if (field.FieldType == FieldType.Message)
        {
            var row = value as Row;
            byte[] bytes = row is null ? [] : Nested(o => WriteMessage(o, column.Message!, i => row[i]));
            output.WriteTag(field.FieldNumber, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(UnsafeByteOperations.UnsafeWrap(bytes));
            return;
        }
        if (!always && IsDefault(column, value)) return;
        output.WriteTag(field.FieldNumber, WireType(field.FieldType));
        WriteScalar(output, column, value);
    }

    private void WriteScalar(CodedOutputStream output, ProtoFieldPlan column, object value)
    {
        switch (column.Field.FieldType)
        {
            case FieldType.String: output.WriteString((string)value); break;
            case FieldType.Bytes: output.WriteBytes(UnsafeByteOperations.UnsafeWrap((byte[])value)); break;
            case FieldType.Bool: output.WriteBool((bool)value); break;
            case FieldType.Float: output.WriteFloat((float)value); break;
            case FieldType.Double: output.WriteDouble((double)value); break;
            case FieldType.Int32: output.WriteInt32((int)value); break;
            case FieldType.SInt32: output.WriteSInt32((int)value); break;
            case FieldType.SFixed32: output.WriteSFixed32((int)value); break;
            case FieldType.UInt32: output.WriteUInt32(unchecked((uint)(int)value)); break;
            case FieldType.Fixed32: output.WriteFixed32(unchecked((uint)(int)value)); break;
            case FieldType.Int64: output.WriteInt64((long)value); break;
            case FieldType.SInt64: output.WriteSInt64((long)value); break;
            case FieldType.SFixed64: output.WriteSFixed64((long)value); break;
            case FieldType.UInt64: output.WriteUInt64(unchecked((ulong)(long)value)); break;
            case FieldType.Fixed64: output.WriteFixed64(unchecked((ulong)(long)value)); break;
            case FieldType.Enum: output.WriteEnum(EnumNumber(column, value)); break;
            default: throw new InvalidOperationException($"protobuf: field type {column.Field.FieldType} of '{column.Path}'");
        }
    }

    /// <summary>As Flink: the value of that name or number, else the enum's first declared value.</summary>
    private static int EnumNumber(ProtoFieldPlan column, object value)
    {
        var type = column.Field.EnumType;
        var found = value is string name ? type.FindValueByName(name) : type.FindValueByNumber((int)value);
        return (found ?? type.Values[0]).Number;
    }

    private bool IsDefault(ProtoFieldPlan column, object value) => column.Field.FieldType switch
    {
        FieldType.String => ((string)value).Length == 0,
        FieldType.Bytes => ((byte[])value).Length == 0,
        FieldType.Bool => !(bool)value,
        // The builder tests the bits: -0.0 is written.
        FieldType.Float => BitConverter.SingleToInt32Bits((float)value) == 0,
        FieldType.Double => BitConverter.DoubleToInt64Bits((double)value) == 0,
        FieldType.Enum => EnumNumber(column, value) == 0,
        _ => value is int i ? i == 0 : (long)value == 0,
    };

    /// <summary>What a NULL element, map key or map value becomes: the field type's default, a string the null literal.</summary>
    private object DefaultOf(ProtoFieldPlan column) => column.Field.FieldType switch
    {
        FieldType.String => nullString,
        FieldType.Bytes => Array.Empty<byte>(),
        FieldType.Bool => false,
        FieldType.Float => 0f,
        FieldType.Double => 0d,
        FieldType.Message => new object(),
        FieldType.Enum => column.EnumAsName ? column.Field.EnumType.Values[0].Name : column.Field.EnumType.Values[0].Number,
        FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 or FieldType.UInt64 or FieldType.Fixed64 => 0L,
        _ => 0,
    };

    private static WireFormat.WireType WireType(FieldType type) => type switch
    {
        FieldType.String or FieldType.Bytes or FieldType.Message => WireFormat.WireType.LengthDelimited,
        FieldType.Float or FieldType.Fixed32 or FieldType.SFixed32 => WireFormat.WireType.Fixed32,
        FieldType.Double or FieldType.Fixed64 or FieldType.SFixed64 => WireFormat.WireType.Fixed64,
        _ => WireFormat.WireType.Varint,
    };

    private static byte[] Nested(Action<CodedOutputStream> write)
    {
        using var stream = new MemoryStream();
        var output = new CodedOutputStream(stream, leaveOpen: true);
        write(output);
        output.Flush();
        return stream.ToArray();
    }
}
