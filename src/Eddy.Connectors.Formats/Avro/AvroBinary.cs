using System.Buffers.Binary;
using System.Text;

namespace Eddy.Connectors.Formats.Avro;

/// <summary>
/// Avro's binary encoding read from a span (the specification's zig-zag varints, little-endian floats, length-prefixed
/// bytes and strings, blocked arrays and maps). Malformed input throws <see cref="FormatException"/>.
/// </summary>
internal ref struct AvroReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> data = data;
    private int position;

    public readonly int Position => position;

    public readonly bool AtEnd => position == data.Length;

    public long ReadLong()
    {
        ulong value = 0;
        int shift = 0;
        while (true)
        {
            if (position >= data.Length) throw Truncated();
            byte b = data[position++];
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0) break;
            shift += 7;
            if (shift > 63) throw new FormatException("avro: a varint longer than 10 bytes");
        }
        return (long)(value >> 1) ^ -(long)(value & 1);
    }

    public int ReadInt()
    {
        long v = ReadLong();
        return v is >= int.MinValue and <= int.MaxValue ? (int)v : throw new FormatException($"avro: int out of range ({v})");
    }

    public bool ReadBoolean()
    {
        if (position >= data.Length) throw Truncated();
        return data[position++] switch
        {
            0 => false,
            1 => true,
            var b => throw new FormatException($"avro: boolean byte {b}"),
        };
    }

    public float ReadFloat() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));

    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

    public ReadOnlySpan<byte> ReadBytesSpan()
    {
        long length = ReadLong();
        if (length < 0) throw new FormatException($"avro: negative length {length}");
        if (length > data.Length - position) throw Truncated();
        return Take((int)length);
    }

    public byte[] ReadBytes() => ReadBytesSpan().ToArray();

    public string ReadString() => Encoding.UTF8.GetString(ReadBytesSpan());

    public ReadOnlySpan<byte> Take(int count)
    {
        if (count > data.Length - position) throw Truncated();
        var span = data.Slice(position, count);
        position += count;
        return span;
    }

    /// <summary>The item count of the next block of an array or map (0 ends it); a negative count is followed by the block's size.</summary>
    public long ReadBlockCount()
    {
        long count = ReadLong();
        if (count < 0)
        {
            ReadLong();
            count = -count;
        }
        return count;
    }

    private static FormatException Truncated() => new("avro: the message ends inside a value");
}

/// <summary>Avro's binary encoding into a growing buffer, reused between messages (one per sink writer).</summary>
internal sealed class AvroWriter
{
    private byte[] buffer = new byte[256];
    private int length;

    public int Length => length;

    public void Reset() => length = 0;

    public byte[] ToArray() => buffer.AsSpan(0, length).ToArray();

    public ReadOnlySpan<byte> Written => buffer.AsSpan(0, length);

    /// <summary>The buffer whose first <see cref="Length"/> bytes are written (for APIs that take an array).</summary>
    public byte[] Buffer => buffer;

    private Span<byte> Reserve(int count)
    {
        if (length + count > buffer.Length) Array.Resize(ref buffer, Math.Max(buffer.Length * 2, length + count));
        var span = buffer.AsSpan(length, count);
        length += count;
        return span;
    }

    public void WriteLong(long value)
    {
        ulong v = (ulong)((value << 1) ^ (value >> 63));
        var span = Reserve(10);
        int n = 0;
        while (v >= 0x80)
        {
            span[n++] = (byte)(v | 0x80);
            v >>= 7;
        }
        span[n++] = (byte)v;
        length -= 10 - n;
    }

    public void WriteBoolean(bool value) => Reserve(1)[0] = value ? (byte)1 : (byte)0;

    public void WriteFloat(float value) => BinaryPrimitives.WriteSingleLittleEndian(Reserve(4), value);

    public void WriteDouble(double value) => BinaryPrimitives.WriteDoubleLittleEndian(Reserve(8), value);

    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteLong(value.Length);
        value.CopyTo(Reserve(value.Length));
    }

    public void WriteRaw(ReadOnlySpan<byte> value) => value.CopyTo(Reserve(value.Length));

    public void WriteString(string value)
    {
        int max = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (max < 64)
        {
            // The length's zig-zag varint is one byte (lengths below 64): write the bytes after it and fill it in.
            var span = Reserve(1 + max);
            int n = Encoding.UTF8.GetBytes(value, span[1..]);
            span[0] = (byte)(n << 1);
            length -= max - n;
            return;
        }
        int count = Encoding.UTF8.GetByteCount(value);
        WriteLong(count);
        Encoding.UTF8.GetBytes(value, Reserve(count));
    }
}
