using System.Diagnostics;
using Confluent.Kafka;
using Xunit.Abstractions;

namespace Eddy.Recovery.Tests.Distributed;

/// <summary>A worker killed with SIGKILL: when, and the partitions it owned then, by the stage its log lines start with.</summary>
internal sealed record WorkerKill(WorkerProcess Victim, TimeSpan At, Dictionary<string, SortedSet<int>> Orphans);

/// <summary>
/// The <c>eddy worker</c> processes of one test (and an <c>eddy server</c> hosting one, if any), all on one clock and one
/// EDDY_HOME: started, killed with SIGKILL while events are produced, started again, stopped with SIGTERM, and waited on
/// (a process exiting on its own fails the wait at once). Disposing kills what still runs and logs every process's tail.
/// </summary>
internal sealed class WorkerCluster(ITestOutputHelper log, RecoveryHarness harness, string sqlFile) : IDisposable
{
    /// <summary>How long a wait may take before it fails: far beyond what a run on a loaded 2-core machine needs.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromMinutes(5);

    public Stopwatch Clock { get; } = Stopwatch.StartNew();

    public string Home { get; } = Path.Combine(harness.WorkDir, "home");

    public List<WorkerProcess> Processes { get; } = [];

    public WorkerProcess this[int index] => Processes[index];

    /// <summary>How often a wait checks its condition (conditions that read whole tables ask for a slower pace).</summary>
    public TimeSpan Poll { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary><c>eddy worker</c> on the job, named <paramref name="name"/> in the test's messages.</summary>
    public WorkerProcess Start(string name, params string[] options) => Add(new WorkerProcess(name, sqlFile, Home, Clock, options));

    public void StartAll(params string[] names)
    {
        foreach (var n in names) Start(n);
    }

    /// <summary>Any other long-lived eddy command (<c>eddy server</c>, a worker with its own options), kept and waited on like the workers.</summary>
    public WorkerProcess Add(string name, IEnumerable<string> arguments) => Add(new WorkerProcess(name, Home, Clock, arguments));

    private WorkerProcess Add(WorkerProcess process)
    {
        Processes.Add(process);
        return process;
    }

    /// <summary>Waits for <paramref name="condition"/>; fails if a process exits on its own or <see cref="Deadline"/> passes.</summary>
    public void WaitFor(Func<bool> condition, string what)
    {
        if (!Wait(condition, what))
            Assert.Fail($"waited {Deadline.TotalMinutes} min for {what}\n{Describe(40)}");
    }

    /// <summary>
    /// Waits for <paramref name="condition"/> as long as <see cref="WaitFor"/> would, but a timeout is no failure: for a
    /// table to settle before it is compared, so that a failure lists the rows that differ.
    /// </summary>
    public bool Settle(Func<bool> condition, string what)
    {
        bool settled = Wait(condition, what);
        if (!settled) log.WriteLine($"{what}: not after {Deadline.TotalMinutes} min; comparing what is there");
        return settled;
    }

    private bool Wait(Func<bool> condition, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            var dead = Processes.FirstOrDefault(w => w.HasExited && !w.Ended);
            if (dead is not null)
                Assert.Fail($"waiting for {what}: worker {dead.Name} exited on its own\n{dead.Describe(60)}");
            if (waited.Elapsed > Deadline) return false;
            Thread.Sleep(Poll);
        }
        log.WriteLine($"{what}: after {waited.Elapsed.TotalSeconds:F1} s");
        return true;
    }

    /// <summary>
    /// Kills worker <paramref name="victim"/> with SIGKILL (no final checkpoint, no goodbye) while <paramref name="produce"/>
    /// sends events from another thread (at once, or once <paramref name="killWhen"/> holds or the sending ended), and
    /// says what it owned in each of <paramref name="stages"/> (null: its whole log).
    /// </summary>
    public WorkerKill KillWhileProducing(int victim, string[]? stages, Action produce, Func<bool>? killWhen = null, string? killWhenText = null)
    {
        Exception? produceFailure = null;
        var producing = new Thread(() =>
        {
            try
            {
                produce();
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or KafkaException)
            {
                produceFailure = e;
            }
        });
        producing.Start();
        if (killWhen is not null) WaitFor(() => !producing.IsAlive || killWhen(), killWhenText ?? "the moment to kill");
        var worker = Processes[victim];
        var killedAt = Clock.Elapsed;
        worker.KillHard();
        var orphans = stages is null
            ? new Dictionary<string, SortedSet<int>> { [""] = worker.OwnedAt(killedAt) }
            : stages.ToDictionary(s => s, s => worker.OwnedAt(killedAt, s));
        log.WriteLine($"[{killedAt.TotalSeconds:F2} s] worker {worker.Name} killed (SIGKILL) owning "
            + string.Join("; ", orphans.Select(o => $"{(o.Key.Length == 0 ? "partitions" : o.Key)}: {string.Join(",", o.Value)}")));
        producing.Join();
        if (produceFailure is not null) throw produceFailure;
        return new WorkerKill(worker, killedAt, orphans);
    }

    /// <summary>
    /// Waits until the other workers run every partition the killed one owned (once its session expired at the broker,
    /// from their last completed checkpoints), and logs how long that took.
    /// </summary>
    public void WaitTakenOver(WorkerKill kill)
    {
        TimeSpan? Resumed(string stage, int p) => Processes.Where(w => w != kill.Victim)
            .Select(w => w.Said($"{(stage.Length == 0 ? "" : stage + ": ")}partition {p}: started ", kill.At)).Where(t => t is not null).Min();
        WaitFor(() => kill.Orphans.All(o => o.Value.All(p => Resumed(o.Key, p) is not null)),
            $"the surviving workers take over every partition of {kill.Victim.Name}{(kill.Orphans.Count > 1 ? " in every stage" : "")}");
        var takenOver = kill.Orphans.SelectMany(o => o.Value.Select(p => Resumed(o.Key, p)!.Value)).DefaultIfEmpty(kill.At).Max();
        log.WriteLine($"failover: {(takenOver - kill.At).TotalSeconds:F2} s from SIGKILL to the last of {kill.Victim.Name}'s partitions running again on a survivor "
            + "(session.timeout.ms = 6000)");
    }

    /// <summary>Starts a killed worker again under its name, in its place.</summary>
    public WorkerProcess Restart(WorkerProcess worker)
    {
        int index = Processes.IndexOf(worker);
        worker.Dispose();
        return Processes[index] = new WorkerProcess(worker.Name, sqlFile, Home, Clock);
    }

    /// <summary>SIGTERM: each stops cleanly (final checkpoints, exit code 0).</summary>
    public void Stop(params WorkerProcess[] workers)
    {
        foreach (var w in workers) Assert.True(w.Stop(TimeSpan.FromMinutes(2)) == 0, $"worker {w.Name} did not stop cleanly:\n" + w.Describe());
    }

    /// <summary>Stops every process the test has not ended itself.</summary>
    public void StopAll() => Stop([.. Processes.Where(w => !w.Ended)]);

    public string Describe(int tail) => string.Join("\n", Processes.Select(w => w.Describe(tail)));

    public void Dispose()
    {
        foreach (var w in Processes) w.Dispose();
        foreach (var w in Processes) log.WriteLine(w.Describe(60));
    }
}
