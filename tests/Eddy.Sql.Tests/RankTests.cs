using System.Globalization;
using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

/// <summary>
/// Top-N and deduplication (ROW_NUMBER() OVER ... WHERE rn &lt;= N): exact changelogs on small inputs worked by hand
/// from Flink's AppendOnlyTopNFunction and deduplicate functions, and random inputs whose materialized changelog is
/// compared with the batch answer computed by LINQ.
/// </summary>
public class RankTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("eddy-rank-").FullName;

    public void Dispose()
    {
        Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    private static List<string> Run(string sql) => SessionTests.Run(sql);

    private const string Sales = "(VALUES ('a', 10), ('b', 20), ('c', 15), ('d', 5), ('e', 30)) AS t(name, sales)";

    [Fact]
    public void Top_n_with_the_row_number_updates_each_rank_that_changes()
    {
        var lines = Run($"""
            CREATE TABLE out_t (name STRING, sales INT, rn BIGINT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT name, sales, rn FROM (
              SELECT name, sales, ROW_NUMBER() OVER (ORDER BY sales DESC) AS rn FROM {Sales}
            ) WHERE rn <= 2;
            """);
        // a enters at 1; b takes rank 1 and pushes a to 2 (a new rank: +I); c takes rank 2; d is not in the top 2;
        // e takes rank 1, b moves to 2 and c drops out.
        Assert.Equal([
            "+I[a, 10, 1]",
            "-U[a, 10, 1]", "+U[b, 20, 1]", "+I[a, 10, 2]",
            "-U[a, 10, 2]", "+U[c, 15, 2]",
            "-U[b, 20, 1]", "+U[e, 30, 1]", "-U[c, 15, 2]", "+U[b, 20, 2]",
        ], lines);
    }

    [Fact]
    public void Top_n_without_the_row_number_deletes_the_row_pushed_out()
    {
        var lines = Run($"""
            CREATE TABLE out_t (name STRING, sales INT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT name, sales FROM (
              SELECT name, sales, ROW_NUMBER() OVER (ORDER BY sales DESC) AS rn FROM {Sales}
            ) WHERE rn <= 2;
            """);
        Assert.Equal(["+I[a, 10]", "+I[b, 20]", "-D[a, 10]", "+I[c, 15]", "-D[c, 15]", "+I[e, 30]"], lines);
    }

    [Fact]
    public void Top_1_of_an_append_only_input_updates_its_row_as_flinks_fast_top_1()
    {
        // Flink's planner runs a top 1 with FastTop1Function (AppendFastStrategy, not ordered by processing time
        // ascending): a row sorting strictly first replaces the kept one with -U/+U, with or without the row number.
        foreach (var (columns, sink) in new[] { ("name, sales", "name STRING, sales INT"), ("name, sales, rn", "name STRING, sales INT, rn BIGINT") })
        {
            var lines = Run($"""
                CREATE TABLE out_t ({sink}) WITH ('connector' = 'print');
                INSERT INTO out_t SELECT {columns} FROM (
                  SELECT name, sales, ROW_NUMBER() OVER (ORDER BY sales DESC) AS rn FROM {Sales}
                ) WHERE rn = 1;
                """);
            string rn = columns.EndsWith("rn", StringComparison.Ordinal) ? ", 1" : "";
            Assert.Equal([$"+I[a, 10{rn}]", $"-U[a, 10{rn}]", $"+U[b, 20{rn}]", $"-U[b, 20{rn}]", $"+U[e, 30{rn}]"], lines);
        }
    }

    [Fact]
    public void A_rank_range_not_starting_at_one_emits_only_its_ranks()
    {
        var lines = Run($"""
            CREATE TABLE out_t (name STRING, sales INT, rn BIGINT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT * FROM (
              SELECT name, sales, ROW_NUMBER() OVER (ORDER BY sales DESC) AS rn FROM {Sales}
            ) WHERE rn = 2;
            """);
        // The same cascade as the top 2, with rank 1 left out.
        Assert.Equal(["+I[a, 10, 2]", "-U[a, 10, 2]", "+U[c, 15, 2]", "-U[c, 15, 2]", "+U[b, 20, 2]"], lines);
    }

    [Fact]
    public void Ties_rank_in_arrival_order_and_a_tie_with_the_last_of_a_full_top_n_is_dropped()
    {
        var lines = Run("""
            CREATE TABLE out_t (name STRING, sales INT, rn BIGINT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT name, sales, rn FROM (
              SELECT name, sales, ROW_NUMBER() OVER (ORDER BY sales DESC) AS rn
              FROM (VALUES ('a', 10), ('b', 10), ('c', 10), ('d', 20)) AS t(name, sales)
            ) WHERE rn < 3;
            """);
        Assert.Equal(["+I[a, 10, 1]", "+I[b, 10, 2]", "-U[a, 10, 1]", "+U[d, 20, 1]", "-U[b, 10, 2]", "+U[a, 10, 2]"], lines);
    }

    private void WriteEvents(params (string Key, int Value, string Time)[] rows) =>
        File.WriteAllLines(Path.Combine(dir, "events.jsonl"),
            rows.Select(r => $$"""{"k":"{{r.Key}}","v":{{r.Value}},"event_time":"2024-01-01 {{r.Time}}"}"""));

    private string Events => $"""
        CREATE TABLE events (
          k STRING,
          v INT,
          event_time STRING,
          ts AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd HH:mm:ss'),
          pt AS PROCTIME(),
          WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
        ) WITH ('connector' = 'filesystem', 'path' = '{dir}', 'format' = 'json');
        CREATE TABLE out_t (k STRING, v INT) WITH ('connector' = 'print');

        """;

    private static string Dedup(string order, string rank = "rn = 1") =>
        $"INSERT INTO out_t SELECT k, v FROM (SELECT k, v, ROW_NUMBER() OVER (PARTITION BY k ORDER BY {order}) AS rn FROM events) WHERE {rank};";

    [Fact]
    public void Deduplication_keeping_the_first_row_on_processing_time_is_append_only()
    {
        WriteEvents(("a", 1, "10:00:05"), ("b", 2, "10:00:01"), ("a", 3, "10:00:02"));
        Assert.Equal(["+I[a, 1]", "+I[b, 2]"], Run(Events + Dedup("pt ASC")));
        // An append-only sink takes it.
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        session.Execute(Events.Replace("'connector' = 'print'", $"'connector' = 'filesystem', 'path' = '{Path.Combine(dir, "out")}', 'format' = 'json'", StringComparison.Ordinal));
        Assert.Single(session.Execute(Dedup("pt")));
    }

    [Fact]
    public void Deduplication_keeping_the_last_row_on_processing_time_updates()
    {
        // The fourth row equals the kept one in every column the deduplication reads but the processing time (the
        // event_time column is not read): Flink's equaliser drops it.
        WriteEvents(("a", 1, "10:00:05"), ("b", 2, "10:00:01"), ("a", 3, "10:00:02"), ("a", 3, "10:00:03"), ("a", 4, "10:00:03"));
        Assert.Equal(["+I[a, 1]", "+I[b, 2]", "-U[a, 1]", "+U[a, 3]", "-U[a, 3]", "+U[a, 4]"], Run(Events + Dedup("pt DESC")));
    }

    [Fact]
    public void Deduplication_on_event_time_keeps_the_earliest_or_the_latest_rowtime()
    {
        WriteEvents(("a", 1, "10:00:05"), ("a", 2, "10:00:03"), ("a", 3, "10:00:07"), ("a", 4, "10:00:07"), ("b", 5, "10:00:04"));
        // First: a row replaces the kept one only with a smaller rowtime.
        Assert.Equal(["+I[a, 1]", "-U[a, 1]", "+U[a, 2]", "+I[b, 5]"], Run(Events + Dedup("ts ASC")));
        // Last: with a greater or equal rowtime (the later of two equal ones wins).
        Assert.Equal(["+I[a, 1]", "-U[a, 1]", "+U[a, 3]", "-U[a, 3]", "+U[a, 4]", "+I[b, 5]"], Run(Events + Dedup("ts DESC")));
    }

    [Fact]
    public void Reading_the_row_number_makes_it_a_top_n_not_a_deduplication()
    {
        WriteEvents(("a", 1, "10:00:05"), ("a", 2, "10:00:03"), ("a", 3, "10:00:07"));
        var explain = string.Join("\n", Run(Events.Replace("(k STRING, v INT)", "(k STRING, v INT, rn BIGINT)", StringComparison.Ordinal)
            + "EXPLAIN SELECT k, v, rn FROM (SELECT k, v, ROW_NUMBER() OVER (PARTITION BY k ORDER BY ts DESC) AS rn FROM events) WHERE rn = 1;"));
        Assert.True(explain.Contains("Rank(strategy=[AppendFastStrategy], rankType=[ROW_NUMBER], rankRange=[rankStart=1, rankEnd=1], partitionBy=[k], orderBy=[ts DESC]", StringComparison.Ordinal), explain);
        var lines = Run(Events.Replace("(k STRING, v INT)", "(k STRING, v INT, rn BIGINT)", StringComparison.Ordinal)
            + "INSERT INTO out_t SELECT k, v, rn FROM (SELECT k, v, ROW_NUMBER() OVER (PARTITION BY k ORDER BY ts DESC) AS rn FROM events) WHERE rn = 1;");
        Assert.Equal(["+I[a, 1, 1]", "-U[a, 1, 1]", "+U[a, 3, 1]"], lines);
        var dedup = string.Join("\n", Run(Events + "EXPLAIN " + Dedup("ts DESC")[..^1].Replace("INSERT INTO out_t ", "", StringComparison.Ordinal) + ";"));
        Assert.True(dedup.Contains("Deduplicate(keep=[LastRow], key=[k], order=[ROWTIME])", StringComparison.Ordinal), dedup);
    }

    public static TheoryData<int, string, bool> RandomCases => new()
    {
        { 1, "rn <= 3", true },
        { 2, "rn <= 3", false },
        { 3, "rn BETWEEN 2 AND 4", true },
        { 4, "rn BETWEEN 2 AND 4", false },
        { 5, "rn = 1 AND v > 2", false },
        { 6, "rn < 2", true },
    };

    [Theory]
    [MemberData(nameof(RandomCases))]
    public void Materialized_top_n_changelog_is_the_batch_answer(int seed, string filter, bool selectRank)
    {
        var random = new Random(seed);
        var rows = Enumerable.Range(0, 300).Select(id => (Id: id, Key: "k" + random.Next(4), V: random.Next(10), W: random.Next(3) == 0 ? (int?)null : random.Next(5))).ToList();
        string values = string.Join(", ", rows.Select(r => $"({r.Id}, '{r.Key}', {r.V}, {(r.W is { } w ? $"{w}" : "NULL")})"));
        string columns = selectRank ? "id, k, v, w, rn" : "id, k, v, w";
        var lines = Run($"""
            CREATE TABLE out_t (id INT, k STRING, v INT, w INT{(selectRank ? ", rn BIGINT" : "")}) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT {columns} FROM (
              SELECT id, k, v, w, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC, w ASC NULLS LAST) AS rn
              FROM (VALUES {values}) AS t(id, k, v, w)
            ) WHERE {filter};
            """);

        var table = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            string kind = line[..2], row = line[2..];
            int delta = kind is "+I" or "+U" ? 1 : kind is "-U" or "-D" ? -1 : throw new InvalidOperationException(line);
            int count = table.GetValueOrDefault(row) + delta;
            Assert.True(count >= 0, $"{line} retracts a row that is not there");
            if (count == 0) table.Remove(row);
            else table[row] = count;
        }
        var actual = table.SelectMany(e => Enumerable.Repeat(e.Key, e.Value)).Order(StringComparer.Ordinal).ToList();

        // Batch: per key, by v descending, then w ascending with NULLs last, then arrival (Flink's tie order).
        (long Low, long High, Func<(int Id, string Key, int V, int? W), bool> Extra) range = filter switch
        {
            "rn <= 3" => (1, 3, _ => true),
            "rn BETWEEN 2 AND 4" => (2, 4, _ => true),
            "rn = 1 AND v > 2" => (1, 1, r => r.V > 2),
            _ => (1, 1, _ => true),
        };
        var expected = rows.GroupBy(r => r.Key)
            .SelectMany(g => g.OrderByDescending(r => r.V).ThenBy(r => r.W is null).ThenBy(r => r.W ?? 0).ThenBy(r => r.Id)
                .Select((r, i) => (Row: r, Rank: i + 1L)))
            .Where(x => x.Rank >= range.Low && x.Rank <= range.High && range.Extra(x.Row))
            .Select(x => $"[{x.Row.Id}, {x.Row.Key}, {x.Row.V}, {(x.Row.W is { } w ? w.ToString(CultureInfo.InvariantCulture) : "null")}"
                + (selectRank ? $", {x.Rank}]" : "]"))
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, actual);
    }

    [Theory]
    [InlineData("SELECT * FROM (SELECT k, RANK() OVER (PARTITION BY k ORDER BY v) AS r FROM t) WHERE r <= 3", "RANK() Top-N on a streaming table is not supported: Flink refuses it too", 1, 26)]
    [InlineData("SELECT * FROM (SELECT k, DENSE_RANK() OVER (PARTITION BY k ORDER BY v) AS r FROM t) WHERE r <= 3", "DENSE_RANK() Top-N", 1, 26)]
    [InlineData("SELECT k, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v) AS rn FROM t", "must be defined on a time attribute", 1, 54)]
    [InlineData("SELECT * FROM (SELECT k, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v) AS rn FROM t)", "must bound 'rn' from above", 1, 26)]
    [InlineData("SELECT * FROM (SELECT k, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v) AS rn FROM t) WHERE rn > 2", "must bound 'rn' from above", 1, 92)]
    [InlineData("SELECT * FROM (SELECT k, ROW_NUMBER() OVER (PARTITION BY k) AS rn FROM t) WHERE rn <= 2", "needs ORDER BY", 1, 44)]
    [InlineData("SELECT * FROM (SELECT k, ROW_NUMBER() OVER (ORDER BY v) FROM t) WHERE k = 'a'", "needs a name", 1, 26)]
    [InlineData("SELECT * FROM (SELECT k, n, ROW_NUMBER() OVER (ORDER BY n DESC) AS rn FROM (SELECT k, SUM(v) AS n FROM t GROUP BY k)) WHERE rn <= 2", "a SUM", 1, 47)]
    [InlineData("SELECT window_start, k, t FROM (SELECT window_start, k, t, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY t DESC) AS rn FROM (SELECT window_start, window_end, k, window_time AS t FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end, k)) WHERE rn = 1", "window deduplication is supported directly on a window TVF only", 1, 78)]
    [InlineData("SELECT * FROM (SELECT k, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v) AS rn, ROW_NUMBER() OVER (ORDER BY v) AS rn2 FROM t) WHERE rn <= 2", "one ROW_NUMBER()", 1, 79)]
    public void What_flink_or_eddy_does_not_run_is_refused_where_it_is_written(string query, string message, int line, int column)
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        session.Execute("""
            CREATE TABLE t (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector' = 'datagen');
            """);
        var e = Assert.Throws<SqlParseException>(() => session.Execute(query));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.Equal((line, column), (e.Span.Line, e.Span.Column));
    }

    private const string NexmarkBid = """
        CREATE TABLE datagen (
            event_type INT,
            bid ROW<auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, `dateTime` TIMESTAMP(3), extra VARCHAR>,
            `dateTime` AS bid.`dateTime`,
            WATERMARK FOR `dateTime` AS `dateTime` - INTERVAL '4' SECOND
        ) WITH ('connector' = 'datagen');
        CREATE VIEW bid AS
        SELECT bid.auction, bid.bidder, bid.price, bid.channel, bid.url, `dateTime`, bid.extra FROM datagen WHERE event_type = 2;
        CREATE TABLE sink18 (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, `dateTime` TIMESTAMP(3), extra VARCHAR)
        WITH ('connector' = 'blackhole');
        CREATE TABLE sink19 (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, `dateTime` TIMESTAMP(3), extra VARCHAR, rank_number BIGINT)
        WITH ('connector' = 'blackhole');

        """;

    [Fact]
    public void Nexmark_q18_is_a_deduplication_and_q19_a_top_n()
    {
        // The queries' text as the Nexmark project publishes them.
        var q18 = string.Join("\n", Run(NexmarkBid + """
            EXPLAIN INSERT INTO sink18
            SELECT auction, bidder, price, channel, url, `dateTime`, extra
             FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY bidder, auction ORDER BY `dateTime` DESC) AS rank_number
                   FROM bid)
             WHERE rank_number <= 1;
            """));
        Assert.True(q18.Contains("Deduplicate(keep=[LastRow], key=[bidder, auction], order=[ROWTIME])", StringComparison.Ordinal), q18);
        var q19 = string.Join("\n", Run(NexmarkBid + """
            EXPLAIN INSERT INTO sink19
            SELECT * FROM
            (SELECT *, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC) AS rank_number FROM bid)
            WHERE rank_number <= 10;
            """));
        Assert.True(q19.Contains("Rank(strategy=[AppendFastStrategy], rankType=[ROW_NUMBER], rankRange=[rankStart=1, rankEnd=10], partitionBy=[auction], orderBy=[price DESC]", StringComparison.Ordinal), q19);
    }

    private const string WindowCounts = """
        SELECT window_start, window_end, k, COUNT(*) AS n
        FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '10' SECOND))
        GROUP BY window_start, window_end, k
        """;

    [Fact]
    public void Window_top_n_over_a_window_aggregation_emits_each_window_once_at_the_watermark()
    {
        // Window [10:00:00, 10:00:10): a 3, b 1, c 2; window [10:00:10, 10:00:20): b 2, c 1, a 1 (a arrives last).
        WriteEvents(("a", 0, "10:00:01"), ("b", 0, "10:00:02"), ("a", 0, "10:00:03"), ("c", 0, "10:00:04"), ("c", 0, "10:00:05"),
            ("a", 0, "10:00:06"), ("b", 0, "10:00:11"), ("c", 0, "10:00:12"), ("b", 0, "10:00:13"), ("a", 0, "10:00:14"));
        var sink = "CREATE TABLE top2 (ws TIMESTAMP(3), k STRING, n BIGINT, rn BIGINT) WITH ('connector' = 'print');\n";
        var lines = Run(Events + sink + $"""
            INSERT INTO top2 SELECT window_start, k, n, rn FROM (
              SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY n DESC) AS rn FROM ({WindowCounts})
            ) WHERE rn <= 2;
            """);
        // Rank 2 of the second window is a tie between c and a at 1: the earlier result (Eddy's window operator emits
        // keys in their first row's order, c before a) ranks first.
        Assert.Equal([
            "+I[2024-01-01 10:00:00.000, a, 3, 1]", "+I[2024-01-01 10:00:00.000, c, 2, 2]",
            "+I[2024-01-01 10:00:10.000, b, 2, 1]", "+I[2024-01-01 10:00:10.000, c, 1, 2]",
        ], lines);
        var explain = string.Join("\n", Run(Events + sink + $"""
            EXPLAIN SELECT window_start, k, n FROM (
              SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY n DESC) AS rn FROM ({WindowCounts})
            ) WHERE rn <= 2;
            """));
        Assert.True(explain.Contains("WindowRank(window=[end=[window_end]], rankType=[ROW_NUMBER], rankRange=[rankStart=1, rankEnd=2]", StringComparison.Ordinal), explain);
        // Append-only: a sink without a primary key takes it.
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        session.Execute(Events + $"CREATE TABLE files (ws TIMESTAMP(3), k STRING, n BIGINT) WITH ('connector' = 'filesystem', 'path' = '{Path.Combine(dir, "out")}', 'format' = 'json');");
        Assert.Single(session.Execute($"""
            INSERT INTO files SELECT window_start, k, n FROM (
              SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY n DESC) AS rn FROM ({WindowCounts})
            ) WHERE rn <= 2;
            """));
    }

    [Fact]
    public void Top_n_over_a_legacy_group_window_is_a_regular_top_n()
    {
        WriteEvents(("a", 0, "10:00:01"));
        var explain = string.Join("\n", Run(Events + """
            EXPLAIN SELECT ws, k, n FROM (
              SELECT ws, we, k, n, ROW_NUMBER() OVER (PARTITION BY ws, we ORDER BY n DESC) AS rn FROM (
                SELECT TUMBLE_START(ts, INTERVAL '10' SECOND) AS ws, TUMBLE_END(ts, INTERVAL '10' SECOND) AS we, k, COUNT(*) AS n
                FROM events GROUP BY TUMBLE(ts, INTERVAL '10' SECOND), k)
            ) WHERE rn <= 2;
            """));
        Assert.True(explain.Contains("Rank(strategy=[AppendFastStrategy]", StringComparison.Ordinal), explain);
    }

    private const string WindowDedup = """
        INSERT INTO out_w SELECT k, v, window_start FROM (
          SELECT k, v, window_start, ROW_NUMBER() OVER (PARTITION BY window_start, window_end, k ORDER BY {0}) AS rn
          FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '10' SECOND))
        ) WHERE rn = 1;
        """;

    private const string WindowSink = "CREATE TABLE out_w (k STRING, v INT, ws TIMESTAMP(3)) WITH ('connector' = 'print');\n";

    [Fact]
    public void Window_deduplication_keeps_the_first_or_last_row_of_each_window_and_key_at_the_window_end()
    {
        // Window [10:00:00, 10:00:10): a 1 (:01), 2 (:03), 4 (:03), 7 (:01); b 3 (:04), 6 (:02). Window [10:00:10, 10:00:20): a 5.
        WriteEvents(("a", 1, "10:00:01"), ("a", 2, "10:00:03"), ("b", 3, "10:00:04"), ("a", 4, "10:00:03"), ("a", 5, "10:00:12"),
            ("b", 6, "10:00:02"), ("a", 7, "10:00:01"));
        // First: the smallest rowtime, the earlier of equal ones (a 7 ties with a 1 and does not replace it).
        Assert.Equal(["+I[a, 1, 2024-01-01 10:00:00.000]", "+I[a, 5, 2024-01-01 10:00:10.000]", "+I[b, 6, 2024-01-01 10:00:00.000]"],
            Run(Events + WindowSink + string.Format(CultureInfo.InvariantCulture, WindowDedup, "ts ASC")).Order(StringComparer.Ordinal));
        // Last: the greatest rowtime, the later of equal ones (a 4 ties with a 2 and replaces it).
        Assert.Equal(["+I[a, 4, 2024-01-01 10:00:00.000]", "+I[a, 5, 2024-01-01 10:00:10.000]", "+I[b, 3, 2024-01-01 10:00:00.000]"],
            Run(Events + WindowSink + string.Format(CultureInfo.InvariantCulture, WindowDedup, "ts DESC")).Order(StringComparer.Ordinal));
        // Ordered by window_time, every row of a window ties: the first or the last to arrive.
        Assert.Equal(["+I[a, 5, 2024-01-01 10:00:10.000]", "+I[a, 7, 2024-01-01 10:00:00.000]", "+I[b, 6, 2024-01-01 10:00:00.000]"],
            Run(Events + WindowSink + string.Format(CultureInfo.InvariantCulture, WindowDedup, "window_time DESC")).Order(StringComparer.Ordinal));
        var explain = string.Join("\n", Run(Events + WindowSink + "EXPLAIN " + string.Format(CultureInfo.InvariantCulture, WindowDedup, "ts DESC")));
        Assert.True(explain.Contains("WindowDeduplicate(window=[end=[window_end]], keep=[LastRow], partitionKeys=[window_start, window_end, k], orderKey=[ts], order=[ROWTIME])", StringComparison.Ordinal), explain);
        // Append-only: a sink without a primary key takes it.
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        session.Execute(Events + $"CREATE TABLE out_w (k STRING, v INT, ws TIMESTAMP(3)) WITH ('connector' = 'filesystem', 'path' = '{Path.Combine(dir, "out")}', 'format' = 'json');");
        Assert.Single(session.Execute(string.Format(CultureInfo.InvariantCulture, WindowDedup, "ts")));
    }

    [Theory]
    [InlineData(11, false)]
    [InlineData(12, true)]
    public void Window_deduplication_of_random_rows_is_the_linq_answer(int seed, bool keepLast)
    {
        var random = new Random(seed);
        var rows = Enumerable.Range(0, 200).Select(i => (Key: "k" + random.Next(3), Value: i, Second: random.Next(40))).ToList();
        WriteEvents([.. rows.Select(r => (r.Key, r.Value, $"10:00:{r.Second:00}"))]);
        var lines = Run(Events + WindowSink + string.Format(CultureInfo.InvariantCulture, WindowDedup, keepLast ? "ts DESC" : "ts"));
        // Per 10-second window and key: the smallest second (first of equal ones), or the greatest (last of equal ones).
        var expected = rows.GroupBy(r => (Window: r.Second / 10, r.Key)).Select(g =>
            {
                var kept = keepLast
                    ? g.OrderByDescending(r => r.Second).ThenByDescending(r => r.Value).First()
                    : g.OrderBy(r => r.Second).ThenBy(r => r.Value).First();
                return $"+I[{g.Key.Key}, {kept.Value}, 2024-01-01 10:00:{g.Key.Window * 10:00}.000]";
            }).Order(StringComparer.Ordinal);
        Assert.Equal(expected, lines.Order(StringComparer.Ordinal));
    }

    private const string Counts = "(SELECT k, COUNT(*) AS cnt FROM (VALUES ('a'), ('b'), ('a'), ('c'), ('b'), ('a')) AS t(k) GROUP BY k)";

    [Fact]
    public void Top_n_over_a_group_by_retracts_with_the_row_number_as_flinks_retract_strategy()
    {
        // The GROUP BY emits +I[a,1] +I[b,1] -U[a,1] +U[a,2] +I[c,1] -U[b,1] +U[b,2] -U[a,2] +U[a,3]; the two keys with
        // the fewest rows so far (an ascending COUNT: Flink's RetractStrategy), worked through RetractableTopNFunction.
        var lines = Run($"""
            SET 'parallelism.default' = '1';
            CREATE TABLE out_t (k STRING, cnt BIGINT, rn BIGINT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT k, cnt, rn FROM (SELECT k, cnt, ROW_NUMBER() OVER (ORDER BY cnt ASC) AS rn FROM {Counts}) WHERE rn <= 2;
            """);
        Assert.Equal([
            "+I[a, 1, 1]",
            "+I[b, 1, 2]",
            "-U[a, 1, 1]", "+U[b, 1, 1]", "-D[b, 1, 2]",
            "+I[a, 2, 2]",
            "-U[a, 2, 2]", "+U[c, 1, 2]",
            "-U[b, 1, 1]", "+U[c, 1, 1]", "-U[c, 1, 2]", "+U[a, 2, 2]",
            "-U[a, 2, 2]", "+U[b, 2, 2]",
        ], lines);
        var explain = string.Join("\n", Run($"""
            CREATE TABLE out_t (k STRING, cnt BIGINT, rn BIGINT) WITH ('connector' = 'print');
            EXPLAIN SELECT k, cnt, rn FROM (SELECT k, cnt, ROW_NUMBER() OVER (ORDER BY cnt ASC) AS rn FROM {Counts}) WHERE rn <= 2;
            """));
        Assert.True(explain.Contains("Rank(strategy=[RetractStrategy], rankType=[ROW_NUMBER], rankRange=[rankStart=1, rankEnd=2], partitionBy=[], orderBy=[cnt ASC]", StringComparison.Ordinal), explain);
    }

    [Fact]
    public void Top_n_over_a_group_by_without_the_row_number_deletes_and_inserts()
    {
        var lines = Run($"""
            SET 'parallelism.default' = '1';
            CREATE TABLE out_t (k STRING, cnt BIGINT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT k, cnt FROM (SELECT k, cnt, ROW_NUMBER() OVER (ORDER BY cnt ASC) AS rn FROM {Counts}) WHERE rn <= 2;
            """);
        Assert.Equal([
            "+I[a, 1]", "+I[b, 1]",
            "-D[a, 1]",
            "+I[a, 2]",
            "-D[a, 2]", "+I[c, 1]",
            "-D[b, 1]", "+I[a, 2]",
            "-D[a, 2]", "+I[b, 2]",
        ], lines);
    }

    [Theory]
    [InlineData(21, "rn <= 3", true)]
    [InlineData(22, "rn <= 3", false)]
    [InlineData(23, "rn BETWEEN 2 AND 3", true)]
    [InlineData(24, "rn = 1", false)]
    public void Materialized_top_n_over_a_group_by_is_the_batch_answer(int seed, string filter, bool selectRank)
    {
        var random = new Random(seed);
        var rows = Enumerable.Range(0, 400).Select(_ => (G: "g" + random.Next(3), K: random.Next(12))).ToList();
        string values = string.Join(", ", rows.Select(r => $"('{r.G}', {r.K})"));
        string columns = selectRank ? "g, k, cnt, rn" : "g, k, cnt";
        var lines = Run($"""
            SET 'parallelism.default' = '2';
            CREATE TABLE out_t (g STRING, k INT, cnt BIGINT{(selectRank ? ", rn BIGINT" : "")}) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT {columns} FROM (
              SELECT g, k, cnt, ROW_NUMBER() OVER (PARTITION BY g ORDER BY cnt ASC, k DESC) AS rn
              FROM (SELECT g, k, COUNT(*) AS cnt FROM (VALUES {values}) AS t(g, k) GROUP BY g, k)
            ) WHERE {filter};
            """).Select(l => l[l.IndexOf('>', StringComparison.Ordinal) is var i and >= 0 ? (i + 2).. : 0..]).ToList();
        var table = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            string kind = line[..2], row = line[2..];
            int delta = kind is "+I" or "+U" ? 1 : kind is "-U" or "-D" ? -1 : throw new InvalidOperationException(line);
            int count = table.GetValueOrDefault(row) + delta;
            Assert.True(count >= 0, $"{line} retracts a row that is not there");
            if (count == 0) table.Remove(row);
            else table[row] = count;
        }
        var actual = table.SelectMany(e => Enumerable.Repeat(e.Key, e.Value)).Order(StringComparer.Ordinal).ToList();
        (long Low, long High) range = filter switch { "rn <= 3" => (1, 3), "rn BETWEEN 2 AND 3" => (2, 3), _ => (1, 1) };
        var expected = rows.GroupBy(r => r.G)
            .SelectMany(g => g.GroupBy(r => r.K).Select(k => (G: g.Key, K: k.Key, Count: k.LongCount()))
                .OrderBy(x => x.Count).ThenByDescending(x => x.K).Select((x, i) => (Row: x, Rank: i + 1L)))
            .Where(x => x.Rank >= range.Low && x.Rank <= range.High)
            .Select(x => $"[{x.Row.G}, {x.Row.K}, {x.Row.Count}" + (selectRank ? $", {x.Rank}]" : "]"))
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, actual);
    }

    [Theory]
    [InlineData("SELECT k, s FROM (SELECT k, s, ROW_NUMBER() OVER (ORDER BY s DESC) AS rn FROM (SELECT k, SUM(v) AS s FROM t GROUP BY k)) WHERE rn <= 3", "or a SUM")]
    [InlineData("SELECT k, s FROM (SELECT k, s, ROW_NUMBER() OVER (ORDER BY s * 2) AS rn FROM (SELECT k, COUNT(*) AS s FROM t GROUP BY k)) WHERE rn <= 3", "an expression")]
    [InlineData("SELECT k, n FROM (SELECT k, n, ROW_NUMBER() OVER (ORDER BY n) AS rn FROM (SELECT k, COUNT(*) AS n FROM (SELECT k, COUNT(*) AS c FROM t GROUP BY k) GROUP BY k)) WHERE rn <= 3", "GROUP BY of an append-only input")]
    public void Top_n_over_an_updating_input_whose_strategy_eddy_cannot_tell_is_refused(string query, string reason)
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        session.Execute("CREATE TABLE t (k STRING, v INT) WITH ('connector' = 'datagen');");
        var e = Assert.Throws<SqlParseException>(() => session.Execute("EXPLAIN " + query));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.Equal("EXPLAIN ".Length + query.IndexOf("OVER (", StringComparison.Ordinal) + "OVER ".Length + 1, e.Span.Column);
    }

    [Theory]
    [InlineData("SELECT k, cnt FROM (SELECT k, cnt, ROW_NUMBER() OVER (ORDER BY cnt DESC) AS rn FROM (SELECT k, COUNT(*) AS cnt FROM t GROUP BY k)) WHERE rn <= 3", "UpdateFastStrategy[0]")]
    [InlineData("SELECT k, m FROM (SELECT k, m, ROW_NUMBER() OVER (ORDER BY m ASC) AS rn FROM (SELECT k, MIN(v) AS m FROM t GROUP BY k)) WHERE rn <= 3", "UpdateFastStrategy[0]")]
    [InlineData("SELECT m, k FROM (SELECT m, k, ROW_NUMBER() OVER (ORDER BY m DESC) AS rn FROM (SELECT k, MAX(v) AS m FROM t GROUP BY k)) WHERE rn <= 3", "UpdateFastStrategy[1]")]
    [InlineData("SELECT k, c FROM (SELECT k, c, ROW_NUMBER() OVER (PARTITION BY k ORDER BY c) AS rn FROM (SELECT k, v AS c, COUNT(*) AS n FROM t GROUP BY k, v)) WHERE rn <= 3", "UpdateFastStrategy[0,1]")]
    public void Top_n_over_an_updating_input_whose_rows_only_move_up_takes_flinks_update_fast_strategy(string query, string strategy)
    {
        // A unique key (the GROUP BY keys, numbered in the rank's input) holding the partition key, and every ORDER BY
        // column a group key, a descending COUNT or MAX, or an ascending MIN (Flink's RankProcessStrategy).
        var explain = new StringWriter();
        new SqlSession(TestConnectors.Registry, explain, TextWriter.Null).Execute("CREATE TABLE t (k STRING, v INT) WITH ('connector' = 'datagen');\nEXPLAIN " + query + ";");
        Assert.Contains($"Rank(strategy=[{strategy}]", explain.ToString(), StringComparison.Ordinal);
    }

    private static string RunningCounts(string keys) =>
        $"(SELECT k, COUNT(*) AS cnt FROM (VALUES {string.Join(", ", keys.Select(k => $"('{k}')"))}) AS t(k) GROUP BY k)";

    [Fact]
    public void Update_fast_top_n_with_the_row_number_moves_each_row_up_from_its_old_rank()
    {
        // The GROUP BY's +I/+U rows (its -U rows are not read: Flink asks for none) worked through Flink's
        // UpdatableTopNFunction, top 2 by count descending: a 1, b 1 (a tie: after a), a 2 (rank 1 already: -U/+U at 1),
        // c 1 (ties the last of a full top 2: dropped), b 2 (same rank), a 3 (same rank); then in a second run b 2
        // passes a 1 (-U of the row it passes, -U of its old version at rank 2, +U itself at 1, +U a at 2).
        var lines = Run($"""
            SET 'parallelism.default' = '1';
            CREATE TABLE out_t (k STRING, cnt BIGINT, rn BIGINT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT k, cnt, rn FROM (SELECT k, cnt, ROW_NUMBER() OVER (ORDER BY cnt DESC) AS rn FROM {RunningCounts("abacba")}) WHERE rn <= 2;
            """);
        Assert.Equal([
            "+I[a, 1, 1]", "+I[b, 1, 2]",
            "-U[a, 1, 1]", "+U[a, 2, 1]",
            "-U[b, 1, 2]", "+U[b, 2, 2]",
            "-U[a, 2, 1]", "+U[a, 3, 1]",
        ], lines);
        lines = Run($"""
            SET 'parallelism.default' = '1';
            CREATE TABLE out_t (k STRING, cnt BIGINT, rn BIGINT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT k, cnt, rn FROM (SELECT k, cnt, ROW_NUMBER() OVER (ORDER BY cnt DESC) AS rn FROM {RunningCounts("abb")}) WHERE rn <= 2;
            """);
        Assert.Equal(["+I[a, 1, 1]", "+I[b, 1, 2]", "-U[a, 1, 1]", "-U[b, 1, 2]", "+U[b, 2, 1]", "+U[a, 1, 2]"], lines);
    }

    [Fact]
    public void Update_fast_top_n_without_the_row_number_updates_in_place_and_deletes_the_row_pushed_out()
    {
        // a 1, b 1, c 1 (dropped: ties the last of a full top 2), c 2 (a new row in the top 2: -D the last, b, then +I),
        // a 2 (held: -U/+U whatever its rank).
        var lines = Run($"""
            SET 'parallelism.default' = '1';
            CREATE TABLE out_t (k STRING, cnt BIGINT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT k, cnt FROM (SELECT k, cnt, ROW_NUMBER() OVER (ORDER BY cnt DESC) AS rn FROM {RunningCounts("abcca")}) WHERE rn <= 2;
            """);
        Assert.Equal(["+I[a, 1]", "+I[b, 1]", "-D[b, 1]", "+I[c, 2]", "-U[a, 1]", "+U[a, 2]"], lines);
    }

    [Fact]
    public void Update_fast_top_1_replaces_the_top_row_only_when_a_row_sorts_strictly_before_it()
    {
        // Flink's FastTop1Function: b 1 ties a 1 (dropped), a 2 replaces a 1, b 2 ties (dropped), a 3 replaces a 2.
        var lines = Run($"""
            SET 'parallelism.default' = '1';
            CREATE TABLE out_t (k STRING, cnt BIGINT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT k, cnt FROM (SELECT k, cnt, ROW_NUMBER() OVER (ORDER BY cnt DESC) AS rn FROM {RunningCounts("abacba")}) WHERE rn = 1;
            """);
        Assert.Equal(["+I[a, 1]", "-U[a, 1]", "+U[a, 2]", "-U[a, 2]", "+U[a, 3]"], lines);
    }

    [Theory]
    [InlineData(31, "COUNT(*)", "rn <= 3", true)]
    [InlineData(32, "COUNT(*)", "rn <= 3", false)]
    [InlineData(33, "COUNT(*)", "rn BETWEEN 2 AND 4", true)]
    [InlineData(34, "COUNT(*)", "rn = 1", true)]
    [InlineData(35, "MIN(v)", "rn <= 2", true)]
    [InlineData(36, "MIN(v)", "rn <= 2", false)]
    [InlineData(37, "MAX(v)", "rn <= 4", false)]
    public void Materialized_update_fast_top_n_is_the_batch_answer(int seed, string aggregate, string filter, bool selectRank)
    {
        var random = new Random(seed);
        var rows = Enumerable.Range(0, 500).Select(_ => (G: "g" + random.Next(3), K: random.Next(15), V: random.Next(1000))).ToList();
        string values = string.Join(", ", rows.Select(r => $"('{r.G}', {r.K}, {r.V})"));
        bool ascending = aggregate.StartsWith("MIN", StringComparison.Ordinal);
        string columns = selectRank ? "g, k, a, rn" : "g, k, a";
        string query = $"""
            SELECT {columns} FROM (
              SELECT g, k, a, ROW_NUMBER() OVER (PARTITION BY g ORDER BY a {(ascending ? "ASC" : "DESC")}, k) AS rn
              FROM (SELECT g, k, {aggregate} AS a FROM (VALUES {values}) AS t(g, k, v) GROUP BY g, k)
            ) WHERE {filter}
            """;
        var plan = string.Join("\n", Run("EXPLAIN " + query + ";"));
        Assert.Contains("UpdateFastStrategy[0,1]", plan, StringComparison.Ordinal);
        var lines = Run($"""
            SET 'parallelism.default' = '2';
            CREATE TABLE out_t (g STRING, k INT, a BIGINT{(selectRank ? ", rn BIGINT" : "")}) WITH ('connector' = 'print');
            INSERT INTO out_t {query};
            """).Select(l => l[l.IndexOf('>', StringComparison.Ordinal) is var i and >= 0 ? (i + 2).. : 0..]).ToList();
        // Replay the changelog into a multiset: every retraction must find its row.
        var table = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            string kind = line[..2], row = line[2..];
            int delta = kind is "+I" or "+U" ? 1 : kind is "-U" or "-D" ? -1 : throw new InvalidOperationException(line);
            int count = table.GetValueOrDefault(row) + delta;
            Assert.True(count >= 0, $"{line} retracts a row that is not there");
            if (count == 0) table.Remove(row);
            else table[row] = count;
        }
        var actual = table.SelectMany(e => Enumerable.Repeat(e.Key, e.Value)).Order(StringComparer.Ordinal).ToList();
        (long Low, long High) range = filter switch { "rn <= 3" => (1, 3), "rn <= 2" => (1, 2), "rn <= 4" => (1, 4), "rn BETWEEN 2 AND 4" => (2, 4), _ => (1, 1) };
        var expected = rows.GroupBy(r => r.G)
            .SelectMany(g => g.GroupBy(r => r.K)
                .Select(k => (G: g.Key, K: k.Key, A: aggregate switch { "COUNT(*)" => k.LongCount(), "MIN(v)" => k.Min(r => r.V), _ => (long)k.Max(r => r.V) }))
                .OrderBy(x => ascending ? x.A : -x.A).ThenBy(x => x.K).Select((x, i) => (Row: x, Rank: i + 1L)))
            .Where(x => x.Rank >= range.Low && x.Rank <= range.High)
            .Select(x => $"[{x.Row.G}, {x.Row.K}, {x.Row.A}" + (selectRank ? $", {x.Rank}]" : "]"))
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, actual);
    }

    [Theory]
    [InlineData("SELECT k, a FROM (SELECT k, a, ROW_NUMBER() OVER (ORDER BY a DESC) AS rn FROM (SELECT k, AVG(v) AS a FROM t GROUP BY k)) WHERE rn <= 3")]
    [InlineData("SELECT cnt FROM (SELECT cnt, ROW_NUMBER() OVER (ORDER BY cnt DESC) AS rn FROM (SELECT k, COUNT(*) AS cnt FROM t GROUP BY k)) WHERE rn <= 3")]
    [InlineData("SELECT k, cnt FROM (SELECT k, cnt, ROW_NUMBER() OVER (PARTITION BY cnt ORDER BY k) AS rn FROM (SELECT k, COUNT(*) AS cnt FROM t GROUP BY k)) WHERE rn <= 3")]
    [InlineData("SELECT k, cnt FROM (SELECT k, cnt, ROW_NUMBER() OVER (ORDER BY cnt DESC, m ASC) AS rn FROM (SELECT k, COUNT(*) AS cnt, MAX(v) AS m FROM t GROUP BY k)) WHERE rn <= 3")]
    public void Top_n_over_an_updating_input_that_flink_ranks_with_retract_runs(string query)
    {
        // Not monotonic towards the top (AVG; MAX ascending), or no upsert key (the group key is not selected), or a
        // partition that is not in the key: Flink's RetractStrategy.
        var explain = new StringWriter();
        new SqlSession(TestConnectors.Registry, explain, TextWriter.Null).Execute("CREATE TABLE t (k STRING, v INT) WITH ('connector' = 'datagen');\nEXPLAIN " + query + ";");
        Assert.Contains("Rank(strategy=[RetractStrategy]", explain.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SELECT id, v FROM (SELECT id, v, ROW_NUMBER() OVER (PARTITION BY id ORDER BY v DESC) AS rn FROM u) WHERE rn <= 3")]
    [InlineData("SELECT id, v FROM (SELECT id, v, ROW_NUMBER() OVER (ORDER BY v DESC) AS rn FROM u) WHERE rn <= 3")]
    public void Top_n_over_a_changelog_scan_partitioned_within_its_primary_key_is_refused(string query)
    {
        // The upsert key holds the partition key: Flink then picks its strategy by the monotonicity of v over the scan.
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        session.Execute("CREATE TABLE u (id STRING, g STRING, v INT, PRIMARY KEY (id) NOT ENFORCED) WITH ('connector' = 'test-changelog');");
        var e = Assert.Throws<SqlParseException>(() => session.Execute("EXPLAIN " + query));
        Assert.Contains("lies within the primary key of table 'u'", e.Message, StringComparison.Ordinal);
        Assert.Equal("EXPLAIN ".Length + query.IndexOf("OVER (", StringComparison.Ordinal) + "OVER ".Length + 1, e.Span.Column);
    }

    public static TheoryData<string, string, bool> BatchRankCases => new()
    {
        { "ROW_NUMBER", "r <= 3", true },
        { "RANK", "r <= 3", true },
        { "DENSE_RANK", "r <= 3", true },
        { "RANK", "r BETWEEN 2 AND 4", false },
        { "DENSE_RANK", "r = 2", false },
        { "ROW_NUMBER", "r = 1", false },
    };

    [Theory]
    [MemberData(nameof(BatchRankCases))]
    public void Batch_mode_top_n_gives_the_final_rows_of_each_rank_function(string function, string filter, bool selectRank)
    {
        var random = new Random(function.Length * 31 + filter.Length);
        var rows = Enumerable.Range(0, 300).Select(id => (Id: id, Key: "k" + random.Next(4), V: random.Next(8))).ToList();
        string values = string.Join(", ", rows.Select(r => $"({r.Id}, '{r.Key}', {r.V})"));
        var lines = Run($"""
            SET 'execution.runtime-mode' = 'batch';
            SET 'parallelism.default' = '2';
            CREATE TABLE out_t (id INT, k STRING, v INT{(selectRank ? ", r BIGINT" : "")}) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT id, k, v{(selectRank ? ", r" : "")} FROM (
              SELECT id, k, v, {function}() OVER (PARTITION BY k ORDER BY v DESC) AS r FROM (VALUES {values}) AS t(id, k, v)
            ) WHERE {filter};
            """).Select(l => l[l.IndexOf('>', StringComparison.Ordinal) is var i and >= 0 ? (i + 2).. : 0..]).ToList();
        Assert.All(lines, l => Assert.StartsWith("+I", l, StringComparison.Ordinal));
        (long Low, long High) range = filter switch { "r <= 3" => (1, 3), "r BETWEEN 2 AND 4" => (2, 4), "r = 2" => (2, 2), _ => (1, 1) };
        // SQL's rank functions over each key's rows by v descending; ROW_NUMBER breaks ties by arrival.
        var expected = rows.GroupBy(r => r.Key).SelectMany(g =>
            {
                var sorted = g.OrderByDescending(r => r.V).ThenBy(r => r.Id).ToList();
                return sorted.Select((r, i) => (Row: r, Rank: function switch
                {
                    "ROW_NUMBER" => i + 1L,
                    "RANK" => sorted.Count(o => o.V > r.V) + 1L,
                    _ => sorted.Select(o => o.V).Where(v => v > r.V).Distinct().Count() + 1L,
                }));
            })
            .Where(x => x.Rank >= range.Low && x.Rank <= range.High)
            .Select(x => $"+I[{x.Row.Id}, {x.Row.Key}, {x.Row.V}" + (selectRank ? $", {x.Rank}]" : "]"))
            .Order(StringComparer.Ordinal);
        Assert.Equal(expected, lines.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Batch_mode_deduplication_and_explain_give_final_rows()
    {
        WriteEvents(("a", 1, "10:00:05"), ("a", 2, "10:00:03"), ("a", 3, "10:00:07"), ("b", 4, "10:00:01"));
        Assert.Equal(["+I[a, 3]", "+I[b, 4]"], Run("SET 'execution.runtime-mode' = 'batch';\n" + Events + Dedup("ts DESC")).Order(StringComparer.Ordinal));
        var explain = string.Join("\n", Run("SET 'execution.runtime-mode' = 'batch';\n" + Events
            + "EXPLAIN SELECT k, v FROM (SELECT k, v, RANK() OVER (PARTITION BY k ORDER BY v DESC) AS r FROM events) WHERE r <= 2;"));
        Assert.True(explain.Contains("Rank(rankType=[RANK], rankRange=[rankStart=1, rankEnd=2], partitionBy=[k], orderBy=[v DESC], global=[true]", StringComparison.Ordinal), explain);
    }

    public static TheoryData<string> CheckpointedQueries =>
    [
        "SELECT * FROM (SELECT `user`, url, amount, ROW_NUMBER() OVER (PARTITION BY `user` ORDER BY amount DESC, url) AS rn FROM clicks) WHERE rn <= 3",
        "SELECT tag, url, price FROM (SELECT tag, url, price, ROW_NUMBER() OVER (PARTITION BY tag ORDER BY price) AS rn FROM clicks) WHERE rn <= 2",
        "SELECT tag, url, ts FROM (SELECT tag, url, ts, ROW_NUMBER() OVER (PARTITION BY tag ORDER BY ts DESC) AS rn FROM clicks) WHERE rn = 1",
        "SELECT `user`, amount FROM (SELECT `user`, amount, ts, ROW_NUMBER() OVER (PARTITION BY `user` ORDER BY ts) AS rn FROM clicks) WHERE rn = 1",
        "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY n DESC) AS rn FROM (SELECT window_start, window_end, tag, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY window_start, window_end, tag)) WHERE rn <= 2",
        "SELECT tag, url, window_start FROM (SELECT tag, url, window_start, ROW_NUMBER() OVER (PARTITION BY window_start, window_end, tag ORDER BY ts DESC) AS rn FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '10' SECOND))) WHERE rn = 1",
        "SELECT `user`, amount FROM (SELECT `user`, amount, ROW_NUMBER() OVER (PARTITION BY window_start, window_end, `user` ORDER BY ts) AS rn FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '10' SECOND))) WHERE rn = 1",
        "changelog:SELECT * FROM (SELECT tag, n, ROW_NUMBER() OVER (ORDER BY n ASC, tag) AS rn FROM (SELECT tag, COUNT(*) AS n FROM clicks GROUP BY tag)) WHERE rn <= 2",
        "changelog:SELECT tag, n FROM (SELECT tag, n, ROW_NUMBER() OVER (ORDER BY n ASC) AS rn FROM (SELECT tag, COUNT(*) AS n FROM clicks GROUP BY tag)) WHERE rn <= 2",
        // UpdateFast Top-N (with and without the row number) and its top-1 form; random rows break the monotonicity, which
        // runs Flink's lenient path too.
        "SELECT * FROM (SELECT tag, n, ROW_NUMBER() OVER (ORDER BY n DESC, tag) AS rn FROM (SELECT tag, COUNT(*) AS n FROM clicks GROUP BY tag)) WHERE rn <= 2",
        "SELECT tag, n FROM (SELECT tag, n, ROW_NUMBER() OVER (ORDER BY n DESC) AS rn FROM (SELECT tag, MAX(amount) AS n FROM clicks GROUP BY tag)) WHERE rn <= 2",
        "SELECT tag, n FROM (SELECT tag, n, ROW_NUMBER() OVER (ORDER BY n) AS rn FROM (SELECT tag, MIN(amount) AS n FROM clicks GROUP BY tag)) WHERE rn = 1",
        "batch:SELECT * FROM (SELECT tag, url, price, DENSE_RANK() OVER (PARTITION BY tag ORDER BY price) AS r FROM clicks) WHERE r <= 2",
    ];

    /// <summary>The rank operators, snapshotted after every step of random input and restored (see <see cref="CheckpointTests"/>).</summary>
    [Theory]
    [MemberData(nameof(CheckpointedQueries))]
    public void Rank_operators_restore_to_the_straight_result(string query) =>
        new CheckpointTests().Stateful_operators_of_a_query_restore_to_the_straight_result(query);
}
