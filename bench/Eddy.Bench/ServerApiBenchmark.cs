using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Eddy.Server;

namespace Eddy.Bench;

/// <summary>
/// The dashboard's load on a busy server: 20 unbounded SQL jobs of 10 operators each (chaining off, so 10 tasks per
/// job), then the REST API polled as dashboards do — every read endpoint in turn — for a fixed time; latency per
/// request, percentiles per endpoint.
///
///   dotnet run -c Release --project bench/Eddy.Bench -- server-api [--jobs 20] [--seconds 20] [--rate 200]
/// </summary>
public static class ServerApiBenchmark
{
    private static string Job(int i, int rate) => $"""
        SET 'pipeline.name' = 'bench-{i}';
        SET 'pipeline.operator-chaining' = 'false';
        CREATE TABLE events (host STRING, url STRING, event_time STRING,
          ts AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
          WATERMARK FOR ts AS ts - INTERVAL '15' SECOND
        ) WITH ('connector' = 'web-traffic', 'rows-per-second' = '{rate}', 'seed' = '{i}');
        CREATE TABLE per_host (w TIMESTAMP(3), host STRING, n BIGINT) WITH ('connector' = 'blackhole');
        CREATE TABLE per_url (w TIMESTAMP(3), url STRING, n BIGINT) WITH ('connector' = 'blackhole');
        CREATE TABLE raw_t (host STRING, url STRING) WITH ('connector' = 'blackhole');
        CREATE TABLE raw_a (host STRING, url STRING) WITH ('connector' = 'blackhole');
        EXECUTE STATEMENT SET BEGIN
        INSERT INTO per_host SELECT window_start, host, COUNT(*) FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '10' SECOND))
          GROUP BY window_start, window_end, host;
        INSERT INTO per_url SELECT window_start, url, COUNT(*) FROM TABLE(HOP(TABLE events, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '20' SECOND))
          WHERE host <> 'x' GROUP BY window_start, window_end, url;
        INSERT INTO raw_t SELECT UPPER(host), url FROM events WHERE url LIKE '/%';
        INSERT INTO raw_a SELECT host, url FROM events WHERE host LIKE 'a%';
        END;
        """;

    public static int Run(string[] args)
    {
        int jobs = 20, seconds = 20, rate = 200;
        for (int i = 0; i < args.Length; i++)
        {
            int Next() => i + 1 < args.Length && int.TryParse(args[++i], out int v) && v > 0 ? v : throw new ArgumentException($"{args[i - 1]} needs a positive number");
            switch (args[i])
            {
                case "--jobs": jobs = Next(); break;
                case "--seconds": seconds = Next(); break;
                case "--rate": rate = Next(); break;
                default:
                    Console.Error.WriteLine($"unknown option {args[i]}; usage: server-api [--jobs N] [--seconds S] [--rate R]");
                    return 2;
            }
        }
        return RunAsync(jobs, seconds, rate).GetAwaiter().GetResult();
    }

    private static async Task<int> RunAsync(int jobCount, int seconds, int rate)
    {
        await using var server = await EddyServer.StartAsync(new ServerOptions { Connectors = BenchConnectors.Registry, Slots = jobCount, Port = 0 });
        var ids = new List<string>();
        for (int i = 0; i < jobCount; i++) ids.AddRange(server.Manager.Submit(Job(i, rate)).Select(j => j.Id));
        var jobs = server.Manager.Jobs;
        int operators = jobs.Sum(j => j.Vertices.Sum(v => v.Operators.Count));
        Console.WriteLine($"server-api: {jobs.Count} jobs, {operators} operators ({operators / Math.Max(1, jobs.Count)} per job), "
            + $"{jobs.Sum(j => j.Vertices.Count)} tasks, {rate} events/s per job; {Environment.ProcessorCount} cores");
        if (jobs.Any(j => j.State != JobStates.Running))
        {
            Console.Error.WriteLine("not every job is running: " + string.Join(", ", jobs.Select(j => $"{j.Name} {j.State} {j.WaitReason}")));
            return 1;
        }

        using var client = new HttpClient { BaseAddress = server.Address };
        var first = JsonNode.Parse(await client.GetStringAsync($"jobs/{ids[0]}"))!;
        string vertex = first["vertices"]![1]!["id"]!.ToString();
        var endpoints = new (string Name, Func<int, string> Path)[]
        {
            ("GET /overview", _ => "overview"),
            ("GET /jobs/overview", _ => "jobs/overview"),
            ("GET /jobs/{id}", n => $"jobs/{ids[n % ids.Count]}"),
            ("GET /jobs/{id}/vertices/{vid}/subtasks/metrics", n => $"jobs/{ids[n % ids.Count]}/vertices/{vertex}/subtasks/metrics"),
            ("GET /jobs/{id}/watermarks", n => $"jobs/{ids[n % ids.Count]}/watermarks"),
            ("GET /jobs/{id}/checkpoints", n => $"jobs/{ids[n % ids.Count]}/checkpoints"),
            ("GET /jobs/{id}/exceptions", n => $"jobs/{ids[n % ids.Count]}/exceptions"),
            ("GET /metrics", _ => "metrics"),
        };

        // Warm-up: JIT and the first samples.
        for (int n = 0; n < 3; n++)
            foreach (var e in endpoints) await client.GetStringAsync(e.Path(n));

        var latencies = endpoints.Select(_ => new List<double>()).ToArray();
        var until = Stopwatch.StartNew();
        int round = 0;
        long bytes = 0;
        while (until.Elapsed.TotalSeconds < seconds)
        {
            for (int e = 0; e < endpoints.Length; e++)
            {
                long start = Stopwatch.GetTimestamp();
                var body = await client.GetStringAsync(endpoints[e].Path(round));
                latencies[e].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                bytes += body.Length;
            }
            round++;
        }
        long records = server.Manager.Jobs.Sum(j => j.Reading.Vertices.Where(v => v.Vertex.IsSource).Sum(v => v.Subtasks.Sum(s => s.Sample.RecordsIn)));

        Console.WriteLine($"{"endpoint",-48} {"n",6} {"p50 ms",8} {"p95 ms",8} {"p99 ms",8} {"max ms",8}");
        for (int e = 0; e < endpoints.Length; e++) Print(endpoints[e].Name, latencies[e]);
        var all = latencies.SelectMany(l => l).ToList();
        Print("all", all);
        Console.WriteLine($"{all.Count} requests in {until.Elapsed.TotalSeconds:F1} s, {bytes / Math.Max(1, all.Count)} bytes per answer on average; "
            + $"the jobs read {records:N0} events meanwhile");
        double p99 = Percentile(all, 0.99);
        Console.WriteLine(p99 < 50 ? $"p99 {p99:F1} ms: under 50 ms" : $"p99 {p99:F1} ms: NOT under 50 ms");
        return 0;
    }

    private static void Print(string name, List<double> values) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name,-48} {values.Count,6} {Percentile(values, 0.50),8:F2} {Percentile(values, 0.95),8:F2} {Percentile(values, 0.99),8:F2} {values.Max(),8:F2}"));

    private static double Percentile(List<double> values, double q)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}
