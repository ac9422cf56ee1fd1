using System.Diagnostics;
using System.Globalization;
using Eddy.Runtime;
using Eddy.Testing;
using Eddy.Windows;

namespace Eddy.Bench;

/// <summary>
/// Snapshot and restore throughput of keyed window state (issue 7): a tumbling-window count operator holding
/// <c>entries</c> (key, accumulator) pairs spread over several open slices is snapshotted into the in-memory state
/// writer (per key group buffers, as the checkpoint storage receives them), then a fresh operator is restored from
/// those bytes. Run as <c>Eddy.Bench checkpoint-state [--entries N] [--keys K]</c>; it is not one of the events/s
/// workloads, since what it measures is bytes per second of state.
/// </summary>
public static class CheckpointWorkloads
{
    public static int Run(string[] args)
    {
        long entries = 20_000_000;
        int keys = 1_000_000;
        for (int i = 0; i + 1 < args.Length; i++)
        {
            if (args[i] == "--entries") entries = long.Parse(args[++i], CultureInfo.InvariantCulture);
            else if (args[i] == "--keys") keys = int.Parse(args[++i], CultureInfo.InvariantCulture);
        }
        keys = (int)Math.Min(keys, entries);
        Console.WriteLine($"checkpoint-state: tumbling 1-minute count per int key, {entries:N0} entries ({keys:N0} keys x {entries / keys} slices), 128 key groups");
        // Warm-up: the same path on a small state, so that the timed run sees optimised code.
        Measure(200_000, 50_000, print: false);
        Measure(200_000, 50_000, print: false);
        Measure(entries, keys, print: true);
        return 0;
    }

    private static Func<StreamOperator<BenchEvent, WindowResult<int, TimeWindow, long>>> Factory()
    {
        var env = StreamEnvironment.Create();
        var stream = env.FromCollection(Array.Empty<BenchEvent>()).KeyBy(e => e.Key)
            .Window(TumblingEventTimeWindows.Of(TimeSpan.FromMinutes(1))).Count();
        return () => (StreamOperator<BenchEvent, WindowResult<int, TimeWindow, long>>)stream.Node.CreateOperator()!;
    }

    private static IEnumerable<(BenchEvent, long)> Fill(long entries, int keys)
    {
        long slices = entries / keys;
        for (long s = 0; s < slices; s++)
        {
            long ts = s * 60_000 + 1;
            for (int k = 0; k < keys; k++) yield return (new BenchEvent(ts, k, 0), ts);
        }
    }

    private static void Measure(long entries, int keys, bool print)
    {
        var create = Factory();
        var fillWatch = Stopwatch.StartNew();
        var source = new OperatorHarness<BenchEvent, WindowResult<int, TimeWindow, long>>(create(), checkpointing: true);
        source.Elements(Fill(entries, keys));
        double fillSeconds = fillWatch.Elapsed.TotalSeconds;
        long heldBefore = GC.GetTotalMemory(forceFullCollection: true);

        using var process = Process.GetCurrentProcess();
        using var writer = new MemoryOperatorStateWriter();
        var cpu = process.TotalProcessorTime;
        var snapWatch = Stopwatch.StartNew();
        source.Operator.SnapshotState(1, writer);
        double snapshotSeconds = snapWatch.Elapsed.TotalSeconds;
        process.Refresh();
        double snapshotCpu = (process.TotalProcessorTime - cpu).TotalSeconds;
        var snapshot = writer.ToSnapshot();
        long bytes = snapshot.Size;
        int slicesHeld = ((IWindowState)source.Operator).HeldState;
        source = null;
        GC.Collect();

        var restored = new OperatorHarness<BenchEvent, WindowResult<int, TimeWindow, long>>(create(), checkpointing: true);
        var reader = MemoryOperatorStateReader.ForSubtask([snapshot], 0, 1);
        process.Refresh();
        cpu = process.TotalProcessorTime;
        var restoreWatch = Stopwatch.StartNew();
        restored.Restore(reader);
        double restoreSeconds = restoreWatch.Elapsed.TotalSeconds;
        process.Refresh();
        double restoreCpu = (process.TotalProcessorTime - cpu).TotalSeconds;
        if (((IWindowState)restored.Operator).HeldState != slicesHeld) throw new InvalidOperationException("restored state differs");
        // The restored operator writes the same bytes again: nothing was lost or changed.
        using (var again = new MemoryOperatorStateWriter())
        {
            restored.Operator.SnapshotState(2, again);
            var second = again.ToSnapshot();
            if (second.KeyGroups.Count != snapshot.KeyGroups.Count
                || second.KeyGroups.Any(e => !e.Value.AsSpan().SequenceEqual(snapshot.KeyGroups[e.Key])))
                throw new InvalidOperationException("the restored operator's snapshot differs from the one it was restored from");
        }
        if (!print) return;

        double mb = bytes / 1e6;
        Console.WriteLine($"fill: {fillSeconds:F2} s; heap with state: {heldBefore / 1e9:F2} GB; state: {mb:F0} MB ({(double)bytes / entries:F1} B/entry)");
        Console.WriteLine($"snapshot: {snapshotSeconds:F2} s wall ({snapshotCpu:F2} s CPU) = {mb / snapshotSeconds:F0} MB/s wall, {mb / snapshotCpu:F0} MB/s CPU");
        Console.WriteLine($"restore:  {restoreSeconds:F2} s wall ({restoreCpu:F2} s CPU) = {mb / restoreSeconds:F0} MB/s wall, {mb / restoreCpu:F0} MB/s CPU");
        Console.WriteLine($"1 GB of this state: snapshot ~{1000 / (mb / snapshotSeconds):F1} s, restore ~{1000 / (mb / restoreSeconds):F1} s wall" +
            (mb < 900 ? " (extrapolated)" : " (measured size)") + $"; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
    }
}
