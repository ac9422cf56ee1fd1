using System.Globalization;
using System.Text.RegularExpressions;
using Eddy.Runtime;

namespace Eddy.Sql.TableApi;

/// <summary>
/// The fluent Table API, mirroring PyFlink's: tables from the catalog, projections, filters, group windows and
/// inserts, planned by the same planner as SQL (a Table is a query; <see cref="Table.ToSql"/> shows it).
/// </summary>
public sealed class TableEnvironment
{
    private TableEnvironment(SqlSession session) => Session = session;

    /// <param name="connectors">the connectors its tables may name (see <see cref="Connectors.ConnectorRegistry"/>).</param>
    public static TableEnvironment Create(Connectors.ConnectorRegistry connectors, TextWriter? output = null, TextWriter? error = null) => new(new SqlSession(connectors, output, error));

    public SqlSession Session { get; }

    /// <summary>Runs SQL statements: DDL and SET at once; INSERTs and queries as jobs, to their end.</summary>
    public async Task<IReadOnlyList<JobResult>> ExecuteSqlAsync(string sql, CancellationToken cancel = default)
    {
        var results = new List<JobResult>();
        foreach (var job in Session.Execute(sql)) results.Add(await job.Environment.ExecuteAsync(job.Name, cancel).ConfigureAwait(false));
        return results;
    }

    public Table FromPath(string tableName)
    {
        if (!Session.Catalog.Exists(tableName)) throw new ArgumentException($"unknown table '{tableName}'{SqlErrors.Suggest(tableName, Session.Catalog.AllNames)}");
        return new Table(this, $"SELECT * FROM `{tableName}`");
    }

    /// <summary>A table defined by a query.</summary>
    public Table SqlQuery(string query) => new(this, query);
}

/// <summary>A relation being built: each call wraps the previous query.</summary>
public sealed class Table
{
    private readonly TableEnvironment env;
    private readonly string query;

    internal Table(TableEnvironment env, string query)
    {
        this.env = env;
        this.query = query;
    }

    public string ToSql() => query;

    private Table Wrap(string sql) => new(env, sql);

    private string From => $"({query}) AS t";

    /// <summary>Projects columns: SQL expressions, or PyFlink-style <c>"x.count"</c>, <c>"w.start"</c> inside grouped tables.</summary>
    public Table Select(params string[] expressions) => Wrap($"SELECT {string.Join(", ", expressions)} FROM {From}");

    public Table Where(string predicate) => Wrap($"SELECT * FROM {From} WHERE {predicate}");

    public Table Filter(string predicate) => Where(predicate);

    public Table Distinct() => Wrap($"SELECT DISTINCT * FROM {From}");

    public Table UnionAll(Table other) => Wrap($"{query} UNION ALL {other.query}");

    public GroupedTable GroupBy(params string[] keys) => new(this, null, keys);

    public WindowedTable Window(GroupWindow window) => new(this, window);

    /// <summary>Inserts the rows into a catalog table and runs the job to its end (unbounded: until cancelled).</summary>
    public async Task<JobResult> ExecuteInsertAsync(string tableName, CancellationToken cancel = default)
    {
        var results = await env.ExecuteSqlAsync($"INSERT INTO `{tableName}` {query}", cancel).ConfigureAwait(false);
        return results[0];
    }

    /// <summary>The plans of inserting into <paramref name="tableName"/>, as <c>EXPLAIN</c> prints them.</summary>
    public string Explain(string tableName)
    {
        var job = env.Session.Execute($"INSERT INTO `{tableName}` {query}")[0];
        return SqlSession.Describe(job);
    }

    internal string Query => query;

    internal TableEnvironment Env => env;
}

/// <summary>A group window: tumbling, sliding or session, on a time attribute, with an alias for its properties.</summary>
public sealed record GroupWindow(string Kind, TimeSpan Size, TimeSpan Slide, string? TimeColumn, string? Alias)
{
    public GroupWindow On(string timeColumn) => this with { TimeColumn = timeColumn };

    public GroupWindow As(string alias) => this with { Alias = alias };

    internal string Call()
    {
        if (TimeColumn is null) throw new InvalidOperationException("a group window needs its time column: .On(\"column\")");
        return Kind switch
        {
            "TUMBLE" => $"TUMBLE({TimeColumn}, {Interval(Size)})",
            "HOP" => $"HOP({TimeColumn}, {Interval(Slide)}, {Interval(Size)})",
            _ => $"SESSION({TimeColumn}, {Interval(Size)})",
        };
    }

    internal static string Interval(TimeSpan t) =>
        $"INTERVAL '{(t.Ticks / (double)TimeSpan.TicksPerSecond).ToString("0.###", CultureInfo.InvariantCulture)}' SECOND";
}

public static class Tumble
{
    public static GroupWindow Over(TimeSpan size) => new("TUMBLE", size, size, null, null);
}

public static class Slide
{
    public static SlideBuilder Over(TimeSpan size) => new(size);

    public sealed record SlideBuilder(TimeSpan Size)
    {
        public GroupWindow Every(TimeSpan slide) => new("HOP", Size, slide, null, null);
    }
}

public static class Session
{
    public static GroupWindow WithGap(TimeSpan gap) => new("SESSION", gap, gap, null, null);
}

public sealed class WindowedTable(Table table, GroupWindow window)
{
    /// <summary>Groups by the window alias and keys: <c>GroupBy("w", "host")</c>.</summary>
    public GroupedTable GroupBy(params string[] keys)
    {
        if (window.Alias is null) throw new InvalidOperationException("name the window with .As(\"w\") to group by it");
        if (!keys.Contains(window.Alias)) throw new ArgumentException($"group by the window alias '{window.Alias}' too");
        return new GroupedTable(table, window, keys.Where(k => k != window.Alias).ToArray());
    }
}

/// <summary>A grouped table: <see cref="Select"/> with aggregates (<c>"host.count"</c>, <c>"COUNT(*)"</c>) and window properties (<c>"w.start"</c>).</summary>
public sealed partial class GroupedTable(Table table, GroupWindow? window, string[] keys)
{
    [GeneratedRegex(@"\b([A-Za-z_][A-Za-z0-9_]*)\.(start|end|rowtime|count|sum|avg|min|max)\b", RegexOptions.IgnoreCase)]
    private static partial Regex Property();

    public Table Select(params string[] expressions)
    {
        var exprs = expressions.Select(Translate);
        var groups = keys.ToList();
        if (window is not null) groups.Insert(0, window.Call());
        var sql = $"SELECT {string.Join(", ", exprs)} FROM ({table.Query}) AS t GROUP BY {string.Join(", ", groups)}";
        return table.Env.SqlQuery(sql);
    }

    private string Translate(string expression) => Property().Replace(expression, m =>
    {
        string target = m.Groups[1].Value, prop = m.Groups[2].Value.ToLowerInvariant();
        if (window is not null && target == window.Alias)
        {
            string fn = window.Kind switch { "TUMBLE" => "TUMBLE", "HOP" => "HOP", _ => "SESSION" };
            string args = window.Call()[(window.Call().IndexOf('(') + 1)..^1];
            return prop switch
            {
                "start" => $"{fn}_START({args})",
                "end" => $"{fn}_END({args})",
                "rowtime" => $"{fn}_ROWTIME({args})",
                _ => throw new ArgumentException($"a window has start, end and rowtime, not '{prop}'"),
            };
        }
        return prop is "start" or "end" or "rowtime" ? m.Value : $"{prop.ToUpperInvariant()}({target})";
    });
}
