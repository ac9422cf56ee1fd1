using System.Text;
using System.Text.Json;

namespace Eddy.Connectors.Formats.Avro;

/// <summary>
/// The Avro schema Flink derives from a table's columns (its <c>AvroSchemaConverter</c>): a record named
/// <c>org.apache.flink.avro.generated.record</c> (nested rows <c>&lt;parent&gt;_&lt;field&gt;</c>), a nullable type as
/// the union <c>["null", T]</c> with default null, STRING/CHAR → string, BYTES → bytes, BOOLEAN → boolean,
/// TINYINT/SMALLINT/INT → int, BIGINT → long, FLOAT → float, DOUBLE → double, DECIMAL(p, s) → bytes with logical type
/// decimal(p, s), DATE → int date, TIME(≤3) → int time-millis, TIMESTAMP(≤3 / ≤6) → long timestamp-millis /
/// timestamp-micros (with <c>avro.timestamp_mapping.legacy</c> = false: local-timestamp-*, and TIMESTAMP_LTZ →
/// timestamp-*), ARRAY → array, MAP with string keys → map, ROW → record.
/// </summary>
internal static class AvroSchemaDerivation
{
    public const string RecordName = "org.apache.flink.avro.generated.record";

    /// <summary>The schema as JSON text.</summary>
    /// <exception cref="FormatOptionException">a column whose type Avro (as Flink maps it) cannot hold.</exception>
    public static string Derive(IReadOnlyList<Column> columns, bool legacy, string? legacyOption)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            WriteRecord(json, columns, RecordName, legacy, legacyOption, "");
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteRecord(Utf8JsonWriter json, IReadOnlyList<Column> fields, string name, bool legacy, string? option, string path)
    {
        json.WriteStartObject();
        json.WriteString("type", "record");
        json.WriteString("name", name);
        json.WriteStartArray("fields");
        foreach (var field in fields)
        {
            json.WriteStartObject();
            json.WriteString("name", field.Name);
            json.WritePropertyName("type");
            WriteType(json, field.Type, name + "_" + field.Name, legacy, option, path + field.Name);
            if (field.Type.Nullable) json.WriteNull("default");
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteType(Utf8JsonWriter json, DataType type, string rowName, bool legacy, string? option, string path)
    {
        if (type.Nullable && type.Kind != TypeKind.Null)
        {
            json.WriteStartArray();
            json.WriteStringValue("null");
            WriteNonNull(json, type, rowName, legacy, option, path);
            json.WriteEndArray();
        }
        else WriteNonNull(json, type, rowName, legacy, option, path);
    }

    private static void WriteNonNull(Utf8JsonWriter json, DataType type, string rowName, bool legacy, string? option, string path)
    {
        switch (type.Kind)
        {
            case TypeKind.Null: json.WriteStringValue("null"); break;
            case TypeKind.String or TypeKind.Char: json.WriteStringValue("string"); break;
            case TypeKind.Binary: json.WriteStringValue("bytes"); break;
            case TypeKind.Boolean: json.WriteStringValue("boolean"); break;
            case TypeKind.TinyInt or TypeKind.SmallInt or TypeKind.Int: json.WriteStringValue("int"); break;
            case TypeKind.BigInt: json.WriteStringValue("long"); break;
            case TypeKind.Float: json.WriteStringValue("float"); break;
            case TypeKind.Double: json.WriteStringValue("double"); break;
            case TypeKind.Decimal:
                json.WriteStartObject();
                json.WriteString("type", "bytes");
                json.WriteString("logicalType", "decimal");
                json.WriteNumber("precision", type.Precision);
                json.WriteNumber("scale", type.Scale);
                json.WriteEndObject();
                break;
            case TypeKind.Date: Logical(json, "int", "date"); break;
            case TypeKind.Time:
                if (type.Precision > 3)
                    throw new FormatOptionException("format", $"column '{path}': Avro holds TIME with a precision up to 3 (time-millis), not {type}");
                Logical(json, "int", "time-millis");
                break;
            case TypeKind.Timestamp:
                Logical(json, "long", (legacy ? "timestamp-" : "local-timestamp-") + TimestampUnit(type, path));
                break;
            case TypeKind.TimestampLtz:
                if (legacy && option is null)
                    throw new FormatOptionException("format", $"column '{path}': Flink's registry Avro format maps timestamps the legacy way, which has no Avro type for {type}");
                if (legacy)
                    throw new FormatOptionException(option!, $"column '{path}': with the legacy timestamp mapping (Flink's default) Avro has no type for {type}; set '{option}' = 'false' to map it to timestamp-millis/micros");
                Logical(json, "long", "timestamp-" + TimestampUnit(type, path));
                break;
            case TypeKind.Array:
                json.WriteStartObject();
                json.WriteString("type", "array");
                json.WritePropertyName("items");
                WriteType(json, type.Element!, rowName, legacy, option, path + "[]");
                json.WriteEndObject();
                break;
            case TypeKind.Map:
                if (type.Element!.Kind is not (TypeKind.String or TypeKind.Char))
                    throw new FormatOptionException("format", $"column '{path}': Avro map keys are strings, not {type.Element}");
                json.WriteStartObject();
                json.WriteString("type", "map");
                json.WritePropertyName("values");
                WriteType(json, type.Value!, rowName, legacy, option, path + "{}");
                json.WriteEndObject();
                break;
            case TypeKind.Row:
                WriteRecord(json, type.Fields!, rowName, legacy, option, path + ".");
                break;
            default:
                throw new FormatOptionException("format", $"column '{path}': Avro has no type for {type}");
        }
    }

    private static string TimestampUnit(DataType type, string path) => type.Precision switch
    {
        <= 3 => "millis",
        <= 6 => "micros",
        _ => throw new FormatOptionException("format", $"column '{path}': Avro holds timestamps with a precision up to 6, not {type}"),
    };

    private static void Logical(Utf8JsonWriter json, string type, string logical)
    {
        json.WriteStartObject();
        json.WriteString("type", type);
        json.WriteString("logicalType", logical);
        json.WriteEndObject();
    }
}
