using System.Collections.Concurrent;
using Eddy.Functions;
using Eddy.Runtime;

namespace Eddy.Sql.Tests.Functions;

/// <summary><c>async_words(s)</c>: the words of s, later (a delay that depends on the row, so calls finish out of order).</summary>
public sealed class AsyncWords : AsyncTableFunction<string>
{
    public async Task<IEnumerable<string>> Eval(long n, string? s, CancellationToken cancellation)
    {
        await Task.Delay((int)(n * 7 % 5), cancellation);
        return s is null ? [] : s.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }
}

/// <summary><c>async_pairs(n)</c>: (n, i) for i in 1..n % 4, as a value tuple (columns f0, f1).</summary>
public sealed class AsyncPairs : AsyncTableFunction<(long, string)>
{
    public async Task<IEnumerable<(long, string)>> Eval(long n)
    {
        await Task.Yield();
        return Enumerable.Range(1, (int)(n % 4)).Select(i => (n * 10 + i, $"p{i}")).ToList();
    }
}

/// <summary>Fails the first two calls of every row of a run, then answers (counted per run and row).</summary>
public sealed class AsyncFlaky : AsyncTableFunction<long>
{
    public static readonly ConcurrentDictionary<string, int> Calls = new();
    private string run = "";

    public override void Open(FunctionContext context) => run = context.GetJobParameter("test.run", "")!;

    public async Task<IEnumerable<long>> Eval(long n)
    {
        await Task.Yield();
        int call = Calls.AddOrUpdate($"{run}/{n}", 1, (_, c) => c + 1);
        if (call <= 2) throw new InvalidOperationException($"service unavailable (call {call})");
        return [n, -n];
    }
}

/// <summary>Never answers until cancelled.</summary>
public sealed class AsyncSilent : AsyncTableFunction<long>
{
    public async Task<IEnumerable<long>> Eval(long n, CancellationToken cancellation)
    {
        await Task.Delay(Timeout.Infinite, cancellation);
        return [n];
    }
}

/// <summary>Throws on row 3.</summary>
public sealed class AsyncPicky : AsyncTableFunction<long>
{
    public Task<IEnumerable<long>> Eval(long n) =>
        n == 3 ? throw new ArgumentException("three is not allowed") : Task.FromResult<IEnumerable<long>>([n]);
}

/// <summary>Flink's AsyncTableFunction in LATERAL TABLE; expected values computed here in plain C#.</summary>
public class AsyncTableFunctionTests : IDisposable
{
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("eddy-async-table-");

    public void Dispose() => folder.Delete(recursive: true);

    private static readonly string[] Texts = ["a quick fox", "", "jumps", "over the lazy dog", "x y"];

    private string Rows(int count)
    {
        string path = Path.Combine(folder.FullName, $"{Guid.NewGuid():N}.csv");
        File.WriteAllLines(path, Enumerable.Range(1, count).Select(n => $"{n},{Texts[n % Texts.Length]},secret-{n}"));
        return path;
    }

    private static string Script(string path, string query, string settings = "") => $"""
        SET 'parallelism.default' = '1';
        {settings}
        CREATE FUNCTION async_words AS '{typeof(AsyncWords).FullName}';
        CREATE FUNCTION async_pairs AS '{typeof(AsyncPairs).FullName}';
        CREATE FUNCTION async_flaky AS '{typeof(AsyncFlaky).FullName}';
        CREATE FUNCTION async_silent AS '{typeof(AsyncSilent).FullName}';
        CREATE FUNCTION async_picky AS '{typeof(AsyncPicky).FullName}';
        CREATE TABLE t (n BIGINT, s STRING, api_token STRING) WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'csv');
        CREATE TABLE out3 (n BIGINT, a STRING, b STRING) WITH ('connector' = 'print');
        CREATE TABLE out2 (n BIGINT, a STRING) WITH ('connector' = 'print');
        INSERT INTO {query};
        """;

    private static async Task<(JobResult Result, List<string> Lines)> Run(string script, string file = "async-table.sql")
    {
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null);
        var job = Assert.Single(session.Execute(script, file));
        var result = await job.Environment.ExecuteAsync(job.Name).WaitAsync(TimeSpan.FromMinutes(2));
        return (result, output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList());
    }

    private static string Messages(Exception e)
    {
        var parts = new List<string>();
        for (var x = e; x is not null; x = x.InnerException) parts.Add(x.Message);
        return string.Join(" <- ", parts);
    }

    [Fact]
    public async Task Rows_arrive_in_input_order_as_plain_csharp_computes_them()
    {
        const int rows = 120;
        var (result, lines) = await Run(Script(Rows(rows), "out2 SELECT n, w FROM t, LATERAL TABLE(async_words(n, s)) AS x(w)",
            "SET 'table.exec.async-table.buffer-capacity' = '20';"));
        Assert.Null(result.Failure);
        var expected = Enumerable.Range(1, rows).SelectMany(n => Texts[n % Texts.Length].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(w => $"+I[{n}, {w}]"));
        Assert.Equal(expected, lines);
    }

    [Fact]
    public async Task Left_join_lateral_keeps_rows_without_results_and_tuples_give_their_columns()
    {
        const int rows = 30;
        var (result, lines) = await Run(Script(Rows(rows), "out3 SELECT n, CAST(k AS STRING), p FROM t LEFT JOIN LATERAL TABLE(async_pairs(n)) AS x(k, p) ON TRUE"));
        Assert.Null(result.Failure);
        var expected = Enumerable.Range(1, rows).SelectMany(n => n % 4 == 0
            ? [$"+I[{n}, null, null]"]
            : Enumerable.Range(1, n % 4).Select(i => $"+I[{n}, {n * 10 + i}, p{i}]"));
        Assert.Equal(expected, lines);
    }

    [Fact]
    public async Task A_failing_call_is_retried_up_to_max_attempts_and_without_retries_the_job_fails()
    {
        string run = Guid.NewGuid().ToString("N");
        var (result, lines) = await Run(Script(Rows(10), "out2 SELECT n, CAST(v AS STRING) FROM t, LATERAL TABLE(async_flaky(n)) AS x(v)",
            $"SET 'test.run' = '{run}'; SET 'table.exec.async-table.retry-delay' = '10 ms';"));
        Assert.Null(result.Failure);
        Assert.Equal(Enumerable.Range(1, 10).SelectMany(n => new[] { $"+I[{n}, {n}]", $"+I[{n}, {-n}]" }), lines);
        Assert.All(Enumerable.Range(1, 10), n => Assert.Equal(3, AsyncFlaky.Calls[$"{run}/{n}"]));

        string noRetry = Guid.NewGuid().ToString("N");
        (result, _) = await Run(Script(Rows(10), "out2 SELECT n, CAST(v AS STRING) FROM t, LATERAL TABLE(async_flaky(n)) AS x(v)",
            $"SET 'test.run' = '{noRetry}'; SET 'table.exec.async-table.retry-strategy' = 'NO_RETRY';"), "flaky.sql");
        Assert.NotNull(result.Failure);
        var message = Messages(result.Failure!);
        Assert.Contains("function ASYNC_FLAKY (flaky.sql: line 11, column", message);
        Assert.Contains("service unavailable (call 1)", message);
        Assert.Equal(1, AsyncFlaky.Calls[$"{noRetry}/1"]);
    }

    [Fact]
    public async Task A_call_out_of_time_fails_the_job()
    {
        var (result, _) = await Run(Script(Rows(3), "out2 SELECT n, CAST(v AS STRING) FROM t, LATERAL TABLE(async_silent(n)) AS x(v)",
            "SET 'table.exec.async-table.timeout' = '200 ms';"), "silent.sql");
        Assert.NotNull(result.Failure);
        var message = Messages(result.Failure!);
        Assert.Contains("function ASYNC_SILENT (silent.sql: line 11, column", message);
        Assert.Contains("no result within table.exec.async-table.timeout = 200 ms", message);
    }

    [Fact]
    public async Task A_throwing_function_fails_the_job_naming_it_the_position_and_the_masked_row()
    {
        var (result, _) = await Run(Script(Rows(5), "out2 SELECT n, CAST(v AS STRING) FROM t, LATERAL TABLE(async_picky(n)) AS x(v)"), "picky.sql");
        Assert.NotNull(result.Failure);
        var message = Messages(result.Failure!);
        Assert.Contains("function ASYNC_PICKY (picky.sql: line 11, column 68) failed on row [n=3, s='over the lazy dog', api_token=******]: ArgumentException: three is not allowed", message);
    }
}
