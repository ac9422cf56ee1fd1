using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Eddy.Server;
using Eddy.Sql;
using Eddy.Sql.Parsing;

namespace Eddy.Tests;

/// <summary>
/// Builds the template function library (<c>examples/udf</c>) with <c>dotnet build</c>, once for the class, into a
/// folder of its own: MyFunctions.dll with its dependency TextRules.dll beside it.
/// </summary>
public sealed class UdfLibraryFixture
{
    public UdfLibraryFixture()
    {
        string dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "Eddy.slnx"))) dir = Path.GetDirectoryName(dir) ?? throw new InvalidOperationException("no Eddy.slnx above the tests");
        RepositoryRoot = dir;
        Output = Path.Combine(Path.GetTempPath(), "eddy-udf-tests", Guid.NewGuid().ToString("N"));
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { "build", Path.Combine(dir, "examples", "udf", "MyFunctions", "MyFunctions.csproj"), "-c", "Debug", "-o", Output, "-nologo", "-v", "quiet" })
            start.ArgumentList.Add(a);
        using var build = Process.Start(start)!;
        var stdout = build.StandardOutput.ReadToEndAsync();
        string stderr = build.StandardError.ReadToEnd();
        build.WaitForExit();
        if (build.ExitCode != 0) throw new InvalidOperationException($"dotnet build of examples/udf failed: {stdout.Result}\n{stderr}");
    }

    public string RepositoryRoot { get; }

    public string Output { get; }

    public string Assembly => Path.Combine(Output, "MyFunctions.dll");
}

/// <summary>
/// User functions as assemblies: the template library built and used from SQL through <c>eddy run --udf</c>, ADD JAR,
/// USING JAR and <c>eddy submit --udf</c>; failures located; the load context unloaded when the jobs end. Expected
/// values are computed here in plain C# over the example's input (orders.csv).
/// </summary>
public class UdfTests(UdfLibraryFixture library) : IClassFixture<UdfLibraryFixture>
{
    private static readonly string[] Orders = File.ReadAllLines(Path.Combine(FindRoot(), "examples", "udf", "orders.csv"));

    private static string FindRoot()
    {
        string dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "Eddy.slnx"))) dir = Path.GetDirectoryName(dir)!;
        return dir;
    }

    private static string Slug(string title) => string.Join('-', Regex.Split(title.ToLowerInvariant(), "[^a-z0-9]+").Where(p => p.Length > 0));

    private static decimal Amount(string text) => decimal.Parse(text.Split(' ')[0], CultureInfo.InvariantCulture);

    /// <summary>The example script, reading orders.csv where it is (the script names it relative to its folder).</summary>
    private string ExampleScript(string folder, bool withAddJar = false)
    {
        string text = File.ReadAllText(Path.Combine(library.RepositoryRoot, "examples", "udf", "functions.sql"))
            .Replace("'orders.csv'", $"'{Path.Combine(library.RepositoryRoot, "examples", "udf", "orders.csv")}'", StringComparison.Ordinal);
        if (withAddJar)
            text = text.Replace("-- ADD JAR 'MyFunctions/bin/Release/net10.0/MyFunctions.dll';", $"ADD JAR '{library.Assembly}';", StringComparison.Ordinal);
        string path = Path.Combine(folder, "functions.sql");
        File.WriteAllText(path, text);
        return path;
    }

    private static string NewFolder()
    {
        string dir = Path.Combine(Path.GetTempPath(), "eddy-udf-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>The final rows per print line after applying the changelog (+I/+U add, -U/-D remove).</summary>
    private static List<string> FinalRows(string output)
    {
        var rows = new List<string>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var m = Regex.Match(line, @"^([+-][IUD])\[(.*)\]$");
            if (!m.Success) continue;
            if (m.Groups[1].Value is "+I" or "+U") rows.Add(m.Groups[2].Value);
            else Assert.True(rows.Remove(m.Groups[2].Value), $"retracted a row never emitted: {line}");
        }
        return rows.Order(StringComparer.Ordinal).ToList();
    }

    private static List<string> ExpectedRows()
    {
        var orders = Orders.Select(l => l.Split(',')).ToList();
        var slugs = orders.SelectMany(o => o[4].Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(tag => $"{o[0]}, {Slug(o[1])}, {Amount(o[2]).ToString("0.00", CultureInfo.InvariantCulture)}, {tag}"));
        var averages = orders.GroupBy(o => Slug(o[1])).Select(g =>
        {
            double avg = (double)g.Sum(o => (long)(Amount(o[2]) * 100) * long.Parse(o[3], CultureInfo.InvariantCulture))
                / g.Sum(o => long.Parse(o[3], CultureInfo.InvariantCulture)) / 100;
            // As Flink prints a DOUBLE (Java's Double.toString): an integral value keeps one decimal.
            return $"{g.Key}, {(avg % 1 == 0 ? avg.ToString("0.0", CultureInfo.InvariantCulture) : avg.ToString("R", CultureInfo.InvariantCulture))}";
        });
        return slugs.Concat(averages).Order(StringComparer.Ordinal).ToList();
    }

    [Fact]
    public void The_example_runs_through_eddy_run_with_udf()
    {
        string script = ExampleScript(NewFolder());
        var (code, output, error) = CliTests.Run("run", script, "--udf", library.Assembly, "--fresh");
        Assert.True(code == 0, error);
        Assert.Equal(ExpectedRows(), FinalRows(output));
        // The TextRules dependency was resolved from beside MyFunctions.dll, not from Eddy.
        Assert.Contains("blue-widget-large", output);
    }

    [Fact]
    public void The_example_runs_with_add_jar_in_the_script()
    {
        string script = ExampleScript(NewFolder(), withAddJar: true);
        var (code, output, error) = CliTests.Run("run", script, "--fresh");
        Assert.True(code == 0, error);
        Assert.Equal(ExpectedRows(), FinalRows(output));
    }

    /// <summary>A rates service on a local HTTP listener: <c>GET /rates/?from=EUR&amp;to=USD</c> answers 1.0850; requests counted.</summary>
    private sealed class RatesService : IDisposable
    {
        private readonly System.Net.HttpListener listener = new();
        private int requests;

        public RatesService()
        {
            var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            probe.Start();
            int port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            Url = $"http://127.0.0.1:{port}/rates/";
            listener.Prefixes.Add(Url);
            listener.Start();
            _ = Task.Run(Serve);
        }

        public string Url { get; }

        public int Requests => Volatile.Read(ref requests);

        private async Task Serve()
        {
            while (listener.IsListening)
            {
                System.Net.HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync();
                }
                catch (Exception e) when (e is System.Net.HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }
                Interlocked.Increment(ref requests);
                bool known = context.Request.QueryString["from"] == "EUR" && context.Request.QueryString["to"] == "USD";
                context.Response.StatusCode = known ? 200 : 404;
                var body = System.Text.Encoding.UTF8.GetBytes(known ? "1.0850" : "no such rate");
                await context.Response.OutputStream.WriteAsync(body);
                context.Response.Close();
            }
        }

        public void Dispose() => listener.Close();
    }

    [Fact]
    public void The_async_and_lifecycle_example_calls_the_rates_service_per_row()
    {
        using var service = new RatesService();
        string folder = NewFolder();
        string script = Path.Combine(folder, "rates.sql");
        File.WriteAllText(script, File.ReadAllText(Path.Combine(library.RepositoryRoot, "examples", "udf", "rates.sql"))
            .Replace("'http://localhost:8099/rates'", $"'{service.Url}'", StringComparison.Ordinal)
            .Replace("'orders.csv'", $"'{Path.Combine(library.RepositoryRoot, "examples", "udf", "orders.csv")}'", StringComparison.Ordinal));
        var (code, output, error) = CliTests.Run("run", script, "--udf", library.Assembly, "--fresh");
        Assert.True(code == 0, error);
        var masked = new HashSet<string>(["widget", "hose"], StringComparer.OrdinalIgnoreCase);
        var expected = Orders.Select(l => l.Split(',')).Select(o =>
        {
            string title = string.Join(' ', o[1].Split(' ').Select(w => masked.Contains(w) ? "***" : w));
            decimal usd = Math.Round(Amount(o[2]) * 1.0850m, 2, MidpointRounding.AwayFromZero);
            return $"{o[0]}, {title}, {usd.ToString("0.00", CultureInfo.InvariantCulture)}";
        }).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, FinalRows(output));
        // One request per row: nothing cached, nothing repeated.
        Assert.Equal(Orders.Length, service.Requests);
    }

    [Fact]
    public void Without_the_assembly_create_function_is_refused_where_it_is_written()
    {
        string script = ExampleScript(NewFolder());
        var (code, _, error) = CliTests.Run("run", script, "--fresh");
        Assert.Equal(1, code);
        Assert.Contains("functions.sql: line 8, column 1", error);
        Assert.Contains("class 'MyCompany.Functions.Slugify' was not found", error);
    }

    [Fact]
    public void Using_jar_show_jars_and_remove_jar()
    {
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null);
        session.Execute($"""
            CREATE FUNCTION slugify AS 'MyCompany.Functions.Slugify' LANGUAGE JAVA USING JAR '{library.Assembly}';
            SHOW JARS;
            """, "jars.sql");
        Assert.Contains(library.Assembly, output.ToString());
        // A jar a function comes from stays until the function is dropped.
        var e = Assert.Throws<SqlParseException>(() => session.Execute($"REMOVE JAR '{library.Assembly}';", "jars.sql"));
        Assert.Contains("is used by function 'slugify'", e.Message);
        // ALTER FUNCTION finds the new class in the added jar, which the function still comes from.
        session.Execute("ALTER FUNCTION slugify AS 'MyCompany.Functions.ParseAmount';", "jars.sql");
        e = Assert.Throws<SqlParseException>(() => session.Execute($"REMOVE JAR '{library.Assembly}';", "jars.sql"));
        Assert.Contains("is used by function 'slugify'", e.Message);
        session.Execute($"DROP FUNCTION slugify; REMOVE JAR '{library.Assembly}';", "jars.sql");
        output.GetStringBuilder().Clear();
        session.Execute("SHOW JARS;", "jars.sql");
        Assert.DoesNotContain(library.Assembly, output.ToString());
        var missing = Assert.Throws<SqlParseException>(() => session.Execute("ADD JAR '/no/such/Functions.dll';", "jars.sql"));
        Assert.Contains("line 1, column 9", missing.Message);
        Assert.Contains("no assembly at '/no/such/Functions.dll'", missing.Message);
        var python = Assert.Throws<SqlParseException>(() => session.Execute("CREATE FUNCTION f AS 'x.Y' LANGUAGE PYTHON;", "jars.sql"));
        Assert.Contains("LANGUAGE PYTHON is not supported", python.Message);
        var notAssembly = Assert.Throws<SqlParseException>(() => session.Execute($"ADD JAR '{Path.Combine(FindRoot(), "examples", "udf", "orders.csv")}';", "jars.sql"));
        Assert.Contains("is not a .NET assembly", notAssembly.Message);
        session.ReleaseUserCode();
    }

    [Fact]
    public void A_function_that_throws_fails_the_job_naming_the_function_the_position_and_the_row_with_secrets_masked()
    {
        string dir = NewFolder();
        string data = Path.Combine(dir, "amounts.csv");
        File.WriteAllLines(data, ["1,3.50 EUR,s3cr3t-value", "2,three euros,0th3r-s3cr3t"]);
        string script = Path.Combine(dir, "failing.sql");
        File.WriteAllText(script, $"""
            CREATE FUNCTION parse_amount AS 'MyCompany.Functions.ParseAmount';
            CREATE TABLE t (id BIGINT, amount STRING, api_token STRING) WITH ('connector' = 'filesystem', 'path' = '{data}', 'format' = 'csv');
            CREATE TABLE p (id BIGINT, amount DECIMAL(10, 2)) WITH ('connector' = 'print');
            INSERT INTO p
            SELECT id,   parse_amount(amount) FROM t;
            """);
        var (code, _, error) = CliTests.Run("run", script, "--udf", library.Assembly, "--fresh");
        Assert.Equal(1, code);
        Assert.Contains("function PARSE_AMOUNT (failing.sql: line 5, column 14) failed on row", error);
        Assert.Contains("id=2", error);
        Assert.Contains("amount='three euros'", error);
        Assert.Contains("api_token=******", error);
        Assert.DoesNotContain("0th3r-s3cr3t", error);
        Assert.Contains("FormatException", error);
    }

    [Fact]
    public async Task An_aggregate_that_throws_is_named_too()
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        session.AddJar(library.Assembly);
        var jobs = session.Execute("""
            CREATE FUNCTION weighted_avg AS 'MyCompany.Functions.WeightedAverage';
            CREATE TABLE t (k STRING, v BIGINT, w BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '10',
              'fields.k.length' = '1', 'fields.v.min' = '9223372036854775000', 'fields.v.max' = '9223372036854775800',
              'fields.w.min' = '2', 'fields.w.max' = '2');
            CREATE TABLE p (k STRING, a DOUBLE) WITH ('connector' = 'blackhole');
            INSERT INTO p SELECT k, weighted_avg(v, w) FROM t GROUP BY k;
            """, "agg.sql");
        session.ReleaseUserCode();
        var result = await jobs[0].Environment.ExecuteAsync("agg");
        jobs[0].ReleaseUserCode();
        Assert.NotNull(result.Failure);
        string message = string.Join(" ← ", Chain(result.Failure));
        Assert.True(message.Contains("weighted_avg(v, w) (agg.sql: line 6, column 25) failed on row", StringComparison.OrdinalIgnoreCase), message);
        Assert.Contains("OverflowException", message);
    }

    private static IEnumerable<string> Chain(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException) yield return x.Message;
    }

    [Fact]
    public void The_load_context_unloads_when_the_jobs_have_ended()
    {
        var context = RunAndRelease(library.Assembly);
        for (int i = 0; i < 20 && context.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.False(context.IsAlive, "the user code's load context is still referenced after its job ended");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference RunAndRelease(string assembly)
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        session.AddJar(assembly);
        var jobs = session.Execute("""
            CREATE FUNCTION slugify AS 'MyCompany.Functions.Slugify';
            CREATE TABLE t (s STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '100');
            CREATE TABLE p (s STRING) WITH ('connector' = 'blackhole');
            INSERT INTO p SELECT slugify(s) FROM t;
            """, "unload.sql");
        var context = new WeakReference(session.UserCode.LoadContext);
        Assert.True(context.IsAlive);
        session.ReleaseUserCode();
        var result = jobs[0].Environment.ExecuteAsync("unload").GetAwaiter().GetResult();
        Assert.Null(result.Failure);
        Assert.NotNull(session.UserCode.LoadContext);
        jobs[0].ReleaseUserCode();
        Assert.Null(session.UserCode.LoadContext);
        return context;
    }

    [Fact]
    public async Task Submit_uploads_the_assembly_and_its_dependency_to_the_server()
    {
        await using var server = await EddyServer.StartAsync(new ServerOptions { Connectors = TestConnectors.Registry, Slots = 2, Port = 0 });
        string script = ExampleScript(NewFolder());
        var (code, _, error) = CliTests.Run("submit", script, "--udf", library.Assembly, "--server", server.Address.ToString());
        Assert.True(code == 0, error);
        var job = server.Manager.Jobs.First();
        Assert.Equal(JobStates.Finished, job.State);
    }

    [Fact]
    public async Task A_server_udf_dir_gives_every_job_the_functions()
    {
        await using var server = await EddyServer.StartAsync(new ServerOptions { Connectors = TestConnectors.Registry, Slots = 2, Port = 0, UdfDirectory = library.Output });
        string script = ExampleScript(NewFolder());
        var jobs = server.Manager.Submit(File.ReadAllText(script), "functions.sql");
        Assert.Single(jobs);
        while (!JobStates.IsTerminal(jobs[0].State)) await Task.Delay(50);
        Assert.Equal(JobStates.Finished, jobs[0].State);
        Assert.Equal(ExpectedRows().Where(r => r.Count(c => c == ',') == 3).ToList(),
            FinalRows(string.Join("\n", jobs[0].Output.Lines())).Where(r => r.Count(c => c == ',') == 3).ToList());
    }
}
