using Eddy.Server;

namespace Eddy.Tests;

/// <summary><c>eddy submit / list / status / cancel</c> against a server running in the test process.</summary>
public sealed class ServerCommandTests : IAsyncLifetime
{
    private EddyServer server = null!;
    private readonly string dir = Directory.CreateTempSubdirectory("eddy-cli-server-").FullName;

    public async Task InitializeAsync() => server = await EddyServer.StartAsync(new ServerOptions { Connectors = TestConnectors.Registry, Slots = 2, Port = 0 });

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        Directory.Delete(dir, recursive: true);
    }

    private string Url => server.Address.ToString();

    private string Script(string name, string sql)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, sql);
        return path;
    }

    [Theory]
    [InlineData("parallelism.default=2", "-D parallelism.default: not a server setting")]
    [InlineData("metrics.reporters", "-D metrics.reporters: expected key=value")]
    [InlineData("metrics.reporter.otel.interval=1 s", "reporter not listed in metrics.reporters")]
    public void Server_refuses_a_wrong_configuration_entry_before_it_starts(string entry, string message)
    {
        var (code, _, error) = CliTests.Run("server", "--port", "0", "-D", entry);
        Assert.Equal(2, code);
        Assert.Contains(message, error);
    }

    [Fact]
    public void Submit_detached_then_list_status_and_cancel_by_name()
    {
        var file = Script("steady.sql", """
            SET 'pipeline.name' = 'steady';
            CREATE TABLE gen (id BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '500');
            CREATE TABLE out_t (id BIGINT) WITH ('connector' = 'blackhole');
            INSERT INTO out_t SELECT id FROM gen;
            """);
        var (code, output, error) = CliTests.Run("submit", file, "--detach", "--set", "parallelism.default=2", "--server", Url);
        Assert.True(code == 0, error);
        Assert.Matches("^submitted job 'steady' \\([0-9a-f]{32}\\): (CREATED|RUNNING)", output);
        var job = Assert.Single(server.Manager.Jobs);
        Assert.Equal(2, job.SlotsNeeded);

        (code, output, error) = CliTests.Run("list", "--server", Url);
        Assert.True(code == 0, error);
        Assert.Contains("task slots: 0 of 2 free", output);
        Assert.Matches($"{job.Id}  steady  (RUNNING|CREATED) +2", output);

        (code, output, error) = CliTests.Run("status", "steady", "--server", Url);
        Assert.True(code == 0, error);
        Assert.StartsWith($"job 'steady' ({job.Id}): RUNNING", output);
        Assert.Contains("Source: gen -> Sink: out_t", output);

        (code, output, error) = CliTests.Run("cancel", "steady", "--server", Url);
        Assert.True(code == 0, error);
        Assert.Equal($"job 'steady' ({job.Id}): CANCELED", output.Trim());
        Assert.Equal(JobStates.Canceled, job.State);

        (code, _, error) = CliTests.Run("cancel", job.Id, "--server", Url);
        Assert.Equal(1, code);
        Assert.Contains("has already ended (CANCELED)", error);
    }

    [Fact]
    public void Submit_waits_for_a_bounded_job_and_exits_0()
    {
        var file = Script("bounded.sql", """
            CREATE TABLE gen (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '1000');
            CREATE TABLE out_t (id BIGINT) WITH ('connector' = 'blackhole');
            INSERT INTO out_t SELECT id FROM gen;
            """);
        var (code, _, error) = CliTests.Run("submit", file, "--server", Url);
        Assert.True(code == 0, error);
        Assert.Contains("finished after", error);
        Assert.Equal(1000, Assert.Single(server.Manager.Jobs).Reading.Vertices[0].Subtasks.Sum(s => s.Sample.RecordsIn));
    }

    [Fact]
    public void A_script_that_does_not_plan_prints_the_located_error()
    {
        var file = Script("typo.sql", "CREATE TABLE t (host STRING) WITH ('connector' = 'datagen');\nINSERT INTO t SELECT hots FROM t;\n");
        var (code, _, error) = CliTests.Run("submit", file, "--server", Url);
        Assert.Equal(1, code);
        Assert.Contains("error: typo.sql: line 2, column 22: unknown column 'hots'; did you mean 'host'?", error);
        Assert.Empty(server.Manager.Jobs);
    }

    [Fact]
    public void Without_a_server_the_commands_say_how_to_start_one()
    {
        var (code, _, error) = CliTests.Run("list", "--server", "http://127.0.0.1:1");
        Assert.Equal(1, code);
        Assert.Contains("no Eddy server answers at http://127.0.0.1:1/", error);
        Assert.Contains("eddy server", error);
    }

    [Fact]
    public void Status_of_an_unknown_job_is_an_error()
    {
        var (code, _, error) = CliTests.Run("status", "nope", "--server", Url);
        Assert.Equal(1, code);
        Assert.Contains("no job with id or name 'nope'", error);
    }

    [Fact]
    public void Savepoint_stop_with_savepoint_and_submit_from_savepoint_over_rest()
    {
        var file = Script("saved.sql", """
            SET 'pipeline.name' = 'saved';
            CREATE TABLE gen (id BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '500');
            CREATE TABLE out_t (id BIGINT) WITH ('connector' = 'blackhole');
            INSERT INTO out_t SELECT id FROM gen;
            """);
        string savepoints = Path.Combine(dir, "savepoints");
        var (code, _, error) = CliTests.Run("submit", file, "--detach", "--server", Url);
        Assert.True(code == 0, error);
        var job = Assert.Single(server.Manager.Jobs);

        (code, var output, error) = CliTests.Run("savepoint", "saved", "--dir", savepoints, "--server", Url);
        Assert.True(code == 0, error);
        string first = output.Trim();
        Assert.StartsWith(Path.Combine(savepoints, "savepoint-saved-"), first);
        Assert.True(File.Exists(Path.Combine(first, "_metadata")), first);
        Assert.Contains("eddy savepoint: savepoint 1 written", error);
        Assert.Equal(JobStates.Running, job.State);

        (code, output, error) = CliTests.Run("stop", "--savepoint", "saved", "--dir", savepoints, "--server", Url);
        Assert.True(code == 0, error);
        string second = output.Trim();
        Assert.NotEqual(first, second);
        Assert.Contains($"job 'saved' ({job.Id}): CANCELED", error);
        Assert.Equal(JobStates.Canceled, job.State);
        var stopped = Eddy.Runtime.LocalCheckpointStorage.LoadFolder(second);
        Assert.Equal(2, stopped.Id);

        (code, _, error) = CliTests.Run("submit", file, "--detach", "--from-savepoint", second, "--server", Url);
        Assert.True(code == 0, error);
        var resumed = server.Manager.Jobs.Last();
        Assert.NotEqual(job.Id, resumed.Id);
        Assert.True(resumed.RestoredFromSavepoint);
        Assert.Equal(2, resumed.Execution!.RestoredFrom!.Id);
        Assert.Contains(resumed.Warnings, w => w.Contains("resumes from savepoint 2", StringComparison.Ordinal));

        (code, _, error) = CliTests.Run("stop", "saved", "--server", Url);
        Assert.True(code == 0, error);
        Assert.Equal(JobStates.Canceled, resumed.State);

        (code, _, error) = CliTests.Run("savepoint", "saved", "--server", Url);
        Assert.Equal(1, code);
        Assert.Contains("a savepoint needs a running job", error);
    }
}

/// <summary><c>eddy run --ui</c>: the script runs in an in-process server whose dashboard stays up until Ctrl-C.</summary>
public class RunWithDashboardTests
{
    /// <summary>A writer that tests may read while the command writes from other threads.</summary>
    private sealed class LockedWriter : StringWriter
    {
        public override void Write(char value)
        {
            lock (this) base.Write(value);
        }

        public override void Write(string? value)
        {
            lock (this) base.Write(value);
        }

        public override string ToString()
        {
            lock (this) return base.ToString();
        }
    }

    [Fact]
    public async Task Run_ui_serves_the_dashboard_and_prints_as_run_does()
    {
        var file = Path.Combine(Path.GetTempPath(), $"eddy-ui-{Guid.NewGuid():N}.sql");
        await File.WriteAllTextAsync(file, """
            CREATE TABLE gen (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '3', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '3');
            CREATE TABLE out_t (id BIGINT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT id FROM gen;
            """);
        var stdout = new LockedWriter();
        var stderr = new LockedWriter();
        using var stop = new CancellationTokenSource();
        var run = Task.Run(() => Eddy.Cli.Program.Run(["run", file, "--ui", "--port", "0"], stdout, stderr, stop.Token));
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!stderr.ToString().Contains("stays on", StringComparison.Ordinal) && !run.IsCompleted && DateTime.UtcNow < deadline)
                await Task.Delay(50);
            var err = stderr.ToString();
            Assert.Contains("eddy run: job 'insert-into_default_catalog.default_database.out_t' finished", err);
            var url = System.Text.RegularExpressions.Regex.Match(err, @"dashboard on (http://\S+?)/? ").Groups[1].Value;
            using var client = new HttpClient();
            var jobs = await client.GetStringAsync(url + "/jobs/overview");
            Assert.Contains("\"state\":\"FINISHED\"", jobs);
            Assert.Contains("<title>Eddy</title>", await client.GetStringAsync(url + "/"));
            Assert.Equal(["+I[1]", "+I[2]", "+I[3]"], stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Order().ToArray());
        }
        finally
        {
            stop.Cancel();
            Assert.Equal(0, await run);
            File.Delete(file);
        }
    }

}
