using System.Diagnostics;

namespace Eddy.Runtime;

/// <summary>
/// Named moments where the recovery tests kill the engine process on purpose (<c>EDDY_KILL_AT=point:n[,point:n]</c>:
/// SIGKILL at the n-th time <c>point</c> is reached), so that "killed during a checkpoint" or "killed during a sink
/// commit" is a reproducible schedule instead of a lucky timing. Without the variable a point costs one branch.
/// </summary>
public static class FaultInjection
{
    /// <summary>Every task acknowledged checkpoint n; the completion is not yet recorded or announced.</summary>
    public const string CheckpointAcknowledged = "checkpoint-acknowledged";

    /// <summary>A checkpoint is stored; sinks have not yet been told to commit.</summary>
    public const string CheckpointStored = "checkpoint-stored";

    /// <summary>A sink wrote an epoch's rows inside its commit transaction, before the commit.</summary>
    public const string SinkCommit = "sink-commit";

    /// <summary>A task's sinks reached the end of their input and staged the rest; no checkpoint holding it has completed.</summary>
    public const string SinkEndOfInput = "sink-end-of-input";

    private static readonly Dictionary<string, int>? Schedule = Parse(Environment.GetEnvironmentVariable("EDDY_KILL_AT"));
    private static readonly Dictionary<string, int> Hits = [];

    public static bool Enabled => Schedule is not null;

    public static void Reached(string point)
    {
        if (Schedule is null || !Schedule.TryGetValue(point, out int at)) return;
        int hit;
        lock (Hits)
        {
            Hits.TryGetValue(point, out hit);
            Hits[point] = ++hit;
        }
        if (hit != at) return;
        Console.Error.WriteLine($"fault injection: killing the process at {point} #{hit}");
        Console.Error.Flush();
        Process.GetCurrentProcess().Kill();
        Thread.Sleep(Timeout.Infinite);
    }

    private static Dictionary<string, int>? Parse(string? spec)
    {
        if (string.IsNullOrWhiteSpace(spec)) return null;
        var schedule = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var part in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int colon = part.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(part.AsSpan(colon + 1), out int n) || n < 1)
                throw new FormatException($"EDDY_KILL_AT: '{part}' is not point:n (n ≥ 1)");
            schedule[part[..colon]] = n;
        }
        return schedule;
    }
}
