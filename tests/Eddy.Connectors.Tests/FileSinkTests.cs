using Eddy.Connectors;
using Eddy.Runtime;
using Eddy.Testing;

namespace Eddy.Tests;

public class FileSinkTests
{
    private static readonly Schema Schema = Eddy.Schema.Of(
        ("s", DataType.String), ("b", DataType.Boolean), ("ti", DataType.TinyInt), ("si", DataType.SmallInt),
        ("i", DataType.Int), ("bi", DataType.BigInt), ("f", DataType.Float), ("d", DataType.Double),
        ("dec", DataType.Decimal(10, 2)), ("date", DataType.Date), ("time", DataType.Time),
        ("ts", DataType.Timestamp3), ("ltz", DataType.TimestampLtz3), ("arr", DataType.ArrayOf(DataType.Int)));

    private static readonly Row[] Rows =
    [
        Row.Of("plain", true, (sbyte)1, (short)2, 3, 4L, 1.5f, 0.1, 12.34m, new DateOnly(2024, 1, 2), new TimeOnly(3, 4, 5),
            new DateTime(2024, 1, 2, 3, 4, 5, 678), new DateTimeOffset(2024, 1, 2, 3, 4, 5, 9, TimeSpan.Zero), new object?[] { 1, null, 3 }),
        Row.Of("comma, \"quote\"\nnewline é", false, (sbyte)-1, (short)-2, -3, long.MinValue, -0.25f, double.NaN, -0.5m,
            new DateOnly(1970, 1, 1), new TimeOnly(0, 0), new DateTime(1999, 12, 31, 23, 59, 59), DateTimeOffset.UnixEpoch, new object?[0]),
        Row.Of("", null, null, null, null, null, null, double.PositiveInfinity, null, null, null, null, null, null),
    ];

    private static SinkWriter<Row> Writer(Sink<Row> sink, int subtask = 0, int parallelism = 1) =>
        sink.CreateWriter(new SinkWriterContext(subtask, parallelism, new ManualClock(), new SubtaskMetrics("sink", subtask)));

    private static void Write(SinkWriter<Row> writer, IEnumerable<Row> rows, RowKind kind = RowKind.Insert)
    {
        var batch = new Batch<Row>();
        foreach (var row in rows) batch.Add(row, EventTime.None, kind);
        writer.Write(batch);
    }

    [Theory]
    [InlineData(FileFormat.JsonLines)]
    [InlineData(FileFormat.Csv)]
    public void Rows_written_to_a_folder_read_back_the_same(FileFormat format)
    {
        using var dir = new TempDir();
        var options = new FileConnectorOptions(dir["out"], format) { CsvHeader = true };
        using (var writer = Writer(FileSink.ToFolder(options, Schema)))
        {
            Write(writer, Rows);
            // Before the flush only a hidden in-progress file exists: readers see nothing.
            Assert.Empty(FilePaths.Resolve(options.Path));
            Assert.Single(Directory.GetFiles(options.Path, ".part-0-0.*.inprogress"));
            writer.Flush();
        }
        string ext = format == FileFormat.JsonLines ? "jsonl" : "csv";
        Assert.Equal([Path.Combine(options.Path, $"part-0-0.{ext}")], FilePaths.Resolve(options.Path));
        Assert.Empty(Directory.GetFiles(options.Path, ".*"));
        var back = SourceReading.Values(new FileSource(options, Schema));
        Assert.Equal(Rows.Length, back.Count);
        for (int r = 0; r < Rows.Length; r++)
        {
            for (int c = 0; c < Schema.Count; c++)
            {
                if (Rows[r][c] is object?[] items) Assert.Equal(items, (object?[])back[r][c]!);
                else Assert.Equal(Rows[r][c], back[r][c]);
            }
        }
    }

    [Fact]
    public void Json_lines_are_written_with_flinks_sql_formats()
    {
        using var dir = new TempDir();
        var schema = Eddy.Schema.Of(("id", DataType.Int), ("name", DataType.String), ("ts", DataType.Timestamp3),
            ("m", DataType.MapOf(DataType.String, DataType.Int)), ("r", DataType.RowOf(new Column("x", DataType.Int))));
        var file = dir["one.jsonl"];
        using (var writer = Writer(FileSink.ToFile(new FileConnectorOptions(file, FileFormat.JsonLines), schema)))
        {
            Write(writer, [
                Row.Of(1, "é<>", new DateTime(2024, 1, 2, 3, 4, 5, 60), new Dictionary<object, object?> { ["k"] = 2 }, Row.Of(9)),
                Row.Of(2, null, null, null, null),
            ]);
            writer.Flush();
        }
        Assert.Equal(
            "{\"id\":1,\"name\":\"é<>\",\"ts\":\"2024-01-02 03:04:05.060\",\"m\":{\"k\":2},\"r\":{\"x\":9}}\n" +
            "{\"id\":2,\"name\":null,\"ts\":null,\"m\":null,\"r\":null}\n",
            File.ReadAllText(file));
    }

    [Fact]
    public void Iso_timestamps_are_written_when_asked_and_read_back()
    {
        using var dir = new TempDir();
        var schema = Eddy.Schema.Of(("ts", DataType.Timestamp3), ("ltz", DataType.TimestampLtz3));
        var options = new FileConnectorOptions(dir["iso.jsonl"], FileFormat.JsonLines) { TimestampFormat = TimestampFormat.Iso8601 };
        var row = Row.Of(new DateTime(2024, 1, 2, 3, 4, 5, 6), new DateTimeOffset(2024, 1, 2, 3, 4, 5, 6, TimeSpan.Zero));
        using (var writer = Writer(FileSink.ToFile(options, schema)))
        {
            Write(writer, [row]);
            writer.Flush();
        }
        Assert.Equal("{\"ts\":\"2024-01-02T03:04:05.006\",\"ltz\":\"2024-01-02T03:04:05.006Z\"}\n", File.ReadAllText(options.Path));
        Assert.Equal([row], SourceReading.Values(new FileSource(options, schema)));
    }

    [Fact]
    public void Csv_is_written_with_rfc_4180_quoting_and_a_header()
    {
        using var dir = new TempDir();
        var schema = Eddy.Schema.Of(("a", DataType.String), ("b", DataType.Int));
        var file = dir["one.csv"];
        using (var writer = Writer(FileSink.ToFile(new FileConnectorOptions(file, FileFormat.Csv) { CsvHeader = true }, schema)))
        {
            Write(writer, [Row.Of("x,y", 1), Row.Of("say \"hi\"", null), Row.Of("", 3), Row.Of(null, 4), Row.Of("two\nlines", 5)]);
            writer.Flush();
        }
        Assert.Equal("a,b\n\"x,y\",1\n\"say \"\"hi\"\"\",\n\"\",3\n,4\n\"two\nlines\",5\n", File.ReadAllText(file));
    }

    [Fact]
    public void Each_flush_of_a_folder_sink_closes_a_part_and_a_single_file_grows()
    {
        using var dir = new TempDir();
        var schema = Eddy.Schema.Of(("id", DataType.Int));
        var folder = new FileConnectorOptions(dir["out"], FileFormat.JsonLines);
        using (var writer = Writer(FileSink.ToFolder(folder, schema), subtask: 2, parallelism: 3))
        {
            Write(writer, [Row.Of(1)]);
            writer.Flush();
            writer.Flush();
            Write(writer, [Row.Of(2)]);
            writer.Flush();
        }
        Assert.Equal(["part-2-0.jsonl", "part-2-1.jsonl"], Directory.GetFiles(folder.Path).Select(Path.GetFileName).Order());

        var single = new FileConnectorOptions(dir["single.jsonl"], FileFormat.JsonLines);
        using (var writer = Writer(FileSink.ToFile(single, schema)))
        {
            Write(writer, [Row.Of(1)]);
            writer.Flush();
            Write(writer, [Row.Of(2)]);
            writer.Flush();
        }
        Assert.Equal("{\"id\":1}\n{\"id\":2}\n", File.ReadAllText(single.Path));
    }

    [Fact]
    public void An_unflushed_part_stays_hidden()
    {
        using var dir = new TempDir();
        var options = new FileConnectorOptions(dir["out"], FileFormat.JsonLines);
        using (var writer = Writer(FileSink.ToFolder(options, Eddy.Schema.Of(("id", DataType.Int)))))
            Write(writer, [Row.Of(1)]);
        Assert.Empty(FilePaths.Resolve(options.Path));
    }

    [Fact]
    public void One_file_needs_parallelism_1()
    {
        using var dir = new TempDir();
        var sink = FileSink.ToFile(new FileConnectorOptions(dir["x.jsonl"], FileFormat.JsonLines), Schema);
        var e = Assert.Throws<InvalidOperationException>(() => Writer(sink, 0, 2));
        Assert.Equal($"the file sink writes the single file '{dir["x.jsonl"]}' only at parallelism 1 (it runs at 2); write to a folder instead", e.Message);
    }

    [Fact]
    public void The_file_sink_takes_inserts_only()
    {
        using var dir = new TempDir();
        using var writer = Writer(FileSink.ToFolder(new FileConnectorOptions(dir.Path, FileFormat.JsonLines), Eddy.Schema.Of(("id", DataType.Int))));
        var e = Assert.Throws<NotSupportedException>(() => Write(writer, [Row.Of(1)], RowKind.UpdateBefore));
        Assert.Equal("the file sink takes inserts only (+I), got -U[1]", e.Message);
    }

    [Fact]
    public void Flink_options_choose_a_folder_or_one_file()
    {
        using var dir = new TempDir();
        var schema = Eddy.Schema.Of(("id", DataType.Int));
        Assert.False(FileSink.Create(schema, new Dictionary<string, string> { ["path"] = dir.Path, ["format"] = "json" }).SingleFile);
        Assert.False(FileSink.Create(schema, new Dictionary<string, string> { ["path"] = dir["new-folder"], ["format"] = "json" }).SingleFile);
        Assert.True(FileSink.Create(schema, new Dictionary<string, string> { ["path"] = dir["out.csv"], ["format"] = "csv" }).SingleFile);
    }
}
