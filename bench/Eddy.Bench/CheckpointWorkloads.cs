using System.Diagnostics;
using System.Globalization;
using Eddy.Runtime;
using Eddy.Testing;
using Eddy.Windows;

namespace Eddy.Bench;

/// <summary>
/// Snapshot and restore of keyed window state through the checkpoint storage (issue 7): a tumbling-window count
/// operator holding <c>entries</c> (key, accumulator) pairs spread over several open slices takes a checkpoint as a
/// task does at a barrier — the synchronous phase (what the task thread waits for: the slice tables shared
/// copy-on-write), the first write after the barrier (which copies the one table it goes to), then the asynchronous
/// phase (serialization per key group, then the files written with their SHA-256, flushed and the folder renamed by
/// <see cref="LocalCheckpointStorage"/>) — and a fresh operator is restored by reading the files back (sizes and both
/// checksums verified) and rebuilding its tables. Run as <c>Eddy.Bench checkpoint-state [--entries N] [--keys K]
/// [--dir D]</c>; it is not one of the events/s workloads, since what it measures is bytes per second of state.
/// </summary>
public static class CheckpointWorkloads
{
    public static int Run(string[] args)
    {
        long entries = 20_000_000;
        int keys = 1_000_000;
        string? dir = null;
        for (int i = 0; i + 1 < args.Length; i++)
        {
            if (args[i] == "--entries") entries = long.Parse(args[++i], CultureInfo.InvariantCulture);
            else if (args[i] == "--keys") keys = int.Parse(args[++i], CultureInfo.InvariantCulture);
            else if (args[i] == "--dir") dir = args[++i];
        }
        keys = (int)Math.Min(keys, entries);
        dir ??= Path.Combine(Path.GetTempPath(), "eddy-bench-ckstate-" + Guid.NewGuid().ToString("N")[..8]);
        Console.WriteLine($"checkpoint-state: tumbling 1-minute count per int key, {entries:N0} entries ({keys:N0} keys x {entries / keys} slices), "
            + $"128 key groups, checkpoints into {dir}");
        try
        {
            // Warm-up: the same path on a small state, so that the timed run sees optimised code.
            Measure(200_000, 50_000, dir, print: false);
            Measure(200_000, 50_000, dir, print: false);
            Measure(entries, keys, dir, print: true);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
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

    /// <summary>Wall and process CPU time of one step.</summary>
    private readonly record struct Timing(double Wall, double Cpu)
    {
        public override string ToString() => $"{Wall:F2} s wall ({Cpu:F2} s CPU)";
    }

    private static Timing Time(Action step)
    {
        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        step();
        double wall = watch.Elapsed.TotalSeconds;
        process.Refresh();
        return new Timing(wall, (process.TotalProcessorTime - cpu).TotalSeconds);
    }

    private static void Measure(long entries, int keys, string dir, bool print)
    {
        var create = Factory();
        var fillWatch = Stopwatch.StartNew();
        var source = new OperatorHarness<BenchEvent, WindowResult<int, TimeWindow, long>>(create(), checkpointing: true);
        source.Elements(Fill(entries, keys));
        double fillSeconds = fillWatch.Elapsed.TotalSeconds;
        long heldBefore = GC.GetTotalMemory(forceFullCollection: true);
        int slicesHeld = ((IWindowState)source.Operator).HeldState;
        long id = Directory.Exists(dir) ? new LocalCheckpointStorage(dir).HighestId() + 1 : 1;

        // The barrier: what the task thread does before it forwards the barrier and takes the next record.
        DeferredSnapshot? deferred = null;
        var sync = Time(() => deferred = source.Operator.SnapshotStateDeferred(id));
        if (deferred is null) throw new InvalidOperationException("the window operator has no asynchronous snapshot phase");
        // The task goes on: its next record goes to the newest slice, a table the snapshot still reads, so it is copied.
        long newest = (entries / keys - 1) * 60_000 + 1;
        var firstWrite = Time(() => source.Element(new BenchEvent(newest, 0, 0), newest));

        // The asynchronous phase: serialization, then the storage (files, SHA-256, flush, rename).
        var writer = new MemoryOperatorStateWriter();
        var serialize = Time(() => deferred.Write(writer));
        deferred.Release();
        var snapshot = writer.ToSnapshot();
        writer.Dispose();
        long bytes = snapshot.Size;
        var storage = new LocalCheckpointStorage(dir);
        var data = new CheckpointData(id, DateTimeOffset.UtcNow, "checkpoint-state", KeyGroups.DefaultMaxParallelism,
            [new OperatorSnapshot("windows", 1, [snapshot])]);
        string path = "";
        var store = Time(() => path = storage.Write(data));
        long fileBytes = Directory.EnumerateFiles(path).Sum(f => new FileInfo(f).Length);
        source = null;
        snapshot = null;
        data = null;
        GC.Collect();

        // Restore: read and verify the files, then rebuild a fresh operator from them.
        var restored = new OperatorHarness<BenchEvent, WindowResult<int, TimeWindow, long>>(create(), checkpointing: true);
        CheckpointData? loaded = null;
        var load = Time(() => loaded = storage.Load(id));
        var loadedWindows = loaded!.Find("windows")!;
        var rebuild = Time(() => restored.Restore(loadedWindows.ReaderFor(id, 0, KeyGroups.DefaultMaxParallelism)));
        if (((IWindowState)restored.Operator).HeldState != slicesHeld) throw new InvalidOperationException("restored state differs");
        // The restored operator writes the same bytes again: nothing was lost or changed (the record added after the
        // barrier is not in them, so its key's newest slice would differ otherwise).
        using (var again = new MemoryOperatorStateWriter())
        {
            restored.Operator.SnapshotState(id + 1, again);
            var second = again.ToSnapshot();
            var first = loadedWindows.Subtasks[0];
            if (second.KeyGroups.Count != first.KeyGroups.Count
                || second.KeyGroups.Any(e => !e.Value.AsSpan().SequenceEqual(first.KeyGroups[e.Key])))
                throw new InvalidOperationException("the restored operator's snapshot differs from the one it was restored from");
        }
        storage.Delete(id);
        if (!print) return;

        double mb = bytes / 1e6;
        var restore = new Timing(load.Wall + rebuild.Wall, load.Cpu + rebuild.Cpu);
        Console.WriteLine($"fill: {fillSeconds:F2} s; heap with state: {heldBefore / 1e9:F2} GB; state: {mb:F0} MB ({(double)bytes / entries:F1} B/entry) in {slicesHeld} slices; files {fileBytes / 1e6:F0} MB");
        Console.WriteLine($"synchronous phase (task thread at the barrier): {sync.Wall * 1000:F2} ms wall ({sync.Cpu * 1000:F1} ms CPU)");
        Console.WriteLine($"first write after the barrier (copies one slice of {keys:N0} keys): {firstWrite.Wall * 1000:F1} ms wall ({firstWrite.Cpu * 1000:F1} ms CPU)");
        Console.WriteLine($"asynchronous phase: serialize {serialize} + store {store} = {serialize.Wall + store.Wall:F2} s wall ({serialize.Cpu + store.Cpu:F2} s CPU)");
        Console.WriteLine($"restore: read+verify {load} + rebuild {rebuild} = {restore} = {mb / restore.Wall:F0} MB/s wall");
        Console.WriteLine($"load average {File.ReadAllText("/proc/loadavg").Trim()}");
    }
}
