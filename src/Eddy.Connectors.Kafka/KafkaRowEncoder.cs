using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Eddy.Runtime;

namespace Eddy.Connectors.Kafka;

/// <summary>How a key is written: a JSON object of the key fields, the single key field's bytes, or an Avro record of the key fields.</summary>
public enum KafkaKeyFormat { Json, Raw, Avro }

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
            JsonValueWriter.Write(json, row[position], type, TimestampFormat.Sql);
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
}
