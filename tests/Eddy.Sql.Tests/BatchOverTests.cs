using System.Globalization;
using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

/// <summary>
/// OVER in batch mode (Flink's batch over aggregation): any ORDER BY, LEAD, NTILE, CUME_DIST, PERCENT_RANK, ranking
/// functions and frames around the current row, checked against PostgreSQL's window functions on the same rows (NULLs
/// ordered explicitly: Flink puts them first when ascending, PostgreSQL last), and FIRST_VALUE / LAST_VALUE, which skip
/// NULLs in Flink (not in PostgreSQL), against LINQ.
/// </summary>
public class BatchOverTests
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private static List<(int Id, string K, int? V)> Rows(int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, 50).Select(id => (id, "k" + random.Next(3), random.Next(6) == 0 ? (int?)null : random.Next(0, 8))).ToList();
    }

    private static string Values(IEnumerable<(int Id, string K, int? V)> rows) =>
        "(VALUES " + string.Join(", ", rows.Select(r => $"({r.Id}, '{r.K}', {(r.V is null ? "CAST(NULL AS INT)" : r.V.Value.ToString(Inv))})")) + ") AS t(id, k, v)";

    private static List<string> RunBatch(string query, string sinkColumns) => SessionTests.Run($"""
        SET 'parallelism.default' = '1';
        SET 'execution.runtime-mode' = 'batch';
        CREATE TABLE out_t ({sinkColumns}) WITH ('connector' = 'print');
        INSERT INTO out_t {query};
        """);

    private static string Show(object? v) => v switch
    {
        null => "null",
        double d => Row.FormatDouble(d),
        IFormattable f => f.ToString(null, Inv),
        _ => v.ToString()!,
    };

    private static List<string> Pg(string sql) =>
        PgReference.Query(sql).Select(r => "+I[" + string.Join(", ", r.Select(Show)) + "]").Order(StringComparer.Ordinal).ToList();

    [Theory]
    [InlineData(3)]
    [InlineData(8)]
    public void Ranking_functions_and_peer_frames_match_PostgreSQL(int seed)
    {
        var rows = Rows(seed);
        const string Select = "SELECT id, k, RANK() OVER w, DENSE_RANK() OVER w, PERCENT_RANK() OVER w, CUME_DIST() OVER w, "
            + "COUNT(*) OVER w, SUM(v) OVER w, MIN(v) OVER w, MAX(id) OVER w FROM ";
        const string Window = " WINDOW w AS (PARTITION BY k ORDER BY v DESC NULLS FIRST)";
        var lines = RunBatch(Select + Values(rows) + Window,
            "id INT, k STRING, r BIGINT, dr BIGINT, pr DOUBLE, cd DOUBLE, n BIGINT, s INT, mn INT, mx INT");
        Assert.Equal(Pg(Select + Values(rows) + Window), lines.Order(StringComparer.Ordinal).ToList());
    }

    [Theory]
    [InlineData(4)]
    [InlineData(6)]
    public void Row_functions_offsets_and_row_frames_match_PostgreSQL(int seed)
    {
        var rows = Rows(seed);
        const string Frame = "(PARTITION BY k ORDER BY v NULLS FIRST, id ROWS BETWEEN 1 PRECEDING AND 2 FOLLOWING)";
        string select = "SELECT id, ROW_NUMBER() OVER w, NTILE(4) OVER w, NTILE(20) OVER w, LAG(v) OVER w, LEAD(v, 2, -1) OVER w, LEAD(id) OVER w, "
            + $"SUM(v) OVER {Frame}, COUNT(v) OVER {Frame}, MIN(v) OVER {Frame}, FIRST_VALUE(id) OVER {Frame}, LAST_VALUE(id) OVER {Frame} FROM ";
        const string Window = " WINDOW w AS (PARTITION BY k ORDER BY v NULLS FIRST, id)";
        var lines = RunBatch(select + Values(rows) + Window,
            "id INT, rn BIGINT, n4 BIGINT, n20 BIGINT, lg INT, ld INT, lid INT, s INT, c BIGINT, mn INT, f INT, l INT");
        Assert.Equal(Pg(select + Values(rows) + Window), lines.Order(StringComparer.Ordinal).ToList());
    }

    [Fact]
    public void Frames_that_grow_and_frames_that_end_unbounded_match_PostgreSQL()
    {
        var rows = Rows(11);
        string select = "SELECT id, SUM(v) OVER (PARTITION BY k ORDER BY id DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), "
            + "COUNT(*) OVER (PARTITION BY k ORDER BY id DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), "
            + "MAX(v) OVER (PARTITION BY k ORDER BY id DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) FROM ";
        var lines = RunBatch(select + Values(rows), "id INT, s INT, n BIGINT, mx INT");
        Assert.Equal(Pg(select + Values(rows)), lines.Order(StringComparer.Ordinal).ToList());
        foreach (var (q, sink) in new[]
        {
            ("SELECT id, COUNT(v) OVER (PARTITION BY k), MAX(v) OVER (PARTITION BY k) FROM ", "id INT, n BIGINT, mx INT"),
            ("SELECT id, SUM(v) OVER (PARTITION BY k ORDER BY v NULLS FIRST RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) FROM ", "id INT, s INT"),
        })
        {
            var more = RunBatch(q + Values(rows), sink);
            Assert.Equal(Pg(q + Values(rows)), more.Order(StringComparer.Ordinal).ToList());
        }
    }

    [Fact]
    public void Array_agg_over_a_frame_matches_PostgreSQL()
    {
        var rows = Rows(12);
        const string Frame = "(PARTITION BY k ORDER BY v DESC NULLS LAST, id ROWS BETWEEN 2 PRECEDING AND 1 FOLLOWING)";
        var lines = RunBatch($"SELECT id, ARRAY_AGG(v) OVER {Frame} FROM {Values(rows)}", "id INT, a ARRAY<INT>");
        Assert.Equal(Pg($"SELECT id, '[' || array_to_string(array_agg(v) OVER {Frame}, ', ', 'null') || ']' FROM {Values(rows)}"),
            lines.Order(StringComparer.Ordinal).ToList());
    }

    [Theory]
    [InlineData("ORDER BY v NULLS FIRST RANGE BETWEEN 2 PRECEDING AND CURRENT ROW")]
    [InlineData("ORDER BY v DESC NULLS LAST RANGE BETWEEN 1 PRECEDING AND 3 FOLLOWING")]
    [InlineData("ORDER BY v NULLS LAST RANGE BETWEEN UNBOUNDED PRECEDING AND 1 FOLLOWING")]
    [InlineData("ORDER BY v DESC NULLS FIRST RANGE BETWEEN 3 PRECEDING AND 1 PRECEDING")]
    [InlineData("ORDER BY v NULLS FIRST RANGE BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING")]
    public void Range_frames_with_distances_match_PostgreSQL(string window)
    {
        // Rows whose ORDER BY value is within the distances of the current row's (in the sort's direction); a NULL
        // value's frame is the NULL rows.
        var rows = Rows(21);
        string select = $"SELECT id, COUNT(*) OVER (PARTITION BY k {window}), SUM(v) OVER (PARTITION BY k {window}), "
            + $"MIN(id) OVER (PARTITION BY k {window}) FROM ";
        var lines = RunBatch(select + Values(rows), "id INT, n BIGINT, s INT, mn INT");
        Assert.Equal(Pg(select + Values(rows)), lines.Order(StringComparer.Ordinal).ToList());
    }

    [Fact]
    public void Range_frames_over_a_timestamp_take_an_interval()
    {
        var rows = Rows(22);
        string V(string ts) => $"(SELECT id, k, v, {ts} AS ts FROM {Values(rows)}) AS x";
        const string Window = "(PARTITION BY k ORDER BY ts RANGE BETWEEN INTERVAL '2' MINUTE PRECEDING AND INTERVAL '1' MINUTE FOLLOWING)";
        var lines = RunBatch($"SELECT id, COUNT(*) OVER {Window}, SUM(v) OVER {Window} FROM {V("TIMESTAMPADD(MINUTE, v, TIMESTAMP '2024-01-01 00:00:00')")}",
            "id INT, n BIGINT, s INT");
        Assert.Equal(Pg($"SELECT id, COUNT(*) OVER {Window}, SUM(v) OVER {Window} FROM {V("TIMESTAMP '2024-01-01 00:00:00' + v * INTERVAL '1 minute'")}"),
            lines.Order(StringComparer.Ordinal).ToList());
    }

    [Fact]
    public void First_and_last_value_skip_nulls_as_Flink()
    {
        // Flink's FirstValueAggFunction and LastValueAggFunction accumulate only non-NULL values.
        var rows = Rows(2);
        var lines = RunBatch("SELECT id, FIRST_VALUE(v) OVER w, LAST_VALUE(v) OVER w FROM " + Values(rows)
            + " WINDOW w AS (PARTITION BY k ORDER BY id ROWS BETWEEN 2 PRECEDING AND 1 FOLLOWING)", "id INT, f INT, l INT");
        var expected = rows.GroupBy(r => r.K).SelectMany(g =>
        {
            var ordered = g.OrderBy(r => r.Id).ToList();
            return ordered.Select((r, i) =>
            {
                var frame = ordered.Skip(Math.Max(0, i - 2)).Take(Math.Min(i, 2) + 2).Where(x => x.V is not null).ToList();
                return $"+I[{r.Id}, {Show(frame.FirstOrDefault().V)}, {Show(frame.Count == 0 ? null : frame[^1].V)}]";
            });
        }).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, lines.Order(StringComparer.Ordinal).ToList());
    }

    private static SqlParseException Refused(string query)
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        session.Execute("""
            SET 'execution.runtime-mode' = 'batch';
            CREATE TABLE events (k STRING, v INT, ts TIMESTAMP(3)) WITH ('connector' = 'datagen', 'number-of-rows' = '10');
            CREATE TABLE sink (k STRING, x BIGINT) WITH ('connector' = 'blackhole');
            """);
        return Assert.Throws<SqlParseException>(() => session.Execute("INSERT INTO sink " + query).ToList());
    }

    [Theory]
    [InlineData("SELECT k, NTILE(v) OVER (ORDER BY v) FROM events", "positive integer literal", "v) OVER")]
    [InlineData("SELECT k, RANK() OVER (PARTITION BY k) FROM events", "RANK needs an ORDER BY", "(PARTITION BY k)")]
    [InlineData("SELECT k, SUM(v) OVER (ORDER BY v, k RANGE BETWEEN 2 PRECEDING AND CURRENT ROW) FROM events", "exactly one ORDER BY", "2 PRECEDING")]
    [InlineData("SELECT k, SUM(v) OVER (ORDER BY k RANGE BETWEEN 2 PRECEDING AND CURRENT ROW) FROM events", "not supported by Eddy yet", "2 PRECEDING")]
    [InlineData("SELECT k, ROW_NUMBER() OVER (ORDER BY v) + ROW_NUMBER() OVER (ORDER BY k) FROM events", "same PARTITION BY and ORDER BY", "ROW_NUMBER() OVER (ORDER BY k)")]
    [InlineData("SELECT k, CUME_DIST() OVER (ORDER BY v ROWS 2 PRECEDING) FROM events", "ROW/RANGE not allowed with CUME_DIST", "ROWS 2")]
    public void Unsupported_batch_over_forms_are_refused_where_written(string query, string reason, string at)
    {
        var e = Refused(query);
        Assert.Contains(reason, e.Reason);
        Assert.Equal("INSERT INTO sink ".Length + query.IndexOf(at, StringComparison.Ordinal) + 1, e.Column);
    }
}
