using Eddy.Connectors.Postgres.Tests;
using Xunit.Abstractions;
using static Eddy.Recovery.Tests.Distributed.DistributedJob;

namespace Eddy.Recovery.Tests.Distributed;

/// <summary>
/// The schedule the staged worker tests share, for jobs split into stages through repartition topics: the dev broker
/// is started with the source topics and the plan's repartition topics; chunk 0 is produced and the workers start;
/// once every worker owns partitions of every stage and every table has rows, chunk 1 is produced while the second
/// worker (b) is killed with SIGKILL (at once, or when <see cref="KillWhen"/> holds); the others take over all b owned; b is started again and owns partitions of every
/// stage; chunk 2 (with the closing events) follows. Once the tables settle the workers stop (SIGTERM), and every table
/// must equal the test's oracle (plain C# over the produced events), as must the tables of a single-process
/// <c>eddy run</c> of the same job over the same topics, to their end.
/// </summary>
internal sealed class StagedJobScenario(ITestOutputHelper log)
{
    /// <summary>The job's name: its pipelines are <c>&lt;name&gt;-&lt;case&gt;</c>.</summary>
    public required string Name { get; init; }

    public required int Partitions { get; init; }

    public required string[] SourceTopics { get; init; }

    public required IReadOnlyList<SinkCase> Cases { get; init; }

    /// <summary>The job text: its name, the broker, each case's sink table, whether it reads to the topics' end (<c>eddy run</c>).</summary>
    public required Func<string, string, IReadOnlyDictionary<SinkCase, string>, bool, string> JobText { get; init; }

    /// <summary>What the plan must say besides one repartition topic per keyed stage.</summary>
    public Action<string> CheckPlan { get; init; } = _ => { };

    /// <summary>Sends chunk 0, 1 or 2 (the last with the closing events); chunk 1 is sent from another thread.</summary>
    public required Action<RecoveryHarness, int> Produce { get; init; }

    /// <summary>
    /// When to kill worker b while chunk 1 is sent, given each case's table (null: at once); the kill comes when the
    /// sending ends at the latest. A test whose stages should be killed with records in flight waits for rows of chunk 1.
    /// </summary>
    public Func<IReadOnlyDictionary<SinkCase, string>, bool>? KillWhen { get; init; }

    /// <summary>What <see cref="KillWhen"/> waits for, in the test's log.</summary>
    public string? KillWhenText { get; init; }

    /// <summary>What worker b must have owned when it was killed, by stage.</summary>
    public required Action<IReadOnlyDictionary<string, SortedSet<int>>> CheckOrphans { get; init; }

    /// <summary>A case's rows from the events produced (held-back rows among them are left out).</summary>
    public required Func<SinkCase, IEnumerable<string>> Oracle { get; init; }

    /// <summary>What a case's oracle must have, so that the comparison means something.</summary>
    public Action<SinkCase, Dictionary<string, long>> CheckOracle { get; init; } = (_, _) => { };

    public string[] Workers { get; init; } = ["a", "b"];

    /// <summary>The cases the single-process run has (all unless said).</summary>
    public IReadOnlyList<SinkCase>? SingleRunCases { get; init; }

    /// <summary>Whether held-back rows are left out of the workers' tables too, not only out of the oracle and the bounded run's.</summary>
    public bool HeldBackIgnoredInWorkerTables { get; init; }

    public void Run()
    {
        var tables = Cases.ToDictionary(c => c, c => PgServer.UniqueName(c.Name));
        var (repartition, plan) = RepartitionTopics(Name, JobText(Name, NoBroker, tables, false), Cases.Sum(c => c.KeyedStages), "one per keyed stage");
        CheckPlan(plan);
        using var harness = new RecoveryHarness(log, Partitions, [.. SourceTopics, .. repartition]);
        string sql = Write(harness, Name, JobText(Name, harness.Bootstrap, tables, false));
        using var cluster = new WorkerCluster(log, harness, sql) { Poll = TimeSpan.FromMilliseconds(500) };
        string[] stages = [.. Cases.SelectMany(c => c.Stages(Name))];
        Dictionary<string, long> WorkerRows(SinkCase c) => Rows(tables[c], c.RowText).Where(r => !HeldBackIgnoredInWorkerTables || !c.HeldBack(r.Key)).ToDictionary();

        Produce(harness, 0);
        cluster.StartAll(Workers);
        cluster.WaitFor(() => cluster.Processes.All(w => stages.All(p => w.Said($"{p}: assigned partitions") is not null)) && tables.Values.All(t => Count(t) > 0),
            "every worker owns partitions of every stage and every table has rows");

        // Mid-run: chunk 1 is on its way while worker b dies without a checkpoint or a goodbye.
        var kill = cluster.KillWhileProducing(1, stages, () => Produce(harness, 1), KillWhen is null ? null : () => KillWhen(tables), KillWhenText);
        CheckOrphans(kill.Orphans);
        cluster.WaitTakenOver(kill);

        // b comes back and gets a share of every stage again; the last chunk and the closing events follow.
        var restarted = cluster.Restart(kill.Victim);
        cluster.WaitFor(() => stages.All(p => restarted.Said($"{p}: assigned partitions") is not null), $"the restarted worker {restarted.Name} owns partitions of every stage");
        Produce(harness, 2);

        // The rows every table ends with: what the closing events still hold back stays out.
        var expected = Cases.ToDictionary(c => c, c => Counts(Oracle(c).Where(r => !c.HeldBack(r))));
        foreach (var c in Cases)
        {
            Assert.True(expected[c].Count > 0, $"{c.Name}: the oracle has no rows");
            CheckOracle(c, expected[c]);
        }
        // A table updated by key equals the oracle only once every change (retractions included) has arrived.
        cluster.Settle(() => Cases.All(c => c.UpdatedByKey ? Differences(expected[c], WorkerRows(c)).Count == 0 : Count(tables[c]) >= expected[c].Values.Sum()),
            "every table has its rows: " + string.Join(", ", Cases.Select(c => $"{c.Name} {expected[c].Values.Sum()}")));
        cluster.StopAll();
        var distributed = Cases.ToDictionary(c => c, WorkerRows);

        // The same from one process: eddy run over the same topics, to their end (which flushes the held-back rows too).
        var singleCases = SingleRunCases ?? Cases;
        var single = singleCases.ToDictionary(c => c, c => PgServer.UniqueName(c.Name + "_single"));
        var run = harness.Run(Write(harness, Name + "_single", JobText(Name + "_single", harness.Bootstrap, single, true)), KillPlan.None, TimeSpan.FromMinutes(3));
        Assert.True(run.ExitCode == 0, run.Output);
        var report = Cases.Select(c => (What: $"{c.Name} ({tables[c]}) against the oracle", Differences: Differences(expected[c], distributed[c])))
            .Concat(singleCases.Select(c => (What: $"{c.Name}: eddy run ({single[c]}) against the oracle",
                Differences: Differences(expected[c], Rows(single[c], c.RowText).Where(r => !c.HeldBack(r.Key)).ToDictionary()))))
            .Where(r => r.Differences.Count > 0).ToList();
        Assert.True(report.Count == 0, string.Join("\n", report.Select(r => $"{r.What}: {r.Differences.Count} rows differ\n  " + string.Join("\n  ", r.Differences.Take(20))))
            + "\n" + cluster.Describe(40));
    }
}
