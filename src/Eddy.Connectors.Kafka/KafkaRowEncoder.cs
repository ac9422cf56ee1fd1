using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Eddy.Runtime;

namespace Eddy.Connectors.Kafka;

/// <summary>How a key is written: a JSON object of the key fields, or the single key field's bytes.</summary>
public enum KafkaKeyFormat { Json, Raw }

/// <summary>
/// Encodes rows as Flink's json format writes them: one object per row, named by the sink schema's columns;
/// TIMESTAMP as <c>yyyy-MM-dd HH:mm:ss.SSS</c>, TIMESTAMP_LTZ the same in UTC with a trailing <c>Z</c>, DATE
/// <c>yyyy-MM-dd</c>, BYTES base64, arrays, maps and rows nested. Not thread-safe: one per sink writer.
/// </summary>
public sealed class KafkaRowEncoder
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly (int Position, string Name, DataType Type)[] fields;
    private readonly ArrayBufferWriter<byte> buffer = new(256);
    private readonly Utf8JsonWriter json;

    /// <param name="fields">The row positions to write, with the JSON names and SQL types.</param>
    public KafkaRowEncoder(IEnumerable<(int Position, string Name, DataType Type)> fields)
    {
        this.fields = [.. fields];
        json = new Utf8JsonWriter(buffer, Options);
    }

    public byte[] Json(Row row)
    {
        buffer.ResetWrittenCount();
        json.Reset(buffer);
        json.WriteStartObject();
        foreach (var (position, name, type) in fields)
        {
            json.WritePropertyName(name);
            WriteValue(json, row[position], type);
        }
        json.WriteEndObject();
        json.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The first field as raw bytes (Flink's raw format): STRING as UTF-8, BYTES as they are; null stays null.</summary>
    public byte[]? Raw(Row row) => row[fields[0].Position] switch
    {
        null => null,
        byte[] bytes => bytes,
        string s => Encoding.UTF8.GetBytes(s),
        var other => throw new InvalidOperationException($"raw format: cannot write {other.GetType().Name}"),
    };

    private static void WriteValue(Utf8JsonWriter w, object? value, DataType type)
    {
        switch (value)
        {
            case null: w.WriteNullValue(); break;
            case string s: w.WriteStringValue(s); break;
            case bool b: w.WriteBooleanValue(b); break;
            case sbyte v: w.WriteNumberValue(v); break;
            case short v: w.WriteNumberValue(v); break;
            case int v: w.WriteNumberValue(v); break;
            case long v: w.WriteNumberValue(v); break;
            case decimal v: w.WriteNumberValue(v); break;
            case float v when float.IsFinite(v): w.WriteNumberValue(v); break;
            case double v when double.IsFinite(v): w.WriteNumberValue(v); break;
            // JSON has no infinities or NaN; Flink writes them as strings too.
            case float v: w.WriteStringValue(v.ToString(CultureInfo.InvariantCulture)); break;
            case double v: w.WriteStringValue(v.ToString(CultureInfo.InvariantCulture)); break;
            case byte[] bytes: w.WriteBase64StringValue(bytes); break;
            case DateTime dt: w.WriteStringValue(dt.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture)); break;
            case DateTimeOffset dto: w.WriteStringValue(dto.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture) + "Z"); break;
            case DateOnly d: w.WriteStringValue(d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)); break;
            case TimeOnly t: w.WriteStringValue(t.ToString("HH:mm:ss", CultureInfo.InvariantCulture)); break;
            case object?[] items:
                w.WriteStartArray();
                foreach (var item in items) WriteValue(w, item, type.Element ?? DataType.String);
                w.WriteEndArray();
                break;
            case System.Collections.IDictionary map:
                w.WriteStartObject();
                foreach (System.Collections.DictionaryEntry e in map)
                {
                    w.WritePropertyName(Convert.ToString(e.Key, CultureInfo.InvariantCulture) ?? "");
                    WriteValue(w, e.Value, type.Value ?? DataType.String);
                }
                w.WriteEndObject();
                break;
            case Row nested:
                w.WriteStartObject();
                var nestedFields = type.Fields;
                for (int i = 0; i < nested.Arity; i++)
                {
                    bool named = nestedFields is not null && i < nestedFields.Count;
                    w.WritePropertyName(named ? nestedFields![i].Name : $"f{i}");
                    WriteValue(w, nested[i], named ? nestedFields![i].Type : DataType.String);
                }
                w.WriteEndObject();
                break;
            default:
                w.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }
}
