using System.Text.Json;

namespace Eddy.Connectors;

/// <summary>
/// One SQL value as JSON, as Flink's json format writes it: numbers and booleans as such, temporal values as text in
/// the chosen timestamp format, arrays, maps and rows nested, bytes as base64. Shared by the file and Kafka sinks.
/// </summary>
public static class JsonValueWriter
{
    public static void Write(Utf8JsonWriter w, object? value, DataType type, TimestampFormat timestamps)
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
            case byte[] bytes: w.WriteBase64StringValue(bytes); break;
            case object?[] items:
                w.WriteStartArray();
                foreach (var item in items) Write(w, item, type.Element ?? DataType.String, timestamps);
                w.WriteEndArray();
                break;
            case System.Collections.IDictionary map:
                w.WriteStartObject();
                foreach (System.Collections.DictionaryEntry e in map)
                {
                    w.WritePropertyName(TextValues.Format(e.Key, type.Element ?? DataType.String));
                    Write(w, e.Value, type.Value ?? DataType.String, timestamps);
                }
                w.WriteEndObject();
                break;
            case Row nested:
                w.WriteStartObject();
                var fields = type.Fields;
                for (int i = 0; i < nested.Arity; i++)
                {
                    w.WritePropertyName(fields is not null && i < fields.Count ? fields[i].Name : $"f{i}");
                    Write(w, nested[i], fields is not null && i < fields.Count ? fields[i].Type : DataType.String, timestamps);
                }
                w.WriteEndObject();
                break;
            default:
                // Temporal values and non-finite floats: as text, which the source reads back.
                w.WriteStringValue(TextValues.Format(value, type, timestamps: timestamps));
                break;
        }
    }
}
