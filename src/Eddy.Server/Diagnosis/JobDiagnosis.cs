using System.Globalization;
using Eddy.Runtime;

namespace Eddy.Server.Diagnosis;

/// <summary>One subtask as the diagnosis sees it: counters, its watermark, and how long it has had no data.</summary>
/// <param name="Watermark">The subtask's input watermark (a source's: the one it generates).</param>
/// <param name="SinceLastRecord">Time since the subtask last received a record; null when it never did.</param>
/// <param name="LastLateLagMs">How far behind the watermark the latest late record was; negative when none.</param>
/// <param name="PendingWindowEnd">End of the earliest window holding data that has not fired; MaxValue when none.</param>
/// <param name="RecordsDropped">Records a source subtask could not decode and left out (skipped or dead-lettered).</param>
public sealed record SubtaskInput(
    int Subtask,
    long RecordsIn,
    long RecordsOut,
    long Watermark,
    bool Idle,
    TimeSpan? SinceLastRecord,
    long LateDropped = 0,
    long LateToSideOutput = 0,
    long LastLateLagMs = -1,
    long PendingWindowEnd = long.MaxValue,
    IReadOnlyList<SplitInput>? Splits = null,
    long RecordsDropped = 0);

/// <summary>One split (Kafka partition) of a source subtask: its own watermark and how long it has had no data.</summary>
public sealed record SplitInput(string Name, long Watermark, bool Idle, TimeSpan? SinceLastData);

public sealed record VertexInput(string Name, bool IsSource, bool HasEventTimeWindows, IReadOnlyList<SubtaskInput> Subtasks);

/// <param name="Running">Whether the job runs now (a finished job has nothing left to wait for).</param>
/// <param name="Uptime">How long the job has been running.</param>
/// <param name="SourceIdleTimeout">The job's <c>table.exec.source.idle-timeout</c>, null when unset.</param>
public sealed record DiagnosisInput(bool Running, TimeSpan Uptime, TimeSpan? SourceIdleTimeout, IReadOnlyList<VertexInput> Vertices);

/// <summary>One statement of the diagnosis. Kind is stable for scripts; Message is for people.</summary>
public sealed record Finding(string Kind, string Severity, string Message);

/// <summary>
/// Why a windowed job has produced nothing (or is losing data), computed only from live metrics: the time the next
/// window closes against the current watermark, the source subtask that holds the watermark back and for how long it
/// has had no data, whether any event arrived at all, and late events dropped. The server's API, its dashboard and
/// <c>eddy status</c> all show these findings.
/// </summary>
public static class JobDiagnosis
{
    /// <summary>A source subtask without data for this long, while it holds the watermark, is called stalled.</summary>
    public static readonly TimeSpan StallThreshold = TimeSpan.FromSeconds(5);

    public static IReadOnlyList<Finding> Diagnose(DiagnosisInput job)
    {
        var findings = new List<Finding>();
        var windows = job.Vertices.Where(v => v.HasEventTimeWindows).ToList();
        var sources = job.Vertices.Where(v => v.IsSource).ToList();
        var sourceSubtasks = sources.SelectMany(v => v.Subtasks.Select(s => (Vertex: v, Subtask: s))).ToList();
        long sourceRecords = sourceSubtasks.Sum(s => s.Subtask.RecordsIn);

        long undecodable = sourceSubtasks.Sum(s => s.Subtask.RecordsDropped);
        if (job.Running && sourceSubtasks.Count > 0 && sourceRecords == 0 && undecodable > 0)
        {
            findings.Add(new("no-decodable-events", "warning",
                $"no event could be used yet: the sources read {Count(undecodable)} {Plural(undecodable, "record", "records")} in {Duration(job.Uptime)} "
                + "and could decode none of them" + (windows.Count > 0 ? ", so no window can close" : "")));
        }
        else if (job.Running && sourceSubtasks.Count > 0 && sourceRecords == 0)
        {
            findings.Add(new("no-events", "warning",
                $"no events arrived yet: {WhereNothingCame(sourceSubtasks.Select(s => s.Subtask).ToList(), job.Uptime)}"
                + (windows.Count > 0 ? ", so no window can close" : "")));
        }

        if (windows.Count > 0 && job.Running && sourceRecords > 0)
        {
            long produced = windows.Sum(v => v.Subtasks.Sum(s => s.RecordsOut));
            if (produced == 0) findings.AddRange(WhyNoWindowFired(job, windows, sourceSubtasks));
        }

        foreach (var source in sources)
        {
            long left = source.Subtasks.Sum(s => s.RecordsDropped);
            if (left == 0) continue;
            long used = source.Subtasks.Sum(s => s.RecordsIn);
            findings.Add(new("records-dropped", "warning",
                $"{Shorten(source.Name)} left out {Count(left)} {Plural(left, "record", "records")} it could not decode "
                + $"({Percent(left, left + used)} of what it read), skipped by '*.ignore-parse-errors' or sent to the dead-letter topic: "
                + "they are missing from the output"));
        }

        long dropped = windows.Sum(v => v.Subtasks.Sum(s => s.LateDropped));
        if (dropped > 0)
        {
            long lag = windows.SelectMany(v => v.Subtasks).Where(s => s.LateDropped > 0).Max(s => s.LastLateLagMs);
            findings.Add(new("late-dropped", "warning",
                $"{Count(dropped)} late {Plural(dropped, "event was", "events were")} dropped"
                + (lag >= 0 ? $" (the latest was {Duration(TimeSpan.FromMilliseconds(lag))} behind the watermark)" : "")
                + "; consider allowed lateness or a late-data sink"));
        }
        long side = windows.Sum(v => v.Subtasks.Sum(s => s.LateToSideOutput));
        if (side > 0)
        {
            findings.Add(new("late-side-output", "info",
                $"{Count(side)} late {Plural(side, "event went", "events went")} to the late-data output"));
        }
        return findings;
    }

    /// <summary>
    /// Which inputs gave nothing: by topic where the sources report partitions (a split named <c>topic-N</c>), else the
    /// sources as a whole; sources that own no partition at all say so.
    /// </summary>
    private static string WhereNothingCame(List<SubtaskInput> sources, TimeSpan uptime)
    {
        string generic = $"the sources have read nothing in {Duration(uptime)}";
        if (sources.Any(s => s.Splits is null)) return generic;
        var splits = sources.SelectMany(s => s.Splits!).ToList();
        if (splits.Count == 0)
            return "the sources have no partitions to read (no topic matched, or the topics have no partitions), so nothing can arrive";
        var byTopic = splits.GroupBy(s => TopicOf(s.Name), StringComparer.Ordinal)
            .Select(g => (Topic: g.Key, Partitions: g.Count(), Empty: g.All(x => x.SinceLastData is null)))
            .Where(t => t.Empty).ToList();
        if (byTopic.Count == 0) return generic;
        return string.Join("; ", byTopic.Select(t => $"topic '{t.Topic}' ({t.Partitions} {Plural(t.Partitions, "partition", "partitions")}) has no data"))
            + $" in {Duration(uptime)} since the job started";
    }

    /// <summary>A Kafka split's topic: its name without the trailing <c>-partition</c>.</summary>
    private static string TopicOf(string split)
    {
        int dash = split.LastIndexOf('-');
        return dash > 0 && dash < split.Length - 1 && split.AsSpan(dash + 1).IndexOfAnyExceptInRange('0', '9') < 0 ? split[..dash] : split;
    }

    private static IEnumerable<Finding> WhyNoWindowFired(
        DiagnosisInput job, List<VertexInput> windows, List<(VertexInput Vertex, SubtaskInput Subtask)> sources)
    {
        var windowSubtasks = windows.SelectMany(v => v.Subtasks).ToList();
        long nextEnd = windowSubtasks.Min(s => s.PendingWindowEnd);
        long watermark = windowSubtasks.Min(s => s.Watermark);
        if (windowSubtasks.Sum(s => s.RecordsIn) == 0)
        {
            yield return new("window-no-input", "warning",
                "the sources read events but none reached the window operator (a filter or join upstream removed them all)");
            yield break;
        }
        if (nextEnd == long.MaxValue)
        {
            yield return new("window-no-data", "info", "no window holds data yet");
            yield break;
        }

        string closes = $"windows close when the watermark passes {Time(nextEnd - 1)}; the watermark is "
            + (watermark <= EventTime.MinWatermark ? "not set yet" : Time(watermark));

        // The source subtask that holds the watermark back: the active one with the lowest watermark.
        var active = sources.Where(s => !s.Subtask.Idle).ToList();
        if (active.Count == 0)
        {
            yield return new("window-waiting", "info", closes + ", and every source is idle: the next events move it");
            yield break;
        }
        var holder = active.MinBy(s => (s.Subtask.Watermark, -(s.Subtask.SinceLastRecord ?? TimeSpan.MaxValue).Ticks));
        var quiet = holder.Subtask.SinceLastRecord;
        string who = $"source subtask {holder.Subtask.Subtask + 1}" + (holder.Vertex.Subtasks.Count > 1 ? $" of {holder.Vertex.Subtasks.Count}" : "")
            + $" ({Shorten(holder.Vertex.Name)})";
        // Within the subtask, the active split with the lowest watermark holds it (the subtask's is their minimum).
        if (holder.Subtask.Splits is { Count: > 0 } splits && splits.Where(x => !x.Idle).ToList() is { Count: > 0 } activeSplits)
        {
            var split = activeSplits.MinBy(x => (x.Watermark, -(x.SinceLastData ?? TimeSpan.MaxValue).Ticks))!;
            who = $"partition {split.Name} of {who}";
            if (splits.Count > 1) quiet = split.SinceLastData;
        }
        if (quiet is null || quiet >= StallThreshold)
        {
            string silence = quiet is null ? $"has had no data since the job started {Duration(job.Uptime)} ago" : $"has had no data for {Duration(quiet.Value)}";
            string fix = job.SourceIdleTimeout is { } t
                ? $"'table.exec.source.idle-timeout' is {Duration(t)}: it marks the subtask idle once that passes"
                : "set 'table.exec.source.idle-timeout' (e.g. '30 s') so that an idle source no longer holds the watermark";
            yield return new("watermark-held", "warning", $"{closes} because {who} {silence} — {fix}");
        }
        else
        {
            yield return new("window-waiting", "info",
                $"{closes}; it follows the event times the sources read (the slowest is {who}), so the window closes once events past that time arrive");
        }
    }

    /// <summary>The findings as lines for a terminal.</summary>
    public static IEnumerable<string> Lines(IEnumerable<Finding> findings) =>
        findings.Select(f => $"{f.Severity}: {f.Message}");

    internal static string Time(long epochMillis) =>
        DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(epochMillis, -62135596800000L, 253402300799999L))
            .ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    internal static string Duration(TimeSpan d)
    {
        if (d < TimeSpan.FromSeconds(1)) return $"{Math.Max(0, (long)d.TotalMilliseconds)} ms";
        if (d < TimeSpan.FromMinutes(1)) return $"{(long)d.TotalSeconds} s";
        if (d < TimeSpan.FromHours(1)) return $"{(long)d.TotalMinutes} min" + (d.Seconds > 0 && d < TimeSpan.FromMinutes(10) ? $" {d.Seconds} s" : "");
        if (d < TimeSpan.FromDays(1)) return $"{(long)d.TotalHours} h" + (d.Minutes > 0 ? $" {d.Minutes} min" : "");
        return $"{(long)d.TotalDays} d" + (d.Hours > 0 ? $" {d.Hours} h" : "");
    }

    private static string Percent(long part, long whole) =>
        (100.0 * part / Math.Max(1, whole)).ToString(part * 1000 < whole ? "0.0##" : "0.#", CultureInfo.InvariantCulture) + " %";

    private static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static string Plural(long n, string one, string many) => n == 1 ? one : many;

    private static string Shorten(string chain)
    {
        int arrow = chain.IndexOf(" -> ", StringComparison.Ordinal);
        return arrow < 0 ? chain : chain[..arrow];
    }
}
