using System.Collections.Concurrent;
using System.Globalization;
using Eddy.Functions;
using Eddy.Runtime;
using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests.Functions;

/// <summary><c>slow_square(n)</c>: "n:n²" after a delay that depends on n, so calls finish out of input order.</summary>
public sealed class SlowSquare : AsyncScalarFunction
{
    public async Task<string?> Eval(long? n, CancellationToken cancellation)
    {
        if (n is null) return null;
        await Task.Delay((int)(n.Value * 7 % 4), cancellation);
        return $"{n}:{n * n}";
    }
}

/// <summary><c>plus_ten(n)</c>: n + 10, later (for nesting).</summary>
public sealed class PlusTen : AsyncScalarFunction
{
    public async Task<long> Eval(long n)
    {
        await Task.Yield();
        return n + 10;
    }
}

/// <summary>
/// Holds row 1's call until row 2's call has started: a job finishes only if the operator starts a call before the
/// previous one has completed (a synchronous operator would wait for row 1 forever).
/// </summary>
public sealed class WaitsForTheNext : AsyncScalarFunction
{
    private readonly TaskCompletionSource second = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task<long> Eval(long n)
    {
        if (n == 2) second.TrySetResult();
        if (n == 1) await second.Task;
        return n;
    }
}

/// <summary>Fails the first two attempts of every value, then answers n: needs three attempts.</summary>
public sealed class FailsTwice : AsyncScalarFunction
{
    public static readonly ConcurrentDictionary<string, int> Attempts = new();
    private string run = "";

    public override void Open(FunctionContext context) => run = context.GetJobParameter("test.run", "")!;

    public Task<long> Eval(long n)
    {
        int attempt = Attempts.AddOrUpdate($"{run}/{n}", 1, (_, a) => a + 1);
        return attempt <= 2 ? Task.FromException<long>(new InvalidOperationException($"service unavailable (attempt {attempt})")) : Task.FromResult(n);
    }
}

/// <summary>Never answers (until cancelled): every call times out.</summary>
public sealed class NeverAnswers : AsyncScalarFunction
{
    public async Task<long> Eval(long n, CancellationToken cancellation)
    {
        await Task.Delay(Timeout.Infinite, cancellation);
        return n;
    }
}

/// <summary>
/// Rows 40..59 wait until the test releases them; every call of a run is counted per value (the run is the job
/// parameter <c>test.run</c>).
/// </summary>
public sealed class HeldLookup : AsyncScalarFunction
{
    public static readonly ConcurrentDictionary<string, TaskCompletionSource> Release = new();
    public static readonly ConcurrentDictionary<string, int> Calls = new();
    private string run = "";

    public override void Open(FunctionContext context) => run = context.GetJobParameter("test.run", "")!;

    public async Task<string> Eval(long n, CancellationToken cancellation)
    {
        Calls.AddOrUpdate($"{run}/{n}", 1, (_, c) => c + 1);
        if (n is >= 40 and <= 59) await Release.GetOrAdd(run, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).Task.WaitAsync(cancellation);
        return $"looked-up-{n}";
    }
}

/// <summary>Async scalar functions (Flink's AsyncScalarFunction) from SQL; expected values computed here in plain C#.</summary>
public class AsyncScalarFunctionTests : IDisposable
{
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("eddy-async-scalar-");

    public void Dispose() => folder.Delete(recursive: true);

    private string Numbers(int count, string name = "numbers.csv")
    {
        string path = Path.Combine(folder.FullName, name);
        File.WriteAllLines(path, Enumerable.Range(1, count).Select(n => $"{n},secret-{n}"));
        return path;
    }

    private static string Functions => $"""
        CREATE FUNCTION slow_square AS '{typeof(SlowSquare).FullName}';
        CREATE FUNCTION plus_ten AS '{typeof(PlusTen).FullName}';
        CREATE FUNCTION waits_for_the_next AS '{typeof(WaitsForTheNext).FullName}';
        CREATE FUNCTION fails_twice AS '{typeof(FailsTwice).FullName}';
        CREATE FUNCTION never_answers AS '{typeof(NeverAnswers).FullName}';
        CREATE FUNCTION held_lookup AS '{typeof(HeldLookup).FullName}';
        """;

    private string Table(string path) =>
        $"CREATE TABLE numbers (n BIGINT, api_token STRING) WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'csv');";

    private static async Task<(JobResult Result, List<string> Lines)> Run(string script, string file = "async.sql")
    {
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null);
        var job = Assert.Single(session.Execute(script, file));
        var result = await job.Environment.ExecuteAsync(job.Name).WaitAsync(TimeSpan.FromMinutes(2));
        return (result, Lines(output.ToString()));
    }

    private static List<string> Lines(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();

    private static string Messages(Exception e)
    {
        var parts = new List<string>();
        for (var x = e; x is not null; x = x.InnerException) parts.Add(x.Message);
        return string.Join(" <- ", parts);
    }

    [Fact]
    public async Task Results_arrive_in_input_order_in_projections_and_where_as_plain_csharp_computes_them()
    {
        const int count = 500;
        var (result, lines) = await Run($"""
            SET 'parallelism.default' = '1';
            {Functions}
            {Table(Numbers(count))}
            CREATE TABLE out (n BIGINT, sq STRING, nested BIGINT, twice STRING) WITH ('connector' = 'print');
            INSERT INTO out
            SELECT n, slow_square(n), plus_ten(plus_ten(n)), CONCAT(slow_square(n), '/', slow_square(n + 1))
            FROM numbers WHERE slow_square(n) NOT LIKE '%5:%';
            """);
        Assert.Null(result.Failure);
        string Square(long n) => $"{n}:{n * n}";
        var expected = Enumerable.Range(1, count).Select(n => (long)n).Where(n => !Square(n).Contains("5:", StringComparison.Ordinal))
            .Select(n => $"+I[{n}, {Square(n)}, {n + 20}, {Square(n)}/{Square(n + 1)}]").ToList();
        Assert.Equal(expected, lines);
    }

    [Fact]
    public async Task A_call_starts_before_the_previous_has_finished()
    {
        var (result, lines) = await Run($"""
            SET 'parallelism.default' = '1';
            SET 'table.exec.async-scalar.retry-strategy' = 'NO_RETRY';
            {Functions}
            {Table(Numbers(5))}
            CREATE TABLE out (n BIGINT) WITH ('connector' = 'print');
            INSERT INTO out SELECT waits_for_the_next(n) FROM numbers;
            """);
        Assert.Null(result.Failure);
        Assert.Equal(["+I[1]", "+I[2]", "+I[3]", "+I[4]", "+I[5]"], lines);
    }

    // No max-attempts SET: Flink's default of 3 attempts lets every call through on its third.
    [Fact]
    public async Task A_failing_call_is_retried_up_to_max_attempts()
    {
        string run = Guid.NewGuid().ToString("N");
        var (result, lines) = await Run($"""
            SET 'parallelism.default' = '1';
            SET 'test.run' = '{run}';
            SET 'table.exec.async-scalar.retry-delay' = '1 ms';
            {Functions}
            {Table(Numbers(20))}
            CREATE TABLE out (n BIGINT) WITH ('connector' = 'print');
            INSERT INTO out SELECT fails_twice(n) FROM numbers;
            """);
        Assert.Null(result.Failure);
        Assert.Equal(Enumerable.Range(1, 20).Select(n => $"+I[{n}]"), lines);
        Assert.All(Enumerable.Range(1, 20), n => Assert.Equal(3, FailsTwice.Attempts[$"{run}/{n}"]));
    }

    [Fact]
    public async Task Out_of_attempts_the_job_fails_naming_the_function_the_position_and_the_masked_row()
    {
        string run = Guid.NewGuid().ToString("N");
        var (result, _) = await Run($"""
            SET 'parallelism.default' = '1';
            SET 'test.run' = '{run}';
            SET 'table.exec.async-scalar.retry-delay' = '1 ms';
            SET 'table.exec.async-scalar.max-attempts' = '2';
            {Functions}
            {Table(Numbers(3))}
            CREATE TABLE out (n BIGINT) WITH ('connector' = 'print');
            INSERT INTO out
            SELECT   fails_twice(n) FROM numbers;
            """, "failing.sql");
        Assert.NotNull(result.Failure);
        string message = Messages(result.Failure);
        Assert.Contains("function FAILS_TWICE (failing.sql: line 14, column 10) failed on row [n=1, api_token=******]", message);
        Assert.Contains("InvalidOperationException: service unavailable (attempt 2)", message);
        Assert.DoesNotContain("secret-1", message);
        Assert.Equal(2, FailsTwice.Attempts[$"{run}/1"]);
    }

    [Fact]
    public async Task Without_retries_the_first_failure_fails_the_job()
    {
        string run = Guid.NewGuid().ToString("N");
        var (result, _) = await Run($"""
            SET 'parallelism.default' = '1';
            SET 'test.run' = '{run}';
            SET 'table.exec.async-scalar.retry-strategy' = 'NO_RETRY';
            {Functions}
            {Table(Numbers(1))}
            CREATE TABLE out (n BIGINT) WITH ('connector' = 'print');
            INSERT INTO out SELECT fails_twice(n) FROM numbers;
            """);
        Assert.Contains("service unavailable (attempt 1)", Messages(result.Failure!));
        Assert.Equal(1, FailsTwice.Attempts[$"{run}/1"]);
    }

    [Fact]
    public async Task A_call_out_of_time_fails_the_job()
    {
        var (result, _) = await Run($"""
            SET 'parallelism.default' = '1';
            SET 'table.exec.async-scalar.timeout' = '50 ms';
            {Functions}
            {Table(Numbers(2))}
            CREATE TABLE out (n BIGINT) WITH ('connector' = 'print');
            INSERT INTO out SELECT never_answers(n) FROM numbers;
            """, "late.sql");
        string message = Messages(result.Failure!);
        Assert.Contains("function NEVER_ANSWERS (late.sql: line 11, column 24) failed on row [n=1, api_token=******]", message);
        Assert.Contains("TimeoutException: no result within table.exec.async-scalar.timeout = 50 ms", message);
    }

    [Fact]
    public void Bad_options_and_calls_are_refused_where_they_are_written()
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        var e = Assert.Throws<SqlParseException>(() => session.Execute("SET 'table.exec.async-scalar.retry-strategy' = 'EXPONENTIAL';", "bad.sql"));
        Assert.Contains("is NO_RETRY or FIXED_DELAY", e.Message);
        e = Assert.Throws<SqlParseException>(() => session.Execute("SET 'table.exec.async-scalar.buffer-capacity' = '0';", "bad.sql"));
        Assert.Contains("positive whole number", e.Message);
        session.Execute($"""
            {Functions}
            {Table(Numbers(1))}
            CREATE TABLE other (n BIGINT, s STRING) WITH ('connector' = 'filesystem', 'path' = '{Numbers(1, "other.csv")}', 'format' = 'csv');
            CREATE TABLE out (n BIGINT) WITH ('connector' = 'blackhole');
            """);
        e = Assert.Throws<SqlParseException>(() => session.Execute("INSERT INTO out SELECT slow_square('x') FROM numbers;", "bad.sql"));
        Assert.Contains("no overload of async function SLOW_SQUARE takes (STRING", e.Message);
        // A join's residual condition is no projection: Eddy does not run an async call there.
        e = Assert.Throws<SqlParseException>(() => session.Execute(
            "INSERT INTO out SELECT a.n FROM numbers AS a JOIN other AS b ON a.n = b.n AND slow_square(a.n) <> b.s;", "bad.sql"));
        Assert.Contains("bad.sql: line 1, column 79", e.Message);
        Assert.Contains("async function SLOW_SQUARE runs in the projections and WHERE conditions", e.Message);
    }

    [Fact]
    public async Task Rows_in_flight_at_a_checkpoint_are_called_again_after_restore_and_emitted_exactly_once()
    {
        const int rows = 200;
        string run = Guid.NewGuid().ToString("N");
        string script = $"""
            SET 'parallelism.default' = '1';
            SET 'test.run' = '{run}';
            SET 'table.exec.async-scalar.buffer-capacity' = '150';
            {Functions}
            {Table(Numbers(rows))}
            CREATE TABLE out (n BIGINT, v STRING) WITH ('connector' = 'print');
            INSERT INTO out SELECT n, held_lookup(n) FROM numbers;
            """;
        var output = new CommittedOutput();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null);
        var job = Assert.Single(session.Execute(script));
        var hold = new SourceHold((_, _) => 100);
        job.Environment.Configure(c => c with
        {
            JobName = "async-scalar-restore",
            CheckpointInterval = TimeSpan.FromDays(1),
            CheckpointDirectory = Path.Combine(folder.FullName, "checkpoints"),
            RestartStrategy = RestartStrategy.None,
            SourceHold = hold,
        });
        var timeout = TimeSpan.FromMinutes(2);
        var first = job.Environment.Start(job.Name);
        await hold.WaitAllHeldAsync(1, timeout);
        // Rows 40..59 were called and wait; the rows behind them are done but wait for them (ordered output).
        var deadline = DateTime.UtcNow + timeout;
        while (Enumerable.Range(40, 20).Any(n => !HeldLookup.Calls.ContainsKey($"{run}/{n}")) && DateTime.UtcNow < deadline) await Task.Delay(5);
        var stats = await first.TriggerCheckpoint().WaitAsync(timeout);
        Assert.True(stats.Status == CheckpointStatus.Completed, $"checkpoint {stats.Id}: {stats}");
        while (output.Commits == 0 && DateTime.UtcNow < deadline) await Task.Delay(5);
        first.Cancel();
        Assert.Equal(JobStatus.Cancelled, (await first.Completion.WaitAsync(timeout)).Status);
        // Committed before the stop: a prefix of the rows before the held ones (their answers never came).
        var committed = Lines(output.ToString());
        Assert.Equal(Enumerable.Range(1, committed.Count).Select(n => $"+I[{n}, looked-up-{n}]"), committed);
        Assert.True(committed.Count < 40);

        HeldLookup.Release.GetOrAdd(run, _ => new()).TrySetResult();
        job.Environment.Configure(c => c with { SourceHold = new SourceHold(), RestorePath = stats.Path });
        var second = job.Environment.Start(job.Name);
        var result = await second.Completion.WaitAsync(timeout);
        if (result.Failure is not null) throw result.Failure;
        Assert.Equal(stats.Id, second.RestoredFrom?.Id);
        // Every row once, in order: none lost, none doubled.
        Assert.Equal(Enumerable.Range(1, rows).Select(n => $"+I[{n}, looked-up-{n}]"), Lines(output.ToString()));
        // The held rows were in flight at the checkpoint: called again after the restore. Rows read after it: once.
        Assert.All(Enumerable.Range(40, 20), n => Assert.Equal(2, HeldLookup.Calls[$"{run}/{n}"]));
        Assert.All(Enumerable.Range(101, rows - 100), n => Assert.Equal(1, HeldLookup.Calls[$"{run}/{n}"]));
    }
}
