using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Eddy.Connectors.Kafka.Tests;
using Eddy.Connectors.Postgres.Tests;
using Xunit.Abstractions;

namespace Eddy.Recovery.Tests;

/// <summary>How one run of the job ends: killed after a delay, killed by the engine itself at a named point, or left to finish.</summary>
public sealed record KillPlan(string Description, TimeSpan? After = null, string? AtPoint = null, TimeSpan? AfterStarted = null)
{
    public static KillPlan Timed(TimeSpan after) => new($"SIGKILL after {after.TotalMilliseconds:0} ms", After: after);

    /// <summary>
    /// Killed <paramref name="after"/> once the job said it started (<c>eddy run</c>'s "started" line): a moment while
    /// it processes, however long the start-up takes on a loaded machine.
    /// </summary>
    public static KillPlan TimedAfterStart(TimeSpan after) =>
        new($"SIGKILL {after.TotalMilliseconds:0} ms after the job started", AfterStarted: after);

    public static KillPlan AtFaultPoint(string point) => new($"SIGKILL at {point}", AtPoint: point);

    public static readonly KillPlan None = new("run to the end");
}

public sealed record RunOutcome(KillPlan Plan, int? ExitCode, bool Killed, string FirstLine, string Output)
{
    /// <summary>The last <paramref name="lines"/> lines of the run's stdout and stderr (stderr lines are marked).</summary>
    public string Tail(int lines)
    {
        var all = Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }

    /// <summary>One line: the plan, how the run ended and what it printed first.</summary>
    public string Summary =>
        $"{Plan.Description} → exit {ExitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}{(Killed ? " (killed)" : "")}; "
        + $"first line: {(FirstLine.Length == 0 ? "(none: killed before it printed)" : FirstLine)}";

    /// <summary>Every run in order, for an assertion message: a CI failure must say which run did what.</summary>
    public static string Describe(IReadOnlyList<RunOutcome> runs, int tailLines = 8)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < runs.Count; i++)
        {
            sb.Append("run ").Append(i + 1).Append(": ").AppendLine(runs[i].Summary);
            string tail = runs[i].Tail(tailLines);
            if (tail.Length > 0) sb.AppendLine("  last lines:").AppendLine("    " + tail.Replace("\n", "\n    ", StringComparison.Ordinal));
        }
        return sb.ToString();
    }
}

/// <summary>
/// A dev broker (<c>eddy kafka</c>) in its own process, an input topic filled by <c>eddy produce</c> from a generated
/// file, and the job run by <c>eddy run</c> as a separate process that is killed and started again, as a user would.
/// </summary>
public sealed class RecoveryHarness : IDisposable
{
    // The harness reads topics with Confluent.Kafka directly: without this, Confluent's own loader could take the
    // operating system's librdkafka instead of the bundled one the client needs.
    static RecoveryHarness() => Eddy.Connectors.Kafka.KafkaNative.EnsureLoaded();

    private readonly ITestOutputHelper log;
    private readonly Process broker;

    public RecoveryHarness(ITestOutputHelper log, int partitions, params string[] topics)
    {
        this.log = log;
        WorkDir = Directory.CreateTempSubdirectory("eddy-recovery-").FullName;
        var args = new List<string> { "kafka", "--port", "0", "--partitions", partitions.ToString() };
        foreach (var t in topics) args.AddRange(["--topic", t]);
        broker = EddyProcess.Start([.. args]);
        var started = Stopwatch.StartNew();
        string? line;
        while ((line = broker.StandardOutput.ReadLine()) is not null)
        {
            var m = Regex.Match(line, @"bootstrap servers: (\S+)");
            if (m.Success)
            {
                Bootstrap = m.Groups[1].Value;
                break;
            }
            if (started.Elapsed > TimeSpan.FromSeconds(60)) break;
        }
        if (Bootstrap is null) throw new InvalidOperationException("eddy kafka printed no bootstrap address: " + broker.StandardError.ReadToEnd());
        // Keep draining its output so that the broker never blocks on a full pipe.
        _ = broker.StandardOutput.ReadToEndAsync();
        _ = broker.StandardError.ReadToEndAsync();
    }

    public string WorkDir { get; }

    public string Bootstrap { get; } = null!;

    /// <summary>Writes <paramref name="lines"/> to a file and sends them with <c>eddy produce</c>.</summary>
    public void Produce(string topic, IEnumerable<string> lines)
    {
        string file = Path.Combine(WorkDir, topic + ".jsonl");
        File.WriteAllLines(file, lines);
        using var p = EddyProcess.Start("produce", "--bootstrap", Bootstrap, "--topic", topic, "--events", "file:" + file);
        var stdout = p.StandardOutput.ReadToEndAsync();
        string stderr = p.StandardError.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3))) throw new TimeoutException("eddy produce did not finish in 3 minutes");
        if (p.ExitCode != 0) throw new InvalidOperationException($"eddy produce failed ({p.ExitCode}): {stderr}{stdout.Result}");
    }

    /// <summary>Runs <paramref name="sqlFile"/> once under <paramref name="plan"/>.</summary>
    public RunOutcome Run(string sqlFile, KillPlan plan, TimeSpan timeout)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(EddyProcess.DllPath);
        info.ArgumentList.Add("run");
        info.ArgumentList.Add(sqlFile);
        info.Environment["EDDY_HOME"] = Path.Combine(WorkDir, "home");
        if (plan.AtPoint is not null) info.Environment["EDDY_KILL_AT"] = plan.AtPoint;
        using var p = Process.Start(info)!;
        var output = new StringBuilder();
        string firstLine = "";
        using var started = new ManualResetEventSlim();
        var outDone = Task.Run(() =>
        {
            string? l;
            while ((l = p.StandardOutput.ReadLine()) is not null)
            {
                lock (output)
                {
                    if (output.Length == 0) firstLine = l;
                    output.AppendLine(l);
                }
            }
        });
        var errDone = Task.Run(() =>
        {
            string? l;
            while ((l = p.StandardError.ReadLine()) is not null)
            {
                lock (output)
                {
                    if (output.Length == 0) firstLine = l;
                    output.AppendLine("stderr: " + l);
                }
                if (l.Contains("' started (", StringComparison.Ordinal)) started.Set();
            }
        });
        bool killed = false;
        if (plan.AfterStarted is { } afterStart)
        {
            // Started, or ended (then there is nothing to kill), or the run's timeout passed: whichever comes first.
            var waited = Stopwatch.StartNew();
            while (!started.Wait(100) && !p.HasExited && waited.Elapsed < timeout) { }
            if (started.IsSet && !p.WaitForExit(afterStart))
            {
                p.Kill(entireProcessTree: true);
                killed = true;
            }
        }
        if (plan.After is { } after && !p.WaitForExit(after))
        {
            p.Kill(entireProcessTree: true);
            killed = true;
        }
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            throw new TimeoutException($"eddy run did not end within {timeout} ({plan.Description}); output:\n{output}");
        }
        Task.WaitAll(outDone, errDone);
        // A process killed by a signal exits with 128 + signal number (137 for SIGKILL).
        killed |= p.ExitCode == 137;
        var outcome = new RunOutcome(plan, p.ExitCode, killed, firstLine, output.ToString());
        log.WriteLine($"run: {plan.Description} → exit {p.ExitCode}{(killed ? " (killed)" : "")}; first line: {firstLine}");
        return outcome;
    }

    /// <summary>The first and the end offset (low and high watermark) of every partition of <paramref name="topic"/>.</summary>
    public Dictionary<int, (long Low, long High)> Watermarks(string topic)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = Bootstrap,
            GroupId = "recovery-check-" + Guid.NewGuid().ToString("N"),
        }).Build();
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = Bootstrap }).Build();
        var meta = admin.GetMetadata(topic, TimeSpan.FromSeconds(10));
        return meta.Topics[0].Partitions.ToDictionary(p => p.PartitionId, p =>
        {
            var w = consumer.QueryWatermarkOffsets(new TopicPartition(topic, p.PartitionId), TimeSpan.FromSeconds(10));
            return (w.Low.Value, w.High.Value);
        });
    }

    /// <summary>Every value of <paramref name="topic"/> (all partitions, from the start), read with a bare consumer.</summary>
    public List<string> ReadTopic(string topic, bool readCommitted) => ReadTopicRecords(topic, readCommitted).Select(r => r.Value).ToList();

    /// <summary>Every record of <paramref name="topic"/> with its partition and offset, read with a bare consumer.</summary>
    public List<(int Partition, long Offset, string Value)> ReadTopicRecords(string topic, bool readCommitted)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = Bootstrap,
            GroupId = "recovery-check-" + Guid.NewGuid().ToString("N"),
            IsolationLevel = readCommitted ? IsolationLevel.ReadCommitted : IsolationLevel.ReadUncommitted,
            EnableAutoCommit = false,
        };
        using var consumer = new ConsumerBuilder<Ignore, string>(config).Build();
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = Bootstrap }).Build();
        var meta = admin.GetMetadata(topic, TimeSpan.FromSeconds(10));
        var partitions = meta.Topics[0].Partitions.Select(p => new TopicPartition(topic, p.PartitionId)).ToList();
        var ends = partitions.ToDictionary(tp => tp.Partition.Value, tp => consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value);
        consumer.Assign(partitions.Select(tp => new TopicPartitionOffset(tp, Offset.Beginning)));
        var values = new List<(int Partition, long Offset, string Value)>();
        var reached = ends.Where(e => e.Value == 0).Select(e => e.Key).ToHashSet();
        var deadline = Stopwatch.StartNew();
        while (reached.Count < ends.Count && deadline.Elapsed < TimeSpan.FromMinutes(2))
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r is null) continue;
            if (r.IsPartitionEOF) continue;
            values.Add((r.Partition.Value, r.Offset.Value, r.Message.Value));
            if (r.Offset.Value + 1 >= ends[r.Partition.Value]) reached.Add(r.Partition.Value);
        }
        return values;
    }

    /// <summary>A JDBC URL of the test PostgreSQL server, as the lab writes it.</summary>
    public static (string Url, string User) JdbcUrl()
    {
        var b = new Npgsql.NpgsqlConnectionStringBuilder(PgServer.ConnectionString);
        return ($"jdbc:postgresql://{b.Host}:{b.Port}/{b.Database}", b.Username ?? "postgres");
    }

    public void Dispose()
    {
        try
        {
            if (!broker.HasExited) broker.Kill(entireProcessTree: true);
            broker.WaitForExit(5000);
        }
        finally
        {
            broker.Dispose();
            try { Directory.Delete(WorkDir, recursive: true); } catch (IOException) { }
        }
    }
}
