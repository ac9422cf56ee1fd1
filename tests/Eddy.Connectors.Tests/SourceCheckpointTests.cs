using Eddy.Connectors;
using Eddy.Runtime;
using Eddy.Testing;

namespace Eddy.Tests;

/// <summary>Built-in sources write their position at a barrier and resume from it: nothing read twice, nothing lost.</summary>
public class SourceCheckpointTests
{
    /// <summary>
    /// Reads <paramref name="callsBefore"/> times from each of <paramref name="oldP"/> subtasks, snapshots them, then
    /// reads everything from <paramref name="newP"/> restored subtasks: returns (before, after) values.
    /// </summary>
    private static (List<T> Before, List<T> After) ReadAcrossRestore<T>(Source<T> source, int oldP, int newP, int callsBefore)
    {
        var clock = new ManualClock(1_700_000_000_000);
        var before = new List<T>();
        var states = new List<byte[]>();
        for (int s = 0; s < oldP; s++)
        {
            using var reader = source.CreateReader(SourceReading.Context(s, oldP, clock));
            var output = new SourceOutput<T>();
            for (int c = 0; c < callsBefore; c++)
            {
                var (status, records) = SourceReading.ReadOnce(reader, output);
                before.AddRange(records.Select(r => r.Value));
                if (status == SourceStatus.EndOfInput) break;
            }
            var ms = new MemoryStream();
            using (var w = new BinaryWriter(ms)) reader.SnapshotState(1, w);
            states.Add(ms.ToArray());
        }
        var after = new List<T>();
        for (int s = 0; s < newP; s++)
        {
            var context = SourceReading.Context(s, newP, clock) with { };
            context = new SourceReaderContext(s, newP, clock, context.Metrics) { Restored = new RestoredState(1, states, oldP), OperatorId = "src" };
            using var reader = source.CreateReader(context);
            var output = new SourceOutput<T>();
            for (int calls = 0; ; calls++)
            {
                var (status, records) = SourceReading.ReadOnce(reader, output);
                after.AddRange(records.Select(r => r.Value));
                if (status == SourceStatus.EndOfInput) break;
                if (status == SourceStatus.NothingAvailable) clock.Advance(TimeSpan.FromSeconds(1));
                Assert.True(calls < 100_000, "the reader never ended");
            }
        }
        return (before, after);
    }

    private static readonly Schema IdSchema = Schema.Of(("id", DataType.Int), ("name", DataType.String));

    [Theory]
    [InlineData(FileFormat.JsonLines, 2, 1)]
    [InlineData(FileFormat.JsonLines, 1, 3)]
    [InlineData(FileFormat.Csv, 3, 2)]
    public void The_file_source_resumes_after_the_last_record_it_read_in_each_file(FileFormat format, int oldP, int newP)
    {
        using var dir = new TempDir();
        int id = 0;
        for (int f = 0; f < 3; f++)
        {
            var lines = Enumerable.Range(0, 2500).Select(_ =>
            {
                int i = id++;
                return format == FileFormat.JsonLines ? $"{{\"id\":{i},\"name\":\"n{i}\"}}" : $"{i},\"n,{i}\"";
            });
            dir.File($"part-{f}.{(format == FileFormat.Csv ? "csv" : "jsonl")}", string.Join("\n", lines) + "\n");
        }
        var source = new FileSource(new FileConnectorOptions(dir.Path, format), IdSchema);
        var (before, after) = ReadAcrossRestore(source, oldP, newP, callsBefore: 2);
        Assert.NotEmpty(before);
        Assert.NotEmpty(after);
        var ids = before.Concat(after).Select(r => (int)r[0]!).Order().ToList();
        Assert.Equal(Enumerable.Range(0, 7500), ids);
    }

    [Fact]
    public void Datagen_sequences_and_row_counts_continue_where_the_checkpoint_was_taken()
    {
        var schema = Schema.Of(("id", DataType.BigInt), ("v", DataType.Int));
        var options = new Dictionary<string, string>
        {
            ["fields.id.kind"] = "sequence", ["fields.id.start"] = "1", ["fields.id.end"] = "5000", ["seed"] = "7",
        };
        var source = new DatagenSource(schema, options);
        var (before, after) = ReadAcrossRestore(source, 2, 2, callsBefore: 2);
        Assert.Equal(Enumerable.Range(1, 5000).Select(i => (long)i), before.Concat(after).Select(r => (long)r[0]!).Order());
        // The random column continues the same stream as a run without the restore.
        var straight = SourceReading.Values(source, 0, 2).Concat(SourceReading.Values(source, 1, 2)).ToDictionary(r => (long)r[0]!, r => r[1]);
        Assert.All(before.Concat(after), r => Assert.Equal(straight[(long)r[0]!], r[1]));
        var e = Assert.Throws<InvalidOperationException>(() => ReadAcrossRestore(source, 2, 3, callsBefore: 1));
        Assert.Contains("same parallelism", e.Message);
    }

    [Fact]
    public void The_web_traffic_generator_resumes_its_event_stream()
    {
        var source = new WebTrafficSource(new WebTrafficOptions { Count = 6000, Users = 50, Seed = 3 });
        var (before, after) = ReadAcrossRestore(source, 2, 2, callsBefore: 1);
        var straight = SourceReading.Values(source, 0, 2).Concat(SourceReading.Values(source, 1, 2)).ToList();
        Assert.Equal(6000, before.Count + after.Count);
        Assert.Equal(straight.Select(e => e.ToString()).Order(), before.Concat(after).Select(e => e.ToString()).Order());
    }
}
