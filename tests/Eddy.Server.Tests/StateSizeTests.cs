using System.Text.Json.Nodes;

namespace Eddy.Server.Tests;

/// <summary>
/// The state size the dashboard shows per vertex (<c>state-size</c> of <c>GET /jobs/{id}</c>: the vertex's operators'
/// bytes in the latest completed checkpoint) for each stateful SQL operator of issue 14: regular and interval joins,
/// OVER (ROWS and RANGE), Top-N (also over a GROUP BY), deduplication, window deduplication and GROUP BY over a changelog;
/// and the streaming ORDER BY (issue 16).
/// </summary>
public sealed class StateSizeTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("eddy-state-size-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
    }

    private const string Strings = "a STRING, b STRING, c STRING";

    /// <summary>The operator's vertex name part (as the plan names it), the sink's columns and the query that plans to it.</summary>
    public static TheoryData<string, string, string> Operators => new()
    {
        { "Join", Strings, "SELECT a.host, a.url, b.url FROM events AS a LEFT JOIN events AS b ON a.url = b.referrer" },
        { "IntervalJoin", Strings, "SELECT a.host, a.url, b.url FROM events AS a JOIN events AS b ON a.host = b.host AND a.ts BETWEEN b.ts - INTERVAL '1' MINUTE AND b.ts" },
        { "Over", "a STRING, b STRING, n BIGINT", "SELECT host, url, COUNT(*) OVER (PARTITION BY host ORDER BY ts ROWS BETWEEN 5 PRECEDING AND CURRENT ROW) FROM events" },
        { "Over", "a STRING, b STRING, n BIGINT", "SELECT host, url, COUNT(*) OVER (PARTITION BY url ORDER BY ts RANGE BETWEEN INTERVAL '1' MINUTE PRECEDING AND CURRENT ROW) FROM events" },
        { "Rank", Strings, "SELECT host, url, ip FROM (SELECT host, url, ip, ROW_NUMBER() OVER (PARTITION BY host ORDER BY ip DESC) AS rn FROM events) WHERE rn <= 3" },
        { "Deduplicate", Strings, "SELECT host, url, ip FROM (SELECT host, url, ip, ROW_NUMBER() OVER (PARTITION BY url ORDER BY ts ASC) AS rn FROM events) WHERE rn = 1" },
        { "GroupAggregate", "n BIGINT, keys BIGINT", "SELECT n, COUNT(*) FROM (SELECT url, COUNT(*) AS n FROM events GROUP BY url) GROUP BY n" },
        { "Rank", "n BIGINT, a STRING", "SELECT n, url FROM (SELECT url, n, ROW_NUMBER() OVER (ORDER BY n ASC) AS rn FROM (SELECT url, COUNT(*) AS n FROM events GROUP BY url)) WHERE rn <= 3" },
        { "WindowDeduplicate", Strings, "SELECT host, url, ip FROM (SELECT host, url, ip, ROW_NUMBER() OVER (PARTITION BY window_start, window_end, host ORDER BY ts DESC) AS rn FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '10' SECOND))) WHERE rn = 1" },
        { "TemporalSort", Strings, "SELECT host, url, ip FROM (SELECT host, url, ip, ts FROM events ORDER BY ts, url)" },
    };

    [Theory]
    [MemberData(nameof(Operators))]
    public async Task A_stateful_operators_vertex_shows_its_state_size(string operatorName, string sinkColumns, string query)
    {
        await using var s = await RunningServer.Start(slots: 4);
        string name = "state-size-" + Guid.NewGuid().ToString("N")[..8];
        string sql = $"""
            SET 'pipeline.name' = '{name}';
            SET 'parallelism.default' = '2';
            SET 'execution.checkpointing.interval' = '200 ms';
            SET 'execution.checkpointing.dir' = '{Path.Combine(dir, name)}';
            CREATE TABLE events (
              url STRING, referrer STRING, host STRING, ip STRING, event_time STRING,
              ts AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
              WATERMARK FOR ts AS ts - INTERVAL '15' SECOND
            ) WITH ('connector' = 'web-traffic', 'rows-per-second' = '500', 'seed' = '7');
            CREATE TABLE sink_t ({sinkColumns}) WITH ('connector' = 'blackhole');
            INSERT INTO sink_t {query};
            """;
        var id = Assert.Single(await s.Submit(sql));
        // The operator's vertex (its chain may hold more operators) reports its bytes once a checkpoint with its state completed.
        var job = await s.WaitFor($"jobs/{id}", j => Vertex(j, operatorName) is { } v && v["state-size"] is JsonValue size && size.GetValue<long>() > 0,
            $"the vertex of {operatorName} with a state size", seconds: 120);
        var vertex = Vertex(job, operatorName)!;
        long vertexBytes = vertex["state-size"]!.GetValue<long>();
        // The vertices' sizes add up to at most the checkpoint's (the source's offsets and the operators' state, once each).
        var checkpoints = await s.Get($"jobs/{id}/checkpoints");
        long checkpointBytes = checkpoints["latest"]!["completed"]!["state-size"]!.GetValue<long>();
        Assert.True(vertexBytes <= checkpointBytes, $"{vertexBytes} bytes for the vertex, {checkpointBytes} for the whole checkpoint");
        await s.Client.PatchAsync($"jobs/{id}?mode=cancel", null);
        await s.WaitForState(id, "CANCELED");
    }

    private static JsonNode? Vertex(JsonNode job, string operatorName) =>
        job["vertices"]!.AsArray().FirstOrDefault(v => v!["name"]!.GetValue<string>().Contains(operatorName, StringComparison.Ordinal)
            && !(operatorName == "Join" && v["name"]!.GetValue<string>().Contains("IntervalJoin", StringComparison.Ordinal)));
}
