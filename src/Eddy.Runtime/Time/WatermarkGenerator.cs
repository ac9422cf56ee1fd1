using System.Runtime.CompilerServices;

namespace Eddy.Runtime;

/// <summary>Follows the timestamps of one input (a split, a partition) and derives its watermark.</summary>
public sealed class WatermarkGenerator(WatermarkKind kind, long outOfOrdernessMs)
{
    private long maxTimestamp = long.MinValue;

    public long MaxTimestamp => maxTimestamp;

    /// <summary>On restore from a checkpoint: the largest timestamp seen before it.</summary>
    public void Restore(long maxTimestampSeen) => maxTimestamp = maxTimestampSeen;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void OnTimestamp(long timestamp)
    {
        if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    }

    /// <summary>The watermark to emit now: max timestamp − bound − 1, or −∞ before any data.</summary>
    public long Current => kind == WatermarkKind.None || maxTimestamp == long.MinValue
        ? EventTime.MinWatermark
        : maxTimestamp - outOfOrdernessMs - 1;
}

/// <summary>
/// Combines the watermarks and idle states of several inputs (channels, splits) into one: the minimum over active
/// inputs; an input that turns active again with a watermark behind the output is left out until it catches up; when
/// every input is idle, the output is idle.
/// </summary>
/// <remarks>
/// With <c>flushWhenAllIdle</c> it is Flink's StatusWatermarkValve (the inputs of a task: channels, or the upstream
/// source partitions of a repartition reader): when the last active input turns idle holding the output watermark, no
/// input will advance it any more, so the output becomes the largest watermark of any input. Without it, it is Flink's
/// CombinedWatermarkStatus (the splits of one source reader), which keeps the output where it is.
/// </remarks>
public sealed class WatermarkValve
{
    private readonly long[] watermarks;
    private readonly bool[] idle;
    private readonly bool[] ended;
    private readonly bool flushWhenAllIdle;

    public WatermarkValve(int inputs, bool flushWhenAllIdle = false)
    {
        this.flushWhenAllIdle = flushWhenAllIdle;
        watermarks = new long[inputs];
        Array.Fill(watermarks, EventTime.MinWatermark);
        idle = new bool[inputs];
        ended = new bool[inputs];
    }

    public long Output { get; private set; } = EventTime.MinWatermark;

    public bool AllIdle { get; private set; }

    public int Inputs => watermarks.Length;

    public long WatermarkOf(int input) => watermarks[input];

    public bool IsIdle(int input) => idle[input];

    /// <summary>Records a watermark of one input; returns the new output watermark if it advanced.</summary>
    public bool OnWatermark(int input, long watermark, out long output)
    {
        if (watermark > watermarks[input]) watermarks[input] = watermark;
        if (idle[input]) idle[input] = false;
        return Recompute(out output);
    }

    /// <summary>
    /// Records the watermark of an active input without recomputing the output, for inputs whose watermarks arrived
    /// together (then <see cref="Update"/>): each rejoins the minimum when it has reached the output as it was before
    /// them, so no input's watermark is judged against an output the others raised in the same breath.
    /// </summary>
    public void RaiseWatermark(int input, long watermark)
    {
        if (watermark > watermarks[input]) watermarks[input] = watermark;
        idle[input] = false;
    }

    /// <summary>Recomputes the output after <see cref="RaiseWatermark"/>; returns whether it advanced.</summary>
    public bool Update(out long output) => Recompute(out output);

    /// <summary>Marks an input idle or active; returns whether the output watermark advanced.</summary>
    public bool OnStatus(int input, bool isIdle, out long output)
    {
        bool turnedIdle = isIdle && !idle[input] && !ended[input];
        idle[input] = isIdle;
        bool advanced = Recompute(out output);
        if (flushWhenAllIdle && turnedIdle && AllIdle && watermarks[input] == Output)
        {
            long max = long.MinValue;
            foreach (long w in watermarks) max = Math.Max(max, w);
            if (max > Output)
            {
                Output = max;
                output = max;
                return true;
            }
        }
        return advanced;
    }

    /// <summary>An ended input no longer counts; its final watermark is +∞.</summary>
    public bool OnEnd(int input, out long output)
    {
        ended[input] = true;
        watermarks[input] = EventTime.MaxWatermark;
        idle[input] = false;
        return Recompute(out output);
    }

    private bool Recompute(out long output)
    {
        long min = long.MaxValue;
        bool anyActive = false;
        for (int i = 0; i < watermarks.Length; i++)
        {
            if (idle[i]) continue;
            // An input that came back behind the output is not aligned yet: it cannot pull the output back.
            if (watermarks[i] < Output && !ended[i] && Output != EventTime.MinWatermark) continue;
            anyActive = true;
            if (watermarks[i] < min) min = watermarks[i];
        }
        bool allIdle = false;
        for (int i = 0; i < idle.Length; i++)
        {
            if (ended[i]) continue;
            if (!idle[i])
            {
                allIdle = false;
                break;
            }
            allIdle = true;
        }
        AllIdle = allIdle;
        if (anyActive && min > Output)
        {
            Output = min;
            output = min;
            return true;
        }
        output = Output;
        return false;
    }
}
