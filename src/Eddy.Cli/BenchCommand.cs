using System.CommandLine;
using System.Globalization;
using Eddy.Connectors.Nexmark;
using Eddy.Sql.Connectors;

namespace Eddy.Cli;

/// <summary>
/// <c>eddy bench nexmark</c>: the Nexmark queries (q0-q22 as published for Flink SQL) over N generated events each,
/// with events/s, CPU-seconds per event and the ratio to Flink's published per-core figure; queries Eddy cannot plan
/// yet are listed with the planner's refusal.
/// </summary>
internal static class BenchCommand
{
    public static Command Create(ConnectorRegistry connectors, TextWriter stdout, TextWriter stderr)
    {
        var bench = new Command("bench", "Run a benchmark suite built into Eddy.");
        bench.Subcommands.Add(Nexmark(connectors, stdout, stderr));
        return bench;
    }

    private static Command Nexmark(ConnectorRegistry connectors, TextWriter stdout, TextWriter stderr)
    {
        var events = new Option<string>("--events", "-n") { Description = "Events per query (k and M suffixes: 10M).", DefaultValueFactory = _ => "10M" };
        var queries = new Option<string>("--queries", "-q") { Description = "Queries to run, e.g. q0,q5,q21 (default: q0-q22)." };
        var parallelism = new Option<int>("--parallelism", "-p") { Description = "Parallelism of every query.", DefaultValueFactory = _ => 1 };
        var warmup = new Option<string>("--warmup") { Description = "Events of an untimed run of each query first, so the timed run sees optimised code (0: none).", DefaultValueFactory = _ => "1M" };
        var seed = new Option<long>("--seed") { Description = "Seed of the generator (the same seed gives the same events).", DefaultValueFactory = _ => 42 };
        var tps = new Option<long>("--tps") { Description = "Event-time rate (first-event.rate): events per second of event time.", DefaultValueFactory = _ => 10_000_000 };
        var command = new Command("nexmark", "Run the Nexmark queries (Flink SQL versions) over generated events; print events/s and CPU-s per event.")
        {
            events, queries, parallelism, warmup, seed, tps,
        };
        command.SetAction(result =>
        {
            long n, warm;
            try
            {
                n = ParseCount(result.GetValue(events)!, "--events");
                warm = ParseCount(result.GetValue(warmup)!, "--warmup");
            }
            catch (FormatException e)
            {
                stderr.WriteLine($"error: {e.Message}");
                return 1;
            }
            var names = result.GetValue(queries) is { } q
                ? q.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => s.ToLowerInvariant()).ToList()
                : NexmarkQueries.All.ToList();
            if (names.FirstOrDefault(s => !NexmarkQueries.All.Contains(s)) is { } unknown)
            {
                stderr.WriteLine($"error: --queries: unknown query '{unknown}'; known: {string.Join(", ", NexmarkQueries.All)}");
                return 1;
            }
            int p = result.GetValue(parallelism);
            if (p < 1 || n < 1)
            {
                stderr.WriteLine("error: --events and --parallelism must be positive");
                return 1;
            }
            var settings = new NexmarkRunSettings { Events = n, Parallelism = p, Seed = result.GetValue(seed), Tps = result.GetValue(tps) };
            stdout.WriteLine($"Nexmark, {n:N0} events per query, parallelism {p}, tps {settings.Tps:N0}, seed {settings.Seed}; load average {LoadAverage()}");
            stdout.WriteLine($"{"query",-6} {"events/s",12} {"CPU-s/event",12} {"events/CPU-s",13} {"Flink/core",11} {"ratio",7}");
            int failed = 0;
            foreach (var name in names)
            {
                if (warm > 0) NexmarkQueries.Run(name, settings with { Events = warm }, connectors);
                var r = NexmarkQueries.Run(name, settings, connectors);
                if (r.Refusal is not null)
                {
                    stdout.WriteLine($"{name,-6} refused at planning: {r.Refusal}");
                    continue;
                }
                if (r.Failure is not null)
                {
                    failed++;
                    stdout.WriteLine($"{name,-6} failed: {r.Failure}");
                    continue;
                }
                double perCpu = r.Events / r.Cpu.TotalSeconds;
                string flink = NexmarkQueries.FlinkPerCore.TryGetValue(name, out var f) ? $"{f / 1e3:N0} K" : "-";
                string ratio = f > 0 ? $"{perCpu / f:N1}x" : "-";
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name,-6} {r.EventsPerSecond,12:N0} {r.CpuSecondsPerEvent,12:E2} {perCpu,13:N0} {flink,11} {ratio,7}"));
            }
            stdout.WriteLine($"load average {LoadAverage()}");
            return failed == 0 ? 0 : 1;
        });
        return command;
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    /// <summary>A count with an optional k (1,000) or M (1,000,000) suffix.</summary>
    internal static long ParseCount(string text, string option)
    {
        string t = text.Trim();
        long unit = 1;
        if (t.EndsWith('k') || t.EndsWith('K')) (unit, t) = (1_000, t[..^1]);
        else if (t.EndsWith('M') || t.EndsWith('m')) (unit, t) = (1_000_000, t[..^1]);
        return long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out long v) && v <= long.MaxValue / unit
            ? v * unit
            : throw new FormatException($"{option}: expected a count such as 10000, 500k or 10M, got '{text}'");
    }
}
