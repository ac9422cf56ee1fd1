using Avro.File;
using Avro.Generic;
using Eddy.Connectors.Formats.Avro;
using Eddy.Runtime;
using Eddy.Sql;
using AvroSchema = Avro.Schema;

namespace Eddy.Connectors.Formats.Tests.Avro;

/// <summary>
/// The filesystem connector's <c>avro</c> format (Avro object container files). The independent side is Apache.Avro
/// 1.12.2's own <see cref="DataFileReader{T}"/> / <see cref="DataFileWriter{T}"/> with its generic records: files Eddy
/// writes are read by it and each record compared with the input record by the library's own binary encoding of
/// both; files it writes are read by Eddy and compared with the values given to it.
/// </summary>
public sealed class AvroFileTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), "eddy-avro-files-" + Guid.NewGuid().ToString("N"));

    public AvroFileTests() => Directory.CreateDirectory(dir);

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static readonly Schema AllTypes = new(AvroFormatTests.AllTypes);

    private static AvroSchema DerivedSchema => AvroFormat.Derive(AvroFormatTests.Context(AvroFormatTests.AllTypes)).Schema;

    private static Dictionary<string, string> Options(string path, params (string Key, string Value)[] extra)
    {
        var o = new Dictionary<string, string> { ["connector"] = "filesystem", ["path"] = path, ["format"] = "avro" };
        foreach (var (k, v) in extra) o[k] = v;
        return o;
    }

    private static SinkWriterContext SinkContext(RestoredState? restored = null) =>
        new(0, 1, TimeProvider.System, new SubtaskMetrics("sink", 0)) { CheckpointingEnabled = true, Restored = restored };

    private static void Write(SinkWriter<Row> writer, IEnumerable<Row> rows)
    {
        var batch = BatchPool<Row>.Rent();
        foreach (var row in rows) batch.Add(row, EventTime.None);
        writer.Write(batch);
        BatchPool<Row>.Return(batch);
    }

    private static byte[] Snapshot(SinkWriter<Row> writer, long id)
    {
        using var bytes = new MemoryStream();
        using (var w = new BinaryWriter(bytes, System.Text.Encoding.UTF8, leaveOpen: true)) writer.SnapshotState(id, w);
        return bytes.ToArray();
    }

    private static List<(GenericRecord Record, object?[] Values)> Samples(int count)
    {
        var schema = DerivedSchema;
        return [.. Enumerable.Range(0, count).Select(i => AvroFormatTests.Sample(schema, i % 100))];
    }

    /// <summary>Every record of the visible .avro files under <paramref name="folder"/>, read by Apache.Avro, in file order.</summary>
    private static List<GenericRecord> ReadWithApacheAvro(string folder, out List<string> codecs)
    {
        var records = new List<GenericRecord>();
        codecs = [];
        foreach (var file in Directory.GetFiles(folder, "*.avro", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            using var reader = DataFileReader<GenericRecord>.OpenReader(file);
            codecs.Add(reader.GetMetaString("avro.codec"));
            while (reader.HasNext()) records.Add(reader.Next());
        }
        return records;
    }

    /// <summary>A record in Apache.Avro's binary encoding, by its own generic writer: equal bytes, equal values.</summary>
    private static string Encoded(GenericRecord record) => Convert.ToHexString(AvroFormatTests.WriteWithApacheAvro(record.Schema, record));

    [Theory]
    [InlineData("null")]
    [InlineData("deflate")]
    [InlineData("snappy")]
    [InlineData("zstandard")]
    public void Files_written_by_Eddy_are_read_by_Apache_Avros_DataFileReader_as_the_input(string codec)
    {
        var samples = Samples(600);
        var sink = FileSink.Create(AllTypes, Options(dir, ("avro.codec", codec)), FileFormats.All);
        var writer = sink.CreateWriter(SinkContext());
        Write(writer, samples.Take(250).Select(s => new Row(RowKind.Insert, s.Values)));
        Snapshot(writer, 1);
        writer.NotifyCheckpointComplete(1);
        Write(writer, samples.Skip(250).Select(s => new Row(RowKind.Insert, s.Values)));
        writer.Flush();
        writer.Dispose();

        Assert.Equal(["part-0-0.avro", "part-0-1.avro"], Directory.GetFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var read = ReadWithApacheAvro(dir, out var codecs);
        Assert.All(codecs, c => Assert.Equal(codec, c));
        Assert.Equal(DerivedSchema.ToString(), read[0].Schema.ToString());
        Assert.Equal(samples.Select(s => Encoded(s.Record)), read.Select(Encoded));
    }

    /// <summary>Apache.Avro writes the files (small blocks: many per file); Eddy reads them into the columns.</summary>
    private List<object?[]> WriteWithDataFileWriter(string codec, int files, int perFile, AvroSchema? writerSchema = null)
    {
        var schema = writerSchema ?? DerivedSchema;
        var expected = new List<object?[]>();
        for (int f = 0; f < files; f++)
        {
            using var writer = DataFileWriter<GenericRecord>.OpenWriter(new GenericDatumWriter<GenericRecord>(schema), Path.Combine(dir, $"f{f}.avro"),
                Codec.CreateCodecFromString(codec));
            writer.SetSyncInterval(1024);
            for (int i = 0; i < perFile; i++)
            {
                var (record, values) = AvroFormatTests.Sample(DerivedSchema, (f * perFile + i) % 100);
                if (writerSchema is null) writer.Append(record);
                else
                {
                    var other = new GenericRecord((global::Avro.RecordSchema)schema);
                    foreach (var field in ((global::Avro.RecordSchema)schema).Fields)
                        other.Add(field.Name, field.Name == "extra" ? "not a column" : record[field.Name]);
                    writer.Append(other);
                }
                expected.Add(values);
            }
        }
        return expected;
    }

    private static List<object?[]> ReadAll(SourceReader<Row> reader, int limit = int.MaxValue)
    {
        var output = new SourceOutput<Row> { Limit = limit };
        var rows = new List<object?[]>();
        while (true)
        {
            var status = reader.Read(output);
            rows.AddRange(Kafka.Tests.Reading.Drain(output).Select(r => r.Value.Fields.ToArray()));
            if (status == SourceStatus.EndOfInput) return rows;
        }
    }

    [Theory]
    [InlineData("null")]
    [InlineData("deflate")]
    public void Files_written_by_Apache_Avro_are_read_by_Eddy_as_the_values_given(string codec)
    {
        var expected = WriteWithDataFileWriter(codec, files: 2, perFile: 300);
        var source = new FileSource(AllTypes, Options(dir), FileFormats.All);
        using var reader = Kafka.Tests.Reading.Reader(source);
        var rows = ReadAll(reader);
        Assert.Equal(expected.Count, rows.Count);
        for (int i = 0; i < rows.Count; i++) Assert.Equal(expected[i], rows[i]);
    }

    [Fact]
    public void A_file_of_another_writer_schema_is_read_by_Avros_schema_resolution()
    {
        // Fields in another order, one the table lacks: matched by name, the extra one skipped (as Flink's reader).
        var fields = ((global::Avro.RecordSchema)DerivedSchema).Fields;
        string reordered = $$"""
            {"type": "record", "name": "other", "fields": [
              {"name": "extra", "type": "string"},
              {{string.Join(",\n", fields.AsEnumerable().Reverse().Select(f => $$"""{"name": "{{f.Name}}", "type": {{f.Schema}}}"""))}}]}
            """;
        var expected = WriteWithDataFileWriter("deflate", files: 1, perFile: 50, AvroSchema.Parse(reordered));
        using var reader = Kafka.Tests.Reading.Reader(new FileSource(AllTypes, Options(dir), FileFormats.All));
        var rows = ReadAll(reader);
        Assert.Equal(expected.Count, rows.Count);
        for (int i = 0; i < rows.Count; i++) Assert.Equal(expected[i], rows[i]);

        // A NOT NULL column the file lacks: the file's error, naming it.
        Schema wider = new([.. AvroFormatTests.AllTypes, new Column("missing", DataType.Int.NotNull())]);
        var e = Assert.Throws<FileParseException>(() => ReadAll(Kafka.Tests.Reading.Reader(new FileSource(wider, Options(dir), FileFormats.All))));
        Assert.Contains("f0.avro", e.Message);
        Assert.Contains("missing", e.Message);
    }

    [Fact]
    public void A_source_checkpointed_inside_a_file_and_restored_reads_the_rest_once()
    {
        var expected = WriteWithDataFileWriter("deflate", files: 3, perFile: 400);
        var source = new FileSource(AllTypes, Options(dir), FileFormats.All);
        var before = new List<object?[]>();
        byte[] state;
        using (var reader = Kafka.Tests.Reading.Reader(source, 0, 1, new SubtaskMetrics("test", 0), restored: null))
        {
            var output = new SourceOutput<Row> { Limit = 7 };
            // Into the second file, past several of its blocks.
            while (before.Count < 651)
            {
                reader.Read(output);
                before.AddRange(Kafka.Tests.Reading.Drain(output).Select(r => r.Value.Fields.ToArray()));
            }
            state = Kafka.Tests.Reading.Snapshot(reader, 1);
        }
        List<object?[]> after;
        using (var restored = Kafka.Tests.Reading.Reader(source, 0, 1, new SubtaskMetrics("test", 0), new RestoredState(1, [state], 1)))
            after = ReadAll(restored, limit: 5);
        List<object?[]> all = [.. before, .. after];
        Assert.Equal(expected.Count, all.Count);
        for (int i = 0; i < all.Count; i++) Assert.Equal(expected[i], all[i]);
    }

    [Fact]
    public void A_partitioned_sink_crashed_after_a_checkpoint_and_restored_writes_every_row_once()
    {
        // dt is the partition column: the files hold the other columns, read back by Apache.Avro per folder.
        Schema schema = new([.. AvroFormatTests.AllTypes, new Column("dt", DataType.String)]);
        var samples = Samples(300);
        var rows = samples.Select((s, i) => new Row(RowKind.Insert, [.. s.Values, i % 3 == 0 ? "2024-01-01" : "2024-01-02"])).ToList();
        var options = FileConnectorOptions.Parse("t", Options(dir, ("sink.rolling-policy.file-size", "8kb"), ("sink.partition-commit.policy.kind", "success-file")), FileFormats.All);
        var sink = new PartitionedFileSink(options, schema, ["dt"]);

        var writer = sink.CreateWriter(SinkContext());
        Write(writer, rows.Take(100));
        Snapshot(writer, 1);
        writer.NotifyCheckpointComplete(1);
        Write(writer, rows.Skip(100).Take(100));
        var state2 = Snapshot(writer, 2);
        Write(writer, rows.Skip(200).Take(50));
        // The process dies before checkpoint 2's completion reaches the sink; the job restarts from checkpoint 2 and
        // its source replays what came after it.
        writer.Dispose();

        var restored = sink.CreateWriter(SinkContext(new RestoredState(2, [state2], 1)));
        Write(restored, rows.Skip(200));
        restored.Flush();
        restored.Dispose();

        foreach (var dt in new[] { "2024-01-01", "2024-01-02" })
        {
            string folder = Path.Combine(dir, $"dt={dt}");
            Assert.True(File.Exists(Path.Combine(folder, "_SUCCESS")));
            Assert.True(Directory.GetFiles(folder, "part-*.avro").Length > 2, "the 8 KB rolling size makes several parts");
            var read = ReadWithApacheAvro(folder, out _);
            var want = samples.Where((_, i) => (i % 3 == 0 ? "2024-01-01" : "2024-01-02") == dt).Select(s => Encoded(s.Record));
            // Part files are named per subtask and number, not in row order: compared as multisets.
            Assert.Equal(want.Order(StringComparer.Ordinal), read.Select(Encoded).Order(StringComparer.Ordinal));
        }
    }

    private static List<string> Run(SqlSession session, StringWriter output, string sql)
    {
        foreach (var job in session.Execute(sql, "test.sql"))
        {
            var result = job.Environment.ExecuteAsync(job.Name).GetAwaiter().GetResult();
            if (result.Failure is not null) throw result.Failure;
        }
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => System.Text.RegularExpressions.Regex.Replace(l.TrimEnd('\r'), @"^\d+> ", "")).ToList();
        output.GetStringBuilder().Clear();
        return lines;
    }

    [Fact]
    public void An_avro_table_written_by_insert_reads_back_through_sql()
    {
        string flat = Path.Combine(dir, "flat");
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null, _ => null);
        Run(session, output, $"""
            CREATE TABLE flat (id INT, name STRING, amount DECIMAL(6, 2), ts TIMESTAMP(3), tags ARRAY<STRING>) WITH (
                'connector' = 'filesystem', 'path' = '{flat}', 'format' = 'avro', 'avro.codec' = 'deflate');
            CREATE TABLE shown (id INT, name STRING, amount DECIMAL(6, 2), ts TIMESTAMP(3), tags ARRAY<STRING>) WITH ('connector' = 'print');
            INSERT INTO flat SELECT id, name, amount, ts, CASE WHEN id = 1 THEN ARRAY['x', 'y'] END FROM (VALUES
                (1, 'a', 1.50, TIMESTAMP '2024-01-01 10:00:00.123'), (2, CAST(NULL AS STRING), -3.25, TIMESTAMP '2024-01-02 00:00:00')) AS v(id, name, amount, ts);
            """);
        Assert.Equal(["+I[1, a, 1.50, 2024-01-01 10:00:00.123, [x, y]]", "+I[2, null, -3.25, 2024-01-02 00:00:00.000, null]"],
            Run(session, output, "INSERT INTO shown SELECT * FROM flat").Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("'avro.codec' = 'bzip2'", "filesystem option 'avro.codec': 'bzip2': Eddy has no bzip2 codec")]
    [InlineData("'avro.codec' = 'lzo'", "filesystem option 'avro.codec': expected one of null, deflate, snappy, zstandard")]
    [InlineData("'avro.encoding' = 'binary'", "option 'avro.encoding': unknown option for connector 'filesystem'")]
    [InlineData("'avro.timestamp_mapping.legacy' = 'yes'", "filesystem option 'avro.timestamp_mapping.legacy': expected true or false")]
    public void Bad_options_are_refused_at_planning_naming_them(string option, string expected)
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null, _ => null);
        var e = Assert.ThrowsAny<Exception>(() => session.Execute($"""
            CREATE TABLE f (id INT) WITH ('connector' = 'filesystem', 'path' = '{dir}', 'format' = 'avro', {option});
            CREATE TABLE b (id INT) WITH ('connector' = 'blackhole');
            INSERT INTO b SELECT * FROM f;
            """, "test.sql").ToList());
        Assert.Contains(expected, e.Message);
        Assert.Contains("test.sql:", e.Message);
    }

    [Fact]
    public void A_filesystem_connector_built_without_the_formats_project_refuses_avro()
    {
        var e = Assert.Throws<Eddy.Sql.Connectors.ConnectorOptionException>(() => FileConnectorOptions.Parse("t", Options(dir)));
        Assert.Contains("'avro' files need Eddy.Connectors.Formats", e.Message);
    }
}
