using System.Text;

namespace Eddy.Connectors;

/// <summary>Reads a stream as lines of UTF-8 bytes without decoding them (JSON lines are parsed from the bytes).</summary>
internal sealed class ByteLineReader(Stream stream) : IDisposable
{
    private byte[] buffer = new byte[1 << 16];
    private int start, end;
    private bool eof, first = true;

    /// <summary>The line number of the last line returned (1-based).</summary>
    public long LineNumber { get; private set; }

    public long BytesRead { get; private set; }

    /// <summary>The next line without its line break; the span is valid until the next call.</summary>
    public bool TryReadLine(out ReadOnlySpan<byte> line)
    {
        while (true)
        {
            int newline = buffer.AsSpan(start, end - start).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                line = TrimCarriageReturn(buffer.AsSpan(start, newline));
                start += newline + 1;
                LineNumber++;
                return true;
            }
            if (eof)
            {
                if (start < end)
                {
                    line = TrimCarriageReturn(buffer.AsSpan(start, end - start));
                    start = end;
                    LineNumber++;
                    return true;
                }
                line = default;
                return false;
            }
            Fill();
        }
    }

    private void Fill()
    {
        if (start > 0)
        {
            Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
            end -= start;
            start = 0;
        }
        // A line longer than the buffer grows it.
        if (end == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
        int n = stream.Read(buffer, end, buffer.Length - end);
        if (n == 0)
        {
            eof = true;
            return;
        }
        BytesRead += n;
        end += n;
        if (first)
        {
            first = false;
            if (end >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF) start = 3;
        }
    }

    private static ReadOnlySpan<byte> TrimCarriageReturn(ReadOnlySpan<byte> line) =>
        line.Length > 0 && line[^1] == '\r' ? line[..^1] : line;

    public void Dispose() => stream.Dispose();
}

/// <summary>One CSV field as read: its text and whether it was quoted (an unquoted empty field is null).</summary>
internal readonly record struct CsvField(string Text, bool Quoted);

/// <summary>Reads RFC 4180 records: quoted fields may hold delimiters, doubled quotes and line breaks.</summary>
internal sealed class CsvRecordReader(TextReader reader, char delimiter) : IDisposable
{
    private readonly char[] buffer = new char[1 << 16];
    private readonly StringBuilder field = new();
    private int position, length;
    private long line = 1;

    /// <summary>The line on which the last record returned started.</summary>
    public long LineNumber { get; private set; }

    public long CharsRead { get; private set; }

    private int Peek()
    {
        if (position == length)
        {
            length = reader.Read(buffer, 0, buffer.Length);
            position = 0;
            if (length <= 0)
            {
                length = 0;
                return -1;
            }
            CharsRead += length;
        }
        return buffer[position];
    }

    private int Next()
    {
        int c = Peek();
        if (c >= 0) position++;
        if (c == '\n') line++;
        return c;
    }

    /// <summary>The next record's fields, or false at the end. A blank line is a record of one empty field.</summary>
    public bool TryReadRecord(List<CsvField> fields)
    {
        fields.Clear();
        if (Peek() < 0) return false;
        LineNumber = line;
        while (true)
        {
            field.Clear();
            bool quoted = false;
            int c = Peek();
            if (c == '"')
            {
                quoted = true;
                Next();
                while (true)
                {
                    c = Next();
                    if (c < 0) throw new RecordFormatException("unterminated quoted field");
                    if (c == '"')
                    {
                        if (Peek() == '"')
                        {
                            Next();
                            field.Append('"');
                        }
                        else break;
                    }
                    else field.Append((char)c);
                }
                c = Peek();
                if (c >= 0 && c != delimiter && c != '\r' && c != '\n')
                {
                    SkipRestOfRecord();
                    throw new RecordFormatException($"unexpected '{(char)c}' after a closing quote");
                }
            }
            else
            {
                while (c >= 0 && c != delimiter && c != '\r' && c != '\n')
                {
                    field.Append((char)Next());
                    c = Peek();
                }
            }
            fields.Add(new CsvField(field.ToString(), quoted));
            c = Next();
            if (c == delimiter) continue;
            if (c == '\r' && Peek() == '\n') Next();
            return true;
        }
    }

    private void SkipRestOfRecord()
    {
        int c;
        while ((c = Next()) >= 0 && c != '\n') { }
    }

    public void Dispose() => reader.Dispose();
}
