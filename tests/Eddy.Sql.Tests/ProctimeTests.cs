using System.Globalization;
using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

/// <summary>
/// PROCTIME() declared in a view or subquery is a processing-time attribute (Flink allows it there as in a table's
/// computed column), and processing-time windows still open when a bounded input ends fire then, as in Flink. The
/// clock is a manual one that does not move, so every row falls into the window of the clock's time.
/// </summary>
public class ProctimeTests
{
    private static readonly long Start = DateTimeOffset.Parse("2024-01-01T10:00:00Z", CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();

    private static readonly (int K, int X)[] Rows = Enumerable.Range(0, 50).Select(i => (i % 4, i * 3 - 20)).ToArray();

    private static string RowValues => string.Join(", ", Rows.Select(r => $"({r.K}, {r.X})"));

    private static List<string> Run(string sql)
    {
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null) { Clock = new Eddy.Testing.ManualClock(Start) };
        foreach (var job in session.Execute(sql))
        {
            var result = job.Environment.ExecuteAsync(job.Name).GetAwaiter().GetResult();
            if (result.Failure is not null) throw result.Failure;
        }
        return output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
    }

    [Fact]
    public void A_window_on_a_views_proctime_fires_at_the_end_of_a_bounded_input()
    {
        var lines = Run($"""
            SET 'parallelism.default' = '1';
            CREATE VIEW v AS SELECT *, PROCTIME() AS pt FROM (VALUES {RowValues}) AS t(k, x);
            CREATE TABLE out_t (ws TIMESTAMP(3), we TIMESTAMP(3), k INT, n BIGINT, s INT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT window_start, window_end, k, COUNT(*), SUM(x)
            FROM TABLE(TUMBLE(TABLE v, DESCRIPTOR(pt), INTERVAL '1' MINUTE))
            GROUP BY window_start, window_end, k;
            """);
        var expected = Rows.GroupBy(r => r.K).OrderBy(g => g.Key)
            .Select(g => $"+I[2024-01-01 10:00:00.000, 2024-01-01 10:01:00.000, {g.Key}, {g.Count()}, {g.Sum(r => r.X)}]");
        Assert.Equal(expected, lines.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_hopping_window_on_a_subquerys_proctime_fires_every_open_window_at_the_end()
    {
        // The clock's time (10:00:00) lies in the 1-minute windows starting at 09:59:30 and 10:00:00.
        var lines = Run($"""
            SET 'parallelism.default' = '2';
            CREATE TABLE out_t (ws TIMESTAMP(3), n BIGINT, s INT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT window_start, COUNT(*), SUM(x)
            FROM TABLE(HOP(TABLE (SELECT x, PROCTIME() AS pt FROM (VALUES {RowValues}) AS t(k, x)), DESCRIPTOR(pt), INTERVAL '30' SECOND, INTERVAL '1' MINUTE))
            GROUP BY window_start, window_end;
            """);
        int n = Rows.Length, s = Rows.Sum(r => r.X);
        Assert.Equal([$"+I[2024-01-01 09:59:30.000, {n}, {s}]", $"+I[2024-01-01 10:00:00.000, {n}, {s}]"],
            lines.Select(l => l[l.IndexOf('+', StringComparison.Ordinal)..]).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_legacy_group_window_on_a_views_proctime_fires_at_the_end()
    {
        var lines = Run($"""
            SET 'parallelism.default' = '1';
            CREATE VIEW v AS SELECT k, x, PROCTIME() AS pt FROM (VALUES {RowValues}) AS t(k, x);
            CREATE TABLE out_t (ws TIMESTAMP(3), n BIGINT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT TUMBLE_START(pt, INTERVAL '1' HOUR), COUNT(*) FROM v GROUP BY TUMBLE(pt, INTERVAL '1' HOUR);
            """);
        Assert.Equal([$"+I[2024-01-01 10:00:00.000, {Rows.Length}]"], lines);
    }

    [Fact]
    public void An_interval_join_on_two_views_proctimes_joins_rows_within_the_bounds()
    {
        var lines = Run($"""
            SET 'parallelism.default' = '2';
            CREATE VIEW a AS SELECT k, x, PROCTIME() AS pt FROM (VALUES {RowValues}) AS t(k, x);
            CREATE VIEW b AS SELECT k, x, PROCTIME() AS pt FROM (VALUES (0, 1), (1, 2), (1, 3), (5, 4)) AS t(k, x);
            CREATE TABLE out_t (k INT, ax INT, bx INT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT a.k, a.x, b.x FROM a JOIN b ON a.k = b.k AND a.pt BETWEEN b.pt - INTERVAL '1' MINUTE AND b.pt + INTERVAL '1' MINUTE;
            """);
        (int K, int X)[] right = [(0, 1), (1, 2), (1, 3), (5, 4)];
        var expected = Rows.Join(right, l => l.K, r => r.K, (l, r) => $"+I[{l.K}, {l.X}, {r.X}]").Order(StringComparer.Ordinal);
        Assert.Equal(expected, lines.Select(l => l[l.IndexOf('+', StringComparison.Ordinal)..]).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Current_timestamp_in_a_view_is_no_time_attribute()
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        var e = Assert.Throws<SqlParseException>(() => session.Execute("""
            CREATE VIEW v AS SELECT x, CURRENT_TIMESTAMP AS pt FROM (VALUES (1)) AS t(x);
            SELECT COUNT(*) FROM TABLE(TUMBLE(TABLE v, DESCRIPTOR(pt), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end;
            """));
        Assert.Contains("line 2, column 55", e.Message);
        Assert.Contains("not an event-time attribute", e.Message);
    }
}
