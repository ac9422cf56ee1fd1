using System.Collections.Concurrent;
using Eddy.Functions;
using Eddy.Runtime;
using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests.Functions;

/// <summary>What the instances of one test run did: per instance, opens, closes, and calls made while open.</summary>
public sealed class LifecycleLog
{
    public static readonly ConcurrentDictionary<string, LifecycleLog> Runs = new();

    public readonly ConcurrentDictionary<object, int> Opened = new(ReferenceEqualityComparer.Instance);
    public readonly ConcurrentDictionary<object, int> Closed = new(ReferenceEqualityComparer.Instance);
    public readonly ConcurrentDictionary<object, int> Calls = new(ReferenceEqualityComparer.Instance);
    public readonly ConcurrentBag<(int Subtask, int Parallelism, string? Suffix)> Contexts = [];
    public int CallsOutsideOpenClose;

    public static LifecycleLog Of(FunctionContext context) => Runs.GetOrAdd(context.GetJobParameter("test.run", "none")!, _ => new());

    public void Open(object instance, FunctionContext context)
    {
        Opened.AddOrUpdate(instance, 1, (_, n) => n + 1);
        Contexts.Add((context.SubtaskIndex, context.Parallelism, context.GetJobParameter("test.suffix", "(default)")));
    }

    public void Call(object instance)
    {
        if (!Opened.ContainsKey(instance) || Closed.ContainsKey(instance)) Interlocked.Increment(ref CallsOutsideOpenClose);
        Calls.AddOrUpdate(instance, 1, (_, n) => n + 1);
    }

    public void Close(object instance) => Closed.AddOrUpdate(instance, 1, (_, n) => n + 1);
}

/// <summary><c>tagged(s)</c>: s + the job parameter <c>test.suffix</c>, read in Open; fails on 'boom'.</summary>
public sealed class Tagged : ScalarFunction
{
    private LifecycleLog? log;
    private string suffix = "";

    public override void Open(FunctionContext context)
    {
        log = LifecycleLog.Of(context);
        log.Open(this, context);
        suffix = context.GetJobParameter("test.suffix", "-default")!;
    }

    public string? Eval(string? s)
    {
        log?.Call(this);
        if (log is null) throw new InvalidOperationException("called before Open");
        return s == "boom" ? throw new InvalidOperationException("boom") : s + suffix;
    }

    public override void Close() => log?.Close(this);
}

/// <summary><c>LATERAL TABLE(letters(s))</c>: one row per character, counted per instance.</summary>
public sealed class Letters : TableFunction<string>
{
    private LifecycleLog? log;

    public override void Open(FunctionContext context)
    {
        log = LifecycleLog.Of(context);
        log.Open(this, context);
    }

    public IEnumerable<string> Eval(string? s)
    {
        (log ?? throw new InvalidOperationException("called before Open")).Call(this);
        return s is null ? [] : s.Select(c => c.ToString());
    }

    public override void Close() => log?.Close(this);
}

/// <summary><c>async_upper(s)</c>: upper case, later; counted per instance.</summary>
public sealed class AsyncUpper : AsyncScalarFunction
{
    private LifecycleLog? log;

    public override void Open(FunctionContext context)
    {
        log = LifecycleLog.Of(context);
        log.Open(this, context);
    }

    public async Task<string?> Eval(string? s)
    {
        (log ?? throw new InvalidOperationException("called before Open")).Call(this);
        await Task.Yield();
        return s?.ToUpperInvariant();
    }

    public override void Close() => log?.Close(this);
}

/// <summary>Throws in Open.</summary>
public sealed class CannotOpen : ScalarFunction
{
    public override void Open(FunctionContext context) => throw new InvalidOperationException("no connection to the rules service");

    public string? Eval(string? s) => s;
}

/// <summary>An aggregate with a lifecycle (opened in GROUP BY and window aggregations; see AggregateLifecycleTests).</summary>
public sealed class OpenedCount : AggregateFunction<long, OpenedCount.Counter>
{
    public sealed class Counter
    {
        public long N;
    }

    public override void Open(FunctionContext context)
    {
    }

    public override Counter CreateAccumulator() => new();

    public void Accumulate(Counter c, string? s) => c.N++;

    public override long GetValue(Counter c) => c.N;
}

/// <summary>
/// Flink's open/close lifecycle: each parallel operator instance opens its own function instance once before its first
/// row and closes it once after its last, also when the job fails; the context carries the job's SET options.
/// </summary>
public class FunctionLifecycleTests : IDisposable
{
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("eddy-lifecycle-");

    public void Dispose() => folder.Delete(recursive: true);

    private static string Functions => $"""
        CREATE FUNCTION tagged AS '{typeof(Tagged).FullName}';
        CREATE FUNCTION letters AS '{typeof(Letters).FullName}';
        CREATE FUNCTION async_upper AS '{typeof(AsyncUpper).FullName}';
        CREATE FUNCTION cannot_open AS '{typeof(CannotOpen).FullName}';
        CREATE FUNCTION opened_count AS '{typeof(OpenedCount).FullName}';
        """;

    private string Words(params string[] words)
    {
        string path = Path.Combine(folder.FullName, $"{Guid.NewGuid():N}.csv");
        File.WriteAllLines(path, words);
        return path;
    }

    private static async Task<(JobResult Result, string Output)> Run(string script, string file = "lifecycle.sql")
    {
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null);
        var job = Assert.Single(session.Execute(script, file));
        var result = await job.Environment.ExecuteAsync(job.Name).WaitAsync(TimeSpan.FromMinutes(2));
        return (result, output.ToString());
    }

    private static void EachInstanceOpenedAndClosedOnce(LifecycleLog log, int instances)
    {
        Assert.Equal(instances, log.Opened.Count);
        Assert.All(log.Opened.Values, n => Assert.Equal(1, n));
        Assert.Equal(log.Opened.Keys.ToHashSet(ReferenceEqualityComparer.Instance), log.Closed.Keys.ToHashSet(ReferenceEqualityComparer.Instance));
        Assert.All(log.Closed.Values, n => Assert.Equal(1, n));
        Assert.Equal(0, log.CallsOutsideOpenClose);
    }

    [Theory]
    [InlineData("SELECT tagged(w) FROM words", 1)]
    [InlineData("SELECT tagged(w) FROM words", 3)]
    [InlineData("SELECT w, l FROM words, LATERAL TABLE(letters(w)) AS t(l)", 2)]
    [InlineData("SELECT async_upper(w) FROM words", 2)]
    public async Task Every_operator_instance_opens_its_own_instance_once_and_closes_it_once(string query, int parallelism)
    {
        string run = Guid.NewGuid().ToString("N");
        var words = Enumerable.Range(0, 300).Select(i => $"w{i}").ToArray();
        var (result, output) = await Run($"""
            SET 'parallelism.default' = '{parallelism}';
            SET 'test.run' = '{run}';
            SET 'test.suffix' = '!';
            {Functions}
            CREATE TABLE words (w STRING) WITH ('connector' = 'filesystem', 'path' = '{Words(words)}', 'format' = 'csv');
            CREATE TABLE out (a STRING, b STRING) WITH ('connector' = 'blackhole');
            CREATE TABLE single (a STRING) WITH ('connector' = 'print');
            INSERT INTO {(query.Contains("LATERAL", StringComparison.Ordinal) ? "out" : "single")} {query};
            """);
        Assert.Null(result.Failure);
        var log = LifecycleLog.Runs[run];
        EachInstanceOpenedAndClosedOnce(log, parallelism);
        Assert.Equal(Enumerable.Range(0, parallelism), log.Contexts.Select(c => c.Subtask).Order());
        Assert.All(log.Contexts, c => Assert.Equal((parallelism, "!"), (c.Parallelism, c.Suffix)));
        Assert.Equal(words.Length, log.Calls.Values.Sum());
        if (query.StartsWith("SELECT tagged", StringComparison.Ordinal))
            Assert.Equal(words.Select(w => $"+I[{w}!]").Order(StringComparer.Ordinal), output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => System.Text.RegularExpressions.Regex.Replace(l.Trim(), @"^\d+> ", "")).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_function_that_fails_on_a_row_is_closed_too()
    {
        string run = Guid.NewGuid().ToString("N");
        var (result, _) = await Run($"""
            SET 'parallelism.default' = '2';
            SET 'test.run' = '{run}';
            {Functions}
            CREATE TABLE words (w STRING) WITH ('connector' = 'filesystem', 'path' = '{Words("a", "b", "boom", "c")}', 'format' = 'csv');
            CREATE TABLE out (a STRING) WITH ('connector' = 'blackhole');
            INSERT INTO out SELECT tagged(w) FROM words;
            """);
        Assert.NotNull(result.Failure);
        EachInstanceOpenedAndClosedOnce(LifecycleLog.Runs[run], 2);
    }

    [Fact]
    public async Task An_exception_in_open_fails_the_job_naming_the_function()
    {
        var (result, _) = await Run($"""
            {Functions}
            CREATE TABLE words (w STRING) WITH ('connector' = 'filesystem', 'path' = '{Words("a")}', 'format' = 'csv');
            CREATE TABLE out (a STRING) WITH ('connector' = 'blackhole');
            INSERT INTO out SELECT cannot_open(w) FROM words;
            """, "open.sql");
        Assert.NotNull(result.Failure);
        var messages = new List<string>();
        for (Exception? e = result.Failure; e is not null; e = e.InnerException) messages.Add(e.Message);
        Assert.Contains(messages, m => m.Contains("function CANNOT_OPEN (open.sql: line 8, column 24) failed to open: InvalidOperationException: no connection to the rules service", StringComparison.Ordinal));
    }

    [Fact]
    public void Where_eddy_would_not_open_the_function_it_is_refused_where_it_is_written()
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        session.Execute($"""
            {Functions}
            CREATE TABLE words (w STRING) WITH ('connector' = 'filesystem', 'path' = '{Words("a")}', 'format' = 'csv');
            CREATE TABLE out (a STRING) WITH ('connector' = 'blackhole');
            CREATE TABLE counts (n BIGINT) WITH ('connector' = 'blackhole');
            """);
        var e = Assert.Throws<SqlParseException>(() => session.Execute(
            "INSERT INTO out SELECT a.w FROM words AS a JOIN words AS b ON a.w = b.w AND tagged(a.w) <> b.w;", "join.sql"));
        Assert.Contains("function TAGGED has a lifecycle", e.Message);
    }
}
