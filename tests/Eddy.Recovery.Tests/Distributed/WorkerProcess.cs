using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Eddy.Connectors.Kafka.Tests;

namespace Eddy.Recovery.Tests.Distributed;

/// <summary>
/// One <c>eddy worker</c> process, as a user starts it on a machine: its stderr lines are kept with the moment each
/// arrived (for failover times and for failure messages); it is stopped with SIGTERM or killed with SIGKILL.
/// </summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process process;
    private readonly List<(TimeSpan At, string Line)> lines = [];
    private readonly Stopwatch clock;
    private readonly Task readers;

    public WorkerProcess(string name, string sqlFile, string home, Stopwatch clock, params string[] options)
        : this(name, home, clock, ["worker", sqlFile, "--port", "0", .. options])
    {
    }

    /// <summary>Any eddy command run as a long-lived process (<c>eddy server</c> hosting a worker), with the same log keeping.</summary>
    public WorkerProcess(string name, string home, Stopwatch clock, IEnumerable<string> arguments)
    {
        Name = name;
        this.clock = clock;
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(EddyProcess.DllPath);
        foreach (var a in arguments) info.ArgumentList.Add(a);
        info.Environment["EDDY_HOME"] = home;
        process = Process.Start(info)!;
        Id = process.Id;
        readers = Task.WhenAll(Read(process.StandardError, ""), Read(process.StandardOutput, "stdout: "));
    }

    public string Name { get; }

    public int Id { get; }

    public bool HasExited => exitCode is not null || process.HasExited;

    /// <summary>Kept when the process is released, for <see cref="Describe"/>.</summary>
    private int? exitCode;

    /// <summary>Whether the test ended it (SIGKILL or SIGTERM): its exit is then no failure.</summary>
    public bool Ended { get; private set; }

    private Task Read(StreamReader reader, string prefix) => Task.Run(() =>
    {
        string? l;
        while ((l = reader.ReadLine()) is not null)
        {
            lock (lines) lines.Add((clock.Elapsed, prefix + l));
        }
    });

    /// <summary>The lines so far with when they came (since the scenario's clock started).</summary>
    public List<(TimeSpan At, string Line)> Lines
    {
        get
        {
            lock (lines) return [.. lines];
        }
    }

    /// <summary>Whether a line containing <paramref name="text"/> came at or after <paramref name="since"/>.</summary>
    public TimeSpan? Said(string text, TimeSpan since = default) =>
        Lines.Where(l => l.At >= since && l.Line.Contains(text, StringComparison.Ordinal)).Select(l => (TimeSpan?)l.At).FirstOrDefault();

    /// <summary>
    /// The partitions this worker owned at <paramref name="at"/>, from its "assigned/revoked/lost partitions" lines: of
    /// the stage whose lines start with <paramref name="stage"/> (<c>job 'x'</c>, <c>job 'x' stage 1</c>), or of any.
    /// </summary>
    public SortedSet<int> OwnedAt(TimeSpan at, string? stage = null)
    {
        string pattern = (stage is null ? "" : "eddy worker: " + Regex.Escape(stage) + ": ") + @"(assigned|revoked|lost) partitions ([0-9,]+)";
        var owned = new SortedSet<int>();
        foreach (var (_, line) in Lines.Where(l => l.At <= at))
        {
            var m = Regex.Match(line, pattern);
            if (!m.Success) continue;
            var numbers = m.Groups[2].Value.Split(',').Select(int.Parse);
            if (m.Groups[1].Value == "assigned") owned.UnionWith(numbers);
            else owned.ExceptWith(numbers);
        }
        return owned;
    }

    /// <summary>SIGKILL: no final checkpoint, no leaving the group; its session expires at the broker.</summary>
    public void KillHard()
    {
        Ended = true;
        process.Kill();
        process.WaitForExit();
    }

    /// <summary>SIGTERM: final checkpoints of its partitions, then it leaves the group. Returns its exit code.</summary>
    public int Stop(TimeSpan timeout)
    {
        Ended = true;
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
        if (!process.WaitForExit(timeout))
        {
            process.Kill();
            process.WaitForExit();
            throw new TimeoutException($"worker {Name} did not stop within {timeout} after SIGTERM:\n{Describe()}");
        }
        readers.Wait(TimeSpan.FromSeconds(10));
        return process.ExitCode;
    }

    public string Describe(int tail = 30)
    {
        var all = Lines;
        var sb = new StringBuilder($"worker {Name} (pid {Id}{(exitCode is { } code ? $", exited {code}" : "")}):\n");
        foreach (var (at, line) in all.Skip(Math.Max(0, all.Count - tail))) sb.Append(CultureInfo(at)).Append(' ').AppendLine(line);
        return sb.ToString();
    }

    private static string CultureInfo(TimeSpan at) => $"[{at.TotalSeconds,7:F2} s]";

    public void Dispose()
    {
        if (exitCode is not null) return;
        try
        {
            if (!process.HasExited) process.Kill();
            process.WaitForExit(5000);
            exitCode = process.ExitCode;
        }
        catch (InvalidOperationException)
        {
            exitCode = -1;
        }
        process.Dispose();
    }
}
