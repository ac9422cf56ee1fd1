using Eddy.Cli;

namespace Eddy.Tests;

/// <summary><c>eddy run</c> resumes a job from its latest checkpoint across process runs; <c>--fresh</c> starts over.</summary>
public class ResumeTests
{
    private sealed class Workspace : IDisposable
    {
        public string Root { get; } = Path.Combine(Path.GetTempPath(), "eddy-resume-" + Guid.NewGuid().ToString("N")[..10]);

        public Workspace() => Directory.CreateDirectory(Root);

        public string Checkpoints => Path.Combine(Root, "checkpoints");

        public string Script(string name, string extraSet = "")
        {
            string path = Path.Combine(Root, name);
            File.WriteAllText(path, $"""
                SET 'execution.checkpointing.interval' = '50 ms';
                SET 'execution.checkpointing.dir' = '{Checkpoints}';
                {extraSet}
                CREATE TABLE clicks (id BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '2000');
                CREATE TABLE sink (id BIGINT) WITH ('connector' = 'blackhole');
                INSERT INTO sink SELECT id FROM clicks;
                """);
            return path;
        }

        public void Dispose()
        {
            try
            {
                Directory.Delete(Root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>
    /// Runs <c>eddy</c> in this process until a checkpoint newer than <paramref name="after"/> exists, then stops it as a
    /// kill would (no final checkpoint); returns stderr.
    /// </summary>
    private static async Task<string> RunUntilCheckpoint(string checkpoints, long after, params string[] args)
    {
        var buffer = new StringWriter();
        var stderr = TextWriter.Synchronized(buffer);
        using var stop = new CancellationTokenSource();
        var run = Task.Run(() => Program.Run(args, TextWriter.Null, stderr, stop.Token));
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (Newest(checkpoints) <= after)
        {
            Assert.False(run.IsCompleted, $"eddy ended early: {buffer}");
            Assert.True(DateTime.UtcNow < deadline, $"no checkpoint after {after} appeared: {buffer}");
            await Task.Delay(20);
        }
        await stop.CancelAsync();
        Assert.Equal(130, await run);
        return buffer.ToString();
    }

    private static long Newest(string dir) => !Directory.Exists(dir) ? 0
        : Directory.GetDirectories(dir, "chk-*").Select(Path.GetFileName)
            .Select(n => long.TryParse(n!.AsSpan(4), out long id) ? id : 0).DefaultIfEmpty(0).Max();

    [Fact]
    public async Task A_job_run_again_resumes_from_its_latest_checkpoint_and_says_so_first()
    {
        using var ws = new Workspace();
        var script = ws.Script("clicks.sql");
        var first = await RunUntilCheckpoint(ws.Checkpoints, 0, "run", script);
        Assert.StartsWith("eddy run: job 'clicks' starts fresh", first);
        long taken = Newest(ws.Checkpoints);

        var second = await RunUntilCheckpoint(ws.Checkpoints, taken, "run", script);
        var firstLine = second.Split('\n')[0];
        Assert.StartsWith("eddy run: job 'clicks' resumes from checkpoint ", firstLine);
        long resumed = long.Parse(firstLine["eddy run: job 'clicks' resumes from checkpoint ".Length..].Split(' ')[0]);
        Assert.True(resumed >= taken, $"resumed from {resumed}, but {taken} existed");
        Assert.Contains(Path.Combine(ws.Checkpoints, $"chk-{resumed}"), firstLine);
        // Ids go on after the restored one.
        Assert.True(Newest(ws.Checkpoints) > resumed);

        long before = Newest(ws.Checkpoints);
        var fresh = await RunUntilCheckpoint(ws.Checkpoints, 0, "run", script, "--fresh");
        Assert.StartsWith("eddy run: job 'clicks' starts fresh", fresh);
        // --fresh deleted the old checkpoints: what is there now was taken by the fresh run.
        Assert.True(Newest(ws.Checkpoints) < before, $"old checkpoints survived --fresh ({Newest(ws.Checkpoints)} ≥ {before})");
    }

    [Fact]
    public async Task A_damaged_newest_checkpoint_is_skipped_with_a_warning()
    {
        using var ws = new Workspace();
        var script = ws.Script("orders.sql", "SET 'pipeline.name' = 'orders-job';");
        await RunUntilCheckpoint(ws.Checkpoints, 1, "run", script);
        var ids = Directory.GetDirectories(ws.Checkpoints, "chk-*").Select(d => long.Parse(Path.GetFileName(d)[4..])).Order().ToList();
        Assert.True(ids.Count >= 2);
        File.WriteAllBytes(Path.Combine(ws.Checkpoints, $"chk-{ids[^1]}", "_metadata"), [0, 1, 2]);

        var stderr = await RunUntilCheckpoint(ws.Checkpoints, ids[^1], "run", script);
        var lines = stderr.Split('\n');
        Assert.StartsWith($"eddy run: job 'orders-job' resumes from checkpoint {ids[^2]} ", lines[0]);
        Assert.Contains(lines, l => l.Contains($"checkpoint {ids[^1]}") && l.Contains("damaged") && l.Contains($"falling back to checkpoint {ids[^2]}"));
    }

    [Fact]
    public void A_savepoint_that_is_not_a_checkpoint_is_a_clear_error()
    {
        using var ws = new Workspace();
        var script = ws.Script("bad.sql");
        var (code, _, err) = CliTests.Run("run", script, "--from-savepoint", ws.Root);
        Assert.Equal(1, code);
        Assert.Contains("--from-savepoint", err);
        Assert.Contains(ws.Root, err);
    }
}

public class CheckpointOptionTests
{
    [Fact]
    public void Set_options_reach_the_job_config()
    {
        var session = new Eddy.Sql.SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        session.Execute("""
            SET 'execution.checkpointing.interval' = '10s';
            SET 'execution.checkpointing.timeout' = '2 min';
            SET 'execution.checkpointing.dir' = '/data/ck';
            SET 'state.checkpoints.num-retained' = '5';
            SET 'pipeline.name' = 'orders';
            SET 'restart-strategy.type' = 'exponential-delay';
            SET 'restart-strategy.exponential-delay.initial-backoff' = '500 ms';
            SET 'restart-strategy.exponential-delay.max-backoff' = '8 s';
            """);
        var config = session.JobConfig();
        Assert.Equal(TimeSpan.FromSeconds(10), config.CheckpointInterval);
        Assert.Equal(TimeSpan.FromMinutes(2), config.CheckpointTimeout);
        Assert.Equal("/data/ck", config.CheckpointDirectory);
        Assert.Equal(5, config.CheckpointsRetained);
        Assert.Equal("orders", config.JobName);
        var restart = config.RestartStrategy!;
        Assert.Equal("exponential-delay", restart.Type);
        Assert.Equal(TimeSpan.FromMilliseconds(500), restart.DelayBefore(1));
        Assert.Equal(TimeSpan.FromSeconds(4), restart.DelayBefore(4));
        Assert.Equal(TimeSpan.FromSeconds(8), restart.DelayBefore(10));
    }

    [Fact]
    public void A_bad_restart_strategy_is_refused_where_it_is_set()
    {
        var session = new Eddy.Sql.SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        var e = Assert.ThrowsAny<Exception>(() => session.Execute("SET 'restart-strategy.type' = 'sometimes';"));
        Assert.Contains("restart-strategy.type", e.Message);
    }

    [Fact]
    public void Fixed_delay_gives_up_after_its_attempts()
    {
        var s = Eddy.Runtime.RestartStrategy.FixedDelay(2, TimeSpan.FromSeconds(3));
        Assert.Equal(TimeSpan.FromSeconds(3), s.DelayBefore(2));
        Assert.Null(s.DelayBefore(3));
        Assert.Null(Eddy.Runtime.RestartStrategy.None.DelayBefore(1));
    }
}

/// <summary>A job name (its checkpoint folder) is owned by one live run at a time.</summary>
public class JobNameOwnershipTests
{
    private static string Script(string root, string name, bool setFolder = true)
    {
        string path = Path.Combine(root, name + ".sql");
        File.WriteAllText(path, $"""
            SET 'execution.checkpointing.interval' = '50 ms';
            {(setFolder ? $"SET 'execution.checkpointing.dir' = '{Path.Combine(root, "checkpoints")}';" : "")}
            CREATE TABLE clicks (id BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '2000');
            CREATE TABLE sink (id BIGINT) WITH ('connector' = 'blackhole');
            INSERT INTO sink SELECT id FROM clicks;
            """);
        return path;
    }

    private static string NewRoot()
    {
        string root = Path.Combine(Path.GetTempPath(), "eddy-owner-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(root);
        return root;
    }

    /// <summary>Starts <c>eddy</c> in this process and waits until its job started (or it ended); Stop() cancels it.</summary>
    private sealed class InProcessRun
    {
        private readonly StringWriter err = new();
        private readonly CancellationTokenSource stop = new();

        public InProcessRun(params string[] args)
        {
            var stderr = TextWriter.Synchronized(err);
            Exit = Task.Run(() => Program.Run(args, TextWriter.Null, stderr, stop.Token));
        }

        public Task<int> Exit { get; }

        public string Err => err.ToString();

        public async Task<InProcessRun> Started()
        {
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!Err.Contains("started"))
            {
                Assert.False(Exit.IsCompleted, Err);
                Assert.True(DateTime.UtcNow < deadline, Err);
                await Task.Delay(20);
            }
            return this;
        }

        public async Task<int> Stop()
        {
            await stop.CancelAsync();
            return await Exit;
        }
    }

    [Fact]
    public async Task A_second_run_of_a_running_job_name_is_refused_naming_the_holder_and_how_to_rename()
    {
        string root = NewRoot();
        try
        {
            // The folder comes from --set (a script's SET would override it), so a second run can be given another one.
            var script = Script(root, "twice", setFolder: false);
            string[] folder = ["--set", "execution.checkpointing.dir=" + Path.Combine(root, "checkpoints")];
            var first = await new InProcessRun(["run", script, .. folder]).Started();

            var (code, _, err) = CliTests.Run(["run", script, .. folder]);
            Assert.Equal(1, code);
            Assert.Contains("job name 'twice' is in use", err);
            Assert.Contains($"pid {Environment.ProcessId}", err);
            Assert.Contains(Path.Combine(root, "checkpoints"), err);
            Assert.Contains("--set execution.checkpointing.dir=", err);
            Assert.DoesNotContain("resumes from", err);

            // With its own folder (and name) the same script runs beside it.
            var renamed = await new InProcessRun("run", script, "--set", "pipeline.name=twice-2",
                "--set", "execution.checkpointing.dir=" + Path.Combine(root, "checkpoints-2")).Started();
            Assert.Equal(130, await renamed.Stop());
            // A loaded machine may not have completed the first checkpoint yet; the third run can only resume from one.
            var deadline = DateTime.UtcNow.AddMinutes(2);
            // A completed checkpoint is a folder named chk-<id> (one still being written carries a marker after the id).
            while (!Directory.EnumerateDirectories(Path.Combine(root, "checkpoints"), "chk-*", SearchOption.AllDirectories)
                .Any(d => long.TryParse(Path.GetFileName(d).AsSpan(4), out _)))
            {
                Assert.True(DateTime.UtcNow < deadline, "the first run completed no checkpoint");
                await Task.Delay(20);
            }
            Assert.Equal(130, await first.Stop());

            // The first run has ended: its name is free again.
            var third = await new InProcessRun(["run", script, .. folder]).Started();
            Assert.Contains("resumes from checkpoint", third.Err);
            Assert.Equal(130, await third.Stop());
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task A_SIGKILLed_holder_leaves_no_stale_lock()
    {
        string root = NewRoot();
        try
        {
            var script = Script(root, "killed");
            var info = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
            info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "eddy.dll"));
            info.ArgumentList.Add("run");
            info.ArgumentList.Add(script);
            using var child = System.Diagnostics.Process.Start(info)!;
            var childErr = new System.Text.StringBuilder();
            child.ErrorDataReceived += (_, e) => { lock (childErr) childErr.AppendLine(e.Data); };
            child.BeginErrorReadLine();
            child.BeginOutputReadLine();
            string Err() { lock (childErr) return childErr.ToString(); }
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!Err().Contains("started"))
            {
                Assert.False(child.HasExited, Err());
                Assert.True(DateTime.UtcNow < deadline, Err());
                await Task.Delay(20);
            }
            // While it lives the name is taken, and the message names the child's pid.
            var (code, _, err) = CliTests.Run("run", script);
            Assert.Equal(1, code);
            Assert.Contains($"pid {child.Id}", err);

            child.Kill(entireProcessTree: true); // SIGKILL
            await child.WaitForExitAsync();
            Assert.True(File.Exists(Path.Combine(root, "checkpoints", Eddy.Runtime.JobNameLock.LockFileName)));

            using var lk = Eddy.Runtime.JobNameLock.Acquire(Path.Combine(root, "checkpoints"), "killed", "this test");
            Assert.Equal("this test", File.ReadAllText(Path.Combine(root, "checkpoints", Eddy.Runtime.JobNameLock.HolderFileName)).Trim());
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
