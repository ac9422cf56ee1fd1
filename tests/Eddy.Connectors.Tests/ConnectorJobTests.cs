using Eddy.Connectors;
using Eddy.Runtime;

namespace Eddy.Tests;

/// <summary>Whole jobs: connectors under the runtime, at parallelism 1 and 3.</summary>
public class ConnectorJobTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Datagen_sequence_reaches_the_sink_exactly_once(int parallelism)
    {
        var schema = Schema.Of(("id", DataType.BigInt), ("name", DataType.String));
        var source = new DatagenSource(schema, new Dictionary<string, string>
        {
            ["fields.id.kind"] = "sequence", ["fields.id.start"] = "1", ["fields.id.end"] = "5000",
            ["fields.name.length"] = "4", ["rows-per-second"] = "1000000000", ["seed"] = "1",
        });
        var sink = new CollectSink<Row>();
        var env = StreamEnvironment.Create().SetParallelism(parallelism);
        env.FromSource(source, name: "datagen").SinkTo(sink);
        Assert.Equal(JobStatus.Finished, env.Execute("datagen").Status);
        Assert.Equal(Enumerable.Range(1, 5000).Select(i => (long)i), sink.Values.Select(r => (long)r[0]!).Order());
        Assert.All(sink.Values, r => Assert.Equal(4, ((string)r[1]!).Length));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Web_traffic_through_files_and_back(int parallelism)
    {
        using var dir = new TempDir();
        var options = new FileConnectorOptions(dir["traffic"], FileFormat.JsonLines);
        var events = new WebTrafficSource(new WebTrafficOptions { Seed = 5, Count = 3000 });

        var write = StreamEnvironment.Create().SetParallelism(parallelism);
        write.FromSource(events.AsRows(), name: "web-traffic").SinkTo(FileSink.ToFolder(options, WebTrafficEvent.Schema));
        write.Execute("write");
        Assert.Equal(Enumerable.Range(0, parallelism).Select(s => $"part-{s}-0.jsonl"),
            FilePaths.Resolve(options.Path).Select(Path.GetFileName));

        var read = StreamEnvironment.Create().SetParallelism(parallelism);
        var sink = new CollectSink<Row>();
        read.FromSource(new FileSource(options, WebTrafficEvent.Schema), name: "files").SinkTo(sink);
        read.Execute("read");

        // A seeded source makes the same events at the same parallelism.
        var expected = Enumerable.Range(0, parallelism)
            .SelectMany(s => SourceReading.Values(new WebTrafficSource(new WebTrafficOptions { Seed = 5, Count = 3000 }).AsRows(), s, parallelism))
            .ToList();
        Assert.Equal(3000, expected.Count);
        Assert.Equal(expected.Select(r => r.ToString()).Order(), sink.Values.Select(r => r.ToString()).Order());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void File_rows_print_with_the_subtask_prefix(int parallelism)
    {
        using var dir = new TempDir();
        for (int f = 0; f < 3; f++) dir.File($"in/{f}.csv", $"{f},a{f}\n{f + 10},b{f}\n");
        var schema = Schema.Of(("n", DataType.Int), ("s", DataType.String));
        var text = new StringWriter();
        var env = StreamEnvironment.Create().SetParallelism(parallelism);
        env.FromSource(new FileSource(new FileConnectorOptions(dir["in"], FileFormat.Csv), schema)).SinkTo(new PrintSink<Row>(text));
        env.Execute();
        var lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Order().ToArray();
        string[] expected = parallelism == 1
            ? ["+I[0, a0]", "+I[1, a1]", "+I[10, b0]", "+I[11, b1]", "+I[12, b2]", "+I[2, a2]"]
            : ["1> +I[0, a0]", "1> +I[10, b0]", "2> +I[1, a1]", "2> +I[11, b1]", "3> +I[12, b2]", "3> +I[2, a2]"];
        Assert.Equal(expected, lines);
    }

    [Fact]
    public async Task A_bad_record_fails_the_job_naming_file_and_line()
    {
        using var dir = new TempDir();
        string file = dir.File("bad.jsonl", "{\"n\":1}\n{\"n\":2}\n{\"n\":\"three\"}\n");
        var env = StreamEnvironment.Create();
        env.FromSource(new FileSource(new FileConnectorOptions(file, FileFormat.JsonLines), Schema.Of(("n", DataType.Int))))
            .SinkTo(new BlackholeSink<Row>());
        var result = await env.ExecuteAsync();
        Assert.Equal(JobStatus.Failed, result.Status);
        var cause = result.Failure;
        while (cause is not null and not FileParseException) cause = cause.InnerException;
        Assert.Equal($"{file}:3: column 'n': expected INT, got 'three'", Assert.IsType<FileParseException>(cause).Message);
    }

    [Fact]
    public void Event_time_windows_see_the_web_traffic_timestamps()
    {
        // The source timestamps drive watermarks: with the generator's bound, no on-time event is behind the watermark.
        var options = new WebTrafficOptions { Seed = 2, Count = 2000, LateShare = 0, MaxOutOfOrderness = TimeSpan.FromSeconds(2) };
        var sink = new CollectSink<WebTrafficEvent>();
        var env = StreamEnvironment.Create();
        env.FromSource(new WebTrafficSource(options), WatermarkStrategy<WebTrafficEvent>.ForBoundedOutOfOrderness(options.MaxOutOfOrderness))
            .SinkTo(sink);
        env.Execute();
        Assert.Equal(2000, sink.Records.Count);
        Assert.All(sink.Records, r => Assert.Equal(WebTrafficEvent.FormatEventTime(r.Timestamp), r.Value.EventTime));
    }
}
