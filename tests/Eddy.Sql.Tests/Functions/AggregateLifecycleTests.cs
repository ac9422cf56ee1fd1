using System.Globalization;
using System.Text.RegularExpressions;
using Eddy.Functions;
using Eddy.Runtime;
using Eddy.Testing;

namespace Eddy.Sql.Tests.Functions;

/// <summary>
/// <c>weighted_count(w)</c>: adds the job parameter <c>test.weight</c> (read in Open) per row; fails on 'boom'. Every
/// instance's opens, closes and calls go to the run's <see cref="LifecycleLog"/>.
/// </summary>
public sealed class WeightedCount : AggregateFunction<long, WeightedCount.Counter>
{
    public sealed class Counter
    {
        public long N;
    }

    private LifecycleLog? log;
    private long weight;

    public override void Open(FunctionContext context)
    {
        log = LifecycleLog.Of(context);
        log.Open(this, context);
        weight = long.Parse(context.GetJobParameter("test.weight", "1")!, CultureInfo.InvariantCulture);
    }

    public override Counter CreateAccumulator() => new();

    public void Accumulate(Counter counter, string? w)
    {
        (log ?? throw new InvalidOperationException("called before Open")).Call(this);
        if (w == "boom") throw new InvalidOperationException("boom");
        counter.N += weight;
    }

    public void Merge(Counter counter, Counter other) => counter.N += other.N;

    public override long GetValue(Counter counter) => counter.N;

    public override void Close() => log?.Close(this);
}

/// <summary>
/// Flink's open/close for user aggregate functions: each parallel instance of a group or window aggregation opens an
/// instance of its own once before its first row and closes it once, at the end, on failure, and after a restore the
/// new instances are opened again. Expected values computed here in plain C#.
/// </summary>
public class AggregateLifecycleTests : IDisposable
{
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("eddy-aggregate-lifecycle-");

    public void Dispose() => folder.Delete(recursive: true);

    // Row i: key k{i % 7}, word w{i} (or 'boom'), at 2000-01-01 00:00:00 + i seconds.
    private static readonly DateTime Epoch = new(2000, 1, 1, 0, 0, 0, DateTimeKind.Unspecified);

    private string Rows(int count, int boomAt = -1)
    {
        string path = Path.Combine(folder.FullName, $"{Guid.NewGuid():N}.csv");
        File.WriteAllLines(path, Enumerable.Range(0, count).Select(i =>
            $"k{i % 7},{(i == boomAt ? "boom" : $"w{i}")},{Epoch.AddSeconds(i).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)}"));
        return path;
    }

    private static string Script(string run, int parallelism, string path, string query) => $"""
        SET 'parallelism.default' = '{parallelism}';
        SET 'test.run' = '{run}';
        SET 'test.weight' = '3';
        CREATE FUNCTION weighted_count AS '{typeof(WeightedCount).FullName}';
        CREATE TABLE rows_in (k STRING, w STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts)
          WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'csv');
        CREATE TABLE out (k STRING, n BIGINT) WITH ('connector' = 'print');
        INSERT INTO out {query};
        """;

    private const string Grouped = "SELECT k, weighted_count(w) FROM rows_in GROUP BY k";

    private const string Windowed = "SELECT k, weighted_count(w) FROM TABLE(TUMBLE(TABLE rows_in, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY k, window_start, window_end";

    private static List<string> Lines(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => Regex.Replace(l.Trim(), @"^\d+> ", "")).ToList();

    /// <summary>The final value per key of a changelog printed as <c>+I[k, n]</c>, <c>-U[...]</c>, <c>+U[...]</c>.</summary>
    private static Dictionary<string, long> Final(IEnumerable<string> lines)
    {
        var result = new Dictionary<string, long>();
        foreach (var line in lines)
        {
            var m = Regex.Match(line, @"^([+-][IUD])\[(\w+), (\d+)\]$");
            Assert.True(m.Success, line);
            if (m.Groups[1].Value is "+I" or "+U") result[m.Groups[2].Value] = long.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
        }
        return result;
    }

    private static void EachInstanceOpenedAndClosedOnce(LifecycleLog log, int instances)
    {
        Assert.Equal(instances, log.Opened.Count);
        Assert.All(log.Opened.Values, n => Assert.Equal(1, n));
        Assert.Equal(log.Opened.Keys.ToHashSet(ReferenceEqualityComparer.Instance), log.Closed.Keys.ToHashSet(ReferenceEqualityComparer.Instance));
        Assert.All(log.Closed.Values, n => Assert.Equal(1, n));
        Assert.Equal(0, log.CallsOutsideOpenClose);
    }

    private static async Task<(JobResult Result, List<string> Lines)> Run(string script, string file = "aggregate.sql")
    {
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null);
        var job = Assert.Single(session.Execute(script, file));
        var result = await job.Environment.ExecuteAsync(job.Name).WaitAsync(TimeSpan.FromMinutes(2));
        return (result, Lines(output.ToString()));
    }

    [Theory]
    [InlineData(Grouped, 1)]
    [InlineData(Grouped, 2)]
    [InlineData(Windowed, 2)]
    public async Task Every_aggregation_instance_opens_its_own_function_once_and_closes_it_once(string query, int parallelism)
    {
        const int rows = 200;
        string run = Guid.NewGuid().ToString("N");
        var (result, lines) = await Run(Script(run, parallelism, Rows(rows), query));
        Assert.Null(result.Failure);
        var log = LifecycleLog.Runs[run];
        EachInstanceOpenedAndClosedOnce(log, parallelism);
        Assert.Equal(Enumerable.Range(0, parallelism), log.Contexts.Select(c => c.Subtask).Order());
        Assert.All(log.Contexts, c => Assert.Equal(parallelism, c.Parallelism));
        Assert.Equal(rows, log.Calls.Values.Sum());
        if (query == Grouped)
        {
            // The weight read in Open counts every row three times.
            var expected = Enumerable.Range(0, rows).GroupBy(i => $"k{i % 7}").ToDictionary(g => g.Key, g => 3L * g.Count());
            Assert.Equal(expected.OrderBy(e => e.Key), Final(lines).OrderBy(e => e.Key));
        }
        else
        {
            var expected = Enumerable.Range(0, rows).GroupBy(i => (Key: $"k{i % 7}", Window: i / 10))
                .Select(g => $"+I[{g.Key.Key}, {3L * g.Count()}]").Order(StringComparer.Ordinal);
            Assert.Equal(expected, lines.Order(StringComparer.Ordinal));
        }
    }

    [Theory]
    [InlineData(Grouped)]
    [InlineData(Windowed)]
    public async Task An_aggregate_that_fails_on_a_row_fails_the_job_naming_it_and_every_instance_is_closed(string query)
    {
        string run = Guid.NewGuid().ToString("N");
        var (result, _) = await Run(Script(run, 2, Rows(50, boomAt: 30), query), "failing.sql");
        Assert.NotNull(result.Failure);
        var messages = new List<string>();
        for (Exception? e = result.Failure; e is not null; e = e.InnerException) messages.Add(e.Message);
        Assert.Contains(messages, m => m.Contains("function weighted_count(w) (failing.sql: line 8", StringComparison.Ordinal)
            && m.Contains("w='boom'", StringComparison.Ordinal) && m.Contains("InvalidOperationException: boom", StringComparison.Ordinal));
        EachInstanceOpenedAndClosedOnce(LifecycleLog.Runs[run], 2);
    }

    [Fact]
    public async Task After_a_restore_the_new_instances_are_opened_again_and_the_result_is_the_straight_runs()
    {
        const int rows = 300;
        string run = Guid.NewGuid().ToString("N");
        var output = new CommittedOutput();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null);
        var job = Assert.Single(session.Execute(Script(run, 1, Rows(rows), Grouped)));
        var hold = new SourceHold((_, _) => 120);
        job.Environment.Configure(c => c with
        {
            JobName = "aggregate-lifecycle-restore",
            CheckpointInterval = TimeSpan.FromDays(1),
            CheckpointDirectory = Path.Combine(folder.FullName, "checkpoints"),
            RestartStrategy = RestartStrategy.None,
            SourceHold = hold,
        });
        var timeout = TimeSpan.FromMinutes(2);
        var first = job.Environment.Start(job.Name);
        await hold.WaitAllHeldAsync(1, timeout);
        var stats = await first.TriggerCheckpoint().WaitAsync(timeout);
        Assert.True(stats.Status == CheckpointStatus.Completed, $"checkpoint {stats.Id}: {stats}");
        first.Cancel();
        Assert.Equal(JobStatus.Cancelled, (await first.Completion.WaitAsync(timeout)).Status);
        var log = LifecycleLog.Runs[run];
        EachInstanceOpenedAndClosedOnce(log, 1);
        Assert.Equal(120, log.Calls.Values.Sum());

        job.Environment.Configure(c => c with { SourceHold = new SourceHold(), RestorePath = stats.Path });
        var second = job.Environment.Start(job.Name);
        var result = await second.Completion.WaitAsync(timeout);
        if (result.Failure is not null) throw result.Failure;
        Assert.Equal(stats.Id, second.RestoredFrom?.Id);
        // A second instance, opened after the restore (with the job's parameters again) and closed at the end.
        EachInstanceOpenedAndClosedOnce(log, 2);
        Assert.Equal(rows, log.Calls.Values.Sum());
        var expected = Enumerable.Range(0, rows).GroupBy(i => $"k{i % 7}").ToDictionary(g => g.Key, g => 3L * g.Count());
        Assert.Equal(expected.OrderBy(e => e.Key), Final(Lines(output.ToString())).OrderBy(e => e.Key));
    }
}
