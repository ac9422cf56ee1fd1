using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Eddy.Sql;
using Eddy.Sql.Connectors;
using Eddy.Sql.Parsing;

namespace Eddy.Connectors.Nexmark;

/// <summary>The settings of a Nexmark run: the values of the DDL's <c>${...}</c> variables.</summary>
public sealed record NexmarkRunSettings
{
    public long Events { get; init; } = 10_000_000;
    /// <summary>Nexmark's suite rate (<c>nexmark.workload.suite.100m.tps</c>): event times advance by 0.1 µs per event.</summary>
    public long Tps { get; init; } = 10_000_000;
    public int Parallelism { get; init; } = 1;
    public long Seed { get; init; } = 42;
    /// <summary>2024-01-01T00:00:00Z: a fixed start, so that results do not depend on the day of the run.</summary>
    public long BaseTime { get; init; } = 1_704_067_200_000;
    public int PersonProportion { get; init; } = 1;
    public int AuctionProportion { get; init; } = 3;
    public int BidProportion { get; init; } = 46;
}

/// <summary>One query's outcome: planned and run (with its figures), or refused at planning (with Eddy's message).</summary>
public sealed record NexmarkQueryResult(string Query, string? Refusal, long Events, TimeSpan Wall, TimeSpan Cpu, string? Failure)
{
    public double EventsPerSecond => Events / Wall.TotalSeconds;
    public double CpuSecondsPerEvent => Cpu.TotalSeconds / Events;
}

/// <summary>
/// The Nexmark queries q0-q22 as the Nexmark project publishes them for Flink SQL (bench/nexmark, embedded here): the
/// source DDL, the views and each query, with the DDL's variables filled in.
/// </summary>
public static class NexmarkQueries
{
    public static IReadOnlyList<string> All { get; } = Enumerable.Range(0, 23).Select(i => $"q{i}").ToList();

    /// <summary>
    /// The C# assembly standing in for the Nexmark project's Java UDFs (q14's <c>count_char</c>), built with Eddy into
    /// <c>nexmark-udf/</c> beside it (<c>bench/nexmark/udf</c>).
    /// </summary>
    public static string UdfAssembly => Path.Combine(AppContext.BaseDirectory, "nexmark-udf", "Nexmark.Udf.dll");

    /// <summary>
    /// Makes the Nexmark UDFs available to a session's CREATE FUNCTION, as Flink's Nexmark runner has its UDF jar on the
    /// class path (without it, q14 is refused at planning: the class is not found).
    /// </summary>
    public static void AddUdfs(SqlSession session)
    {
        if (File.Exists(UdfAssembly)) session.AddJar(UdfAssembly);
    }

    /// <summary>The text of <c>bench/nexmark/{name}.sql</c>.</summary>
    public static string Resource(string name)
    {
        using var stream = typeof(NexmarkQueries).Assembly.GetManifestResourceStream($"nexmark/{name}.sql")
            ?? throw new ArgumentException($"no Nexmark query '{name}'; known: {string.Join(", ", All)}", nameof(name));
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>ddl_gen.sql + ddl_views.sql + the query, with Nexmark's variables replaced (an unknown one stays, and fails planning).</summary>
    public static string Script(string query, NexmarkRunSettings settings, string? outputDirectory = null)
    {
        string dir = outputDirectory ?? Path.Combine(Path.GetTempPath(), "eddy-nexmark");
        var values = new Dictionary<string, string>
        {
            ["TPS"] = settings.Tps.ToString(CultureInfo.InvariantCulture),
            ["EVENTS_NUM"] = settings.Events.ToString(CultureInfo.InvariantCulture),
            ["PERSON_PROPORTION"] = settings.PersonProportion.ToString(CultureInfo.InvariantCulture),
            ["AUCTION_PROPORTION"] = settings.AuctionProportion.ToString(CultureInfo.InvariantCulture),
            ["BID_PROPORTION"] = settings.BidProportion.ToString(CultureInfo.InvariantCulture),
            ["SEED"] = settings.Seed.ToString(CultureInfo.InvariantCulture),
            ["BASE_TIME"] = settings.BaseTime.ToString(CultureInfo.InvariantCulture),
            ["NEXMARK_TABLE"] = "datagen",
            // q10 and q13 write or read files under these folders.
            ["NEXMARK_DIR"] = dir,
            ["FLINK_HOME"] = dir,
            ["SUBMIT_TIME"] = "run",
        };
        if (query == "q13") WriteSideInput(Path.Combine(dir, "data", "side_input.txt"));
        string text = Resource("ddl_gen") + "\n" + Resource("ddl_views") + "\n" + Resource(query);
        return Regex.Replace(text, @"\$\{([A-Z_]+)\}", m => values.TryGetValue(m.Groups[1].Value, out var v) ? v : m.Value);
    }

    /// <summary>The number of lines of q13's side input.</summary>
    public const int SideInputRows = 10_000;

    /// <summary>q13's bounded side input, as the Nexmark project's data/side_input.txt: the lines <c>i,i</c> for i in [0, 10000).</summary>
    private static void WriteSideInput(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var text = string.Concat(Enumerable.Range(0, SideInputRows).Select(i => $"{i},{i}\n"));
        if (File.Exists(path) && File.ReadAllText(path) == text) return;
        // Written under another name and renamed, so that a concurrent run never reads half a file.
        string temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        File.WriteAllText(temporary, text);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>
    /// Plans <paramref name="query"/> and runs it to its end at the settings' parallelism; a query Eddy cannot plan
    /// yet gives its refusal (the first line of Eddy's message) instead of figures.
    /// </summary>
    /// <param name="connectors">the caller's connectors: nexmark, and filesystem for q10's sink and q13's side input.</param>
    public static NexmarkQueryResult Run(string query, NexmarkRunSettings settings, ConnectorRegistry connectors, TextWriter? error = null, Action<SqlSession>? configure = null)
    {
        var session = new SqlSession(connectors, TextWriter.Null, error ?? TextWriter.Null);
        session.Set("parallelism.default", settings.Parallelism.ToString(CultureInfo.InvariantCulture));
        AddUdfs(session);
        configure?.Invoke(session);
        IReadOnlyList<SqlJob> jobs;
        try
        {
            jobs = session.Execute(Script(query, settings), $"{query}.sql");
        }
        catch (Exception e) when (e is SqlParseException or ConnectorOptionException or ArgumentException or InvalidOperationException or NotSupportedException)
        {
            session.ReleaseUserCode();
            string message = e is SqlParseException p ? $"{p.FileName}: line {p.Line}, column {p.Column}: {p.Reason}" : e.Message.Split('\n')[0];
            return new NexmarkQueryResult(query, message, 0, TimeSpan.Zero, TimeSpan.Zero, null);
        }
        if (jobs.Count != 1) return new NexmarkQueryResult(query, $"expected one job, the script plans {jobs.Count}", 0, TimeSpan.Zero, TimeSpan.Zero, null);
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        var result = jobs[0].Environment.ExecuteAsync($"nexmark-{query}").GetAwaiter().GetResult();
        wall.Stop();
        jobs[0].ReleaseUserCode();
        session.ReleaseUserCode();
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        return new NexmarkQueryResult(query, null, settings.Events, wall.Elapsed, cpu, result.Failure?.Message);
    }

    /// <summary>Flink's published throughput per core (events/s) for the queries that have one.</summary>
    public static IReadOnlyDictionary<string, double> FlinkPerCore { get; } = new Dictionary<string, double>
    {
        ["q0"] = 155e3, ["q1"] = 158e3, ["q2"] = 175e3, ["q3"] = 152e3, ["q4"] = 34e3, ["q5"] = 22e3, ["q7"] = 12e3, ["q8"] = 146e3,
        ["q9"] = 14e3, ["q11"] = 40e3, ["q12"] = 76e3, ["q14"] = 161e3, ["q15"] = 72e3, ["q16"] = 19e3, ["q17"] = 117e3, ["q18"] = 54e3,
        ["q19"] = 44e3, ["q20"] = 19e3, ["q21"] = 99e3, ["q22"] = 130e3,
    };
}
