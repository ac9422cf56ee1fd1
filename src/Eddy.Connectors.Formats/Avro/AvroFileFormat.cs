using System.Buffers.Binary;
using System.Text;
using Avro.File;
using Avro.Generic;
using AvroEncoder = Avro.IO.Encoder;
using AvroSchema = Avro.Schema;

namespace Eddy.Connectors.Formats.Avro;

/// <summary>
/// Flink's <c>avro</c> format of the filesystem connector: Avro object container files (a header with the writer
/// schema and codec, then blocks of records). Written with Apache.Avro's <see cref="DataFileWriter{T}"/> in the schema
/// <see cref="AvroSchemaDerivation"/> derives from the columns (the records' bytes by <see cref="AvroRowWriter"/>);
/// read block by block (<see cref="AvroContainerReader"/>) with the file's own writer schema resolved against the
/// columns (<see cref="AvroReadPlan"/>), so files of other writers read as Flink's reader would read them. Options:
/// <c>avro.codec</c> (Flink's default snappy; null, deflate, snappy, zstandard; bzip2 and xz refused) and
/// <c>avro.timestamp_mapping.legacy</c>.
/// </summary>
public sealed class AvroFileFormat : IFileFormat
{
    public const string CodecOption = "avro.codec";

    public string Name => "avro";

    public string Extension => "avro";

    public IReadOnlyCollection<string> Options { get; } = [CodecOption, AvroFormat.LegacyTimestampOption];

    public void Check(FileConnectorOptions options, IReadOnlyList<Column> columns)
    {
        Codec(options);
        Derive(options, columns);
    }

    public IFilePartWriter CreateWriter(FileConnectorOptions options, IReadOnlyList<Column> columns, int[] fields, Stream file)
    {
        var written = fields.Select(f => columns[f]).ToList();
        var schema = AvroSchema.Parse(Derive(options, written));
        return new AvroPartWriter(schema, new AvroRowWriter(written, fields), AvroCodecs.Create(Codec(options)), file);
    }

    public IFileRowReader OpenReader(FileConnectorOptions options, string path, IReadOnlyList<Column> columns) =>
        new AvroContainerReader(path, columns);

    /// <summary>The codec's name as Avro's files spell it.</summary>
    private static string Codec(FileConnectorOptions options)
    {
        if (!options.FormatOptions.TryGetValue(CodecOption, out var text)) return "snappy";
        string name = text.Trim().ToLowerInvariant();
        return name switch
        {
            "null" or "deflate" or "snappy" or "zstandard" => name,
            "bzip2" or "xz" => throw Error(CodecOption, $"'{text}': Eddy has no {name} codec (no managed library for it); one of null, deflate, snappy, zstandard"),
            _ => throw Error(CodecOption, $"expected one of null, deflate, snappy, zstandard, got '{text}'"),
        };
    }

    private static string Derive(FileConnectorOptions options, IReadOnlyList<Column> columns)
    {
        bool legacy = true;
        if (options.FormatOptions.TryGetValue(AvroFormat.LegacyTimestampOption, out var text))
        {
            legacy = text.Trim().ToLowerInvariant() switch
            {
                "true" => true,
                "false" => false,
                _ => throw Error(AvroFormat.LegacyTimestampOption, $"expected true or false, got '{text}'"),
            };
        }
        try
        {
            return AvroSchemaDerivation.Derive(columns, legacy, AvroFormat.LegacyTimestampOption);
        }
        catch (FormatOptionException e)
        {
            throw Error(e.Option, e.Message);
        }
    }

    private static ArgumentException Error(string option, string problem) => new($"filesystem option '{option}': {problem}");
}

/// <summary>
/// One part file through Apache.Avro's <see cref="DataFileWriter{T}"/>: the library writes the header, blocks,
/// sync markers and compression; each record's bytes come from <see cref="AvroRowWriter"/> (no generic record).
/// </summary>
internal sealed class AvroPartWriter : IFilePartWriter
{
    /// <summary>Java Avro's default block size (Flink writes with it), above Apache.Avro C#'s 16 KiB.</summary>
    private const int SyncInterval = 64_000;

    private readonly RowDatumWriter datum;
    private readonly IFileWriter<Row> writer;
    private readonly Stream file;
    private long startPosition;

    public AvroPartWriter(AvroSchema schema, AvroRowWriter rows, Codec codec, Stream file)
    {
        this.file = file;
        startPosition = file.Position;
        datum = new RowDatumWriter(schema, rows);
        writer = DataFileWriter<Row>.OpenWriter(datum, file, codec, leaveOpen: true);
        writer.SetSyncInterval(SyncInterval);
    }

    /// <summary>The records since the last block (uncompressed): what the library holds before the file gets it.</summary>
    public long Buffered => datum.BytesSinceBlock(file.Position, ref startPosition);

    public void Write(Row row) => writer.Append(row);

    public void Complete() => writer.Close();

    /// <summary>Writes a row's record bytes, made by <see cref="AvroRowWriter"/>, into the library's block.</summary>
    private sealed class RowDatumWriter(AvroSchema schema, AvroRowWriter rows) : DatumWriter<Row>
    {
        private readonly AvroWriter record = new();
        private long sinceBlock;

        public AvroSchema Schema => schema;

        public void Write(Row datum, AvroEncoder encoder)
        {
            record.Reset();
            rows.Write(record, datum);
            encoder.WriteFixed(record.Buffer, 0, record.Length);
            sinceBlock += record.Length;
        }

        /// <summary>The bytes written since the file last grew (a block was written then).</summary>
        public long BytesSinceBlock(long filePosition, ref long lastPosition)
        {
            if (filePosition != lastPosition)
            {
                lastPosition = filePosition;
                sinceBlock = 0;
            }
            return sinceBlock;
        }
    }
}

/// <summary>
/// Reads an Avro object container file block by block: the header (magic, metadata with <c>avro.schema</c> and
/// <c>avro.codec</c>, sync marker) by the specification, each block decompressed by Apache.Avro's codec of that name
/// (<see cref="AvroCodecs"/> adds snappy and zstandard), its records decoded by the read plan of the file's writer
/// schema against the columns. A restore skips whole blocks by their record count without decompressing them.
/// </summary>
internal sealed class AvroContainerReader : IFileRowReader
{
    private static ReadOnlySpan<byte> Magic => "Obj\u0001"u8;

    private readonly string path;
    private readonly FileStream stream;
    private readonly RecordReader plan;
    private readonly Codec? codec;
    private readonly byte[] sync = new byte[16];
    private byte[] compressed = [];
    private byte[] block = [];
    private int blockLength;
    private int blockPosition;
    private long recordsLeft;
    private long blockIndex;
    /// <summary>The current block's compressed size while it is not decompressed yet, else −1.</summary>
    private int compressedSize = -1;
    private long skippedUndecoded;
    private object?[]? scratch;

    public AvroContainerReader(string path, IReadOnlyList<Column> columns)
    {
        this.path = path;
        stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        try
        {
            Span<byte> magic = stackalloc byte[4];
            if (stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false) < 4 || !magic.SequenceEqual(Magic))
                throw Damaged("not an Avro object container file (no 'Obj' 1 magic)");
            var meta = ReadMetadata();
            ReadExactly(sync);
            if (!meta.TryGetValue("avro.schema", out var schemaBytes)) throw Damaged("the header has no avro.schema");
            string codecName = meta.TryGetValue("avro.codec", out var c) ? Encoding.UTF8.GetString(c) : "null";
            codec = codecName == "null" ? null : AvroCodecs.Create(codecName);
            AvroSchema writer;
            try
            {
                writer = AvroSchema.Parse(Encoding.UTF8.GetString(schemaBytes));
            }
            catch (global::Avro.AvroException e)
            {
                throw Damaged($"the file's schema is not a valid Avro schema: {e.Message}");
            }
            try
            {
                plan = AvroReadPlan.Build(writer, columns);
            }
            catch (AvroResolutionException e)
            {
                throw Damaged($"the file's schema cannot be read as the table's columns: {e.Message}");
            }
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    public bool TryRead(out object?[] values)
    {
        if (!NextRecord())
        {
            values = [];
            return false;
        }
        if (compressedSize >= 0) Decompress();
        values = new object?[plan.Width];
        Decode(values);
        return true;
    }

    public bool Skip()
    {
        if (!NextRecord()) return false;
        if (compressedSize >= 0)
        {
            // Not decompressed yet: a block passed over whole by a restore never is.
            skippedUndecoded++;
            recordsLeft--;
            return true;
        }
        Decode(scratch ??= new object?[plan.Width]);
        return true;
    }

    private void Decode(object?[] values)
    {
        var reader = new AvroReader(block.AsSpan(blockPosition, blockLength - blockPosition));
        try
        {
            plan.Read(ref reader, values);
        }
        catch (FormatException e)
        {
            throw Damaged($"block {blockIndex}: {e.Message}");
        }
        blockPosition += reader.Position;
        recordsLeft--;
    }

    private bool NextRecord()
    {
        while (recordsLeft == 0)
        {
            if (compressedSize < 0 && blockPosition != blockLength)
                throw Damaged($"block {blockIndex}: {blockLength - blockPosition} bytes follow its records");
            if (!ReadBlock()) return false;
        }
        return true;
    }

    /// <summary>The next block's bytes, still compressed; false at the end of the file.</summary>
    private bool ReadBlock()
    {
        if (!TryReadLong(out long count)) return false;
        if (!TryReadLong(out long size) || count < 0 || size < 0 || size > int.MaxValue)
            throw Damaged($"block {blockIndex + 1}: a bad block header");
        blockIndex++;
        if (compressed.Length < size) compressed = new byte[Math.Max(size, compressed.Length * 2)];
        ReadExactly(compressed.AsSpan(0, (int)size));
        Span<byte> marker = stackalloc byte[16];
        ReadExactly(marker);
        if (!marker.SequenceEqual(sync)) throw Damaged($"block {blockIndex}: the sync marker does not match the header's");
        compressedSize = (int)size;
        recordsLeft = count;
        skippedUndecoded = 0;
        blockPosition = blockLength = 0;
        return true;
    }

    /// <summary>Decompresses the current block and passes the records a restore skipped in it.</summary>
    private void Decompress()
    {
        int size = compressedSize;
        compressedSize = -1;
        if (codec is null)
        {
            block = compressed;
            blockLength = size;
        }
        else
        {
            try
            {
                block = codec.Decompress(compressed, size);
            }
            catch (Exception e) when (e is not IOException)
            {
                throw Damaged($"block {blockIndex}: {codec.GetName()} cannot decompress it: {e.Message}");
            }
            blockLength = block.Length;
        }
        blockPosition = 0;
        long skipped = skippedUndecoded;
        skippedUndecoded = 0;
        recordsLeft += skipped;
        for (long i = 0; i < skipped; i++) Decode(scratch ??= new object?[plan.Width]);
    }

    private Dictionary<string, byte[]> ReadMetadata()
    {
        var meta = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        while (true)
        {
            long count = ReadLong();
            if (count == 0) return meta;
            if (count < 0)
            {
                ReadLong();
                count = -count;
            }
            for (long i = 0; i < count; i++)
            {
                string key = Encoding.UTF8.GetString(ReadBytes());
                meta[key] = ReadBytes();
            }
        }
    }

    private byte[] ReadBytes()
    {
        long length = ReadLong();
        if (length < 0 || length > 1 << 26) throw Damaged("a bad length in the header");
        var bytes = new byte[length];
        ReadExactly(bytes);
        return bytes;
    }

    private long ReadLong() => TryReadLong(out long v) ? v : throw Damaged("the file ends inside its header");

    private bool TryReadLong(out long value)
    {
        ulong v = 0;
        int shift = 0;
        value = 0;
        while (true)
        {
            int b = stream.ReadByte();
            if (b < 0)
            {
                if (shift == 0) return false;
                throw Damaged("the file ends inside a number");
            }
            v |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0) break;
            shift += 7;
            if (shift > 63) throw Damaged("a varint longer than 10 bytes");
        }
        value = (long)(v >> 1) ^ -(long)(v & 1);
        return true;
    }

    private void ReadExactly(Span<byte> into)
    {
        if (stream.ReadAtLeast(into, into.Length, throwOnEndOfStream: false) < into.Length) throw Damaged($"the file ends inside block {blockIndex + 1}");
    }

    private FileParseException Damaged(string problem) => new(path, 0, $"avro: {problem}");

    public void Dispose() => stream.Dispose();
}

/// <summary>
/// Avro codecs beyond Apache.Avro's own null and deflate, by the specification, registered once with the library's
/// resolver (so its <see cref="DataFileReader{T}"/> reads Eddy's files too): <c>snappy</c> (each block Snappy-compressed
/// and followed by the big-endian CRC-32 of the uncompressed bytes; Snappier) and <c>zstandard</c> (one Zstandard frame
/// per block; ZstdSharp).
/// </summary>
public static class AvroCodecs
{
    private static readonly Lazy<bool> Registered = new(() =>
    {
        Codec.RegisterResolver(name => name switch
        {
            "snappy" => new SnappyCodec(),
            "zstandard" => new ZstandardCodec(),
            _ => null,
        });
        return true;
    });

    /// <summary>Registers snappy and zstandard with Apache.Avro (idempotent).</summary>
    public static void Register() => _ = Registered.Value;

    internal static Codec Create(string name)
    {
        Register();
        try
        {
            return Codec.CreateCodecFromString(name);
        }
        catch (global::Avro.AvroRuntimeException e)
        {
            throw new ArgumentException($"avro codec '{name}' is not supported by Eddy: {e.Message}");
        }
    }

    private sealed class SnappyCodec : Codec
    {
        public override byte[] Compress(byte[] uncompressedData)
        {
            var output = new byte[Snappier.Snappy.GetMaxCompressedLength(uncompressedData.Length) + 4];
            int n = Snappier.Snappy.Compress(uncompressedData, output);
            BinaryPrimitives.WriteUInt32BigEndian(output.AsSpan(n, 4), System.IO.Hashing.Crc32.HashToUInt32(uncompressedData));
            return output.AsSpan(0, n + 4).ToArray();
        }

        public override void Compress(MemoryStream inputStream, MemoryStream outputStream)
        {
            var data = inputStream.GetBuffer().AsSpan(0, (int)inputStream.Length);
            var output = new byte[Snappier.Snappy.GetMaxCompressedLength(data.Length) + 4];
            int n = Snappier.Snappy.Compress(data, output);
            BinaryPrimitives.WriteUInt32BigEndian(output.AsSpan(n, 4), System.IO.Hashing.Crc32.HashToUInt32(data));
            outputStream.SetLength(0);
            outputStream.Write(output, 0, n + 4);
        }

        public override byte[] Decompress(byte[] compressedData, int length)
        {
            if (length < 4) throw new FormatException("a snappy block shorter than its checksum");
            var input = compressedData.AsSpan(0, length - 4);
            var output = new byte[Snappier.Snappy.GetUncompressedLength(input)];
            Snappier.Snappy.Decompress(input, output);
            uint expected = BinaryPrimitives.ReadUInt32BigEndian(compressedData.AsSpan(length - 4, 4));
            if (System.IO.Hashing.Crc32.HashToUInt32(output) != expected) throw new FormatException("the snappy block's CRC-32 does not match");
            return output;
        }

        public override string GetName() => "snappy";

        public override bool Equals(object? other) => other is SnappyCodec;

        public override int GetHashCode() => 7;
    }

    private sealed class ZstandardCodec : Codec
    {
        public override byte[] Compress(byte[] uncompressedData)
        {
            using var compressor = new ZstdSharp.Compressor();
            return compressor.Wrap(uncompressedData).ToArray();
        }

        public override void Compress(MemoryStream inputStream, MemoryStream outputStream)
        {
            using var compressor = new ZstdSharp.Compressor();
            var output = compressor.Wrap(inputStream.GetBuffer().AsSpan(0, (int)inputStream.Length));
            outputStream.SetLength(0);
            outputStream.Write(output);
        }

        public override byte[] Decompress(byte[] compressedData, int length)
        {
            using var decompressor = new ZstdSharp.Decompressor();
            return decompressor.Unwrap(compressedData.AsSpan(0, length)).ToArray();
        }

        public override string GetName() => "zstandard";

        public override bool Equals(object? other) => other is ZstandardCodec;

        public override int GetHashCode() => 11;
    }
}
