using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

/// <summary>
/// ROW_NUMBER, RANK and DENSE_RANK as OVER aggregates outside Top-N (Flink's RowNumberAggFunction, RankAggFunction and
/// DenseRankAggFunction in a streaming over aggregate: ROWS up to the current row, rows in time order, ties in
/// arrival order), against LINQ over the same rows; and the OVER-only functions Flink's streaming planner refuses.
/// </summary>
public class OverFunctionTests
{
    [Fact]
    public void Ranking_functions_number_the_rows_of_each_partition_in_time_order()
    {
        var random = new Random(5);
        int second = 0;
        // Times never decrease (so no row is late) and often repeat (ties).
        var rows = Enumerable.Range(0, 120).Select(id =>
        {
            second += random.Next(3) == 0 ? 1 : 0;
            return (Id: id, K: "k" + random.Next(4), Second: second);
        }).ToList();
        string dir = Directory.CreateTempSubdirectory("eddy-over-").FullName;
        try
        {
            File.WriteAllLines(Path.Combine(dir, "rows.jsonl"), rows.Select(r => $"{{\"id\":{r.Id},\"k\":\"{r.K}\",\"sec\":{r.Second}}}"));
            var lines = SessionTests.Run($"""
                SET 'parallelism.default' = '1';
                CREATE TABLE t (id INT, k STRING, sec BIGINT, ts AS TO_TIMESTAMP_LTZ(sec * 1000, 3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
                  WITH ('connector' = 'filesystem', 'path' = '{dir}', 'format' = 'json');
                CREATE TABLE out_t (id INT, rn BIGINT, rk BIGINT, drk BIGINT, rn_all BIGINT) WITH ('connector' = 'print');
                INSERT INTO out_t SELECT id,
                  ROW_NUMBER() OVER w, RANK() OVER w, DENSE_RANK() OVER w,
                  ROW_NUMBER() OVER (PARTITION BY k ORDER BY ts) - 0
                FROM t WINDOW w AS (PARTITION BY k ORDER BY ts);
                """);
            var expected = rows.GroupBy(r => r.K).SelectMany(g =>
            {
                var ordered = g.OrderBy(r => r.Second).ThenBy(r => r.Id).ToList();
                return ordered.Select((r, i) => $"+I[{r.Id}, {i + 1}, {1 + ordered.Count(o => o.Second < r.Second)}, "
                    + $"{ordered.Where(o => o.Second <= r.Second).Select(o => o.Second).Distinct().Count()}, {i + 1}]");
            }).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(expected, lines.Order(StringComparer.Ordinal).ToList());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Lag_reads_the_value_offset_rows_back_in_time_order_or_the_default()
    {
        // Flink's LagAggFunction over an unbounded ROWS window: the partition's rows in time order, ties in arrival
        // order; NULL values are rows like any other; the default (NULL when not written) until there are enough rows.
        var random = new Random(17);
        int second = 0;
        var rows = Enumerable.Range(0, 150).Select(id =>
        {
            second += random.Next(3) == 0 ? 1 : 0;
            int? v = random.Next(5) == 0 ? null : random.Next(-9, 50);
            return (Id: id, K: "k" + random.Next(3), Second: second, V: v);
        }).ToList();
        string dir = Directory.CreateTempSubdirectory("eddy-lag-").FullName;
        try
        {
            File.WriteAllLines(Path.Combine(dir, "rows.jsonl"), rows.Select(r =>
                $"{{\"id\":{r.Id},\"k\":\"{r.K}\",\"sec\":{r.Second},\"v\":{(r.V is { } v ? v.ToString(System.Globalization.CultureInfo.InvariantCulture) : "null")}}}"));
            var lines = SessionTests.Run($"""
                SET 'parallelism.default' = '1';
                CREATE TABLE t (id INT, k STRING, sec BIGINT, v INT, ts AS TO_TIMESTAMP_LTZ(sec * 1000, 3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
                  WITH ('connector' = 'filesystem', 'path' = '{dir}', 'format' = 'json');
                CREATE TABLE out_t (id INT, l1 INT, l3 INT, l0 INT, ld INT, lid INT) WITH ('connector' = 'print');
                INSERT INTO out_t SELECT id, LAG(v) OVER w, LAG(v, 3) OVER w, LAG(v, 0) OVER w, LAG(v, 2, -1) OVER w, LAG(id, 1, id) OVER w
                FROM t WINDOW w AS (PARTITION BY k ORDER BY ts);
                """);
            string S(int? x) => x?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null";
            var expected = rows.GroupBy(r => r.K).SelectMany(g =>
            {
                var ordered = g.OrderBy(r => r.Second).ThenBy(r => r.Id).ToList();
                return ordered.Select((r, i) => $"+I[{r.Id}, {S(i >= 1 ? ordered[i - 1].V : null)}, {S(i >= 3 ? ordered[i - 3].V : null)}, "
                    + $"{S(r.V)}, {S(i >= 2 ? ordered[i - 2].V : -1)}, {(i >= 1 ? ordered[i - 1].Id : r.Id)}]");
            }).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(expected, lines.Order(StringComparer.Ordinal).ToList());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("streaming")]
    [InlineData("batch")]
    public void Over_over_an_updating_input_is_refused_as_Flink_refuses_it(string mode)
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        session.Execute($"""
            SET 'execution.runtime-mode' = '{mode}';
            CREATE TABLE u (id STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts, PRIMARY KEY (id) NOT ENFORCED)
              WITH ('connector' = 'test-changelog');
            CREATE TABLE sink (id STRING, x BIGINT) WITH ('connector' = 'blackhole');
            """);
        const string Query = "INSERT INTO sink SELECT id, COUNT(*) OVER (PARTITION BY id ORDER BY ts) FROM u";
        var e = Assert.Throws<SqlParseException>(() => session.Execute(Query).ToList());
        Assert.Contains("OverAggregate doesn't support consuming update and delete changes", e.Reason);
        Assert.Equal(Query.IndexOf("COUNT(*)", StringComparison.Ordinal) + 1, e.Column);
    }

    private static SqlParseException Refused(string query)
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        session.Execute("""
            CREATE TABLE events (k STRING, v INT, ts TIMESTAMP(3), pt AS PROCTIME(), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
              WITH ('connector' = 'datagen');
            CREATE TABLE sink (k STRING, x BIGINT) WITH ('connector' = 'blackhole');
            """);
        return Assert.Throws<SqlParseException>(() => session.Execute("INSERT INTO sink " + query).ToList());
    }

    [Theory]
    [InlineData("SELECT k, CUME_DIST() OVER (ORDER BY ts) FROM events", "CUME_DIST Function is not supported in stream mode.", "CUME_DIST()")]
    [InlineData("SELECT k, PERCENT_RANK() OVER (ORDER BY ts) FROM events", "PERCENT_RANK Function is not supported in stream mode.", "PERCENT_RANK()")]
    [InlineData("SELECT k, NTILE(2) OVER (ORDER BY ts) FROM events", "NTILE Function is not supported in stream mode.", "NTILE(2)")]
    [InlineData("SELECT k, CAST(LEAD(v) OVER (ORDER BY ts) AS BIGINT) FROM events", "LEAD Function is not supported in stream mode.", "LEAD(v)")]
    [InlineData("SELECT k, ROW_NUMBER() OVER (ORDER BY ts ROWS 2 PRECEDING) FROM events", "ROW/RANGE not allowed with RANK, DENSE_RANK or ROW_NUMBER", "ROWS 2")]
    [InlineData("SELECT k, RANK() OVER (ORDER BY pt) FROM events", "RANK over a processing-time order is not supported", "RANK()")]
    [InlineData("SELECT k, ROW_NUMBER() OVER (ORDER BY ts) + COUNT(*) OVER (ORDER BY ts) FROM events",
        "all OVER aggregates of a query must be computed on the same window", "COUNT(*)")]
    [InlineData("SELECT k, ROW_NUMBER(v) OVER (ORDER BY ts) FROM events", "ROW_NUMBER takes no arguments", "ROW_NUMBER(v)")]
    public void Over_functions_flink_refuses_in_streaming_are_refused_where_written(string query, string reason, string at)
    {
        var e = Refused(query);
        Assert.Contains(reason, e.Reason);
        Assert.Equal("INSERT INTO sink ".Length + query.IndexOf(at, StringComparison.Ordinal) + 1, e.Column);
    }
}
