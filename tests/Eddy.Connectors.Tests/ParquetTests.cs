using Eddy.Sql.Connectors;
using Eddy.Connectors;
using Eddy.Runtime;
using Eddy.Testing;
using Parquet;
using Parquet.Schema;

namespace Eddy.Tests;

/// <summary>
/// The parquet format of the filesystem sink and source. What the sinks write is read back with Parquet.Net's own
/// API (the independent reader: row groups and columns, not Eddy's reader) and compared with the input rows.
/// </summary>
public class ParquetTests
{
    private static readonly Schema AllTypes = Schema.Of(
        ("id", DataType.Int), ("flag", DataType.Boolean), ("small", DataType.SmallInt), ("big", DataType.BigInt),
        ("f", DataType.Float), ("d", DataType.Double), ("amount", DataType.Decimal(10, 2)), ("name", DataType.String),
        ("raw", new DataType(TypeKind.Binary)), ("day", DataType.Date), ("ts", DataType.Timestamp3), ("ltz", DataType.TimestampLtz3));

    private static Row Input(int i) => Row.Of(
        i, i % 3 == 0 ? null : i % 2 == 0, (short)(i * 3), i % 5 == 0 ? null : 10_000_000_000L + i, i / 4f, i * 1.5,
        Math.Round(i * 1.25m, 2), i % 7 == 0 ? null : $"name-{i}-é", i % 4 == 0 ? null : new[] { (byte)i, (byte)(i + 1) },
        new DateOnly(2024, 1, 1).AddDays(i), new DateTime(2024, 3, 1, 12, 0, 0).AddMilliseconds(i * 1001L),
        new DateTimeOffset(2024, 3, 1, 12, 0, 0, TimeSpan.Zero).AddSeconds(i));

    private static Dictionary<string, string> Options(string path, params (string Key, string Value)[] extra)
    {
        var o = new Dictionary<string, string> { ["connector"] = "filesystem", ["path"] = path, ["format"] = "parquet" };
        foreach (var (k, v) in extra) o[k] = v;
        return o;
    }

    private static SinkWriterContext Context(ManualClock clock) => new(0, 1, clock, new SubtaskMetrics("sink", 0)) { CheckpointingEnabled = true };

    private static void Write(SinkWriter<Row> writer, IEnumerable<Row> rows)
    {
        var batch = BatchPool<Row>.Rent();
        foreach (var row in rows) batch.Add(row, EventTime.None);
        writer.Write(batch);
        BatchPool<Row>.Return(batch);
    }

    private static void Checkpoint(SinkWriter<Row> writer, long id)
    {
        using (var w = new BinaryWriter(new MemoryStream())) writer.SnapshotState(id, w);
        writer.NotifyCheckpointComplete(id);
    }

    /// <summary>A file's rows as Parquet.Net reads them (each column as an array of the field's CLR type), and its row group count.</summary>
    private static async Task<(List<object?[]> Rows, int RowGroups, string[] Columns)> ReadWithParquetNet(string path)
    {
        await using var stream = File.OpenRead(path);
        await using var reader = await ParquetReader.CreateAsync(stream, new ParquetOptions { UseDateOnlyTypeForDates = true });
        var fields = reader.Schema.GetDataFields();
        var rows = new List<object?[]>();
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            var group = reader.OpenRowGroupReader(g);
            int count = (int)group.RowCount;
            var columns = new List<Array>();
            foreach (var field in fields) columns.Add(await ReadColumn(group, field, count));
            for (int r = 0; r < count; r++) rows.Add(columns.Select(c => c.GetValue(r)).ToArray());
        }
        return (rows, reader.RowGroupCount, fields.Select(f => f.Name).ToArray());
    }

    private static async Task<Array> ReadColumn(ParquetRowGroupReader group, DataField field, int count)
    {
        if (field.ClrType == typeof(string))
        {
            var s = new string?[count];
            await group.ReadAsync(field, s.AsMemory());
            return s;
        }
        if (field.ClrType == typeof(byte[]) || field.ClrType == typeof(ReadOnlyMemory<byte>))
        {
            var b = new byte[]?[count];
            await group.ReadAsync(field, b.AsMemory());
            return b;
        }
        var method = typeof(ParquetTests).GetMethod(nameof(ReadNullable), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(field.ClrType);
        return await (Task<Array>)method.Invoke(null, [group, field, count])!;
    }

    private static async Task<Array> ReadNullable<T>(ParquetRowGroupReader group, DataField field, int count) where T : struct
    {
        var values = new T?[count];
        await group.ReadAsync<T>(field, values.AsMemory());
        return values;
    }

    /// <summary>The input as Parquet.Net gives it back: TIMESTAMP_LTZ as its UTC DateTime, bytes by content.</summary>
    private static string Show(object? v) => v switch
    {
        null => "null",
        byte[] b => Convert.ToHexString(b),
        DateTimeOffset o => DateTime.SpecifyKind(o.UtcDateTime, DateTimeKind.Unspecified).ToString("O"),
        DateTime t => DateTime.SpecifyKind(t, DateTimeKind.Unspecified).ToString("O"),
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => v.ToString()!,
    };

    private static string ShowRow(IEnumerable<object?> values) => string.Join("|", values.Select(Show));

    [Fact]
    public async Task The_sink_writes_parquet_files_with_row_groups_by_block_size_that_parquet_net_reads_as_the_input()
    {
        using var dir = new TempDir();
        var sink = FileSink.Create(AllTypes, Options(dir.Path, ("parquet.block.size", "2kb"), ("parquet.compression", "zstd")));
        var writer = sink.CreateWriter(Context(new ManualClock(0)));
        var input = Enumerable.Range(0, 300).Select(Input).ToList();
        Write(writer, input.Take(120));
        Checkpoint(writer, 1);
        Write(writer, input.Skip(120));
        writer.Flush();
        writer.Dispose();

        var files = Directory.GetFiles(dir.Path, "*.parquet").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["part-0-0.parquet", "part-0-1.parquet"], files.Select(Path.GetFileName));
        var read = new List<object?[]>();
        foreach (var f in files)
        {
            var (rows, groups, columns) = await ReadWithParquetNet(f);
            Assert.Equal(AllTypes.Columns.Select(c => c.Name), columns);
            Assert.True(groups > 1, $"{Path.GetFileName(f)}: {groups} row group(s) for {rows.Count} rows at 2 KB per group");
            read.AddRange(rows);
        }
        Assert.Equal(input.Select(r => ShowRow(r.Fields.ToArray())), read.Select(ShowRow));
    }

    [Fact]
    public void The_source_reads_the_files_back_and_a_restore_goes_on_after_the_rows_read()
    {
        using var dir = new TempDir();
        var sink = FileSink.Create(AllTypes, Options(dir.Path, ("parquet.block.size", "1kb")));
        var writer = sink.CreateWriter(Context(new ManualClock(0)));
        var input = Enumerable.Range(0, 200).Select(Input).ToList();
        Write(writer, input);
        writer.Flush();
        writer.Dispose();

        var source = new FileSource(AllTypes, Options(dir.Path));
        var all = SourceReading.ReadAll(source).Select(r => r.Value).ToList();
        Assert.Equal(input.Select(r => r.ToString()), all.Select(r => r.ToString()));
        Assert.Equal(input.Select(r => ShowRow(r.Fields.ToArray())), all.Select(r => ShowRow(r.Fields.ToArray())));

        // Half read, checkpointed, restored: the rest, once.
        using var reader = source.CreateReader(SourceReading.Context());
        var output = new SourceOutput<Row> { Limit = 70 };
        var first = SourceReading.ReadOnce(reader, output).Records.Select(r => r.Value).ToList();
        byte[] state;
        using (var ms = new MemoryStream())
        {
            using (var w = new BinaryWriter(ms)) reader.SnapshotState(1, w);
            state = ms.ToArray();
        }
        using var restored = source.CreateReader(SourceReading.Context() with { Restored = new RestoredState(1, [state], 1) });
        var rest = new List<Row>();
        var more = new SourceOutput<Row>();
        while (true)
        {
            var (status, records) = SourceReading.ReadOnce(restored, more);
            rest.AddRange(records.Select(r => r.Value));
            if (status == SourceStatus.EndOfInput) break;
        }
        Assert.Equal(70, first.Count);
        Assert.Equal(input.Select(r => ShowRow(r.Fields.ToArray())), first.Concat(rest).Select(r => ShowRow(r.Fields.ToArray())));
    }

    [Fact]
    public async Task The_partitioned_sink_writes_parquet_into_hive_folders_without_the_partition_columns()
    {
        using var dir = new TempDir();
        var schema = Schema.Of(("id", DataType.Int), ("name", DataType.String), ("dt", DataType.String));
        var sink = new PartitionedFileSink(FileConnectorOptions.Parse("t", Options(dir.Path, ("sink.partition-commit.policy.kind", "success-file"))), schema, ["dt"]);
        var writer = sink.CreateWriter(Context(new ManualClock(1_000)));
        var input = Enumerable.Range(0, 50).Select(i => Row.Of(i, $"n{i}", i % 3 == 0 ? "2024-01-01" : "2024-01-02")).ToList();
        Write(writer, input);
        Checkpoint(writer, 1);
        writer.Dispose();

        foreach (var dt in new[] { "2024-01-01", "2024-01-02" })
        {
            string folder = Path.Combine(dir.Path, $"dt={dt}");
            Assert.True(File.Exists(Path.Combine(folder, "_SUCCESS")));
            var rows = new List<object?[]>();
            foreach (var f in Directory.GetFiles(folder, "*.parquet").Order(StringComparer.Ordinal))
            {
                var (read, _, columns) = await ReadWithParquetNet(f);
                Assert.Equal(["id", "name"], columns);
                rows.AddRange(read);
            }
            Assert.Equal(input.Where(r => (string)r[2]! == dt).Select(r => ShowRow([r[0], r[1]])), rows.Select(ShowRow));
        }
    }

    [Fact]
    public void Types_the_format_cannot_hold_and_unknown_options_are_refused()
    {
        using var dir = new TempDir();
        var nested = Schema.Of(("id", DataType.Int), ("tags", DataType.ArrayOf(DataType.String)));
        var e = Assert.Throws<ArgumentException>(() => FileSink.Create(nested, Options(dir.Path)));
        Assert.Contains("cannot hold column 'tags' of type ARRAY<STRING>", e.Message);
        var o = Assert.Throws<ConnectorOptionException>(() => FileConnectorOptions.Parse("t", Options(dir.Path, ("parquet.compression", "lzo"))));
        Assert.Contains("expected one of UNCOMPRESSED, SNAPPY, GZIP, ZSTD, got 'lzo'", o.Message);
        o = Assert.Throws<ConnectorOptionException>(() => FileConnectorOptions.Parse("t", Options(dir.Path, ("csv.header", "true"))));
        Assert.Contains("option 'csv.header': an option of format 'csv', but 'format' is 'parquet'", o.Message);
    }
}
