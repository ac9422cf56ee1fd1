using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Eddy.Server.Tests;

/// <summary>A running server on a free loopback port, and a client for its API.</summary>
public sealed class RunningServer : IAsyncDisposable
{
    private RunningServer(EddyServer server, string? token)
    {
        Server = server;
        Client = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null) Client.DefaultRequestHeaders.Authorization = new("Bearer", token);
    }

    public EddyServer Server { get; }

    public HttpClient Client { get; }

    public static async Task<RunningServer> Start(int slots = 4, string? token = null, string bind = "127.0.0.1",
        IReadOnlyList<OpenTelemetryReporterOptions>? reporters = null) =>
        new(await EddyServer.StartAsync(new ServerOptions { Connectors = TestConnectors.Registry, Slots = slots, Port = 0, Token = token, Bind = bind, Reporters = reporters ?? [] }), token);

    public async Task<JsonNode> Get(string path)
    {
        var response = await Client.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    /// <summary>Submits a script; returns the job ids.</summary>
    public async Task<List<string>> Submit(string sql, Dictionary<string, string>? options = null)
    {
        var body = new JsonObject { ["sql"] = sql };
        if (options is not null) body["options"] = new JsonObject(options.Select(o => KeyValuePair.Create(o.Key, (JsonNode?)o.Value)));
        var response = await Client.PostAsJsonAsync("jobs", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST /jobs: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!["jobids"]!.AsArray().Select(i => i!.GetValue<string>()).ToList();
    }

    /// <summary>Polls a job until the condition holds (the job runs on other threads; no fixed sleeps).</summary>
    public async Task<JsonNode> WaitFor(string path, Func<JsonNode, bool> condition, string what, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        JsonNode last;
        do
        {
            last = await Get(path);
            if (condition(last)) return last;
            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);
        throw new Xunit.Sdk.XunitException($"{what}: not reached within {seconds} s; last {path}: {last.ToJsonString()}");
    }

    public Task<JsonNode> WaitForState(string id, string state) =>
        WaitFor($"jobs/{id}", j => j["state"]!.GetValue<string>() == state, $"job {id} {state}");

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }
}

public static class Scripts
{
    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Eddy.slnx"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("the repository root (Eddy.slnx) was not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>A bounded job: the lab's 2,000 events, counted per host in 5-minute windows, printed.</summary>
    public static string Bounded => $$"""
        CREATE TABLE events (
          host STRING, event_time STRING,
          ts AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
          WATERMARK FOR ts AS ts - INTERVAL '15' SECOND
        ) WITH ('connector' = 'filesystem', 'path' = '{{Path.Combine(RepoRoot, "examples/data/web-events.jsonl")}}', 'format' = 'json');
        CREATE TABLE hits (w TIMESTAMP(3), host STRING, n BIGINT) WITH ('connector' = 'print');
        INSERT INTO hits SELECT window_start, host, COUNT(*) FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '5' MINUTE))
        GROUP BY window_start, window_end, host;
        """;

    /// <summary>An unbounded job at a steady rate, with a secret option on its sink table.</summary>
    public static string Unbounded(string name, int parallelism = 2, int rate = 2000) => $"""
        SET 'pipeline.name' = '{name}';
        SET 'parallelism.default' = '{parallelism}';
        CREATE TABLE gen (id BIGINT, v INT) WITH ('connector' = 'datagen', 'rows-per-second' = '{rate}');
        CREATE TABLE sink_t (id BIGINT, v INT) WITH ('connector' = 'blackhole');
        INSERT INTO sink_t SELECT id, v FROM gen WHERE v IS NOT NULL;
        """;

    /// <summary>The lab's aggregation, unbounded: generated web traffic, 10-second hits per host (source, exchange, window, sink).</summary>
    public static string Windowed(string name, int parallelism = 2, int rate = 2000) => $"""
        SET 'pipeline.name' = '{name}';
        SET 'parallelism.default' = '{parallelism}';
        CREATE TABLE events (
          host STRING, event_time STRING,
          ts AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
          WATERMARK FOR ts AS ts - INTERVAL '15' SECOND
        ) WITH ('connector' = 'web-traffic', 'rows-per-second' = '{rate}');
        CREATE TABLE hits (w TIMESTAMP(3), host STRING, n BIGINT) WITH ('connector' = 'blackhole');
        INSERT INTO hits SELECT window_start, host, COUNT(*) FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '10' SECOND))
        GROUP BY window_start, window_end, host;
        """;
}
