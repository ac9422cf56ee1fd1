using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Eddy.Connectors.Formats.Protobuf;

/// <summary>
/// Reads a serialized message with <see cref="CodedInputStream"/> straight into the columns it maps to, without
/// building the message object: fields not read are skipped on the wire. As protobuf parsers do, a field seen twice
/// keeps its last value (a message field merges), repeated values accumulate, packed or not, and a field whose wire
/// type does not match its declaration is an unknown field (skipped). An absent field is NULL, or its default with
/// <c>protobuf.read-default-values</c> (always for proto3, as Flink); an empty repeated or map field counts as absent.
/// </summary>
internal sealed class ProtoRowDecoder(ProtoMessagePlan plan) : MessageDecoder
{
    public override void Decode(byte[] message, List<Row> rows) => rows.Add(Decode(message));

    public override Row DecodeRow(byte[] message) => Decode(message);

    public Row Decode(byte[] message)
    {
        try
        {
            var input = new CodedInputStream(message);
            var values = new object?[plan.Columns.Length];
            ReadFields(input, plan, values, message.Length);
            return Finish(plan, values);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new RecordFormatException($"invalid protobuf message {plan.Descriptor.FullName}: {e.Message}");
        }
    }

    /// <summary>Reads fields until <paramref name="end"/> (a position in the stream) into <paramref name="values"/>.</summary>
    internal static void ReadFields(CodedInputStream input, ProtoMessagePlan plan, object?[] values, long end)
    {
        while (input.Position < end)
        {
            uint tag = input.ReadTag();
            if (tag == 0) throw new RecordFormatException($"invalid protobuf message {plan.Descriptor.FullName}: a field with number 0");
            int column = plan.ColumnOf(WireFormat.GetTagFieldNumber(tag));
            if (column < 0) input.SkipLastField();
            else ReadField(input, plan.Columns[column], values, WireFormat.GetTagWireType(tag));
        }
        if (input.Position != end) throw new RecordFormatException($"invalid protobuf message {plan.Descriptor.FullName}: a field runs past the end of its message");
    }

    /// <summary>One occurrence of a field (its tag just read) into its column's slot of <paramref name="values"/>.</summary>
    internal static void ReadField(CodedInputStream input, ProtoFieldPlan field, object?[] values, WireFormat.WireType wire)
    {
        int column = field.Column;
        if (field.Field.IsMap)
        {
            if (wire != WireFormat.WireType.LengthDelimited)
            {
                input.SkipLastField();
                return;
            }
            var map = values[column] as Dictionary<object, object?> ?? (Dictionary<object, object?>)(values[column] = new Dictionary<object, object?>());
            ReadMapEntry(input, field, map);
            return;
        }
        if (field.IsList)
        {
            var list = values[column] as List<object?> ?? (List<object?>)(values[column] = new List<object?>());
            if (field.Packable && wire == WireFormat.WireType.LengthDelimited)
            {
                int packedLength = input.ReadLength();
                long packedEnd = input.Position + packedLength;
                while (input.Position < packedEnd)
                {
                    if (ReadScalar(input, field) is { } v) list.Add(v);
                }
                if (input.Position != packedEnd) throw new RecordFormatException($"field '{field.Path}': a packed value runs past its length");
                return;
            }
            if (wire != Expected(field.Field.FieldType))
            {
                input.SkipLastField();
                return;
            }
            if (field.Message is { } elementPlan) list.Add(ReadMessage(input, elementPlan, null));
            else if (ReadScalar(input, field) is { } v) list.Add(v);
            return;
        }
        if (wire != Expected(field.Field.FieldType))
        {
            input.SkipLastField();
            return;
        }
        if (field.Message is { } messagePlan) values[column] = ReadMessage(input, messagePlan, values[column] as object?[]);
        else if (ReadScalar(input, field) is { } value) values[column] = value;
    }

    /// <summary>A nested message's fields (merged into <paramref name="into"/> when the field came before).</summary>
    private static object?[] ReadMessage(CodedInputStream input, ProtoMessagePlan plan, object?[]? into)
    {
        int length = input.ReadLength();
        var values = into ?? new object?[plan.Columns.Length];
        ReadFields(input, plan, values, input.Position + length);
        return values;
    }

    private static void ReadMapEntry(CodedInputStream input, ProtoFieldPlan field, Dictionary<object, object?> map)
    {
        int entryLength = input.ReadLength();
        long end = input.Position + entryLength;
        object? key = null, value = null;
        var keyPlan = field.MapKey!;
        var valuePlan = field.MapValue!;
        while (input.Position < end)
        {
            uint tag = input.ReadTag();
            int number = WireFormat.GetTagFieldNumber(tag);
            var wire = WireFormat.GetTagWireType(tag);
            if (number == 1 && wire == Expected(keyPlan.Field.FieldType)) key = ReadScalar(input, keyPlan);
            else if (number == 2 && wire == Expected(valuePlan.Field.FieldType))
                value = valuePlan.Message is { } m ? ReadMessage(input, m, value as object?[]) : ReadScalar(input, valuePlan);
            else input.SkipLastField();
        }
        if (input.Position != end) throw new RecordFormatException($"field '{field.Path}': a map entry runs past its length");
        // A missing key or value is the type's default (an entry cannot hold NULL).
        key ??= keyPlan.ScalarDefault!;
        map[key] = valuePlan.Message is { } valueMessage ? Finish(valueMessage, value as object?[] ?? new object?[valueMessage.Columns.Length])
            : value ?? valuePlan.ScalarDefault;
    }

    internal static WireFormat.WireType Expected(FieldType type) => type switch
    {
        FieldType.Double or FieldType.Fixed64 or FieldType.SFixed64 => WireFormat.WireType.Fixed64,
        FieldType.Float or FieldType.Fixed32 or FieldType.SFixed32 => WireFormat.WireType.Fixed32,
        FieldType.String or FieldType.Bytes or FieldType.Message => WireFormat.WireType.LengthDelimited,
        FieldType.Group => WireFormat.WireType.StartGroup,
        _ => WireFormat.WireType.Varint,
    };

    /// <summary>One scalar value as its column's CLR type; null for a proto2 enum number the enum does not define (an unknown field there).</summary>
    internal static object? ReadScalar(CodedInputStream input, ProtoFieldPlan field) => field.Field.FieldType switch
    {
        FieldType.Double => input.ReadDouble(),
        FieldType.Float => input.ReadFloat(),
        FieldType.Int64 => input.ReadInt64(),
        FieldType.UInt64 => (long)input.ReadUInt64(),
        FieldType.Int32 => input.ReadInt32(),
        FieldType.Fixed64 => (long)input.ReadFixed64(),
        FieldType.Fixed32 => (int)input.ReadFixed32(),
        FieldType.Bool => input.ReadBool(),
        FieldType.String => input.ReadString(),
        FieldType.Bytes => input.ReadBytes().ToByteArray(),
        FieldType.UInt32 => (int)input.ReadUInt32(),
        FieldType.SFixed32 => input.ReadSFixed32(),
        FieldType.SFixed64 => input.ReadSFixed64(),
        FieldType.SInt32 => input.ReadSInt32(),
        FieldType.SInt64 => input.ReadSInt64(),
        FieldType.Enum => Enum(input.ReadEnum(), field),
        _ => throw new RecordFormatException($"field '{field.Path}': {field.Field.FieldType} is not a scalar"),
    };

    private static object? Enum(int number, ProtoFieldPlan field)
    {
        var value = field.Field.EnumType.FindValueByNumber(number);
        if (value is not null) return ProtoFieldPlan.EnumValue(number, value.Name, field.IsList ? field.Type.Element! : field.Type, field.EnumAsName);
        // proto2 enums are closed: an unknown number is kept as an unknown field, so the field stays unset.
        if (ProtoSyntaxes.Of(field.Field.File) == ProtoSyntax.Proto2) return null;
        // proto3 enums are open: Java's generated getter gives UNRECOGNIZED, whose number cannot be read.
        if (field.EnumAsName) return "UNRECOGNIZED";
        throw new RecordFormatException($"field '{field.Path}': {number} is not a value of enum {field.Field.EnumType.FullName}");
    }

    /// <summary>The row of a message's columns: lists and maps made final, nested messages made rows, absent fields NULL or default.</summary>
    internal static Row Finish(ProtoMessagePlan plan, object?[] values)
    {
        for (int i = 0; i < values.Length; i++) values[i] = FinishColumn(plan, plan.Columns[i], values[i]);
        return new Row(RowKind.Insert, values);
    }

    /// <summary>A column's value as read (null: absent) made final.</summary>
    internal static object? FinishColumn(ProtoMessagePlan plan, ProtoFieldPlan field, object? v)
    {
        if (field.Field.IsMap)
        {
            if (v is Dictionary<object, object?> { Count: > 0 }) return v;
            return plan.ReadDefaults ? new Dictionary<object, object?>() : null;
        }
        if (field.IsList)
        {
            if (v is List<object?> { Count: > 0 } list)
            {
                var items = list.ToArray();
                if (field.Message is { } elementPlan)
                {
                    for (int j = 0; j < items.Length; j++) items[j] = Finish(elementPlan, (object?[])items[j]!);
                }
                return items;
            }
            return plan.ReadDefaults ? Array.Empty<object?>() : null;
        }
        if (field.Message is { } messagePlan)
        {
            if (v is object?[] nested) return Finish(messagePlan, nested);
            return plan.ReadDefaults ? messagePlan.EmptyRow() : null;
        }
        return v is null && plan.ReadDefaults ? field.ScalarDefault : v;
    }
}
