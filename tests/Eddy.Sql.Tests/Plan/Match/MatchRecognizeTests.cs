using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests.Plan.Match;

/// <summary>
/// MATCH_RECOGNIZE against the examples of Flink's documentation (docs/dev/table/sql/queries/match_recognize.md:
/// the input rows and the output rows it documents), and against cases derived by hand from Flink's NFA semantics
/// (derivations in the comments). Rows come one per read, so the watermark (the rowtime itself) each row sees follows
/// from the file's order.
/// </summary>
public class MatchRecognizeTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("eddy-match-").FullName;

    public void Dispose()
    {
        Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>A Ticker table of (symbol, rowtime, price, tax) rows in file order; the watermark is the rowtime.</summary>
    private string Ticker(string priceType, params (string Symbol, string Time, int Price, int Tax)[] rows)
    {
        string path = Path.Combine(dir, $"ticker{Guid.NewGuid():N}.jsonl");
        File.WriteAllLines(path, rows.Select(r => $$"""{"symbol":"{{r.Symbol}}","t":"{{r.Time}}","price":{{r.Price}},"tax":{{r.Tax}}}"""));
        return $"""
            CREATE TABLE Ticker (
              symbol STRING, t STRING, price {priceType}, tax BIGINT,
              rowtime AS TO_TIMESTAMP(t, 'yyyy-MM-dd HH:mm:ss'),
              WATERMARK FOR rowtime AS rowtime
            ) WITH ('connector' = 'one-row-per-read', 'path' = '{path}');

            """;
    }

    private static (string, string, int, int)[] Seconds(string symbol, string day, params (int Second, int Price, int Tax)[] rows) =>
        rows.Select(r => (symbol, $"{day} 10:00:{r.Second:00}", r.Price, r.Tax)).ToArray();

    private static List<string> Run(string sql) => SessionTests.Run(sql);

    [Fact]
    public void The_documented_ticker_example_finds_the_period_of_falling_prices()
    {
        var rows = Seconds("ACME", "2011-04-01", (0, 12, 1), (1, 17, 2), (2, 19, 1), (3, 21, 3), (4, 25, 2), (5, 18, 1), (6, 15, 1), (7, 14, 2),
            (8, 24, 2), (9, 25, 2), (10, 19, 1));
        var lines = Run(Ticker("BIGINT", rows) + """
            CREATE TABLE out (symbol STRING, start_tstamp TIMESTAMP(3), bottom_tstamp TIMESTAMP(3), end_tstamp TIMESTAMP(3)) WITH ('connector' = 'print');
            INSERT INTO out
            SELECT *
            FROM Ticker
                MATCH_RECOGNIZE (
                    PARTITION BY symbol
                    ORDER BY rowtime
                    MEASURES
                        START_ROW.rowtime AS start_tstamp,
                        LAST(PRICE_DOWN.rowtime) AS bottom_tstamp,
                        LAST(PRICE_UP.rowtime) AS end_tstamp
                    ONE ROW PER MATCH
                    AFTER MATCH SKIP TO LAST PRICE_UP
                    PATTERN (START_ROW PRICE_DOWN+ PRICE_UP)
                    DEFINE
                        PRICE_DOWN AS
                            (LAST(PRICE_DOWN.price, 1) IS NULL AND PRICE_DOWN.price < START_ROW.price) OR
                                PRICE_DOWN.price < LAST(PRICE_DOWN.price, 1),
                        PRICE_UP AS
                            PRICE_UP.price > LAST(PRICE_DOWN.price, 1)
                ) MR;
            """);
        Assert.Equal(["+I[ACME, 2011-04-01 10:00:04.000, 2011-04-01 10:00:07.000, 2011-04-01 10:00:08.000]"], lines);
    }

    [Fact]
    public void The_documented_aggregation_example_averages_the_rows_of_a_variable()
    {
        // price DOUBLE: the documentation shows averages 14.5 and 13.5, which Flink's AVG gives for a DOUBLE (for a
        // BIGINT it returns a BIGINT).
        var rows = Seconds("ACME", "2011-04-01", (0, 12, 1), (1, 17, 2), (2, 13, 1), (3, 16, 3), (4, 25, 2), (5, 2, 1), (6, 4, 1), (7, 10, 2),
            (8, 15, 2), (9, 25, 2), (10, 25, 1), (11, 30, 1));
        var lines = Run(Ticker("DOUBLE", rows) + """
            CREATE TABLE out (symbol STRING, start_tstamp TIMESTAMP(3), end_tstamp TIMESTAMP(3), avgPrice DOUBLE) WITH ('connector' = 'print');
            INSERT INTO out
            SELECT *
            FROM Ticker
                MATCH_RECOGNIZE (
                    PARTITION BY symbol
                    ORDER BY rowtime
                    MEASURES
                        FIRST(A.rowtime) AS start_tstamp,
                        LAST(A.rowtime) AS end_tstamp,
                        AVG(A.price) AS avgPrice
                    ONE ROW PER MATCH
                    AFTER MATCH SKIP PAST LAST ROW
                    PATTERN (A+ B)
                    DEFINE
                        A AS AVG(A.price) < 15
                ) MR;
            """);
        Assert.Equal([
            "+I[ACME, 2011-04-01 10:00:00.000, 2011-04-01 10:00:03.000, 14.5]",
            "+I[ACME, 2011-04-01 10:00:05.000, 2011-04-01 10:00:10.000, 13.5]",
        ], lines);
    }

    private const string GreedyQuery = """
        CREATE TABLE out (symbol STRING, lastPrice BIGINT) WITH ('connector' = 'print');
        INSERT INTO out
        SELECT *
        FROM Ticker
            MATCH_RECOGNIZE(
                PARTITION BY symbol
                ORDER BY rowtime
                MEASURES
                    C.price AS lastPrice
                ONE ROW PER MATCH
                AFTER MATCH SKIP PAST LAST ROW
                PATTERN (A B{0} C)
                DEFINE
                    A AS A.price > 10,
                    B AS B.price < 15,
                    C AS C.price > 12
            );
        """;

    private static readonly (string, string, int, int)[] GreedyRows =
        Seconds("XYZ", "2018-09-17", (2, 10, 1), (3, 11, 2), (4, 12, 1), (5, 13, 2), (6, 14, 1), (7, 16, 2));

    [Fact]
    public void A_greedy_quantifier_swallows_the_rows_as_documented()
    {
        var lines = Run(Ticker("BIGINT", GreedyRows) + GreedyQuery.Replace("B{0}", "B*", StringComparison.Ordinal));
        Assert.Equal(["+I[XYZ, 16]"], lines);
    }

    [Fact]
    public void A_reluctant_quantifier_takes_as_few_rows_as_documented()
    {
        var lines = Run(Ticker("BIGINT", GreedyRows) + GreedyQuery.Replace("B{0}", "B*?", StringComparison.Ordinal));
        Assert.Equal(["+I[XYZ, 13]", "+I[XYZ, 16]"], lines);
    }

    private static readonly (string, string, int, int)[] SkipRows =
        Seconds("XYZ", "2018-09-17", (1, 7, 1), (2, 9, 2), (3, 10, 1), (4, 5, 2), (5, 10, 2), (6, 7, 2), (7, 14, 2));

    private List<string> RunSkip(string strategy) => Run(Ticker("BIGINT", SkipRows) + $"""
        CREATE TABLE out (symbol STRING, sumPrice BIGINT, startTime TIMESTAMP(3), endTime TIMESTAMP(3)) WITH ('connector' = 'print');
        INSERT INTO out
        SELECT *
        FROM Ticker
            MATCH_RECOGNIZE(
                PARTITION BY symbol
                ORDER BY rowtime
                MEASURES
                    SUM(A.price) AS sumPrice,
                    FIRST(rowtime) AS startTime,
                    LAST(rowtime) AS endTime
                ONE ROW PER MATCH
                {strategy}
                PATTERN (A+ C)
                DEFINE
                    A AS SUM(A.price) < 30
            );
        """);

    [Fact]
    public void Skip_past_last_row_as_documented()
    {
        Assert.Equal([
            "+I[XYZ, 26, 2018-09-17 10:00:01.000, 2018-09-17 10:00:04.000]",
            "+I[XYZ, 17, 2018-09-17 10:00:05.000, 2018-09-17 10:00:07.000]",
        ], RunSkip("AFTER MATCH SKIP PAST LAST ROW"));
    }

    [Fact]
    public void Skip_to_next_row_as_documented()
    {
        Assert.Equal([
            "+I[XYZ, 26, 2018-09-17 10:00:01.000, 2018-09-17 10:00:04.000]",
            "+I[XYZ, 24, 2018-09-17 10:00:02.000, 2018-09-17 10:00:05.000]",
            "+I[XYZ, 25, 2018-09-17 10:00:03.000, 2018-09-17 10:00:06.000]",
            "+I[XYZ, 22, 2018-09-17 10:00:04.000, 2018-09-17 10:00:07.000]",
            "+I[XYZ, 17, 2018-09-17 10:00:05.000, 2018-09-17 10:00:07.000]",
        ], RunSkip("AFTER MATCH SKIP TO NEXT ROW"));
    }

    [Fact]
    public void Skip_to_last_variable_as_documented()
    {
        Assert.Equal([
            "+I[XYZ, 26, 2018-09-17 10:00:01.000, 2018-09-17 10:00:04.000]",
            "+I[XYZ, 25, 2018-09-17 10:00:03.000, 2018-09-17 10:00:06.000]",
            "+I[XYZ, 17, 2018-09-17 10:00:05.000, 2018-09-17 10:00:07.000]",
        ], RunSkip("AFTER MATCH SKIP TO LAST A"));
    }

    [Fact]
    public void Skip_to_first_of_the_first_variable_is_refused_as_Flink_fails_it()
    {
        var e = Assert.Throws<SqlParseException>(() => RunSkip("AFTER MATCH SKIP TO FIRST A"));
        Assert.Contains("SKIP TO FIRST A", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Skip_to_first_variable_resumes_at_its_first_row()
    {
        // PATTERN (A B+ C), A, B: price < 20 (B greedy: C only where B fails), C: price >= 20; AFTER MATCH SKIP TO FIRST B.
        // Rows 5 6 7 25 8 9 30. Match 1: A=5, B=6,7, C=25 (rows 1-4). Resume at the first B (row 2): partial matches
        // that started before row 2 are pruned, row 2's own survives: A=6, B=7, C=25 (rows 2-4) completes at the same
        // row 4 and is emitted next (its start, row 2, is not after the earliest live partial match's). It resumes at
        // row 3: A=7 cannot continue (B needs a row < 20 next, 25 is not) and was never complete. Row 4 (25) is no A.
        // Then A=8, B=9, C=30 (rows 5-7), resuming at row 6: A=9 then 30 is a C without a B: no match.
        var rows = Seconds("XYZ", "2018-09-17", (1, 5, 0), (2, 6, 0), (3, 7, 0), (4, 25, 0), (5, 8, 0), (6, 9, 0), (7, 30, 0));
        var lines = Run(Ticker("BIGINT", rows) + """
            CREATE TABLE out (symbol STRING, a BIGINT, firstB BIGINT, c BIGINT) WITH ('connector' = 'print');
            INSERT INTO out
            SELECT * FROM Ticker MATCH_RECOGNIZE (
              PARTITION BY symbol ORDER BY rowtime
              MEASURES A.price AS a, FIRST(B.price) AS firstB, C.price AS c
              AFTER MATCH SKIP TO FIRST B
              PATTERN (A B+ C)
              DEFINE A AS A.price < 20, B AS B.price < 20, C AS C.price >= 20);
            """);
        Assert.Equal(["+I[XYZ, 5, 6, 25]", "+I[XYZ, 6, 7, 25]", "+I[XYZ, 8, 9, 30]"], lines);
    }

    [Fact]
    public void The_documented_output_mode_example_leads_with_the_partition_column()
    {
        var rows = Seconds("XYZ", "2018-09-17", (2, 10, 1), (3, 12, 2), (4, 13, 1), (5, 11, 2));
        var lines = Run(Ticker("BIGINT", rows) + """
            CREATE TABLE out (symbol STRING, startPrice BIGINT, topPrice BIGINT, lastPrice BIGINT) WITH ('connector' = 'print');
            INSERT INTO out
            SELECT *
            FROM Ticker
                MATCH_RECOGNIZE(
                    PARTITION BY symbol
                    ORDER BY rowtime
                    MEASURES
                        FIRST(A.price) AS startPrice,
                        LAST(A.price) AS topPrice,
                        B.price AS lastPrice
                    ONE ROW PER MATCH
                    PATTERN (A+ B)
                    DEFINE
                        A AS LAST(A.price, 1) IS NULL OR A.price > LAST(A.price, 1),
                        B AS B.price < LAST(A.price)
                );
            """);
        Assert.Equal(["+I[XYZ, 10, 13, 11]"], lines);
    }

    private List<string> RunNavigation(string measures, string pattern, string define, params int[] prices)
    {
        var rows = prices.Select((p, i) => ("XYZ", $"2018-09-17 10:00:{i:00}", p, 0)).ToArray();
        return Run(Ticker("BIGINT", rows) + $"""
            CREATE TABLE out (symbol STRING, x BIGINT, y BIGINT, z BIGINT) WITH ('connector' = 'print');
            INSERT INTO out SELECT * FROM Ticker MATCH_RECOGNIZE (PARTITION BY symbol ORDER BY rowtime
              MEASURES {measures} PATTERN {pattern} DEFINE {define});
            """);
    }

    [Fact]
    public void Pattern_variable_references_read_as_the_documented_table()
    {
        // The documentation's "Pattern Variable Referencing" table: A B+ with B AS B.price > A.price AND SUM(price) < 100
        // AND SUM(B.price) < 80 maps 10 to A and 15, 20, 31 to B; 35 is not mapped (SUM(price) 111, SUM(B.price) 101).
        // The pattern cannot end with the greedy B+ (Flink refuses it), so a C that takes any row the B condition
        // rejects closes it: C = 35. Measures: SUM(B.price) 66, SUM(price) over the match 111, LAST(B.price) 31.
        var lines = RunNavigation("SUM(B.price) AS x, SUM(price) AS y, LAST(B.price) AS z", "(A B+ C)",
            "A AS A.price >= 10, B AS B.price > A.price AND SUM(price) < 100 AND SUM(B.price) < 80", 10, 15, 20, 31, 35);
        Assert.Equal(["+I[XYZ, 66, 111, 31]"], lines);
    }

    [Fact]
    public void Logical_offsets_read_as_the_documented_table()
    {
        // The documentation's "Logical Offsets" table: B takes 15, 20, 31 and rejects 35 (35 < 2 * 20); C closes the
        // pattern as above. LAST(B.price, 1) in MEASURES is the B before the last: 20.
        var lines = RunNavigation("FIRST(B.price) AS x, LAST(B.price, 1) AS y, C.price AS z", "(A B+ C)",
            "A AS A.price >= 10, B AS (LAST(B.price, 1) IS NULL OR B.price > LAST(B.price, 1)) AND "
            + "(LAST(B.price, 2) IS NULL OR B.price > 2 * LAST(B.price, 2))", 10, 15, 20, 31, 35);
        Assert.Equal(["+I[XYZ, 15, 20, 35]"], lines);
    }

    [Fact]
    public void The_optional_quantifier_is_not_greedy_as_in_Flink()
    {
        // The documentation's default-variable example: PATTERN (A B? C), B AS B.price < 20, C AS LAST(price, 1) < C.price,
        // rows 10, 15, 20. Flink applies no greedy property to '?', so both branches run: at 15 the branch without B
        // completes (A = 10, C = 15: LAST(price, 1) is A's 10), is emitted first and, skipping past its last row,
        // discards the branch A = 10, B = 15 that the documentation's table follows to C = 20.
        var lines = RunNavigation("A.price AS x, B.price AS y, C.price AS z", "(A B? C)",
            "B AS B.price < 20, C AS LAST(price, 1) < C.price", 10, 15, 20);
        Assert.Equal(["+I[XYZ, 10, null, 15]"], lines);
    }

    [Fact]
    public void Within_drops_partial_matches_as_old_as_the_interval()
    {
        // The documentation's WITHIN example (its DEFINE lacks a comma between B and C, added here). Flink's NFA drops
        // a partial match when the row being processed is at least the interval after its first row
        // (NFA.isStateTimedOut: timestamp - start >= window). The documentation shows dropDiff 14 (the drop from 15 at
        // 12:00 to 1 at 13:00), a span of exactly the interval, which that rule drops; the match the NFA keeps starts
        // at 12:20 (A = 14, B = 24, C = 1): dropDiff 13. Every other drop of more than 10 spans more than an hour.
        var rows = new (string, string, int, int)[]
        {
            ("ACME", "2011-04-01 10:00:00", 20, 1), ("ACME", "2011-04-01 10:20:00", 17, 2), ("ACME", "2011-04-01 10:40:00", 18, 1),
            ("ACME", "2011-04-01 11:00:00", 11, 3), ("ACME", "2011-04-01 11:20:00", 14, 2), ("ACME", "2011-04-01 11:40:00", 9, 1),
            ("ACME", "2011-04-01 12:00:00", 15, 1), ("ACME", "2011-04-01 12:20:00", 14, 2), ("ACME", "2011-04-01 12:40:00", 24, 2),
            ("ACME", "2011-04-01 13:00:00", 1, 2), ("ACME", "2011-04-01 13:20:00", 19, 1),
        };
        string Query(string within) => Ticker("BIGINT", rows) + $"""
            CREATE TABLE out (symbol STRING, dropTime TIMESTAMP(3), dropDiff BIGINT) WITH ('connector' = 'print');
            INSERT INTO out
            SELECT *
            FROM Ticker
                MATCH_RECOGNIZE(
                    PARTITION BY symbol
                    ORDER BY rowtime
                    MEASURES
                        C.rowtime AS dropTime,
                        A.price - C.price AS dropDiff
                    ONE ROW PER MATCH
                    AFTER MATCH SKIP PAST LAST ROW
                    PATTERN (A B* C) {within}
                    DEFINE
                        B AS B.price > A.price - 10,
                        C AS C.price < A.price - 10
                );
            """;
        Assert.Equal(["+I[ACME, 2011-04-01 13:00:00.000, 13]"], Run(Query("WITHIN INTERVAL '1' HOUR")));
        // One minute more keeps the match from 12:00 (exactly an hour): the drop of 14.
        Assert.Equal(["+I[ACME, 2011-04-01 13:00:00.000, 14]"], Run(Query("WITHIN INTERVAL '61' MINUTE")));
        // Without WITHIN the first match starts at 10:00 (A = 20; B = 17, 18, 11, 14 stay above 10; C = 9 < 10).
        Assert.Equal(["+I[ACME, 2011-04-01 11:40:00.000, 11]", "+I[ACME, 2011-04-01 13:00:00.000, 14]"], Run(Query("")));
    }
}

public class MatchRecognizeTimeTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("eddy-match-time-").FullName;

    public void Dispose()
    {
        Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    // File order: t=1 p=10, t=2 p=20, t=4 p=5, t=3 p=30, t=5 p=7. The watermark is the greatest rowtime read so far, so
    // the row at t=3 comes when the watermark is 4: late.
    private string Table()
    {
        string path = Path.Combine(dir, "rows.jsonl");
        File.WriteAllLines(path, new[] { (1, 10), (2, 20), (4, 5), (3, 30), (5, 7) }.Select(r =>
            $$"""{"k":"x","t":"2024-01-01 00:00:0{{r.Item1}}","price":{{r.Item2}}}"""));
        return $"""
            CREATE TABLE rows_in (k STRING, t STRING, price INT,
              rowtime AS TO_TIMESTAMP(t, 'yyyy-MM-dd HH:mm:ss'), pt AS PROCTIME(),
              WATERMARK FOR rowtime AS rowtime) WITH ('connector' = 'one-row-per-read', 'path' = '{path}');
            CREATE TABLE out (k STRING, a INT, b INT) WITH ('connector' = 'print');

            """;
    }

    private static string Query(string order) => $"""
        INSERT INTO out SELECT * FROM rows_in MATCH_RECOGNIZE (PARTITION BY k ORDER BY {order}
          MEASURES A.price AS a, B.price AS b AFTER MATCH SKIP TO NEXT ROW PATTERN (A B) DEFINE B AS B.price > A.price);
        """;

    [Fact]
    public void Event_time_drops_late_rows_and_matches_in_time_order()
    {
        // Kept rows in time order: 10, 20, 5, 7 (t=3 dropped): B > A holds for (10, 20) and (5, 7). With the late row
        // the order would have been 10, 20, 30, 5, 7 and (20, 30) a match too.
        Assert.Equal(["+I[x, 10, 20]", "+I[x, 5, 7]"], SessionTests.Run(Table() + Query("rowtime")));
    }

    [Fact]
    public void Processing_time_matches_in_arrival_order_and_drops_nothing()
    {
        // Arrival order 10, 20, 5, 30, 7: (10, 20) and (5, 30).
        Assert.Equal(["+I[x, 10, 20]", "+I[x, 5, 30]"], SessionTests.Run(Table() + Query("pt")));
    }

    [Fact]
    public void A_completed_match_waits_for_earlier_partial_matches_and_within_releases_it()
    {
        // PATTERN (A B+? C), A: price < 10, C: price = A.price * 100. Rows t=0 p=1, t=1 p=2, t=2 p=5, t=3 p=200,
        // t=10 p=7. At t=3 the match starting at t=1 (A=2, B=5, C=200) completes, but the one starting at t=0 (A=1,
        // its B taking every row, waiting for a C of 100) is still alive and started earlier: Flink holds the
        // completed match back. Without WITHIN nothing ever releases it: no output. With WITHIN 4 s the NFA,
        // advanced to t=10 before that row, drops every partial match (10 - 0, 10 - 1 and 10 - 2 are >= 4), and the
        // held match is emitted then: MATCH_ROWTIME() is 10 s, the time it is emitted at (Flink's context timestamp).
        string path = Path.Combine(dir, "held.jsonl");
        File.WriteAllLines(path, new[] { (0, 1), (1, 2), (2, 5), (3, 200), (10, 7) }.Select(r =>
            $$"""{"k":"x","t":"2024-01-01 00:00:{{r.Item1:00}}","price":{{r.Item2}}}"""));
        string Query(string within) => $"""
            CREATE TABLE rows_in (k STRING, t STRING, price INT, rowtime AS TO_TIMESTAMP(t, 'yyyy-MM-dd HH:mm:ss'),
              WATERMARK FOR rowtime AS rowtime) WITH ('connector' = 'one-row-per-read', 'path' = '{path}');
            CREATE TABLE out (k STRING, a INT, c INT, mt TIMESTAMP(3)) WITH ('connector' = 'print');
            INSERT INTO out SELECT * FROM rows_in MATCH_RECOGNIZE (PARTITION BY k ORDER BY rowtime
              MEASURES A.price AS a, C.price AS c, MATCH_ROWTIME() AS mt
              PATTERN (A B+? C) {within} DEFINE A AS A.price < 10, C AS C.price = A.price * 100);
            """;
        Assert.Empty(SessionTests.Run(Query("")));
        Assert.Equal(["+I[x, 2, 200, 2024-01-01 00:00:10.000]"], SessionTests.Run(Query("WITHIN INTERVAL '4' SECOND")));
    }

    [Theory]
    [InlineData("AFTER MATCH SKIP TO LAST B", "PATTERN (A B? C) DEFINE B AS B.price > 100", "no row of the match is mapped to it")]
    [InlineData("AFTER MATCH SKIP TO LAST A", "PATTERN (A C) DEFINE A AS TRUE", "it is the first row of the match")]
    public void A_skip_target_that_is_missing_or_the_first_row_fails_the_job_as_in_Flink(string skip, string pattern, string message)
    {
        // Flink's SkipToElementStrategy (throwExceptionOnMiss) fails the job on such a match; the first match here is
        // (10, 20) with no B, and A its only, first row.
        var e = Assert.ThrowsAny<Exception>(() => SessionTests.Run(Table() + $"""
            INSERT INTO out SELECT * FROM rows_in MATCH_RECOGNIZE (PARTITION BY k ORDER BY rowtime
              MEASURES A.price AS a, C.price AS b {skip} {pattern});
            """));
        var inner = e;
        while (inner is not Eddy.Sql.Plan.Match.MatchSkipException && inner.InnerException is not null) inner = inner.InnerException;
        Assert.IsType<Eddy.Sql.Plan.Match.MatchSkipException>(inner);
        Assert.Contains(message, inner.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Match_rowtime_is_a_time_attribute_for_a_window_above()
    {
        // Matches (10, 20) at t=2 and (5, 7) at t=5; tumbling 3-second windows [0, 3) and [3, 6): one match each.
        var lines = SessionTests.Run(Table() + """
            CREATE TABLE counts (window_start TIMESTAMP(3), c BIGINT) WITH ('connector' = 'print');
            INSERT INTO counts SELECT window_start, COUNT(*) FROM TABLE(TUMBLE(TABLE (
              SELECT * FROM rows_in MATCH_RECOGNIZE (PARTITION BY k ORDER BY rowtime
                MEASURES A.price AS a, MATCH_ROWTIME() AS mt AFTER MATCH SKIP TO NEXT ROW PATTERN (A B) DEFINE B AS B.price > A.price)
            ), DESCRIPTOR(mt), INTERVAL '3' SECOND)) GROUP BY window_start, window_end;
            """);
        Assert.Equal(["+I[2024-01-01 00:00:00.000, 1]", "+I[2024-01-01 00:00:03.000, 1]"], lines);
    }
}

/// <summary>What Flink's MATCH_RECOGNIZE refuses, or Eddy does not implement exactly, fails at planning, located.</summary>
public class MatchRecognizeRefusalTests
{
    private const string Table = """
        CREATE TABLE Ticker (symbol STRING, price BIGINT, tax BIGINT, rowtime TIMESTAMP(3), pt AS PROCTIME(),
          WATERMARK FOR rowtime AS rowtime - INTERVAL '1' SECOND) WITH ('connector' = 'datagen');
        CREATE TABLE counts (symbol STRING, c BIGINT) WITH ('connector' = 'print');
        """;

    private static SqlParseException Refused(string clause, string order = "ORDER BY rowtime", string measures = "MEASURES A.price AS p",
        string pattern = "PATTERN (A B)", string define = "DEFINE A AS A.price > 0")
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        session.Execute(Table);
        string sql = $"SELECT * FROM Ticker MATCH_RECOGNIZE (PARTITION BY symbol {order} {measures} {clause} {pattern} {define})";
        return Assert.Throws<SqlParseException>(() => session.Execute(sql));
    }

    public static TheoryData<string, string, string> PatternRefusals => new()
    {
        { "PATTERN (A (B C)+)", "pattern groups", "(B" },
        { "PATTERN (A | B)", "alternation", "|" },
        { "PATTERN (PERMUTE(A, B))", "PERMUTE", "PERMUTE" },
        { "PATTERN (^A B)", "anchor", "^" },
        { "PATTERN ({- A -} B)", "exclusion", "{" },
        { "PATTERN (A B??)", "reluctant optional", "B??" },
        { "PATTERN (A B{0,1}?)", "reluctant optional", "B{0,1}?" },
        { "PATTERN (A B*)", "greedy quantifier is not allowed on the last variable", "B*" },
        { "PATTERN (A B+)", "greedy quantifier is not allowed on the last variable", "B+" },
        { "PATTERN (A? B*?)", "empty match", "A? B*?" },
        { "PATTERN (A+ B? C)", "cannot follow the greedy", "B?" },
        { "PATTERN (A B A)", "unique", "A)" },
        { "PATTERN (A B{0})", "n > 0", "{0}" },
        { "PATTERN (A B{3,2} C)", "0 <= n <= m", "{3,2}" },
    };

    [Theory]
    [MemberData(nameof(PatternRefusals))]
    public void Patterns_Flink_rejects_are_refused_located(string pattern, string message, string at)
    {
        var e = Refused("", pattern: pattern);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        int column = pattern.IndexOf(at, StringComparison.Ordinal);
        Assert.True(column >= 0);
        Assert.Equal(1, e.Line);
        string sql = "SELECT * FROM Ticker MATCH_RECOGNIZE (PARTITION BY symbol ORDER BY rowtime MEASURES A.price AS p  ";
        Assert.Equal(sql.Length + column + 1, e.Column);
    }

    public static TheoryData<string, string, string, string, string> ClauseRefusals => new()
    {
        // clause, order, measures, define, expected message
        { "ALL ROWS PER MATCH", "ORDER BY rowtime", "MEASURES A.price AS p", "DEFINE A AS A.price > 0", "ALL ROWS PER MATCH" },
        { "", "ORDER BY price", "MEASURES A.price AS p", "DEFINE A AS A.price > 0", "time attribute" },
        { "", "ORDER BY rowtime DESC", "MEASURES A.price AS p", "DEFINE A AS A.price > 0", "ascending" },
        { "", "ORDER BY pt, price", "MEASURES A.price AS p", "DEFINE A AS A.price > 0", "secondary ORDER BY" },
        { "", "ORDER BY rowtime", "MEASURES A.price AS p", "DEFINE A AS A.price > PREV(A.price)", "PREV" },
        { "", "ORDER BY rowtime", "MEASURES A.price AS p", "DEFINE A AS A.price > NEXT(A.price)", "NEXT" },
        { "", "ORDER BY rowtime", "MEASURES CLASSIFIER() AS c", "DEFINE A AS A.price > 0", "CLASSIFIER" },
        { "", "ORDER BY rowtime", "MEASURES MATCH_NUMBER() AS c", "DEFINE A AS A.price > 0", "MATCH_NUMBER" },
        { "", "ORDER BY rowtime", "MEASURES SUM(DISTINCT A.price) AS s", "DEFINE A AS A.price > 0", "DISTINCT aggregates" },
        { "", "ORDER BY rowtime", "MEASURES SUM(A.price * B.tax) AS s", "DEFINE A AS A.price > 0", "one pattern variable" },
        { "", "ORDER BY rowtime", "MEASURES LAST(A.price * B.tax) AS s", "DEFINE A AS A.price > 0", "one pattern variable" },
        { "", "ORDER BY rowtime", "MEASURES X.price AS s", "DEFINE A AS A.price > 0", "unknown pattern variable 'X'" },
        { "", "ORDER BY rowtime", "MEASURES A.price AS p", "DEFINE X AS X.price > 0", "unknown pattern variable 'X'" },
        { "", "ORDER BY rowtime", "MEASURES A.price AS p", "SUBSET S = (A, B) DEFINE A AS A.price > 0", "SUBSET" },
        { "", "ORDER BY rowtime", "MEASURES STDDEV_POP(A.price) AS p", "DEFINE A AS A.price > 0", "STDDEV_POP" },
        { "", "ORDER BY rowtime", "MEASURES A.price AS p", "DEFINE A AS LAST(A.price, -1) > 0", "non-negative" },
        { "AFTER MATCH SKIP TO FIRST A", "ORDER BY rowtime", "MEASURES A.price AS p", "DEFINE A AS A.price > 0", "SKIP TO FIRST A" },
        { "AFTER MATCH SKIP TO LAST Z", "ORDER BY rowtime", "MEASURES A.price AS p", "DEFINE A AS A.price > 0", "unknown pattern variable 'Z'" },
        { "", "ORDER BY rowtime", "MEASURES A.price AS p", "DEFINE A AS A.rowtime < CURRENT_TIMESTAMP", "current time" },
        { "", "ORDER BY rowtime", "MEASURES LAST(A.rowtime < CURRENT_TIMESTAMP) AS p", "DEFINE A AS A.price > 0", "current time" },
    };

    [Theory]
    [MemberData(nameof(ClauseRefusals))]
    public void Clauses_Flink_rejects_or_Eddy_lacks_are_refused_located(string clause, string order, string measures, string define, string message)
    {
        var e = Refused(clause, order, measures, define: define);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.True(e.Line >= 1 && e.Column >= 1);
    }

    [Fact]
    public void Within_takes_a_day_time_interval()
    {
        var e = Refused("", pattern: "PATTERN (A B) WITHIN INTERVAL '1' MONTH");
        Assert.Contains("WITHIN", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_updating_input_is_refused()
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        session.Execute(Table);
        var e = Assert.Throws<SqlParseException>(() => session.Execute(
            "SELECT * FROM (SELECT symbol, MAX(rowtime) AS rowtime FROM Ticker GROUP BY symbol) MATCH_RECOGNIZE (ORDER BY rowtime MEASURES A.symbol AS s PATTERN (A B) DEFINE A AS TRUE)"));
        Assert.Contains("append-only", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_clause_prints_back_and_parses_to_the_same_tree()
    {
        const string sql = "SELECT * FROM Ticker MATCH_RECOGNIZE (PARTITION BY symbol ORDER BY rowtime, price DESC "
            + "MEASURES FIRST(A.price, 1) AS f, SUM(B.price) AS s ONE ROW PER MATCH AFTER MATCH SKIP TO LAST B "
            + "PATTERN (A B{2,3}? C{,4}? D) WITHIN INTERVAL '10' SECOND DEFINE A AS A.price > 1, B AS B.price < LAST(A.price)) AS mr";
        var tree = SqlParser.ParseQuery(sql);
        Assert.Equal(tree, SqlParser.ParseQuery(tree.ToSql()));
    }

    [Fact]
    public void Match_proctime_is_a_processing_time_attribute_and_match_rowtime_a_rowtime()
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        session.Execute(Table);
        const string match = "SELECT * FROM Ticker MATCH_RECOGNIZE (PARTITION BY symbol ORDER BY rowtime MEASURES A.price AS p, "
            + "MATCH_ROWTIME() AS mt, MATCH_PROCTIME() AS mp PATTERN (A B) DEFINE A AS A.price > 0)";
        Assert.Single(session.Execute($"INSERT INTO counts SELECT symbol, COUNT(*) FROM TABLE(TUMBLE(TABLE ({match}), DESCRIPTOR(mp), INTERVAL '1' MINUTE)) "
            + "GROUP BY symbol, window_start, window_end"));
        Assert.Single(session.Execute($"INSERT INTO counts SELECT symbol, COUNT(*) FROM TABLE(TUMBLE(TABLE ({match}), DESCRIPTOR(mt), INTERVAL '1' MINUTE)) "
            + "GROUP BY symbol, window_start, window_end"));
        var e = Assert.Throws<SqlParseException>(() => session.Execute(
            $"INSERT INTO counts SELECT symbol, COUNT(*) FROM TABLE(TUMBLE(TABLE ({match}), DESCRIPTOR(p), INTERVAL '1' MINUTE)) GROUP BY symbol, window_start, window_end"));
        Assert.Contains("time attribute", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Explain_shows_the_match_node()
    {
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null);
        session.Execute(Table);
        session.Execute("EXPLAIN SELECT * FROM Ticker MATCH_RECOGNIZE (PARTITION BY symbol ORDER BY rowtime MEASURES A.price AS p "
            + "AFTER MATCH SKIP TO NEXT ROW PATTERN (A B+? C) WITHIN INTERVAL '1' MINUTE DEFINE A AS A.price > 0)");
        string plan = output.ToString();
        Assert.Contains("Match(partitionBy=[symbol], orderBy=[$3], pattern=[A B{1,}? C], within=[60000 ms], after=[SKIP TO NEXT ROW], measures=[symbol, p])", plan, StringComparison.Ordinal);
    }
}
