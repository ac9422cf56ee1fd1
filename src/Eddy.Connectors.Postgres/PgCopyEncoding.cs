using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Eddy.Connectors.Postgres;

/// <summary>
/// A growable byte buffer holding rows in PostgreSQL's binary COPY format (each row: field count, then per field a
/// length and the value's binary send form). The sink encodes rows here straight from the row's values, with no
/// intermediate object per value, and sends the bytes through a raw COPY stream; it keeps them until the COPY commits
/// so that a retry after a dropped connection can send them again.
/// </summary>
internal sealed class CopyBuffer : IDisposable, IBufferWriter<byte>
{
    /// <summary>The 19-byte header every binary COPY stream starts with (signature, flags, extension length).</summary>
    public static ReadOnlySpan<byte> Header => [(byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', (byte)'\n', 0xFF, (byte)'\r', (byte)'\n', 0, 0, 0, 0, 0, 0, 0, 0, 0];

    /// <summary>The field count -1 that ends a binary COPY stream.</summary>
    public static ReadOnlySpan<byte> Trailer => [0xFF, 0xFF];

    private byte[] bytes;
    private readonly List<int> rowStarts = [];

    public CopyBuffer(int capacity = 64 * 1024) => bytes = ArrayPool<byte>.Shared.Rent(capacity);

    public int Capacity => bytes.Length;

    public int Length { get; private set; }

    public int Rows => rowStarts.Count;

    public ReadOnlySpan<byte> Written => bytes.AsSpan(0, Length);

    public ReadOnlyMemory<byte> WrittenMemory => bytes.AsMemory(0, Length);

    /// <summary>Where row <paramref name="row"/> starts and ends in <see cref="Written"/>.</summary>
    public (int Start, int End) RowRange(int row) => (rowStarts[row], row + 1 < rowStarts.Count ? rowStarts[row + 1] : Length);

    public void StartRow(int fields)
    {
        rowStarts.Add(Length);
        WriteInt16((short)fields);
    }

    /// <summary>Appends rows encoded elsewhere (a state being restored), with their row boundaries.</summary>
    public void AppendRows(ReadOnlySpan<byte> encoded, int fields)
    {
        int at = 0;
        while (at < encoded.Length)
        {
            rowStarts.Add(Length + at);
            short n = BinaryPrimitives.ReadInt16BigEndian(encoded[at..]);
            if (n != fields) throw new InvalidDataException($"a staged row has {n} fields, the table {fields}");
            at += 2;
            for (int f = 0; f < n; f++)
            {
                int len = BinaryPrimitives.ReadInt32BigEndian(encoded[at..]);
                at += 4 + Math.Max(len, 0);
            }
        }
        Span(encoded.Length);
        encoded.CopyTo(bytes.AsSpan(Length));
        Length += encoded.Length;
    }

    public void Clear()
    {
        Length = 0;
        rowStarts.Clear();
    }

    public void WriteNull() => WriteInt32(-1);

    public void WriteInt16(short v)
    {
        BinaryPrimitives.WriteInt16BigEndian(Span(2), v);
        Length += 2;
    }

    public void WriteInt32(int v)
    {
        BinaryPrimitives.WriteInt32BigEndian(Span(4), v);
        Length += 4;
    }

    public void WriteInt64(long v)
    {
        BinaryPrimitives.WriteInt64BigEndian(Span(8), v);
        Length += 8;
    }

    /// <summary>A field of fixed width: its length, then the value written by <paramref name="write"/>.</summary>
    public Span<byte> FixedField(int width)
    {
        var s = Span(4 + width);
        BinaryPrimitives.WriteInt32BigEndian(s, width);
        Length += 4 + width;
        return s.Slice(4, width);
    }

    public void WriteTextField(string text)
    {
        // The worst case (3 bytes a char) is reserved only when it might not fit: an exact count near the end of the
        // array keeps a chunk from doubling for its last row.
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (Length + 4 + max > bytes.Length) max = Encoding.UTF8.GetByteCount(text);
        var s = Span(4 + max);
        int n = Encoding.UTF8.GetBytes(text, s[4..]);
        BinaryPrimitives.WriteInt32BigEndian(s, n);
        Length += 4 + n;
    }

    public void WriteBytesField(ReadOnlySpan<byte> value)
    {
        var s = Span(4 + value.Length);
        BinaryPrimitives.WriteInt32BigEndian(s, value.Length);
        value.CopyTo(s[4..]);
        Length += 4 + value.Length;
    }

    /// <summary>A field whose length is known only after it is written: reserves the length, returns its offset.</summary>
    public int BeginField()
    {
        int at = Length;
        WriteInt32(0);
        return at;
    }

    public void EndField(int at) => BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(at), Length - at - 4);

    /// <summary>A single byte inside a field begun by <see cref="BeginField"/>.</summary>
    public void WriteByte(byte b)
    {
        Span(1)[0] = b;
        Length++;
    }

    // IBufferWriter lets a Utf8JsonWriter write a jsonb value straight into the chunk.
    void IBufferWriter<byte>.Advance(int count) => Length += count;

    Memory<byte> IBufferWriter<byte>.GetMemory(int sizeHint)
    {
        Span(Math.Max(sizeHint, 256));
        return bytes.AsMemory(Length);
    }

    Span<byte> IBufferWriter<byte>.GetSpan(int sizeHint) => Span(Math.Max(sizeHint, 256));

    private Span<byte> Span(int need)
    {
        if (Length + need > bytes.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(bytes.Length * 2, Length + need));
            bytes.AsSpan(0, Length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(bytes);
            bytes = bigger;
        }
        return bytes.AsSpan(Length);
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(bytes);
        bytes = [];
        Length = 0;
    }
}

/// <summary>The binary send forms of PostgreSQL's scalar types, and their readable forms for error messages.</summary>
internal static class PgBinary
{
    private static readonly long PgEpochTicks = new DateTime(2000, 1, 1).Ticks;
    private static readonly int PgEpochDay = new DateOnly(2000, 1, 1).DayNumber;

    /// <summary>Microseconds since 2000-01-01 (timestamp and timestamptz), truncating 100 ns ticks as Npgsql does.</summary>
    public static long Timestamp(DateTime dt) => (dt.Ticks - PgEpochTicks) / 10;

    public static DateTime Timestamp(long micros) => new(PgEpochTicks + micros * 10);

    public static int Date(DateOnly d) => d.DayNumber - PgEpochDay;

    public static DateOnly Date(int days) => DateOnly.FromDayNumber(days + PgEpochDay);

    /// <summary>
    /// numeric's send form: digit count, weight (of the first base-10000 digit), sign, display scale, then the
    /// base-10000 digits, leading and trailing zero digits dropped.
    /// </summary>
    public static void Numeric(CopyBuffer buffer, decimal value)
    {
        Span<short> digits = stackalloc short[16];
        int scale = value.Scale;
        bool negative = value < 0;
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(value, bits);
        UInt128 mantissa = ((UInt128)(uint)bits[2] << 64) | ((UInt128)(uint)bits[1] << 32) | (uint)bits[0];
        UInt128 unit = Pow10(scale);
        UInt128 whole = mantissa / unit;
        int fracGroups = (scale + 3) / 4;
        UInt128 fraction = mantissa % unit * Pow10(fracGroups * 4 - scale);

        Span<short> wholeDigits = stackalloc short[8];
        int wholeCount = 0;
        for (; whole > 0; whole /= 10000) wholeDigits[wholeCount++] = (short)(ushort)(whole % 10000);
        int n = 0;
        for (int i = wholeCount - 1; i >= 0; i--) digits[n++] = wholeDigits[i];
        for (int g = fracGroups - 1; g >= 0; g--) digits[n++] = (short)(ushort)(fraction / Pow10(4 * g) % 10000);
        int weight = wholeCount - 1;
        int first = 0;
        while (first < n && digits[first] == 0) { first++; weight--; }
        while (n > first && digits[n - 1] == 0) n--;
        int count = n - first;
        if (count == 0) weight = 0;

        var field = buffer.FixedField(8 + 2 * count);
        BinaryPrimitives.WriteInt16BigEndian(field, (short)count);
        BinaryPrimitives.WriteInt16BigEndian(field[2..], (short)weight);
        BinaryPrimitives.WriteUInt16BigEndian(field[4..], negative && count > 0 ? (ushort)0x4000 : (ushort)0);
        BinaryPrimitives.WriteInt16BigEndian(field[6..], (short)scale);
        for (int i = 0; i < count; i++) BinaryPrimitives.WriteInt16BigEndian(field[(8 + 2 * i)..], digits[first + i]);
    }

    private static UInt128 Pow10(int n)
    {
        UInt128 p = 1;
        for (int i = 0; i < n; i++) p *= 10;
        return p;
    }

    /// <summary>numeric's send form back as text (for an error message).</summary>
    public static string NumericText(ReadOnlySpan<byte> field)
    {
        int count = BinaryPrimitives.ReadInt16BigEndian(field);
        int weight = BinaryPrimitives.ReadInt16BigEndian(field[2..]);
        ushort sign = BinaryPrimitives.ReadUInt16BigEndian(field[4..]);
        int scale = BinaryPrimitives.ReadInt16BigEndian(field[6..]);
        if (sign == 0xC000) return "NaN";
        var sb = new StringBuilder();
        if (sign == 0x4000) sb.Append('-');
        if (weight < 0) sb.Append('0');
        for (int w = 0; w <= weight; w++)
        {
            int d = w < count ? BinaryPrimitives.ReadInt16BigEndian(field[(8 + 2 * w)..]) : 0;
            sb.Append(w == 0 ? d.ToString(CultureInfo.InvariantCulture) : d.ToString("D4", CultureInfo.InvariantCulture));
        }
        if (scale > 0)
        {
            var frac = new StringBuilder();
            for (int pos = weight + 1; frac.Length < scale; pos++)
            {
                int d = pos >= 0 && pos < count ? BinaryPrimitives.ReadInt16BigEndian(field[(8 + 2 * pos)..]) : 0;
                frac.Append(d.ToString("D4", CultureInfo.InvariantCulture));
            }
            sb.Append('.').Append(frac.ToString(0, scale));
        }
        return sb.ToString();
    }
}
