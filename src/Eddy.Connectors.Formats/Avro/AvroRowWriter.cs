namespace Eddy.Connectors.Formats.Avro;

/// <summary>
/// Writes rows in Avro's binary encoding with the schema <see cref="AvroSchemaDerivation"/> derives from the same
/// columns (so a nullable column is the union ["null", T]: branch 0 for null, 1 for a value). A null in a NOT NULL
/// column, or a value the column's Avro type cannot hold, throws <see cref="FormatException"/> naming the column.
/// </summary>
internal sealed class AvroRowWriter
{
    private readonly (int Position, string Name, DataType Type)[] fields;

    public AvroRowWriter(IReadOnlyList<Column> columns, IReadOnlyList<int> positions)
    {
        fields = [.. columns.Select((c, i) => (positions[i], c.Name, c.Type))];
    }

    public void Write(AvroWriter writer, Row row)
    {
        foreach (var (position, name, type) in fields) WriteValue(writer, row[position], type, name);
    }

    private static void WriteValue(AvroWriter w, object? value, DataType type, string path)
    {
        if (type.Nullable && type.Kind != TypeKind.Null)
        {
            if (value is null)
            {
                w.WriteLong(0);
                return;
            }
            w.WriteLong(1);
        }
        else if (value is null)
        {
            if (type.Kind == TypeKind.Null) return;
            throw new FormatException($"column '{path}' is {type} and holds null");
        }
        switch (type.Kind)
        {
            case TypeKind.String or TypeKind.Char: w.WriteString((string)value); break;
            case TypeKind.Binary: w.WriteBytes((byte[])value); break;
            case TypeKind.Boolean: w.WriteBoolean((bool)value); break;
            case TypeKind.TinyInt: w.WriteLong((sbyte)value); break;
            case TypeKind.SmallInt: w.WriteLong((short)value); break;
            case TypeKind.Int: w.WriteLong((int)value); break;
            case TypeKind.BigInt: w.WriteLong((long)value); break;
            case TypeKind.Float: w.WriteFloat((float)value); break;
            case TypeKind.Double: w.WriteDouble((double)value); break;
            case TypeKind.Decimal: w.WriteBytes(AvroDecimal.ToUnscaled((decimal)value, type.Scale, path)); break;
            case TypeKind.Date: w.WriteLong(((DateOnly)value).DayNumber - EpochDay); break;
            case TypeKind.Time: w.WriteLong(((TimeOnly)value).Ticks / TimeSpan.TicksPerMillisecond); break;
            case TypeKind.Timestamp:
                w.WriteLong(Units(((DateTime)value).Ticks - DateTime.UnixEpoch.Ticks, type.Precision));
                break;
            case TypeKind.TimestampLtz:
                w.WriteLong(Units(((DateTimeOffset)value).UtcTicks - DateTime.UnixEpoch.Ticks, type.Precision));
                break;
            case TypeKind.Array:
                var items = (object?[])value;
                if (items.Length > 0)
                {
                    w.WriteLong(items.Length);
                    foreach (var item in items) WriteValue(w, item, type.Element!, path + "[]");
                }
                w.WriteLong(0);
                break;
            case TypeKind.Map:
                var map = (Dictionary<object, object?>)value;
                if (map.Count > 0)
                {
                    w.WriteLong(map.Count);
                    foreach (var (key, item) in map)
                    {
                        w.WriteString((string)key);
                        WriteValue(w, item, type.Value!, path + "{}");
                    }
                }
                w.WriteLong(0);
                break;
            case TypeKind.Row:
                var nested = (Row)value;
                var nestedFields = type.Fields!;
                for (int i = 0; i < nestedFields.Count; i++) WriteValue(w, nested[i], nestedFields[i].Type, path + "." + nestedFields[i].Name);
                break;
            default:
                throw new FormatException($"column '{path}': Avro has no type for {type}");
        }
    }

    private static readonly int EpochDay = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;

    /// <summary>Ticks since the epoch as millis (precision ≤ 3) or micros, rounded toward negative infinity as Java's floorDiv.</summary>
    private static long Units(long ticks, int precision)
    {
        long per = precision <= 3 ? TimeSpan.TicksPerMillisecond : 10;
        return Math.DivRem(ticks, per) is var (q, r) && r < 0 ? q - 1 : q;
    }
}
