using System.Globalization;
using Eddy.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Eddy.Server;

/// <summary>An input of a vertex and how records are exchanged over it (Flink's ship strategy).</summary>
public sealed record InputEdgeView(string Id, string ShipStrategy);

/// <summary>min/avg/max of one checkpoint statistic over the completed checkpoints.</summary>
public sealed record MinMaxAvgView(long Min, long Max, long Avg);

/// <summary>Flink's checkpoint summary over the completed checkpoints (and savepoints); null statistics when there is none.</summary>
public sealed record CheckpointSummaryView(int Count, MinMaxAvgView? EndToEndDuration, MinMaxAvgView? StateSize, MinMaxAvgView? AlignmentDuration);

/// <summary>
/// One vertex's history, one value per entry of <see cref="MetricsHistoryView.Times"/>: summed records in/out per
/// second, the busiest subtask's busy and backpressured ms per second, watermark lag in ms (null: no watermark yet).
/// </summary>
public sealed record VertexHistoryView(
    string Id, string Name, IReadOnlyList<double> RecordsInPerSecond, IReadOnlyList<double> RecordsOutPerSecond,
    IReadOnlyList<double> BusyTimeMsPerSecond, IReadOnlyList<double> BackPressuredTimeMsPerSecond, IReadOnlyList<long?> WatermarkLagMs);

/// <summary>A checkpoint on the duration chart: when it was triggered and how long it took.</summary>
public sealed record CheckpointPointView(long Id, string Status, bool IsSavepoint, long TriggerTimestamp, long EndToEndDuration);

/// <summary>The last minutes of a job's metrics, kept by the server (one point a second, ten minutes at most).</summary>
public sealed record MetricsHistoryView(
    string Jid, long Now, long IntervalMs, long WindowMs, IReadOnlyList<long> Times, IReadOnlyList<VertexHistoryView> Vertices,
    IReadOnlyList<CheckpointPointView> Checkpoints);

/// <summary>The server's last log lines, oldest first, secrets masked.</summary>
public sealed record ServerLogView(IReadOnlyList<string> Lines, long TotalLines, int Capacity);

/// <summary>The routes the dashboard's tabs use besides Flink's: metric history for the charts, and the server's log tail.</summary>
internal static class DashboardApi
{
    public static void Map(WebApplication app, JobManager manager, ServerLog log)
    {
        app.MapGet("/server/log", (string? lines) =>
        {
            int count = 200;
            if (lines is not null && (!int.TryParse(lines, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count < 1))
                return Error(StatusCodes.Status400BadRequest, $"lines={lines}: give a number of lines from 1 to {log.Capacity}");
            var (tail, total) = log.Tail(Math.Min(count, log.Capacity));
            return Results.Json(new ServerLogView(tail, total, log.Capacity));
        });
        app.MapGet("/jobs/{id}/metrics/history", (string id, string? since, string? window) =>
        {
            var job = manager.Find(id);
            if (job is null) return Error(StatusCodes.Status404NotFound, $"no job with id or name '{id}'");
            long sinceMs = 0, windowMs = MetricsHistory.Capacity * MetricsHistory.IntervalMs;
            if (since is not null && !long.TryParse(since, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out sinceMs))
                return Error(StatusCodes.Status400BadRequest, $"since={since}: give epoch milliseconds");
            if (window is not null && (!long.TryParse(window, NumberStyles.None, CultureInfo.InvariantCulture, out windowMs) || windowMs < 1))
                return Error(StatusCodes.Status400BadRequest, $"window={window}: give milliseconds (at most {MetricsHistory.Capacity * MetricsHistory.IntervalMs})");
            return Results.Json(DashboardViews.History(job, sinceMs, Math.Min(windowMs, MetricsHistory.Capacity * MetricsHistory.IntervalMs)));
        });
    }

    private static IResult Error(int status, string message) => Results.Json(new ErrorView([message]), statusCode: status);
}

/// <summary>Views the dashboard needs beyond Flink's: exchanges per edge, state size per vertex, checkpoint summary, restorable checkpoints, history.</summary>
public static class DashboardViews
{
    public static IReadOnlyList<InputEdgeView> InputEdges(VertexInfo v) =>
        v.Inputs.Select((input, i) => new InputEdgeView(input.ToString(CultureInfo.InvariantCulture),
            v.InputExchanges is { } exchanges && i < exchanges.Count ? exchanges[i] : "REBALANCE")).ToList();

    /// <summary>The vertex's operators' state in the latest completed checkpoint (not savepoint), in bytes.</summary>
    public static long? StateSize(ManagedJob job, VertexInfo v)
    {
        var history = job.Execution?.Checkpoints;
        if (history is null || v.StateKeys is null) return null;
        for (int i = history.Count - 1; i >= 0; i--)
        {
            var c = history[i];
            if (c.Status != CheckpointStatus.Completed || c.IsSavepoint) continue;
            return c.StateSizeByOperator.Where(o => v.StateKeys.Any(k => k.Matches(o.Key))).Sum(o => o.Value);
        }
        return null;
    }

    /// <summary>
    /// Marks the checkpoints one can still restore: a completed savepoint whose folder exists, and a completed
    /// checkpoint among the latest <c>state.checkpoints.num-retained</c> whose folder exists (retention deletes
    /// the older ones). <paramref name="newestFirst"/> is the history, newest first.
    /// </summary>
    public static List<CheckpointEntryView> MarkRestorable(ManagedJob job, List<CheckpointEntryView> newestFirst)
    {
        int retained = Math.Max(1, job.Config.CheckpointsRetained), seen = 0;
        for (int i = 0; i < newestFirst.Count; i++)
        {
            var c = newestFirst[i];
            if (c.Status != "COMPLETED" || c.ExternalPath is null) continue;
            if (!c.IsSavepoint && ++seen > retained) continue;
            if (Directory.Exists(c.ExternalPath) || File.Exists(c.ExternalPath)) newestFirst[i] = c with { Restorable = true };
        }
        return newestFirst;
    }

    public static CheckpointSummaryView CheckpointSummary(IReadOnlyList<CheckpointStats> history)
    {
        var completed = history.Where(c => c.Status == CheckpointStatus.Completed).ToList();
        MinMaxAvgView? Stat(Func<CheckpointStats, long> value) => completed.Count == 0 ? null
            : new MinMaxAvgView(completed.Min(value), completed.Max(value), (long)Math.Round(completed.Average(c => (double)value(c))));
        return new CheckpointSummaryView(completed.Count,
            Stat(c => (long)c.Duration.TotalMilliseconds), Stat(c => c.StateSize), Stat(c => (long)c.AlignmentTime.TotalMilliseconds));
    }

    public static MetricsHistoryView History(ManagedJob job, long sinceMs, long windowMs)
    {
        var points = job.History.Since(sinceMs, windowMs);
        var vertices = job.Vertices.Select((v, i) => new VertexHistoryView(
            v.Id.ToString(CultureInfo.InvariantCulture), v.Name,
            points.Select(p => i < p.Vertices.Length ? p.Vertices[i].RecordsInPerSecond : 0).ToList(),
            points.Select(p => i < p.Vertices.Length ? p.Vertices[i].RecordsOutPerSecond : 0).ToList(),
            points.Select(p => i < p.Vertices.Length ? p.Vertices[i].BusyTimeMsPerSecond : 0).ToList(),
            points.Select(p => i < p.Vertices.Length ? p.Vertices[i].BackPressuredTimeMsPerSecond : 0).ToList(),
            points.Select(p => i < p.Vertices.Length ? p.Vertices[i].WatermarkLagMs : null).ToList())).ToList();
        long now = job.Config.Clock.GetUtcNow().ToUnixTimeMilliseconds();
        var checkpoints = (job.Execution?.Checkpoints ?? [])
            .Where(c => c.Status != CheckpointStatus.InProgress && c.TriggerTime.ToUnixTimeMilliseconds() >= now - windowMs)
            .Select(c => new CheckpointPointView(c.Id, c.Status == CheckpointStatus.Completed ? "COMPLETED" : "FAILED", c.IsSavepoint,
                c.TriggerTime.ToUnixTimeMilliseconds(), (long)c.Duration.TotalMilliseconds))
            .ToList();
        return new MetricsHistoryView(job.Id, now, MetricsHistory.IntervalMs, windowMs, points.Select(p => p.Time).ToList(), vertices, checkpoints);
    }
}
