using Eddy.Runtime;
using Eddy.Sql;

namespace Eddy.Functions.Geo.Tests;

/// <summary>
/// The async lookup operator in a running job under checkpoints: lookups held at the (local) ip2location server
/// while a checkpoint is taken, the job stopped, and a job restored from the checkpoint finishing the input. The
/// print sink writes into a <see cref="CommittedOutput"/> (lines appear only when their checkpoint completes), so
/// the output equals the straight run's only if the in-flight rows were in the checkpoint and started again.
/// </summary>
public class AsyncLookupCheckpointTests : IAsyncLifetime
{
    private const int Rows = 200;
    private const int HeldFrom = 40;
    private const int HeldTo = 59;
    private const int ReadBeforeCheckpoint = 100;
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    private FakeIp2LocationServer server = null!;
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("eddy-async-restore-");

    public async Task InitializeAsync() => server = await FakeIp2LocationServer.StartAsync();

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        folder.Delete(recursive: true);
    }

    // Rows 40..59 look up addresses the server holds until the test releases them; the others answer at once. The
    // ARRAY and MAP columns make the in-flight rows carry values the checkpoint must encode too.
    private string Events()
    {
        var path = Path.Combine(folder.FullName, "events.jsonl");
        File.WriteAllLines(path, Enumerable.Range(0, Rows).Select(n =>
            $"{{\"n\": {n}, \"pair\": [{n}, {2 * n}], \"tags\": {{\"k{n % 3}\": {n}}}, \"ip\": \""
            + (n >= HeldFrom && n <= HeldTo ? $"198.51.100.{n}" : $"192.0.2.{n % 25}") + "\"}"));
        return path;
    }

    private string Script(string mode) => $"""
        SET 'parallelism.default' = '1';
        SET 'geo.provider' = 'ip2location';
        SET 'geo.ip2location.endpoint' = '{server.Endpoint}';
        SET 'geo.ip2location.timeout' = '5 min';
        SET 'geo.async.capacity' = '{ReadBeforeCheckpoint + 10}';
        SET 'geo.async.timeout' = '5 min';
        SET 'geo.async.output-mode' = '{mode}';
        CREATE TABLE events (n INT, pair ARRAY<INT>, tags MAP<STRING, INT>, ip STRING)
          WITH ('connector' = 'filesystem', 'path' = '{Events()}', 'format' = 'json');
        CREATE TABLE located (n INT, second INT, k0 INT, ip STRING, geodata STRING) WITH ('connector' = 'print');
        INSERT INTO located SELECT n, pair[2], tags['k0'], ip, get_location(ip) FROM events;
        """;

    private static SqlJob Job(TextWriter output, string script) =>
        Assert.Single(new SqlSession(TestConnectors.Registry, output, TextWriter.Null, n => n == "IP_CODING_KEY" ? FakeIp2LocationServer.Key : null).Execute(script));

    private static List<string> Lines(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();

    [Theory]
    [InlineData("ordered")]
    [InlineData("unordered")]
    public async Task Rows_in_flight_at_a_checkpoint_are_looked_up_after_restore_exactly_once(string mode)
    {
        var output = new CommittedOutput();
        try
        {
            var job = Job(output, Script(mode));
            var hold = new SourceHold((_, _) => ReadBeforeCheckpoint);
            job.Environment.Configure(c => c with
            {
                JobName = "async-restore",
                CheckpointInterval = TimeSpan.FromDays(1),
                CheckpointDirectory = Path.Combine(folder.FullName, "checkpoints"),
                RestartStrategy = RestartStrategy.None,
                SourceHold = hold,
            });
            var first = job.Environment.Start(job.Name);
            await hold.WaitAllHeldAsync(1, Timeout);
            // Every held address was asked for: those rows (and, in order, the ones behind them) are in flight.
            var deadline = DateTime.UtcNow + Timeout;
            while (server.HeldRequests < HeldTo - HeldFrom + 1 && DateTime.UtcNow < deadline) await Task.Delay(5);
            Assert.Equal(HeldTo - HeldFrom + 1, server.HeldRequests);
            var stats = await first.TriggerCheckpoint().WaitAsync(Timeout);
            Assert.True(stats.Status == CheckpointStatus.Completed, $"checkpoint {stats.Id}: {stats}");
            // The sink commits when the task hears that the checkpoint completed: wait for it before stopping.
            while (output.Commits == 0 && DateTime.UtcNow < deadline) await Task.Delay(5);
            first.Cancel();
            Assert.Equal(JobStatus.Cancelled, (await first.Completion.WaitAsync(Timeout)).Status);

            // What the stopped job committed: none of the held rows (their answers never came), so they can only come
            // from the checkpoint; in order, a prefix of the input.
            var committedFirst = Lines(output.ToString()).Select(Number).ToList();
            Assert.DoesNotContain(committedFirst, n => n >= HeldFrom && n <= HeldTo);
            if (mode == "ordered") Assert.Equal(Enumerable.Range(0, committedFirst.Count), committedFirst);

            server.HeldAnswers.SetResult();
            job.Environment.Configure(c => c with { SourceHold = new SourceHold(), RestorePath = stats.Path });
            var second = job.Environment.Start(job.Name);
            var result = await second.Completion.WaitAsync(Timeout);
            if (result.Failure is not null) throw result.Failure;
            Assert.Equal(stats.Id, second.RestoredFrom?.Id);

            var straight = new StringWriter();
            var straightJob = Job(straight, Script(mode));
            var straightResult = await straightJob.Environment.Start(straightJob.Name).Completion.WaitAsync(Timeout);
            if (straightResult.Failure is not null) throw straightResult.Failure;

            var restored = Lines(output.ToString());
            var expected = Lines(straight.ToString());
            Assert.Equal(Rows, expected.Count);
            Assert.Contains("+I[45, 90, 45, 198.51.100.45, {\"country\": \"C45\", \"state\": \"Region 45\", \"city\": \"City 45\"}]", expected);
            if (mode == "ordered")
            {
                Assert.Equal(Enumerable.Range(0, Rows), restored.Select(Number));
                Assert.Equal(expected, restored);
            }
            else
            {
                // Unordered: every row exactly once, each with its own answer.
                Assert.Equal(expected.Order(StringComparer.Ordinal), restored.Order(StringComparer.Ordinal));
            }
        }
        finally
        {
            server.HeldAnswers.TrySetResult();
        }
    }

    private static int Number(string line) => int.Parse(line[3..line.IndexOf(',')], System.Globalization.CultureInfo.InvariantCulture);
}
