using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace Eddy.Functions.Geo.Tests;

/// <summary>A value that the writer encodes as a pointer to the data-section offset of another value.</summary>
public sealed record MmdbPointerTo(object Value);

/// <summary>Typed values the writer cannot infer from a CLR type alone.</summary>
public readonly record struct MmdbUInt16(ushort Value);

/// <summary>
/// A small writer of the MaxMind DB format for tests: networks with values in a binary trie, serialised with record
/// size 24, 28 or 32, and a data section that uses every value type (pointers included) and every size encoding.
/// </summary>
public sealed class TinyMmdbWriter(int ipVersion = 6, int recordSize = 28)
{
    private sealed class Node
    {
        public object?[] Children = new object?[2]; // Node, Leaf or null
    }

    private sealed record Leaf(object Value);

    private readonly Node root = new();
    private readonly MemoryStream data = new();
    private readonly Dictionary<string, long> stringOffsets = [];

    public string DatabaseType { get; init; } = "Eddy-Test-City";

    /// <summary>Adds a network (e.g. "1.2.3.0/24", "2001:db8::/32"); IPv4 networks go under ::/96 in an IPv6 tree.</summary>
    public TinyMmdbWriter Add(string cidr, object value)
    {
        var parts = cidr.Split('/');
        var address = IPAddress.Parse(parts[0]).GetAddressBytes();
        int prefix = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
        if (address.Length == 4 && ipVersion == 6)
        {
            address = [.. new byte[12], .. address];
            prefix += 96;
        }
        var node = root;
        for (int depth = 0; depth < prefix; depth++)
        {
            int bit = (address[depth >> 3] >> (7 - (depth & 7))) & 1;
            if (depth == prefix - 1)
            {
                node.Children[bit] = new Leaf(value);
                break;
            }
            if (node.Children[bit] is not Node next)
            {
                if (node.Children[bit] is Leaf) throw new InvalidOperationException($"{cidr} overlaps a shorter network");
                node.Children[bit] = next = new Node();
            }
            node = next;
        }
        return this;
    }

    public byte[] Build()
    {
        // Number the nodes breadth-first.
        var nodes = new List<Node>();
        var ids = new Dictionary<Node, int>(ReferenceEqualityComparer.Instance);
        var queue = new Queue<Node>();
        queue.Enqueue(root);
        while (queue.Count > 0)
        {
            var n = queue.Dequeue();
            ids[n] = nodes.Count;
            nodes.Add(n);
            foreach (var c in n.Children) if (c is Node child) queue.Enqueue(child);
        }
        // Encode leaf values (each leaf its own record; equal values written once through the reference cache).
        var leafOffsets = new Dictionary<Leaf, long>(ReferenceEqualityComparer.Instance);
        foreach (var n in nodes)
            foreach (var c in n.Children)
                if (c is Leaf leaf) WritePointerTargets(leaf.Value);
        foreach (var n in nodes)
            foreach (var c in n.Children)
                if (c is Leaf leaf && !leafOffsets.ContainsKey(leaf)) leafOffsets[leaf] = Write(data, leaf.Value);

        uint nodeCount = (uint)nodes.Count;
        var tree = new MemoryStream();
        foreach (var n in nodes)
        {
            uint Record(object? c) => c switch
            {
                Node child => (uint)ids[child],
                Leaf leaf => (uint)(nodeCount + 16 + leafOffsets[leaf]),
                _ => nodeCount,
            };
            WriteNode(tree, Record(n.Children[0]), Record(n.Children[1]));
        }
        var file = new MemoryStream();
        tree.WriteTo(file);
        file.Write(new byte[16]);
        data.WriteTo(file);
        file.Write([0xAB, 0xCD, 0xEF, .. "MaxMind.com"u8]);
        var meta = new MemoryStream();
        Write(meta, new Dictionary<string, object>
        {
            ["node_count"] = nodeCount,
            ["record_size"] = new MmdbUInt16((ushort)recordSize),
            ["ip_version"] = new MmdbUInt16((ushort)ipVersion),
            ["database_type"] = DatabaseType,
            ["languages"] = new List<object> { "en" },
            ["binary_format_major_version"] = new MmdbUInt16(2),
            ["binary_format_minor_version"] = new MmdbUInt16(0),
            ["build_epoch"] = 1_700_000_000UL,
            ["description"] = new Dictionary<string, object> { ["en"] = "written by the Eddy tests" },
        }, useStringCache: false);
        meta.WriteTo(file);
        return file.ToArray();
    }

    private readonly Dictionary<MmdbPointerTo, long> pointerTargets = new(ReferenceEqualityComparer.Instance);

    // Pointer targets go into the data section before the records that point at them.
    private void WritePointerTargets(object value)
    {
        switch (value)
        {
            case MmdbPointerTo p when !pointerTargets.ContainsKey(p):
                WritePointerTargets(p.Value);
                pointerTargets[p] = Write(data, p.Value);
                break;
            case IDictionary<string, object> map:
                foreach (var v in map.Values) WritePointerTargets(v);
                break;
            case System.Collections.IList list when value is not byte[]:
                foreach (var item in list) WritePointerTargets(item!);
                break;
        }
    }

    private void WriteNode(Stream s, uint left, uint right)
    {
        switch (recordSize)
        {
            case 24:
                s.Write([(byte)(left >> 16), (byte)(left >> 8), (byte)left, (byte)(right >> 16), (byte)(right >> 8), (byte)right]);
                break;
            case 28:
                s.Write([(byte)(left >> 16), (byte)(left >> 8), (byte)left, (byte)((left >> 20) & 0xF0 | (right >> 24) & 0x0F),
                    (byte)(right >> 16), (byte)(right >> 8), (byte)right]);
                break;
            default:
                Span<byte> b = stackalloc byte[8];
                BinaryPrimitives.WriteUInt32BigEndian(b, left);
                BinaryPrimitives.WriteUInt32BigEndian(b[4..], right);
                s.Write(b);
                break;
        }
    }

    /// <summary>Writes a value at the end of <paramref name="s"/> and returns where it starts.</summary>
    private long Write(MemoryStream s, object value, bool useStringCache = true)
    {
        long at = s.Position;
        switch (value)
        {
            case MmdbPointerTo p:
                WritePointer(s, pointerTargets[p]);
                break;
            case string str:
            {
                if (useStringCache && str.Length <= 20 && stringOffsets.TryGetValue(str, out var existing))
                {
                    WritePointer(s, existing);
                    break;
                }
                var bytes = Encoding.UTF8.GetBytes(str);
                Control(s, 2, bytes.Length);
                s.Write(bytes);
                if (useStringCache && str.Length <= 20) stringOffsets[str] = at;
                break;
            }
            case double d:
                Control(s, 3, 8);
                Span<byte> db = stackalloc byte[8];
                BinaryPrimitives.WriteInt64BigEndian(db, BitConverter.DoubleToInt64Bits(d));
                s.Write(db);
                break;
            case byte[] bytesValue:
                Control(s, 4, bytesValue.Length);
                s.Write(bytesValue);
                break;
            case MmdbUInt16 u16: WriteUnsigned(s, 5, u16.Value); break;
            case uint u32: WriteUnsigned(s, 6, u32); break;
            case IDictionary<string, object> map:
                Control(s, 7, map.Count);
                foreach (var (k, v) in map)
                {
                    Write(s, k, useStringCache);
                    Write(s, v, useStringCache);
                }
                break;
            case int i32:
            {
                var b = new byte[4];
                BinaryPrimitives.WriteInt32BigEndian(b, i32);
                int skip = i32 < 0 ? 0 : b.TakeWhile(x => x == 0).Count();
                Control(s, 8, 4 - skip);
                s.Write(b.AsSpan(skip));
                break;
            }
            case ulong u64: WriteUnsigned(s, 9, u64); break;
            case UInt128 u128:
            {
                var b = new byte[16];
                for (int i = 0; i < 16; i++) b[15 - i] = (byte)(u128 >> (8 * i));
                int skip = b.TakeWhile(x => x == 0).Count();
                Control(s, 10, 16 - skip);
                s.Write(b.AsSpan(skip));
                break;
            }
            case System.Collections.IList list when value is not byte[]:
                Control(s, 11, list.Count);
                foreach (var item in list) Write(s, item!, useStringCache);
                break;
            case bool flag:
                Control(s, 14, flag ? 1 : 0);
                break;
            case float f:
                Control(s, 15, 4);
                Span<byte> fb = stackalloc byte[4];
                BinaryPrimitives.WriteInt32BigEndian(fb, BitConverter.SingleToInt32Bits(f));
                s.Write(fb);
                break;
            default: throw new ArgumentException($"no MMDB type for {value.GetType()}");
        }
        return at;
    }

    private static void WriteUnsigned(Stream s, int type, ulong v)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(b, v);
        int skip = b.TakeWhile(x => x == 0).Count();
        Control(s, type, 8 - skip);
        s.Write(b.AsSpan(skip));
    }

    private static void Control(Stream s, int type, int size)
    {
        byte sizeBits;
        byte[] extra;
        if (size < 29) { sizeBits = (byte)size; extra = []; }
        else if (size < 285) { sizeBits = 29; extra = [(byte)(size - 29)]; }
        else if (size < 65821) { int v = size - 285; sizeBits = 30; extra = [(byte)(v >> 8), (byte)v]; }
        else { int v = size - 65821; sizeBits = 31; extra = [(byte)(v >> 16), (byte)(v >> 8), (byte)v]; }
        if (type <= 7) s.WriteByte((byte)(type << 5 | sizeBits));
        else
        {
            s.WriteByte(sizeBits);
            s.WriteByte((byte)(type - 7));
        }
        s.Write(extra);
    }

    /// <summary>Uses the smallest of the four pointer sizes that fits.</summary>
    private static void WritePointer(Stream s, long target)
    {
        if (target < 2048) s.Write([(byte)(0x20 | (target >> 8)), (byte)target]);
        else if (target < 2048 + 524288)
        {
            long v = target - 2048;
            s.Write([(byte)(0x28 | (v >> 16)), (byte)(v >> 8), (byte)v]);
        }
        else if (target < 526336 + 134217728)
        {
            long v = target - 526336;
            s.Write([(byte)(0x30 | (v >> 24)), (byte)(v >> 16), (byte)(v >> 8), (byte)v]);
        }
        else s.Write([0x38, (byte)(target >> 24), (byte)(target >> 16), (byte)(target >> 8), (byte)target]);
    }
}
