using Eddy.Runtime;

namespace Eddy.Server;

/// <summary>One vertex at one point of the history: summed rates, the busiest subtask's busy and backpressured time, watermark lag.</summary>
/// <param name="WatermarkLagMs">Processing time minus the vertex's lowest input watermark; null before a watermark is set.</param>
public readonly record struct VertexPoint(
    double RecordsInPerSecond, double RecordsOutPerSecond, double BusyTimeMsPerSecond, double BackPressuredTimeMsPerSecond, long? WatermarkLagMs);

/// <summary>All vertices of a job at one sampling time (epoch ms).</summary>
public sealed record HistoryPoint(long Time, VertexPoint[] Vertices);

/// <summary>
/// A ring of a job's metrics over the last minutes, one point a second, kept by the server so that a dashboard
/// opened now charts the minutes before it was opened (Flink's web UI keeps its chart history in the browser only).
/// Recorded from the job's periodic sampling, never from a task thread.
/// </summary>
public sealed class MetricsHistory
{
    /// <summary>Ten minutes at one point a second.</summary>
    public const int Capacity = 600;

    public const long IntervalMs = 1000;

    private readonly HistoryPoint?[] ring = new HistoryPoint?[Capacity];
    private int next;
    private int count;
    private long lastTime = long.MinValue;

    /// <summary>Adds a point from a reading unless the last one is less than about a second old (sampling runs every 500 ms).</summary>
    public void Record(JobReading reading, long nowMs)
    {
        // 5% slack: sampling timers drift, and a point every other sampling is what is meant.
        if (count > 0 && nowMs - lastTime < IntervalMs * 95 / 100) return;
        var vertices = new VertexPoint[reading.Vertices.Count];
        for (int i = 0; i < vertices.Length; i++)
        {
            var s = reading.Vertices[i].Subtasks;
            if (s.Count == 0) continue;
            double inRate = 0, outRate = 0, busy = 0, backpressured = 0;
            long watermark = long.MaxValue;
            foreach (var x in s)
            {
                inRate += x.Rates.RecordsInPerSecond;
                outRate += x.Rates.RecordsOutPerSecond;
                busy = Math.Max(busy, x.Rates.BusyTimeMsPerSecond);
                backpressured = Math.Max(backpressured, x.Rates.BackPressuredTimeMsPerSecond);
                watermark = Math.Min(watermark, x.Sample.InputWatermark);
            }
            vertices[i] = new VertexPoint(Math.Round(inRate, 1), Math.Round(outRate, 1), Math.Round(busy), Math.Round(backpressured),
                watermark <= EventTime.MinWatermark || watermark == long.MaxValue ? null : Math.Max(0, nowMs - watermark));
        }
        lock (ring)
        {
            ring[next] = new HistoryPoint(nowMs, vertices);
            next = (next + 1) % Capacity;
            count = Math.Min(count + 1, Capacity);
            lastTime = nowMs;
        }
    }

    /// <summary>The points newer than <paramref name="sinceMs"/> and not older than <paramref name="windowMs"/> before the newest, oldest first.</summary>
    public IReadOnlyList<HistoryPoint> Since(long sinceMs, long windowMs)
    {
        lock (ring)
        {
            var points = new List<HistoryPoint>(count);
            for (int i = 0; i < count; i++)
            {
                var p = ring[(next - count + i + Capacity) % Capacity]!;
                if (p.Time > sinceMs && p.Time >= lastTime - windowMs) points.Add(p);
            }
            return points;
        }
    }
}

/// <summary>
/// What identifies one operator's state in a checkpoint (<see cref="JobPlan.StateIdOf"/>: its uid, else
/// "node id:kind:name"), so that the checkpoint's per-operator sizes add up per vertex.
/// </summary>
public sealed record OperatorStateKey(string? Uid, int NodeId, string Name)
{
    public bool Matches(string stateId) => Uid is { Length: > 0 } uid
        ? stateId == uid
        : stateId.StartsWith($"{NodeId}:", StringComparison.Ordinal) && stateId.EndsWith($":{Name}", StringComparison.Ordinal);

    /// <summary>An edge's ship strategy as Flink names it; an unset partitioning is forward between equal parallelisms, else rebalance (as the plan resolves it).</summary>
    public static string Exchange(StreamEdge edge, int fromParallelism, int toParallelism) =>
        (edge.Partitioning ?? (fromParallelism == toParallelism ? Partitioning.Forward : Partitioning.Rebalance)) switch
        {
            Partitioning.Forward => "FORWARD",
            Partitioning.Hash => "HASH",
            Partitioning.Broadcast => "BROADCAST",
            _ => "REBALANCE",
        };
}
