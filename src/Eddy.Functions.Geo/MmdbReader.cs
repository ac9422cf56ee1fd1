using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Eddy.Functions.Geo;

/// <summary>The types of values in a MaxMind DB data section (format version 2), by their type number.</summary>
public enum MmdbType : byte
{
    Extended = 0,
    Pointer = 1,
    Utf8String = 2,
    Double = 3,
    Bytes = 4,
    UInt16 = 5,
    UInt32 = 6,
    Map = 7,
    Int32 = 8,
    UInt64 = 9,
    UInt128 = 10,
    Array = 11,
    DataCacheContainer = 12,
    EndMarker = 13,
    Boolean = 14,
    Float = 15,
}

/// <summary>The metadata map at the end of a MaxMind DB file (the fields the reader needs and those worth showing).</summary>
public sealed record MmdbMetadata(
    uint NodeCount, int RecordSize, int IpVersion, string DatabaseType, ulong BuildEpoch,
    int FormatMajorVersion, int FormatMinorVersion, IReadOnlyList<string> Languages);

/// <summary>
/// A reader of the MaxMind DB format (version 2), written from the published specification: a binary search tree
/// over the address bits whose leaves point into a data section of self-describing typed values.
/// The file is memory-mapped; a lookup walks the tree over raw memory and returns the data offset of the record,
/// without allocating. Values are then read in place (<see cref="TryGetMapValue"/>, <see cref="ReadUtf8"/>) or decoded
/// into objects (<see cref="Decode"/>, for metadata and tests).
/// </summary>
public sealed unsafe class MmdbReader : IDisposable
{
    private static ReadOnlySpan<byte> MetadataMarker => [0xAB, 0xCD, 0xEF, (byte)'M', (byte)'a', (byte)'x', (byte)'M', (byte)'i', (byte)'n', (byte)'d', (byte)'.', (byte)'c', (byte)'o', (byte)'m'];

    private readonly MemoryMappedFile? file;
    private readonly MemoryMappedViewAccessor? view;
    private readonly GCHandle pinned;
    private readonly byte* start;
    private readonly long length;
    private readonly uint nodeCount;
    private readonly int recordSize;
    private readonly int nodeBytes;
    private readonly long dataStart;
    private readonly uint ipv4Start;
    private readonly int ipv4StartDepth;
    private bool disposed;

    // The node (or final record) after the first 16 bits of every IPv4 address, and the depth it was reached at:
    // the top of the tree is the same for every lookup, so 16 dependent reads become one.
    private readonly uint[] ipv4Prefix16;
    private readonly byte[] ipv4Prefix16Depth;

    public MmdbMetadata Metadata { get; }

    /// <summary>The file the database was read from, or null for an in-memory database.</summary>
    public string? Path { get; }

    /// <summary>Memory-maps the database file at <paramref name="path"/> (read-only).</summary>
    public static MmdbReader Open(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"MaxMind DB file '{path}' does not exist", path);
        if (info.Length == 0) throw new InvalidDataException($"'{path}' is empty, not a MaxMind DB file");
        var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        try
        {
            return new MmdbReader(file, path);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Reads a database held in memory (the bytes are copied into a pinned array).</summary>
    public static MmdbReader FromBytes(ReadOnlySpan<byte> bytes) => new(bytes);

    private MmdbReader(MemoryMappedFile file, string path)
    {
        this.file = file;
        Path = path;
        view = file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* p = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        start = p + view.PointerOffset;
        length = new FileInfo(path).Length;
        try
        {
            (Metadata, nodeCount, recordSize, nodeBytes, dataStart, ipv4Start, ipv4StartDepth) = ReadLayout();
            (ipv4Prefix16, ipv4Prefix16Depth) = BuildIpv4Prefixes();
        }
        catch
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
            view.Dispose();
            throw;
        }
    }

    private MmdbReader(ReadOnlySpan<byte> bytes)
    {
        var copy = GC.AllocateUninitializedArray<byte>(bytes.Length, pinned: true);
        bytes.CopyTo(copy);
        pinned = GCHandle.Alloc(copy, GCHandleType.Pinned);
        start = (byte*)pinned.AddrOfPinnedObject();
        length = copy.Length;
        (Metadata, nodeCount, recordSize, nodeBytes, dataStart, ipv4Start, ipv4StartDepth) = ReadLayout();
        (ipv4Prefix16, ipv4Prefix16Depth) = BuildIpv4Prefixes();
    }

    private (uint[], byte[]) BuildIpv4Prefixes()
    {
        var nodes = new uint[1 << 16];
        var depths = new byte[1 << 16];
        for (int prefix = 0; prefix < nodes.Length; prefix++)
        {
            uint node = ipv4Start;
            int depth = 0;
            while (depth < 16 && node < nodeCount)
            {
                node = ReadRecord(node, (prefix >> (15 - depth)) & 1, nodeBytes, recordSize);
                depth++;
            }
            nodes[prefix] = node;
            depths[prefix] = (byte)depth;
        }
        return (nodes, depths);
    }

    private (MmdbMetadata, uint, int, int, long, uint, int) ReadLayout()
    {
        var all = new ReadOnlySpan<byte>(start, (int)Math.Min(length, int.MaxValue));
        // The marker's last occurrence starts the metadata; the spec bounds the metadata to the last 128 KiB.
        var tail = all[(int)Math.Max(0, all.Length - 128 * 1024)..];
        int at = tail.LastIndexOf(MetadataMarker);
        if (at < 0) throw new InvalidDataException($"{Describe()} is not a MaxMind DB file: no metadata marker in its last 128 KiB");
        long metaStart = all.Length - tail.Length + at + MetadataMarker.Length;
        var meta = DecodeAt(metaStart, metaStart) as Dictionary<string, object?>
            ?? throw new InvalidDataException($"{Describe()}: the metadata is not a map");
        uint nodes = Convert.ToUInt32(Need(meta, "node_count"));
        int record = Convert.ToInt32(Need(meta, "record_size"));
        int ipVersion = Convert.ToInt32(Need(meta, "ip_version"));
        int major = Convert.ToInt32(Need(meta, "binary_format_major_version"));
        if (major != 2) throw new InvalidDataException($"{Describe()}: binary format version {major} is not supported (only 2)");
        if (record is not (24 or 28 or 32)) throw new InvalidDataException($"{Describe()}: record size {record} is not 24, 28 or 32");
        if (ipVersion is not (4 or 6)) throw new InvalidDataException($"{Describe()}: ip_version {ipVersion} is not 4 or 6");
        var languages = meta.TryGetValue("languages", out var l) && l is List<object?> list ? list.Select(x => x?.ToString() ?? "").ToList() : [];
        var metadata = new MmdbMetadata(nodes, record, ipVersion, meta.TryGetValue("database_type", out var t) ? t?.ToString() ?? "" : "",
            meta.TryGetValue("build_epoch", out var b) && b is not null ? Convert.ToUInt64(b) : 0, major,
            meta.TryGetValue("binary_format_minor_version", out var minor) && minor is not null ? Convert.ToInt32(minor) : 0, languages);
        int bytesPerNode = record * 2 / 8;
        long treeSize = (long)bytesPerNode * nodes;
        if (treeSize + 16 > metaStart) throw new InvalidDataException($"{Describe()}: the search tree ({nodes} nodes) is larger than the file");

        // IPv4 addresses live under ::/96 of an IPv6 tree; find that node once.
        uint v4 = 0;
        int depth = 0;
        if (ipVersion == 6)
        {
            for (; depth < 96 && v4 < nodes; depth++) v4 = ReadRecord(v4, 0, bytesPerNode, record);
        }
        return (metadata, nodes, record, bytesPerNode, treeSize + 16, v4, depth);

        object Need(Dictionary<string, object?> m, string key) =>
            m.TryGetValue(key, out var v) && v is not null ? v : throw new InvalidDataException($"{Describe()}: the metadata has no '{key}'");
    }

    private string Describe() => Path is null ? "the in-memory database" : $"'{Path}'";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint ReadRecord(uint node, int bit, int bytesPerNode, int record)
    {
        byte* p = start + (long)node * bytesPerNode;
        switch (record)
        {
            case 24:
                p += bit * 3;
                return (uint)(p[0] << 16 | p[1] << 8 | p[2]);
            case 28:
                return bit == 0
                    ? (uint)((p[3] & 0xF0) << 20 | p[0] << 16 | p[1] << 8 | p[2])
                    : (uint)((p[3] & 0x0F) << 24 | p[4] << 16 | p[5] << 8 | p[6]);
            default:
                return BinaryPrimitives.ReadUInt32BigEndian(new ReadOnlySpan<byte>(p + bit * 4, 4));
        }
    }

    /// <summary>
    /// Looks up an address given as its bytes (4 for IPv4, 16 for IPv6; an IPv4-mapped IPv6 address is looked up
    /// as IPv4). Returns the offset of its record in the data section, or -1 when the database has none.
    /// </summary>
    public long Find(ReadOnlySpan<byte> address) => Find(address, out _);

    /// <inheritdoc cref="Find(ReadOnlySpan{byte})"/>
    /// <param name="prefixLength">the length of the network that matched (counted in the address family given).</param>
    public long Find(ReadOnlySpan<byte> address, out int prefixLength)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        uint node;
        int depth;
        int bits;
        if (address.Length == 16 && IsIpv4Mapped(address))
            address = address[12..];
        if (address.Length == 4)
        {
            if (ipv4StartDepth < 96 && Metadata.IpVersion == 6)
            {
                // The tree ends above ::/96: every IPv4 address shares that outcome.
                prefixLength = 0;
                return Resolve(ipv4Start);
            }
            int top = address[0] << 8 | address[1];
            node = ipv4Prefix16[top];
            depth = ipv4Prefix16Depth[top];
            bits = 32;
        }
        else if (address.Length == 16)
        {
            if (Metadata.IpVersion == 4) { prefixLength = 0; return -1; }
            node = 0;
            depth = 0;
            bits = 128;
        }
        else throw new ArgumentException("an address has 4 or 16 bytes", nameof(address));

        uint nodes = nodeCount;
        int bytesPerNode = nodeBytes;
        int record = recordSize;
        while (depth < bits && node < nodes)
        {
            int bit = (address[depth >> 3] >> (7 - (depth & 7))) & 1;
            node = ReadRecord(node, bit, bytesPerNode, record);
            depth++;
        }
        prefixLength = depth;
        return Resolve(node);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long Resolve(uint node)
    {
        if (node <= nodeCount) return -1; // == node count: no data; < node count: the address was too short to reach a leaf
        long offset = (long)node - nodeCount - 16;
        if (dataStart + offset >= length) throw new InvalidDataException($"{Describe()}: a search tree record points past the end of the file");
        return offset;
    }

    private static bool IsIpv4Mapped(ReadOnlySpan<byte> a) =>
        BinaryPrimitives.ReadUInt64LittleEndian(a) == 0 && a[8] == 0 && a[9] == 0 && a[10] == 0xFF && a[11] == 0xFF;

    // ---- reading values in place ----

    /// <summary>The type and size of the value at <paramref name="offset"/> (data-section relative), after following a pointer.</summary>
    public MmdbType TypeAt(long offset)
    {
        long p = dataStart + offset;
        var (type, _, _) = Control(ref p, dataStart);
        return type;
    }

    /// <summary>
    /// Finds <paramref name="keyUtf8"/> in the map at <paramref name="mapOffset"/>; gives the offset of its value.
    /// Allocation-free.
    /// </summary>
    public bool TryGetMapValue(long mapOffset, ReadOnlySpan<byte> keyUtf8, out long valueOffset)
    {
        long p = dataStart + mapOffset;
        var (type, size, entries) = Control(ref p, dataStart);
        if (type != MmdbType.Map) throw new InvalidDataException($"{Describe()}: expected a map at data offset {mapOffset}, found {type}");
        p = entries;
        for (long i = 0; i < size; i++)
        {
            bool match = KeyEquals(ref p, keyUtf8);
            if (match)
            {
                valueOffset = p - dataStart;
                return true;
            }
            Skip(ref p);
        }
        valueOffset = -1;
        return false;
    }

    /// <summary>Walks the map at <paramref name="mapOffset"/>, giving each key (UTF-8) and the offset of its value.</summary>
    public void ForEachMapEntry<TState>(long mapOffset, ref TState state, MapEntryVisitor<TState> visit)
    {
        long p = dataStart + mapOffset;
        var (type, size, entries) = Control(ref p, dataStart);
        if (type != MmdbType.Map) throw new InvalidDataException($"{Describe()}: expected a map at data offset {mapOffset}, found {type}");
        p = entries;
        for (long i = 0; i < size; i++)
        {
            var key = ReadStringSpan(ref p);
            visit(ref state, key, p - dataStart);
            Skip(ref p);
        }
    }

    public delegate void MapEntryVisitor<TState>(ref TState state, ReadOnlySpan<byte> key, long valueOffset);

    /// <summary>The UTF-8 bytes of the string at <paramref name="offset"/>, in place.</summary>
    public ReadOnlySpan<byte> ReadUtf8(long offset)
    {
        long p = dataStart + offset;
        return ReadStringSpan(ref p);
    }

    /// <summary>The number at <paramref name="offset"/> (double, float or any integer type) as a double.</summary>
    public double ReadDouble(long offset)
    {
        long p = dataStart + offset;
        var (type, size, payload) = Control(ref p, dataStart);
        return type switch
        {
            MmdbType.Double => BitConverter.Int64BitsToDouble((long)BinaryPrimitives.ReadUInt64BigEndian(Bytes(payload, 8))),
            MmdbType.Float => BitConverter.Int32BitsToSingle((int)BinaryPrimitives.ReadUInt32BigEndian(Bytes(payload, 4))),
            MmdbType.Int32 => ReadInt32(payload, (int)size),
            MmdbType.UInt16 or MmdbType.UInt32 or MmdbType.UInt64 => ReadUnsigned(payload, (int)size),
            _ => throw new InvalidDataException($"{Describe()}: expected a number at data offset {offset}, found {type}"),
        };
    }

    private bool KeyEquals(ref long p, ReadOnlySpan<byte> key) => ReadStringSpan(ref p).SequenceEqual(key);

    private ReadOnlySpan<byte> ReadStringSpan(scoped ref long p)
    {
        var (type, size, payload) = Control(ref p, dataStart);
        if (type != MmdbType.Utf8String) throw new InvalidDataException($"{Describe()}: expected a string at file offset {payload}, found {type}");
        return Bytes(payload, (int)size);
    }

    private ReadOnlySpan<byte> Bytes(long at, int count)
    {
        if (at + count > length) throw new InvalidDataException($"{Describe()}: a value at file offset {at} runs past the end of the file");
        return new ReadOnlySpan<byte>(start + at, count);
    }

    /// <summary>
    /// Reads the control byte(s) at <paramref name="p"/> (a file offset), follows a pointer if there is one, and
    /// returns the type, the size and the file offset of the payload; <paramref name="p"/> moves past the value
    /// (past the pointer when there was one), except for maps and arrays, whose entries follow.
    /// </summary>
    private (MmdbType Type, long Size, long Payload) Control(ref long p, long sectionStart)
    {
        if (p >= length) throw new InvalidDataException($"{Describe()}: a value at file offset {p} is past the end of the file");
        byte c = start[p++];
        var type = (MmdbType)(c >> 5);
        if (type == MmdbType.Pointer)
        {
            int sizeBits = (c >> 3) & 3;
            long value = c & 7;
            long target = sizeBits switch
            {
                0 => (value << 8 | start[p]),
                1 => ((value << 16 | (long)start[p] << 8 | start[p + 1]) + 2048),
                2 => ((value << 24 | (long)start[p] << 16 | (long)start[p + 1] << 8 | start[p + 2]) + 526336),
                _ => BinaryPrimitives.ReadUInt32BigEndian(Bytes(p, 4)),
            };
            p += sizeBits + 1;
            long q = sectionStart + target;
            var (t, s, payload) = Control(ref q, sectionStart);
            if (t == MmdbType.Pointer) throw new InvalidDataException($"{Describe()}: a pointer points to a pointer");
            // The payload of a map or array is its first entry, wherever the pointer led; p stays after the pointer.
            return (t, s, payload);
        }
        if (type == MmdbType.Extended)
        {
            type = (MmdbType)(7 + start[p++]);
            if (type is < MmdbType.Int32 or > MmdbType.Float) throw new InvalidDataException($"{Describe()}: unknown extended type {(int)type} at file offset {p - 2}");
        }
        long size = c & 0x1F;
        if (type != MmdbType.Pointer && size >= 29)
        {
            size = size switch
            {
                29 => 29 + start[p],
                30 => 285 + (start[p] << 8 | start[p + 1]),
                _ => 65821 + (start[p] << 16 | start[p + 1] << 8 | start[p + 2]),
            };
            p += (c & 0x1F) - 28;
        }
        long payloadAt = p;
        if (type is not (MmdbType.Map or MmdbType.Array or MmdbType.Boolean)) p += size;
        return (type, size, payloadAt);
    }

    private void Skip(ref long p)
    {
        byte c = start[p];
        if ((c >> 5) == (int)MmdbType.Pointer)
        {
            p += ((c >> 3) & 3) + 2;
            return;
        }
        var (type, size, _) = Control(ref p, dataStart);
        if (type == MmdbType.Map)
        {
            for (long i = 0; i < size; i++) { Skip(ref p); Skip(ref p); }
        }
        else if (type == MmdbType.Array)
        {
            for (long i = 0; i < size; i++) Skip(ref p);
        }
    }

    private int ReadInt32(long at, int size)
    {
        var b = Bytes(at, size);
        if (size > 4) throw new InvalidDataException($"{Describe()}: an int32 of {size} bytes at file offset {at}");
        int v = 0;
        foreach (var x in b) v = v << 8 | x;
        // A full 4-byte value is two's complement; shorter ones are positive (leading zero bytes dropped).
        return v;
    }

    private ulong ReadUnsigned(long at, int size)
    {
        if (size > 8) throw new InvalidDataException($"{Describe()}: an integer of {size} bytes at file offset {at} is too large");
        ulong v = 0;
        foreach (var x in Bytes(at, size)) v = v << 8 | x;
        return v;
    }

    // ---- decoding into objects ----

    /// <summary>
    /// Decodes the value at <paramref name="offset"/> (data-section relative): maps as
    /// <c>Dictionary&lt;string, object?&gt;</c>, arrays as <c>List&lt;object?&gt;</c>, strings, double, float, bytes
    /// (<c>byte[]</c>), ushort, uint, int, ulong, <see cref="System.UInt128"/>, bool.
    /// </summary>
    public object? Decode(long offset) => DecodeAt(dataStart + offset, dataStart);

    private object? DecodeAt(long p, long sectionStart) => DecodeValue(ref p, sectionStart);

    private object? DecodeValue(ref long p, long sectionStart)
    {
        var (type, size, payload) = Control(ref p, sectionStart);
        switch (type)
        {
            case MmdbType.Utf8String: return Encoding.UTF8.GetString(Bytes(payload, (int)size));
            case MmdbType.Double:
                if (size != 8) throw new InvalidDataException($"{Describe()}: a double of {size} bytes");
                return BitConverter.Int64BitsToDouble((long)BinaryPrimitives.ReadUInt64BigEndian(Bytes(payload, 8)));
            case MmdbType.Float:
                if (size != 4) throw new InvalidDataException($"{Describe()}: a float of {size} bytes");
                return BitConverter.Int32BitsToSingle((int)BinaryPrimitives.ReadUInt32BigEndian(Bytes(payload, 4)));
            case MmdbType.Bytes: return Bytes(payload, (int)size).ToArray();
            case MmdbType.UInt16: return (ushort)ReadUnsigned(payload, (int)size);
            case MmdbType.UInt32: return (uint)ReadUnsigned(payload, (int)size);
            case MmdbType.UInt64: return ReadUnsigned(payload, (int)size);
            case MmdbType.Int32: return ReadInt32(payload, (int)size);
            case MmdbType.UInt128:
            {
                if (size > 16) throw new InvalidDataException($"{Describe()}: a uint128 of {size} bytes");
                System.UInt128 v = 0;
                foreach (var x in Bytes(payload, (int)size)) v = v << 8 | x;
                return v;
            }
            case MmdbType.Boolean:
                if (size > 1) throw new InvalidDataException($"{Describe()}: a boolean of value {size}");
                return size == 1;
            case MmdbType.Map:
            {
                long q = payload;
                bool inPlace = q == p;
                var map = new Dictionary<string, object?>((int)Math.Min(size, 1024));
                for (long i = 0; i < size; i++)
                {
                    var key = DecodeValue(ref q, sectionStart) as string ?? throw new InvalidDataException($"{Describe()}: a map key is not a string");
                    map[key] = DecodeValue(ref q, sectionStart);
                }
                if (inPlace) p = q;
                return map;
            }
            case MmdbType.Array:
            {
                long q = payload;
                bool inPlace = q == p;
                var list = new List<object?>((int)Math.Min(size, 1024));
                for (long i = 0; i < size; i++) list.Add(DecodeValue(ref q, sectionStart));
                if (inPlace) p = q;
                return list;
            }
            default: throw new InvalidDataException($"{Describe()}: a {type} is not a value");
        }
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        if (view is not null)
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
            view.Dispose();
            file!.Dispose();
        }
        if (pinned.IsAllocated) pinned.Free();
    }
}
