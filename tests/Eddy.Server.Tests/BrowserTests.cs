using System.Diagnostics;

namespace Eddy.Server.Tests;

/// <summary>
/// A server with a running job, a stalled window job and a finished job, for the dashboard's browser tests; the
/// screenshots the tests take of it go to docs/img/ (linked from the README).
/// </summary>
public sealed class DashboardFixture : IAsyncLifetime
{
    private readonly StalledWindowFixture kafka = new();

    public RunningServer Server { get; private set; } = null!;

    public string Running { get; private set; } = "";

    public string Stalled { get; private set; } = "";

    /// <summary>Two sources into one keyed aggregate into a sink of parallelism 1: a DAG of three layers.</summary>
    public string TwoSources { get; private set; } = "";

    /// <summary>A job whose name and table (so vertex) names are markup (the XSS check).</summary>
    public string Markup { get; private set; } = "";

    /// <summary>The running job's checkpoints: one a second, three retained (Flink's default num-retained is 1; the test needs some removed).</summary>
    public const int Retained = 3;

    private readonly string checkpoints = Path.Combine(Path.GetTempPath(), $"eddy-dashboard-{Guid.NewGuid():N}");

    public async Task InitializeAsync()
    {
        Server = await RunningServer.Start(slots: 8);
        Assert.Single(await Server.Submit(Scripts.Bounded));
        Running = Assert.Single(await Server.Submit(Scripts.Windowed("hits-per-host", parallelism: 2, rate: 3000), new()
        {
            ["execution.checkpointing.interval"] = "1 s",
            ["execution.checkpointing.dir"] = checkpoints,
            ["state.checkpoints.num-retained"] = Retained.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }));
        TwoSources = Assert.Single(await Server.Submit($"""
            SET 'pipeline.name' = 'two-sources-{Guid.NewGuid():N}';
            SET 'parallelism.default' = '2';
            CREATE TABLE a (id BIGINT, v INT) WITH ('connector' = 'datagen', 'rows-per-second' = '20', 'fields.v.min' = '1', 'fields.v.max' = '9');
            CREATE TABLE b (id BIGINT, v INT) WITH ('connector' = 'datagen', 'rows-per-second' = '20', 'fields.v.min' = '1', 'fields.v.max' = '9');
            CREATE TABLE per_value (v INT, n BIGINT) WITH ('connector' = 'blackhole', 'sink.parallelism' = '1');
            INSERT INTO per_value SELECT v, COUNT(*) FROM (SELECT id, v FROM a UNION ALL SELECT id, v FROM b) GROUP BY v;
            """));
        Markup = Assert.Single(await Server.Submit("""
            SET 'pipeline.name' = '<img src=x onerror=window.__xss=1>';
            SET 'parallelism.default' = '1';
            CREATE TABLE `<img src=x onerror=window.__xss=2>` (id BIGINT, v INT) WITH ('connector' = 'datagen', 'rows-per-second' = '10');
            CREATE TABLE `<svg onload=window.__xss=3>` (id BIGINT, v INT) WITH ('connector' = 'blackhole');
            INSERT INTO `<svg onload=window.__xss=3>` SELECT id, v FROM `<img src=x onerror=window.__xss=2>`;
            """));
        Stalled = Assert.Single(await Server.Submit(kafka.Script("clicks-per-minute")));
        await Server.WaitForState(Running, "RUNNING");
        await Server.WaitForState(Stalled, "RUNNING");
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        kafka.Dispose();
        if (Directory.Exists(checkpoints)) Directory.Delete(checkpoints, recursive: true);
    }
}

/// <summary>The dashboard in real headless Chromium, driven by Playwright (tests/browser/dashboard.mjs).</summary>
public class BrowserTests(DashboardFixture dashboard) : IClassFixture<DashboardFixture>
{
    private static string BrowserDir => Path.Combine(Scripts.RepoRoot, "tests", "browser");

    private static string Screenshot(string name)
    {
        var dir = Path.Combine(Scripts.RepoRoot, "docs", "img");
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, name);
    }

    /// <summary>Runs one scenario of the script; fails with its output when the check does not hold.</summary>
    private static async Task Drive(string scenario, Uri server, string? job = null, string? screenshot = null)
    {
        if (!Directory.Exists(Path.Combine(BrowserDir, "node_modules", "playwright-core")))
            Assert.Fail($"Playwright is not installed: run 'npm ci' in {BrowserDir} (scripts/test.sh does)");
        var chromium = Environment.GetEnvironmentVariable("EDDY_CHROMIUM") ?? "/usr/bin/chromium";
        if (!File.Exists(chromium)) Assert.Fail($"no Chromium at {chromium}: install Debian's 'chromium' (scripts/test.sh does)");
        var start = new ProcessStartInfo("node") { WorkingDirectory = BrowserDir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "dashboard.mjs", scenario, server.ToString(), job ?? "-", screenshot ?? "" })
            start.ArgumentList.Add(a);
        start.Environment["EDDY_RETAINED"] = DashboardFixture.Retained.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{scenario}: the browser script did not end within 90 s; {await stdout} {await stderr}");
        }
        Assert.True(process.ExitCode == 0, $"{scenario}: exit code {process.ExitCode}: {await stdout}{await stderr}");
    }

    [Fact]
    public Task The_overview_shows_the_slots_and_the_jobs() =>
        Drive("overview", dashboard.Server.Server.Address, screenshot: Screenshot("dashboard-overview.png"));

    [Fact]
    public Task A_running_jobs_graph_is_a_layered_DAG_with_full_names_and_labelled_exchanges() =>
        Drive("graph", dashboard.Server.Server.Address, dashboard.Running, Screenshot("dashboard-job.png"));

    [Fact]
    public Task A_two_source_jobs_graph_has_three_layers() =>
        Drive("graph", dashboard.Server.Server.Address, dashboard.TwoSources, Screenshot("dashboard-dag.png"));

    [Fact]
    public Task Each_vertex_has_a_tab_with_its_subtasks() =>
        Drive("tabs", dashboard.Server.Server.Address, dashboard.Running, Screenshot("dashboard-vertex.png"));

    [Fact]
    public Task Checkpoints_show_min_avg_max_in_ms_and_only_retained_ones_as_restorable() =>
        Drive("checkpoints", dashboard.Server.Server.Address, dashboard.Running, Screenshot("dashboard-checkpoints.png"));

    [Fact]
    public Task Charts_draw_the_servers_history_and_new_points() =>
        Drive("charts", dashboard.Server.Server.Address, dashboard.Running);

    [Fact]
    public Task The_server_log_tab_shows_a_submission() =>
        Drive("log", dashboard.Server.Server.Address, dashboard.Running, Screenshot("dashboard-log.png"));

    [Fact]
    public Task Markup_in_a_job_name_stays_text() =>
        Drive("xss", dashboard.Server.Server.Address, dashboard.Markup);

    [Fact]
    public Task A_stalled_window_job_shows_the_diagnosis() =>
        Drive("diagnosis", dashboard.Server.Server.Address, dashboard.Stalled, Screenshot("dashboard-diagnosis.png"));

    [Fact]
    public async Task Cancel_works_from_the_job_page()
    {
        var id = Assert.Single(await dashboard.Server.Submit(Scripts.Unbounded("to-cancel", parallelism: 1, rate: 100)));
        await dashboard.Server.WaitForState(id, "RUNNING");
        await Drive("cancel", dashboard.Server.Server.Address, id);
        Assert.Equal("CANCELED", (await dashboard.Server.Get($"jobs/{id}"))["state"]!.GetValue<string>());
    }
}
