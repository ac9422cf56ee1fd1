using System.Text;
using System.Text.Json;

namespace Eddy.Connectors.Formats.Debezium;

/// <summary>What the changelog JSON formats share: reading parts of an envelope with <see cref="Utf8JsonReader"/>.</summary>
internal static class JsonEnvelope
{
    /// <summary>Where a value lies in the message: the bytes of an object or array to decode later (the envelope's fields come in any order).</summary>
    public readonly record struct Span(int Start, int Length)
    {
        public bool IsPresent => Length > 0;

        public ReadOnlySpan<byte> Of(ReadOnlySpan<byte> json) => json.Slice(Start, Length);
    }

    /// <summary>The value at the reader (after its property name) as a span; null is absent.</summary>
    public static Span Take(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null) return default;
        int start = (int)reader.TokenStartIndex;
        reader.Skip();
        return new Span(start, (int)reader.BytesConsumed - start);
    }

    /// <summary>A string, or a number's text (Flink reads envelope fields declared STRING from either); null otherwise.</summary>
    public static string? Text(ref Utf8JsonReader reader, ReadOnlySpan<byte> json) => reader.TokenType switch
    {
        JsonTokenType.String => reader.GetString(),
        JsonTokenType.Number => Encoding.UTF8.GetString(reader.ValueSpan),
        JsonTokenType.True => "true",
        JsonTokenType.False => "false",
        JsonTokenType.StartObject or JsonTokenType.StartArray => RawText(ref reader, json),
        _ => null,
    };

    /// <summary>An object or array as its JSON text (as Flink's json format reads one into a STRING).</summary>
    public static string RawText(ref Utf8JsonReader reader, ReadOnlySpan<byte> json)
    {
        var span = Take(ref reader);
        return Encoding.UTF8.GetString(span.Of(json));
    }

    /// <summary>A BIGINT envelope field (a number, or a string holding one); null when absent or null.</summary>
    public static long? Int64(ref Utf8JsonReader reader, string field)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.Number when reader.TryGetInt64(out long l):
                return l;
            case JsonTokenType.String when long.TryParse(reader.GetString(), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out long s):
                return s;
            default:
                throw new RecordFormatException($"\"{field}\" is not a BIGINT");
        }
    }

    /// <summary>An object of the envelope read as Flink's MAP&lt;STRING, STRING&gt; (numbers and nested values as their text).</summary>
    public static Dictionary<object, object?> StringMap(ReadOnlySpan<byte> json, Span span)
    {
        var map = new Dictionary<object, object?>();
        var reader = new Utf8JsonReader(span.Of(json));
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject) throw new RecordFormatException("expected a JSON object");
        var inner = span.Of(json);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string key = reader.GetString()!;
            reader.Read();
            map[key] = Text(ref reader, inner);
        }
        return map;
    }

    public static RecordFormatException Invalid(JsonException e) => new($"invalid JSON: {e.Message}");

    /// <summary>A message for an error: its text, shortened.</summary>
    public static string Quote(ReadOnlySpan<byte> message)
    {
        string text = Encoding.UTF8.GetString(message.Length > 200 ? message[..200] : message);
        return message.Length > 200 ? text + "..." : text;
    }
}
