using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

/// <summary>
/// GROUPING SETS, ROLLUP and CUBE (an Expand under the group aggregation). The expected rows here are the examples of
/// Flink's documentation (Queries → Group Aggregation); larger inputs are compared with PostgreSQL in
/// Eddy.Connectors.Postgres.Tests/GroupingSetsTests.cs.
/// </summary>
public class GroupingSetsTests
{
    private const string Products = """
        (VALUES ('supplier1', 'product1', 4), ('supplier1', 'product2', 3),
                ('supplier2', 'product3', 3), ('supplier2', 'product4', 4)) AS Products(supplier_id, product_id, rating)
        """;

    private static List<string> Run(string query, string sinkColumns) => RetractingAggregateTests.Materialize(SessionTests.Run($"""
        SET 'parallelism.default' = '1';
        CREATE TABLE out_t ({sinkColumns}) WITH ('connector' = 'print');
        INSERT INTO out_t {query};
        """));

    [Fact]
    public void Grouping_sets_give_one_group_per_set_with_the_other_keys_null()
    {
        var rows = Run($"SELECT supplier_id, rating, COUNT(*) AS total FROM {Products} GROUP BY GROUPING SETS ((supplier_id, rating), (supplier_id), ())",
            "supplier_id STRING, rating INT, total BIGINT");
        Assert.Equal(new[]
        {
            "[supplier1, 4, 1]", "[supplier1, null, 2]", "[null, null, 4]", "[supplier1, 3, 1]",
            "[supplier2, 3, 1]", "[supplier2, null, 2]", "[supplier2, 4, 1]",
        }.Order(StringComparer.Ordinal), rows);
    }

    [Fact]
    public void Rollup_is_the_grouping_sets_of_its_prefixes()
    {
        // Flink's documentation: ROLLUP (supplier_id, rating) = GROUPING SETS ((supplier_id, rating), (supplier_id), ()).
        var rows = Run($"SELECT supplier_id, rating, COUNT(*) AS total FROM {Products} GROUP BY ROLLUP (supplier_id, rating)",
            "supplier_id STRING, rating INT, total BIGINT");
        Assert.Equal(new[]
        {
            "[supplier1, 4, 1]", "[supplier1, null, 2]", "[null, null, 4]", "[supplier1, 3, 1]",
            "[supplier2, 3, 1]", "[supplier2, null, 2]", "[supplier2, 4, 1]",
        }.Order(StringComparer.Ordinal), rows);
    }

    [Fact]
    public void Cube_groups_by_every_subset_and_grouping_tells_the_sets_apart()
    {
        // CUBE (supplier_id, rating): sets (s, r), (s), (r), (). GROUPING(x) is 1 where x is rolled up;
        // GROUPING_ID(s, r) = 2 * GROUPING(s) + GROUPING(r). Worked by hand from the four rows above.
        var rows = Run($"""
            SELECT supplier_id, rating, GROUPING(supplier_id), GROUPING(rating), GROUPING_ID(supplier_id, rating), SUM(rating)
            FROM {Products} GROUP BY CUBE (supplier_id, rating)
            """, "supplier_id STRING, rating INT, gs BIGINT, gr BIGINT, gid BIGINT, total INT");
        Assert.Equal(new[]
        {
            "[supplier1, 4, 0, 0, 0, 4]", "[supplier1, 3, 0, 0, 0, 3]", "[supplier2, 3, 0, 0, 0, 3]", "[supplier2, 4, 0, 0, 0, 4]",
            "[supplier1, null, 0, 1, 1, 7]", "[supplier2, null, 0, 1, 1, 7]",
            "[null, 3, 1, 0, 2, 6]", "[null, 4, 1, 0, 2, 8]",
            "[null, null, 1, 1, 3, 14]",
        }.Order(StringComparer.Ordinal), rows);
    }

    [Fact]
    public void A_key_with_null_values_stays_apart_from_the_rolled_up_set()
    {
        // Two groups print as (null, 2): the real NULL key and the grand total; GROUPING tells them apart.
        var rows = Run("""
            SELECT k, COUNT(*), GROUPING(k) FROM (VALUES (CAST(NULL AS STRING)), (CAST(NULL AS STRING))) AS t(k)
            GROUP BY GROUPING SETS ((k), ())
            """, "k STRING, n BIGINT, g BIGINT");
        Assert.Equal(["[null, 2, 0]", "[null, 2, 1]"], rows);
    }

    [Fact]
    public void Grouping_of_an_expression_that_is_not_grouped_is_refused_where_written()
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        var e = Assert.Throws<SqlParseException>(() => session.Execute($"""
            SELECT supplier_id, GROUPING(product_id), COUNT(*)
            FROM {Products} GROUP BY ROLLUP (supplier_id)
            """));
        Assert.Contains("line 1, column 30", e.Message);
        Assert.Contains("must be a GROUP BY expression", e.Message);
    }

    [Fact]
    public void A_window_aggregation_with_rollup_gives_every_set_per_window_once()
    {
        // Window TVF aggregation with grouping sets (Flink: "Window Aggregation → GROUPING SETS"): window_start and
        // window_end outside the sets. Expected per window by LINQ over the same events; append-only output.
        var dir = Directory.CreateTempSubdirectory("eddy-grpsets-").FullName;
        try
        {
            var random = new Random(7);
            string[] hosts = ["a", "b", "c"];
            var events = Enumerable.Range(0, 300)
                .Select(i => (Ms: i * 400L + random.Next(0, 400), Host: hosts[random.Next(3)], Code: random.Next(3) == 0 ? (int?)null : 200 + random.Next(3), X: random.Next(-20, 100)))
                .ToList();
            var start = new DateTime(2024, 1, 1, 10, 0, 0, DateTimeKind.Utc);
            File.WriteAllLines(Path.Combine(dir, "events.jsonl"), events.Select(e =>
                $"{{\"host\":\"{e.Host}\",\"code\":{(e.Code is null ? "null" : e.Code.ToString())},\"x\":{e.X},\"t\":\"{start.AddMilliseconds(e.Ms):yyyy-MM-dd'T'HH:mm:ss.fff'Z'}\"}}"));
            var lines = SessionTests.Run($$"""
                SET 'parallelism.default' = '2';
                CREATE TABLE events (host STRING, code INT, x INT, t STRING,
                  ts AS TO_TIMESTAMP(t, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
                ) WITH ('connector' = 'filesystem', 'path' = '{{dir}}', 'format' = 'json');
                CREATE TABLE out_t (ws TIMESTAMP(3), host STRING, code INT, n BIGINT, s INT, g BIGINT) WITH ('connector' = 'print');
                INSERT INTO out_t
                SELECT window_start, host, code, COUNT(*), SUM(x), GROUPING_ID(host, code)
                FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '20' SECOND))
                GROUP BY window_start, window_end, ROLLUP (host, code);
                """);
            Assert.All(lines, l => Assert.Matches(@"^(\d+> )?\+I\[", l));
            static string F(object? v) => v is null ? "null" : v.ToString()!;
            var expected = new List<string>();
            foreach (var window in events.GroupBy(e => e.Ms / 20_000))
            {
                string ws = start.AddMilliseconds(window.Key * 20_000).ToString("yyyy-MM-dd HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture);
                foreach (var g in window.GroupBy(e => (e.Host, e.Code)))
                    expected.Add($"[{ws}, {g.Key.Host}, {F(g.Key.Code)}, {g.Count()}, {g.Sum(e => e.X)}, 0]");
                foreach (var g in window.GroupBy(e => e.Host))
                    expected.Add($"[{ws}, {g.Key}, null, {g.Count()}, {g.Sum(e => e.X)}, 1]");
                expected.Add($"[{ws}, null, null, {window.Count()}, {window.Sum(e => e.X)}, 3]");
            }
            var actual = lines.Select(l => l[l.IndexOf('[', StringComparison.Ordinal)..]).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(expected.Order(StringComparer.Ordinal).ToList(), actual);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Window_columns_inside_the_grouping_sets_are_refused_where_written()
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        var e = Assert.Throws<SqlParseException>(() => session.Execute("""
            CREATE TABLE events (host STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ('connector' = 'datagen', 'number-of-rows' = '1');
            SELECT host, COUNT(*) FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
            GROUP BY window_end, GROUPING SETS ((window_start, host), (window_start));
            """));
        Assert.Contains("line 3, column 38", e.Message);
        Assert.Contains("outside the grouping sets", e.Message);
    }
}
