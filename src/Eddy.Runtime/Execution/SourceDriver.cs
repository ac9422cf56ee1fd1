using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Eddy.Runtime.Distributed;

namespace Eddy.Runtime;

internal interface ISourceDriver
{
    void Run(StreamTask task, CancellationToken cancel);
}

/// <summary>
/// Runs a source reader in its task: assigns timestamps, follows a watermark per split (the minimum over active
/// splits goes out), marks splits idle after the idle timeout, and emits watermarks periodically or, for bounded
/// jobs, after every batch.
/// </summary>
internal sealed class SourceDriver<T>(
    SourceNode<T> node,
    int subtask,
    int parallelism,
    IBatchInput<T> head,
    JobConfig config,
    bool watermarkPerBatch) : ISourceDriver
{
    public void Run(StreamTask task, CancellationToken cancel)
    {
        var metrics = task.Metrics;
        var clock = config.Clock;
        var ck = task.Checkpointing;
        string stateId = task.SourceStateId ?? node.Name;
        using var reader = node.Source.CreateReader(new SourceReaderContext(subtask, parallelism, clock, metrics)
        {
            JobName = config.JobName ?? "job",
            OperatorId = stateId,
            CheckpointingEnabled = config.CheckpointingEnabled,
            Report = config.Diagnostics,
            Restored = task.Restore?.Find(stateId)?.ToRestoredState(task.Restore.Id),
            PartitionTask = config.PartitionTask,
        });
        // A reader whose splits carry their watermarks in-band (a repartition topic's control records).
        var inBand = reader as IInBandWatermarks;
        if (ck is not null)
        {
            task.AttachReader(id =>
            {
                var ms = new MemoryStream();
                using (var w = new BinaryWriter(ms)) reader.SnapshotState(id, w);
                return ms.ToArray();
            }, reader.NotifyCheckpointComplete);
        }
        var strategy = node.Strategy;
        var assign = strategy.TimestampAssigner;
        TimeSpan? idleTimeout = strategy.IdleTimeout ?? config.SourceIdleTimeout;
        long idleMs = idleTimeout is { } t ? Math.Max(1, EventTime.Millis(t)) : long.MaxValue;
        long intervalMs = Math.Max(1, EventTime.Millis(config.AutoWatermarkInterval));

        int splitCount = reader.SplitCount;
        var generators = new WatermarkGenerator[Math.Max(1, splitCount)];
        for (int i = 0; i < generators.Length; i++) generators[i] = strategy.CreateGenerator();
        // In-band splits stand for upstream tasks (their source partitions): combined as a task combines its channels.
        var valve = new WatermarkValve(generators.Length, flushWhenAllIdle: inBand is not null);
        var lastData = new long[generators.Length];
        var splitIdle = new bool[generators.Length];
        long start = task.Timers.Now;
        Array.Fill(lastData, start);
        if (splitCount > 0)
        {
            var names = new string[splitCount];
            for (int i = 0; i < splitCount; i++) names[i] = reader.SplitName(i) ?? $"split {i}";
            metrics.Splits = new SourceSplitProgress(names, lastData, splitIdle, generators, start);
        }
        // A reader without splits (a Kafka subtask left without partitions) shows an empty list, not "unknown".
        else metrics.Splits = new SourceSplitProgress([], [], [], [], start);
        long nextPeriodic = start + intervalMs;
        long emitted = EventTime.MinWatermark;

        // A reader without splits (more subtasks than partitions) is idle from the start.
        if (splitCount == 0) task.UpdateIdle(true);

        var output = new SourceOutput<T>();
        var hold = config.SourceHold;
        hold?.Register(stateId, subtask);
        while (true)
        {
            cancel.ThrowIfCancellationRequested();
            // Between two reads: a barrier asked for goes out here, after every record read so far.
            if (ck is not null) task.PollSourceCheckpoint(reader.ReadyForBarrier);
            SourceStatus status;
            if (hold is null) status = reader.Read(output);
            else
            {
                long allowed = hold.Allowance(stateId, subtask);
                output.Limit = (int)Math.Min(allowed, int.MaxValue);
                status = allowed == 0 ? SourceStatus.NothingAvailable : reader.Read(output);
                hold.Counted(stateId, subtask, output.Batch.Count);
            }
            long now = task.Timers.Now;
            var batch = output.Batch;
            if (batch.Count > 0)
            {
                emitted = EmitBatch(task, metrics, output, assign, generators, valve, lastData, splitIdle, now, emitted);
            }
            if (inBand is not null) emitted = InBandWatermarks(task, inBand, valve, splitIdle, emitted);

            // In-band splits are idle when their upstream says so: the upstream source's idle timeout decided it.
            if (idleMs != long.MaxValue && splitCount > 0 && inBand is null)
            {
                for (int s = 0; s < splitIdle.Length; s++)
                {
                    if (!splitIdle[s] && now - lastData[s] >= idleMs)
                    {
                        splitIdle[s] = true;
                        if (valve.OnStatus(s, true, out long w) && w > emitted)
                        {
                            emitted = w;
                            task.AdvanceWatermark(w);
                        }
                    }
                }
                if (valve.AllIdle) task.UpdateIdle(true);
            }

            if (!watermarkPerBatch && now >= nextPeriodic)
            {
                emitted = EmitWatermark(task, generators, valve, emitted);
                nextPeriodic = now + intervalMs;
            }
            task.FireTimers();

            if (status == SourceStatus.EndOfInput) break;
            if (status == SourceStatus.NothingAvailable)
            {
                head.Flush();
                long waitStart = Stopwatch.GetTimestamp();
                int waitMs = (int)Math.Min(Math.Min(task.WaitMs(), Math.Max(0, nextPeriodic - now)), 10);
                if (waitMs > 0) cancel.WaitHandle.WaitOne(waitMs);
                metrics.IdleTicks += Stopwatch.GetTimestamp() - waitStart;
            }
        }
        BatchPool<T>.Return(output.Batch);
        hold?.Ended(stateId, subtask);
        task.UpdateIdle(false);
        task.AdvanceWatermark(EventTime.MaxWatermark);
        head.OnEndOfInput();
        task.ReportFinished(cancel);
    }

    /// <summary>
    /// Timestamps, watermark bookkeeping and hand-over of one batch read. A method of its own (not part of the loop
    /// in <see cref="Run"/>) so that it and the chain inlined into it get fully optimized tier-1 code: the loop runs
    /// once per job and would only ever get on-stack-replacement code.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private long EmitBatch(StreamTask task, SubtaskMetrics metrics, SourceOutput<T> output, Func<T, long>? assign,
        WatermarkGenerator[] generators, WatermarkValve valve, long[] lastData, bool[] splitIdle, long now, long emitted)
    {
        var batch = output.Batch;
            var ts = batch.Timestamps;
            int count = batch.Count;
            var splits = output.Splits;
            if (generators.Length == 1)
            {
                // One split: a generator only keeps the maximum, so feed it the batch's maximum once.
                long max = assign is not null ? AssignAndMax(assign, batch.Values, ts, count) : Max(ts, count);
                generators[0].OnTimestamp(max);
                lastData[0] = now;
            }
            else
            {
                if (assign is not null) AssignAndMax(assign, batch.Values, ts, count);
                for (int i = 0; i < batch.Count; i++)
                {
                    generators[splits[i]].OnTimestamp(ts[i]);
                    lastData[splits[i]] = now;
                }
            }
            for (int s = 0; s < splitIdle.Length; s++)
            {
                if (splitIdle[s] && lastData[s] == now)
                {
                    splitIdle[s] = false;
                    valve.OnStatus(s, false, out _);
                }
            }
            metrics.RecordsIn += batch.Count;
            metrics.BytesIn += output.Bytes;
            metrics.LastRecordTimestamp = Stopwatch.GetTimestamp();
            output.Bytes = 0;
            task.UpdateIdle(false);
            if (output.HasPositions)
            {
                // A repartition writer chained right after the source reads them during this call.
                SourcePositions.Publish(batch, output.PositionArray);
                try
                {
                    head.OnBatch(batch);
                }
                finally
                {
                    SourcePositions.Clear();
                    output.ResetPositions();
                }
            }
            else head.OnBatch(batch);
            output.Batch = BatchPool<T>.Rent();
            if (watermarkPerBatch) emitted = EmitWatermark(task, generators, valve, emitted);
        return emitted;
    }

    // Not inlined: the loops get their own tier-1 code with profile-guided delegate inlining, whereas the driver's
    // loop runs once per job and only ever gets on-stack-replacement code.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long AssignAndMax(Func<T, long> assign, T[] values, long[] ts, int count)
    {
        long max = long.MinValue;
        for (int i = 0; i < count; i++)
        {
            long t = assign(values[i]);
            ts[i] = t;
            if (t > max) max = t;
        }
        return max;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long Max(long[] ts, int count)
    {
        var span = ts.AsSpan(0, count);
        long max = long.MinValue;
        int i = 0;
        if (Vector.IsHardwareAccelerated && span.Length >= Vector<long>.Count * 2)
        {
            var vmax = new Vector<long>(long.MinValue);
            var lanes = MemoryMarshal.Cast<long, Vector<long>>(span);
            foreach (var v in lanes) vmax = Vector.Max(vmax, v);
            for (int l = 0; l < Vector<long>.Count; l++) max = Math.Max(max, vmax[l]);
            i = lanes.Length * Vector<long>.Count;
        }
        for (; i < span.Length; i++) max = Math.Max(max, span[i]);
        return max;
    }

    /// <summary>
    /// The splits of a reader that carries watermarks and watermark status in-band: each split's watermark and status
    /// are the ones its control records gave. What one read brought is applied as if it arrived in this order:
    /// every ACTIVE and watermark together (a split that resumed rejoins the minimum when its watermark has reached
    /// the output as it was, whatever the other splits brought in the same read: applying one split after another
    /// could let the others raise the output past a resumed split whose watermark came first in the topic), then
    /// the splits that turned idle, whose last watermarks came before their IDLE. Once every split is idle the
    /// output is idle, after the valve's flush.
    /// </summary>
    private static long InBandWatermarks(StreamTask task, IInBandWatermarks inBand, WatermarkValve valve, bool[] splitIdle, long emitted)
    {
        if (!inBand.TakeChanges()) return emitted;
        for (int s = 0; s < splitIdle.Length; s++)
        {
            bool idle = inBand.SplitIdle(s);
            // An idle split's watermark does not count (as Flink's valve ignores an idle input's watermark).
            if (idle && splitIdle[s]) continue;
            valve.RaiseWatermark(s, inBand.SplitWatermark(s));
            splitIdle[s] = false;
        }
        valve.Update(out _);
        for (int s = 0; s < splitIdle.Length; s++)
        {
            if (splitIdle[s] || !inBand.SplitIdle(s)) continue;
            splitIdle[s] = true;
            valve.OnStatus(s, true, out _);
        }
        long wm = valve.Output;
        if (wm > emitted)
        {
            task.AdvanceWatermark(wm);
            emitted = wm;
        }
        task.UpdateIdle(valve.AllIdle);
        return emitted;
    }

    private static long EmitWatermark(StreamTask task, WatermarkGenerator[] generators, WatermarkValve valve, long emitted)
    {
        for (int s = 0; s < generators.Length; s++)
        {
            if (valve.IsIdle(s)) continue;
            valve.OnWatermark(s, generators[s].Current, out _);
        }
        long wm = valve.Output;
        if (wm > emitted)
        {
            task.AdvanceWatermark(wm);
            return wm;
        }
        return emitted;
    }
}
