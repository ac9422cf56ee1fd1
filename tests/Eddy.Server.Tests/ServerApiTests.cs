using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Eddy.Server.Tests;

/// <summary>The REST API against a running server: submit, read every endpoint, cancel, states, slots.</summary>
public class ServerApiTests
{
    [Fact]
    public async Task A_bounded_job_runs_to_FINISHED_and_every_endpoint_describes_it()
    {
        await using var s = await RunningServer.Start(slots: 4);
        var id = Assert.Single(await s.Submit(Scripts.Bounded, new() { ["parallelism.default"] = "2" }));

        var job = await s.WaitForState(id, "FINISHED");
        Assert.Equal(2, job["slots"]!.GetValue<int>());
        var vertices = job["vertices"]!.AsArray();
        Assert.True(vertices.Count >= 2, job.ToJsonString());
        var source = vertices.First(v => v!["source"]!.GetValue<bool>())!;
        Assert.Equal(2000, source["metrics"]!["read-records"]!.GetValue<long>());
        Assert.All(vertices, v => Assert.Equal("FINISHED", v!["status"]!.GetValue<string>()));
        Assert.Contains("INSERT INTO hits", job["sql"]!.GetValue<string>());
        Assert.Contains("== Physical Plan ==", job["plan"]!.GetValue<string>());
        Assert.Contains(job["output"]!.AsArray(), l => l!.GetValue<string>().Contains("> +I[", StringComparison.Ordinal));
        Assert.Empty(job["diagnosis"]!.AsArray());

        // Every vertex has subtask metrics with one row per subtask; the source's rows add up to what it read.
        foreach (var v in vertices)
        {
            var metrics = await s.Get($"jobs/{id}/vertices/{v!["id"]}/subtasks/metrics");
            Assert.Equal(v["parallelism"]!.GetValue<int>(), metrics["subtasks"]!.AsArray().Count);
        }
        var sourceSubtasks = await s.Get($"jobs/{id}/vertices/{source["id"]}/subtasks/metrics");
        Assert.Equal(2000, sourceSubtasks["subtasks"]!.AsArray().Sum(x => x!["records-in"]!.GetValue<long>()));

        var watermarks = await s.Get($"jobs/{id}/watermarks");
        Assert.Equal(vertices.Count, watermarks["vertices"]!.AsArray().Count);
        Assert.All(watermarks["vertices"]!.AsArray(), v => Assert.NotNull(v!["watermark"]));

        var checkpoints = await s.Get($"jobs/{id}/checkpoints");
        Assert.False(checkpoints["config"]!["enabled"]!.GetValue<bool>());
        Assert.Contains("periodic checkpoints disabled", checkpoints["config"]!["message"]!.GetValue<string>());
        Assert.Empty(checkpoints["history"]!.AsArray());

        var exceptions = await s.Get($"jobs/{id}/exceptions");
        Assert.Empty(exceptions["exception-history"]!.AsArray());

        var overview = await s.Get("overview");
        Assert.Equal((4, 4, 1, 0), (overview["slots-total"]!.GetValue<int>(), overview["slots-available"]!.GetValue<int>(),
            overview["jobs-finished"]!.GetValue<int>(), overview["jobs-running"]!.GetValue<int>()));
        var list = await s.Get("jobs");
        Assert.Equal(id, list["jobs"]![0]!["id"]!.GetValue<string>());
        var plan = await s.Get($"jobs/{id}/plan");
        Assert.Equal(vertices.Count, plan["vertices"]!.AsArray().Count);

        var openapi = await s.Get("openapi.json");
        Assert.NotNull(openapi["paths"]!["/jobs/{id}/vertices/{vid}/subtasks/metrics"]);
    }

    [Fact]
    public async Task An_unbounded_job_runs_with_live_counts_until_cancelled()
    {
        await using var s = await RunningServer.Start(slots: 4);
        var id = Assert.Single(await s.Submit(Scripts.Unbounded("steady", parallelism: 2)));

        var first = await s.WaitFor($"jobs/{id}", j => j["state"]!.GetValue<string>() == "RUNNING"
            && j["vertices"]![0]!["metrics"]!["read-records"]!.GetValue<long>() > 0, "records counted");
        long before = first["vertices"]![0]!["metrics"]!["read-records"]!.GetValue<long>();
        await s.WaitFor($"jobs/{id}", j => j["vertices"]![0]!["metrics"]!["read-records"]!.GetValue<long>() > before, "counts grow");
        await s.WaitFor($"jobs/{id}", j => j["vertices"]![0]!["metrics"]!["records-in-per-second"]!.GetValue<double>() > 0, "a rate");
        Assert.Equal(2, (await s.Get("overview"))["slots-available"]!.GetValue<int>());

        var metrics = await s.Client.GetStringAsync("metrics");
        Assert.Contains("eddy_slots_total 4", metrics);
        Assert.Contains($"eddy_task_records_in_total{{job_id=\"{id}\",job=\"steady\",vertex=\"1\"", metrics);
        Assert.Contains("# TYPE eddy_task_busy_ms_per_second gauge", metrics);


        var cancel = await s.Client.PatchAsync($"jobs/{id}?mode=cancel", null);
        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        await s.WaitForState(id, "CANCELED");
        Assert.Equal(4, (await s.Get("overview"))["slots-available"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.Conflict, (await s.Client.PatchAsync($"jobs/{id}?mode=cancel", null)).StatusCode);
        Assert.Equal(1, (await s.Get("overview"))["jobs-cancelled"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_stopping_server_waits_for_its_running_jobs_to_end()
    {
        string checkpoints = Path.Combine(Path.GetTempPath(), $"eddy-stop-{Guid.NewGuid():N}");
        var s = await RunningServer.Start(slots: 4);
        var id = Assert.Single(await s.Submit(Scripts.Windowed($"stop-{Guid.NewGuid():N}"), new()
        {
            ["execution.checkpointing.interval"] = "100 ms",
            ["execution.checkpointing.dir"] = checkpoints,
        }));
        await s.WaitForState(id, "RUNNING");
        var job = s.Server.Manager.Jobs.Single();

        // The job manager is what the server stops first; the web host's own shutdown afterwards takes long enough
        // to hide a manager that does not wait.
        s.Server.Manager.Dispose();

        Assert.True(job.Execution!.Completion.IsCompleted, "the job was still running after its manager stopped");
        await s.DisposeAsync();
        if (Directory.Exists(checkpoints)) Directory.Delete(checkpoints, recursive: true);
    }

    [Fact]
    public async Task A_job_waits_for_slots_with_a_reason_and_starts_when_they_free_up()
    {
        await using var s = await RunningServer.Start(slots: 3);
        var a = Assert.Single(await s.Submit(Scripts.Unbounded("a", parallelism: 2, rate: 100)));
        var b = Assert.Single(await s.Submit(Scripts.Unbounded("b", parallelism: 2, rate: 100)));
        var c = Assert.Single(await s.Submit(Scripts.Unbounded("c", parallelism: 1, rate: 100)));

        await s.WaitForState(a, "RUNNING");
        var waiting = await s.Get($"jobs/{b}");
        Assert.Equal("CREATED", waiting["state"]!.GetValue<string>());
        Assert.Equal("waiting for 2 task slots: 1 of 3 free ('a' uses 2)", waiting["wait-reason"]!.GetValue<string>());
        // The first waiting job is not overtaken by a smaller one that would fit.
        var queued = await s.Get($"jobs/{c}");
        Assert.Equal("CREATED", queued["state"]!.GetValue<string>());
        Assert.StartsWith("queued behind job 'b'", queued["wait-reason"]!.GetValue<string>());
        Assert.Equal(1, (await s.Get("overview"))["slots-available"]!.GetValue<int>());

        // By name: the API resolves names too.
        Assert.Equal(HttpStatusCode.Accepted, (await s.Client.PatchAsync("jobs/a?mode=cancel", null)).StatusCode);
        await s.WaitForState(b, "RUNNING");
        await s.WaitForState(c, "RUNNING");
        Assert.Equal(0, (await s.Get("overview"))["slots-available"]!.GetValue<int>());
        Assert.Null((await s.Get($"jobs/{b}"))["wait-reason"]);

        // A waiting job can be cancelled before it starts.
        var d = Assert.Single(await s.Submit(Scripts.Unbounded("d", parallelism: 1, rate: 100)));
        Assert.Equal("CREATED", (await s.Get($"jobs/{d}"))["state"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Accepted, (await s.Client.PatchAsync($"jobs/{d}?mode=cancel", null)).StatusCode);
        Assert.Equal("CANCELED", (await s.Get($"jobs/{d}"))["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task Submissions_that_cannot_run_get_400_with_the_located_message()
    {
        await using var s = await RunningServer.Start(slots: 2);
        var typo = await s.Client.PostAsync("jobs", new StringContent(
            "CREATE TABLE t (host STRING) WITH ('connector' = 'datagen');\nINSERT INTO t SELECT hots FROM t;", Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.BadRequest, typo.StatusCode);
        var message = JsonNode.Parse(await typo.Content.ReadAsStringAsync())!["errors"]![0]!.GetValue<string>();
        Assert.Contains("line 2, column 22: unknown column 'hots'; did you mean 'host'?", message);
        Assert.Contains("  |                      ^^^^", message);

        var tooWide = await s.Client.PostAsJsonAsync("jobs", new { sql = Scripts.Unbounded("wide", parallelism: 3) });
        Assert.Equal(HttpStatusCode.BadRequest, tooWide.StatusCode);
        Assert.Contains("needs 3 task slots (its highest parallelism) but the server has 2", await tooWide.Content.ReadAsStringAsync());

        var nothing = await s.Client.PostAsJsonAsync("jobs", new { sql = "CREATE TABLE t (a INT) WITH ('connector' = 'datagen');" });
        Assert.Equal(HttpStatusCode.BadRequest, nothing.StatusCode);
        Assert.Contains("nothing to run", await nothing.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.NotFound, (await s.Client.GetAsync("jobs/nosuchjob")).StatusCode);
        Assert.Empty((await s.Get("jobs"))["jobs"]!.AsArray());
    }

    [Fact]
    public async Task A_job_that_fails_shows_its_exception_with_task_and_stack()
    {
        await using var s = await RunningServer.Start(slots: 2);
        var path = Path.Combine(Path.GetTempPath(), $"eddy-bad-{Guid.NewGuid():N}.jsonl");
        await File.WriteAllTextAsync(path, "{\"n\": 1}\nnot json at all\n");
        try
        {
            var id = Assert.Single(await s.Submit($"""
                CREATE TABLE src (n INT) WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json');
                CREATE TABLE out_t (n INT) WITH ('connector' = 'blackhole');
                INSERT INTO out_t SELECT n FROM src;
                """));
            await s.WaitForState(id, "FAILED");
            var exceptions = await s.Get($"jobs/{id}/exceptions");
            var entry = Assert.Single(exceptions["exception-history"]!.AsArray())!;
            Assert.Contains("Source", entry["task-name"]!.GetValue<string>());
            Assert.Contains(".jsonl:2: invalid JSON", entry["message"]!.GetValue<string>());
            Assert.Contains(" at ", entry["stacktrace"]!.GetValue<string>());
            Assert.Equal(entry["stacktrace"]!.GetValue<string>(), exceptions["root-exception"]!.GetValue<string>());
            Assert.Equal(1, (await s.Get("overview"))["jobs-failed"]!.GetValue<int>());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Records_skipped_by_ignore_parse_errors_are_counted_in_every_view_and_the_diagnosis()
    {
        await using var s = await RunningServer.Start(slots: 2);
        var path = Path.Combine(Path.GetTempPath(), $"eddy-skipped-{Guid.NewGuid():N}.jsonl");
        // Lines 2 and 3 cannot be decoded: not JSON, and a string whose bytes are not UTF-8.
        await File.WriteAllBytesAsync(path, [.. "{\"n\": 1}\nnot json\n{\"n\": \""u8, 0xff, .. "\"}\n{\"n\": 4}\n"u8]);
        try
        {
            var id = Assert.Single(await s.Submit($"""
                CREATE TABLE src (n INT) WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json', 'json.ignore-parse-errors' = 'true');
                CREATE TABLE out_t (n INT) WITH ('connector' = 'blackhole');
                INSERT INTO out_t SELECT n FROM src;
                """));
            var job = await s.WaitForState(id, "FINISHED");
            Assert.Equal(2, job["records-dropped"]!.GetValue<long>());
            var source = job["vertices"]!.AsArray().Single(v => v!["source"]!.GetValue<bool>())!;
            Assert.Equal(2, source["metrics"]!["records-dropped"]!.GetValue<long>());
            Assert.Equal(2, source["metrics"]!["read-records"]!.GetValue<long>());
            var subtasks = await s.Get($"jobs/{id}/vertices/{source["id"]}/subtasks/metrics");
            Assert.Equal(2, subtasks["subtasks"]!.AsArray().Sum(t => t!["records-dropped"]!.GetValue<long>()));
            var overview = await s.Get("jobs/overview");
            Assert.Equal(2, overview["jobs"]!.AsArray().Single(j => j!["jid"]!.GetValue<string>() == id)!["records-dropped"]!.GetValue<long>());
            var metrics = await s.Client.GetStringAsync("metrics");
            Assert.Contains($"eddy_task_records_dropped_total{{job_id=\"{id}\"", metrics);
            Assert.Single(metrics.Split('\n'), l => l.StartsWith($"eddy_task_records_dropped_total{{job_id=\"{id}\"", StringComparison.Ordinal) && l.EndsWith(" 2", StringComparison.Ordinal));
            var diagnosis = await s.Get($"jobs/{id}/diagnosis");
            var finding = diagnosis["findings"]!.AsArray().Single(f => f!["kind"]!.GetValue<string>() == "records-dropped")!;
            Assert.Contains("left out 2 records it could not decode (50 % of what it read)", finding["message"]!.GetValue<string>());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Secrets_in_connector_options_are_masked_in_every_view()
    {
        await using var s = await RunningServer.Start(slots: 2);
        var id = Assert.Single(await s.Submit("""
            SET 'pipeline.name' = 'secretive';
            CREATE TABLE events (host STRING) WITH (
              'connector' = 'kafka', 'topic' = 'web', 'properties.bootstrap.servers' = '127.0.0.1:1',
              'properties.security.protocol' = 'SASL_PLAINTEXT',
              'properties.sasl.jaas.config' = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="hunter2";',
              'scan.startup.mode' = 'earliest-offset', 'format' = 'json');
            CREATE TABLE out_t (host STRING) WITH ('connector' = 'blackhole');
            INSERT INTO out_t SELECT host FROM events;
            """));
        foreach (var path in new[] { $"jobs/{id}", $"jobs/{id}/plan", "jobs/overview", $"jobs/{id}/exceptions", "metrics", "overview" })
        {
            var text = await s.Client.GetStringAsync(path);
            Assert.DoesNotContain("hunter2", text);
        }
        var sql = (await s.Get($"jobs/{id}"))["sql"]!.GetValue<string>();
        Assert.Contains("'properties.sasl.jaas.config' = '******'", sql);
        Assert.Contains("'properties.bootstrap.servers' = '127.0.0.1:1'", sql);
        // Cancelling a Kafka source that waits on an unreachable broker takes librdkafka's own time: not waited for here.
        Assert.Equal(HttpStatusCode.Accepted, (await s.Client.PatchAsync($"jobs/{id}?mode=cancel", null)).StatusCode);
    }

    [Fact]
    public async Task A_token_is_required_on_every_call_when_set_and_beyond_loopback()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => EddyServer.StartAsync(new ServerOptions { Connectors = TestConnectors.Registry, Port = 0, Bind = "0.0.0.0" }));

        await using var s = await RunningServer.Start(slots: 1, token: "s3cret-token-long-enough", bind: "0.0.0.0");
        using var anonymous = new HttpClient { BaseAddress = s.Server.Address };
        foreach (var path in new[] { "overview", "jobs", "metrics", "", "app.js", "openapi.json" })
        {
            var response = await anonymous.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"GET /{path} without a token: {response.StatusCode}");
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync("jobs", new { sql = Scripts.Unbounded("x") })).StatusCode);
        using var wrong = new HttpClient { BaseAddress = s.Server.Address };
        wrong.DefaultRequestHeaders.Authorization = new("Bearer", "s3cret-token-long-enougk");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("overview")).StatusCode);

        Assert.Equal(1, (await s.Get("overview"))["slots-total"]!.GetValue<int>());

        // The dashboard: opened once with ?token=, then a cookie carries it.
        var handler = new HttpClientHandler { UseCookies = true };
        using var browser = new HttpClient(handler) { BaseAddress = s.Server.Address };
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("?token=s3cret-token-long-enough")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("overview")).StatusCode);
    }

    [Fact]
    public async Task Two_jobs_reading_a_topic_with_the_same_group_are_warned_about()
    {
        await using var s = await RunningServer.Start(slots: 2);
        string Job(string name, string group) => $"""
            SET 'pipeline.name' = '{name}';
            CREATE TABLE events (host STRING) WITH (
              'connector' = 'kafka', 'topic' = 'web', 'properties.bootstrap.servers' = '127.0.0.1:1',
              'properties.group.id' = '{group}', 'scan.startup.mode' = 'earliest-offset', 'format' = 'json');
            CREATE TABLE out_t (host STRING) WITH ('connector' = 'blackhole');
            INSERT INTO out_t SELECT host FROM events;
            """;
        var one = Assert.Single(await s.Submit(Job("one", "lab")));
        var two = Assert.Single(await s.Submit(Job("two", "lab")));
        var three = Assert.Single(await s.Submit(Job("three", "other")));

        var warning = Assert.Single((await s.Get($"jobs/{two}"))["warnings"]!.AsArray())!.GetValue<string>();
        Assert.StartsWith($"shares Kafka consumer group 'lab' on topic 'web' with job 'one' ({one})", warning);
        Assert.Single((await s.Get($"jobs/{one}"))["warnings"]!.AsArray());
        Assert.Empty((await s.Get($"jobs/{three}"))["warnings"]!.AsArray());
        Assert.Equal(2, (await s.Get("overview"))["warnings"]!.AsArray().Count);
    }
}
