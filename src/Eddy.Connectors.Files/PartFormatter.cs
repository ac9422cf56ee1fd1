using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Eddy.Connectors;

/// <summary>
/// Formats rows as JSON lines or CSV lines into a byte buffer: the columns at <paramref name="fields"/> of each row
/// (a partitioned sink leaves the partition columns out, as they are in the folder names).
/// </summary>
internal sealed class PartFormatter(FileConnectorOptions options, Column[] columns, int[] fields)
{
    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly StringBuilder line = new();
    private Utf8JsonWriter? json;

    public ArrayBufferWriter<byte> Buffer { get; } = new(1 << 17);

    public void Write(Row row)
    {
        if (options.Format == FileFormat.JsonLines) WriteJson(row);
        else WriteCsv(row);
    }

    /// <summary>The CSV header line (<c>csv.header</c>): the written columns' names.</summary>
    public void WriteHeader()
    {
        line.Clear();
        for (int i = 0; i < fields.Length; i++)
        {
            if (i > 0) line.Append(options.CsvDelimiter);
            AppendCsvField(columns[fields[i]].Name);
        }
        EndCsvLine();
    }

    private void WriteJson(Row row)
    {
        if (json is null) json = new Utf8JsonWriter(Buffer, JsonOptions);
        else json.Reset(Buffer);
        json.WriteStartObject();
        foreach (int c in fields)
        {
            json.WritePropertyName(columns[c].Name);
            JsonValueWriter.Write(json, row[c], columns[c].Type, options.TimestampFormat);
        }
        json.WriteEndObject();
        json.Flush();
        Buffer.GetSpan(1)[0] = (byte)'\n';
        Buffer.Advance(1);
    }

    private void WriteCsv(Row row)
    {
        line.Clear();
        for (int i = 0; i < fields.Length; i++)
        {
            if (i > 0) line.Append(options.CsvDelimiter);
            int c = fields[i];
            var value = row[c];
            if (value is null) continue;
            string text = TextValues.Format(value, columns[c].Type, options.CsvArrayDelimiter);
            // An empty string is quoted: an empty unquoted field reads back as null.
            if (text.Length == 0) line.Append("\"\"");
            else AppendCsvField(text);
        }
        EndCsvLine();
    }

    private void AppendCsvField(string text)
    {
        if (text.AsSpan().IndexOfAny(options.CsvDelimiter, '"', '\n') < 0 && !text.Contains('\r'))
        {
            line.Append(text);
            return;
        }
        line.Append('"').Append(text.Replace("\"", "\"\"")).Append('"');
    }

    private void EndCsvLine()
    {
        line.Append('\n');
        int max = Encoding.UTF8.GetMaxByteCount(line.Length);
        var span = Buffer.GetSpan(max);
        int n = 0;
        foreach (var chunk in line.GetChunks()) n += Encoding.UTF8.GetBytes(chunk.Span, span[n..]);
        Buffer.Advance(n);
    }

    public void Dispose() => json?.Dispose();
}
