using System.CommandLine;
using Eddy.Cli;

namespace Eddy.Tests;

public class CliTests
{
    internal static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Version_prints_the_version()
    {
        var (code, output, _) = Run("version");
        Assert.Equal(0, code);
        Assert.StartsWith("eddy 0.1.0 (.NET 10.", output);
    }

    public static TheoryData<string> Commands()
    {
        var data = new TheoryData<string>();
        foreach (var path in Walk(Program.BuildCommand(TextWriter.Null, TextWriter.Null), "")) data.Add(path);
        return data;
    }

    private static IEnumerable<string> Walk(Command command, string prefix)
    {
        foreach (var sub in command.Subcommands)
        {
            var path = (prefix + " " + sub.Name).Trim();
            yield return path;
            foreach (var p in Walk(sub, path)) yield return p;
        }
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Every_command_has_help(string command)
    {
        var (code, output, _) = Run([.. command.Split(' '), "--help"]);
        Assert.Equal(0, code);
        Assert.Contains("Usage:", output);
        var usage = output[output.IndexOf("Usage:", StringComparison.Ordinal)..];
        Assert.Contains($" {command} ", usage);
        Assert.Contains("[options]", usage);
    }

    [Fact]
    public void An_unknown_command_is_an_error_that_names_it()
    {
        var (code, _, err) = Run("frobnicate");
        Assert.NotEqual(0, code);
        Assert.Contains("frobnicate", err);
    }
}

public class CliJobTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("eddy-cli-").FullName;

    public void Dispose()
    {
        Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }


    [Fact]
    public void Demo_prints_window_counts_and_ends_with_zero()
    {
        var (code, output, err) = CliTests.Run("demo", "--events", "5000", "--seed", "3");
        Assert.Equal(0, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.Matches(@"^[-+][IU]\[\d{4}-\d\d-\d\d \d\d:\d\d:00\.000, [a-z.]+, \d+\]$", l));
        // Every event lands in exactly one final count (late ones go to the side output): the +I/+U totals,
        // less what -U retracted, add up to the events that were not too late.
        long total = lines.Sum(l => (l.StartsWith("-U", StringComparison.Ordinal) ? -1 : 1) * long.Parse(l[(l.LastIndexOf(' ') + 1)..^1]));
        long late = long.Parse(System.Text.RegularExpressions.Regex.Match(err, @"(\d+) event\(s\) arrived too late").Groups[1].Value);
        Assert.Equal(5000, total + late);
    }

    [Fact]
    public void Run_executes_a_sql_file_and_reports_located_errors()
    {
        var data = Path.Combine(dir, "d.csv");
        File.WriteAllLines(data, ["a,1", "b,2", "a,3"]);
        var job = Path.Combine(dir, "job.sql");
        File.WriteAllText(job, $"""
            CREATE TABLE t (k STRING, v INT) WITH ('connector' = 'filesystem', 'path' = '{data}', 'format' = 'csv');
            CREATE TABLE p (k STRING, v INT) WITH ('connector' = 'print');
            INSERT INTO p SELECT k, v * 10 FROM t WHERE v > 1;
            """);
        var (code, output, _) = CliTests.Run("run", job);
        Assert.Equal(0, code);
        Assert.Equal(["+I[a, 30]", "+I[b, 20]"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());

        File.WriteAllText(job, "CREATE TABLE t (k STRING) WITH ('connector' = 'datagen');\nINSERT INTO missing SELECT k FROM t;\n");
        var (failed, _, err) = CliTests.Run("run", job);
        Assert.Equal(1, failed);
        Assert.Contains("job.sql: line 2, column 13: unknown table 'missing'", err);
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public void Run_summary_counts_the_records_a_source_left_out()
    {
        var data = Path.Combine(dir, "bad.csv");
        File.WriteAllLines(data, ["a,1", "b,x", "c,3", "d,4,5"]);
        var job = Path.Combine(dir, "skipping.sql");
        File.WriteAllText(job, $"""
            CREATE TABLE t (k STRING, v INT) WITH ('connector' = 'filesystem', 'path' = '{data}', 'format' = 'csv', 'csv.ignore-parse-errors' = 'true');
            CREATE TABLE p (k STRING, v INT) WITH ('connector' = 'print');
            INSERT INTO p SELECT k, v FROM t;
            """);
        var (code, output, err) = CliTests.Run("run", job, "--fresh");
        Assert.Equal(0, code);
        Assert.Equal(["+I[a, 1]", "+I[c, 3]"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());
        // Line 2 ('x' is no INT) and line 4 (three fields) are left out.
        Assert.Matches(@"eddy run: job '[^']+': '[^']*t[^']*' left out 2 record\(s\) it could not decode", err);
    }

    [Fact]
    public void Explain_prints_logical_and_physical_plans_and_set_applies()
    {
        var job = Path.Combine(dir, "job.sql");
        File.WriteAllText(job, """
            CREATE TABLE t (k STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector' = 'datagen');
            CREATE TABLE p (k STRING, n BIGINT) WITH ('connector' = 'print');
            INSERT INTO p SELECT k, COUNT(*) FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end, k;
            """);
        var (code, output, _) = CliTests.Run("explain", job, "--set", "parallelism.default=2");
        Assert.Equal(0, code);
        Assert.Contains("== Logical Plan ==", output);
        Assert.Contains("WindowAggregate(window=[TUMBLE(size=[60000 ms])]", output);
        Assert.Contains("== Physical Plan ==", output);
        Assert.Contains("parallelism=2", output);
        Assert.Contains("[Hash]", output);
        Assert.Contains("watermark: t.ts - 2000 ms", output);
    }
}

public class SqlShellTests
{
    [Fact]
    public async Task The_shell_runs_statements_and_shows_query_results_as_a_table()
    {
        var input = new StringReader("""
            CREATE TABLE t (k STRING, v INT) WITH ('connector' = 'datagen', 'number-of-rows' = '4',
              'fields.k.kind' = 'sequence', 'fields.k.start' = '1', 'fields.k.end' = '4',
              'fields.v.kind' = 'sequence', 'fields.v.start' = '10', 'fields.v.end' = '13');
            SHOW TABLES;
            SELECT CHAR_LENGTH(k) AS len, SUM(v) AS total
            FROM t GROUP BY CHAR_LENGTH(k);
            SELECT nope FROM t;
            QUIT;
            """);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var session = new Eddy.Sql.SqlSession(TestConnectors.Registry, stdout, stderr);
        var shell = new SqlShell.Shell(session, input, stdout, stderr);
        Assert.Equal(0, await shell.Loop(CancellationToken.None));
        var output = stdout.ToString();
        Assert.Contains("| len | total |", output);
        // The changelog of the grouped query is applied: one row with the final sum, not the updates.
        Assert.Contains("| 1   | 46    |", output);
        Assert.Contains("1 row(s) in set", output);
        Assert.Contains("unknown column 'nope'", stderr.ToString());
    }
}

/// <summary>
/// <c>eddy sql</c> with piped input, as Flink's SQL client runs a script: streaming results in tableau mode (the
/// changelog with an op column, printed while rows arrive), the first error ending it with a non-zero exit code.
/// </summary>
public class SqlShellPipedTests
{
    private static SqlShell.Shell Piped(string script, TextWriter stdout, TextWriter stderr) =>
        new(new Eddy.Sql.SqlSession(TestConnectors.Registry, stdout, stderr), new StringReader(script), stdout, stderr) { Tableau = true, StopOnError = true };

    [Fact]
    public async Task An_updating_result_prints_its_changelog_with_an_op_column_as_Flink_tableau_mode_does()
    {
        // The query and its changelog are the example of Flink's SQL client documentation (tableau mode, streaming).
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var shell = Piped("""
            SET 'parallelism.default' = '1';
            SELECT name, COUNT(*) AS cnt FROM (VALUES ('Bob'), ('Alice'), ('Greg'), ('Bob')) AS NameTable(name) GROUP BY name;
            """, stdout, stderr);
        Assert.True(await shell.Loop(CancellationToken.None) == 0, stderr.ToString());
        var lines = stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        var rows = lines.Where(l => l.StartsWith("| +") || l.StartsWith("| -"))
            .Select(l => string.Join(" ", l.Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))).ToList();
        Assert.Equal(["+I Bob 1", "+I Alice 1", "+I Greg 1", "-U Bob 1", "+U Bob 2"], rows);
        var header = lines.Single(l => l.StartsWith("| op |"));
        Assert.Matches(@"^\| op \| +name \| +cnt \|$", header);
        // Right-aligned, every line as wide as the rule.
        Assert.Contains(lines, l => l.StartsWith("| +U |") && l.EndsWith(" 2 |"));
        Assert.All(lines.Where(l => l.StartsWith('|') || l.StartsWith('+')), l => Assert.Equal(lines[0].Length, l.Length));
        Assert.StartsWith("+----+", lines[0]);
        Assert.Equal("Received a total of 5 rows", lines[^1]);
    }

    [Fact]
    public async Task Rows_are_printed_while_an_unbounded_query_runs()
    {
        var buffer = new StringWriter();
        var stdout = TextWriter.Synchronized(buffer);
        using var stop = new CancellationTokenSource();
        var shell = Piped("""
            CREATE TABLE gen (id BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '20', 'fields.id.kind' = 'sequence',
              'fields.id.start' = '1', 'fields.id.end' = '1000000');
            SELECT id FROM gen;
            """, stdout, TextWriter.Null);
        var loop = shell.Loop(stop.Token);
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!buffer.ToString().Contains("| +I |"))
        {
            Assert.False(loop.IsCompleted, buffer.ToString());
            Assert.True(DateTime.UtcNow < deadline, buffer.ToString());
            await Task.Delay(20);
        }
        // The query has not ended (an unbounded source): the rows above came while it ran.
        Assert.False(loop.IsCompleted);
        await stop.CancelAsync();
        await loop;
        Assert.Contains("Query terminated, received a total of ", buffer.ToString());
    }

    [Fact]
    public async Task A_select_without_from_evaluates_once_as_Flink_does()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Assert.True(await Piped("SELECT 1 + 1;", stdout, stderr).Loop(CancellationToken.None) == 0, stderr.ToString());
        var lines = stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        Assert.Matches(@"^\| op \| +EXPR\$0 \|$", lines.Single(l => l.StartsWith("| op")));
        Assert.Matches(@"^\| \+I \| +2 \|$", lines.Single(l => l.StartsWith("| +I")));
        Assert.Equal("Received a total of 1 row", lines[^1]);
    }

    [Fact]
    public async Task The_first_error_ends_a_piped_script_with_exit_code_1()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var shell = Piped("""
            SELECT nope FROM nowhere;
            SELECT 'not reached';
            """, stdout, stderr);
        Assert.Equal(1, await shell.Loop(CancellationToken.None));
        Assert.Contains("[ERROR]", stderr.ToString());
        Assert.DoesNotContain("not reached", stdout.ToString());
    }
}
