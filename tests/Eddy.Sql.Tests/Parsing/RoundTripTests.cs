using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests.Parsing;

/// <summary>parse → print → parse gives an equal tree, and printing is stable.</summary>
public class RoundTripTests
{
    [Theory]
    [InlineData("SELECT a, b AS c, t.*, * FROM t WHERE a > 1 AND NOT b OR c IS NULL")]
    [InlineData("SELECT (a + b) * c, a + b * c, a - (b - c), -(a + b), - -a, -a * b, NOT (a AND b), NOT a = b FROM t")]
    [InlineData("SELECT a || b || c, (a || b) + c, a || (b + c), a % b / c FROM t")]
    [InlineData("SELECT a = (b = c), (a = b) = c, a = b IN (1), (a = b) IN (TRUE), (a IS NULL) IS NULL FROM t")]
    [InlineData("SELECT a BETWEEN b + 1 AND c * 2, a NOT BETWEEN (b AND c) AND d, a LIKE b || '%' ESCAPE '!' FROM t")]
    [InlineData("SELECT NOT a IS NULL, (NOT a) IS NULL, a IS NOT DISTINCT FROM b + 1 FROM t")]
    [InlineData("SELECT CASE a WHEN 1 THEN 'x' ELSE 'y' END, CASE WHEN a > 0 THEN 1 END FROM t")]
    [InlineData("SELECT CAST(a AS DECIMAL(10, 2)), TRY_CAST(b AS ROW<x INT, y ARRAY<STRING>>), CAST(c AS TIMESTAMP(3) WITH LOCAL TIME ZONE) FROM t")]
    [InlineData("SELECT COUNT(*), COUNT(DISTINCT a), SUM(b) FILTER (WHERE c > 0), CURRENT_TIMESTAMP, LOCALTIMESTAMP, PROCTIME() FROM t")]
    [InlineData("SELECT EXTRACT(YEAR FROM ts), TIMESTAMPDIFF(SECOND, a, b), TIMESTAMPADD(HOUR, 1, ts), FLOOR(ts TO DAY), CEIL(ts TO HOUR), FLOOR(x) FROM t")]
    [InlineData("SELECT TRIM(s), TRIM(LEADING 'x' FROM s), TRIM(TRAILING FROM s), SUBSTRING(s FROM 1 FOR 2), POSITION('a' IN s) FROM t")]
    [InlineData("SELECT arr[1], m['k'], arr[1].f, f(x).y, (r).f, t.r.f FROM t")]
    [InlineData("SELECT ROW(a, b), ARRAY[1, 2], MAP['k', v], (a, b) FROM t")]
    [InlineData("SELECT 'it''s', '${KAFKA_URL}', 1.5E10, .5, 3.25, TRUE, NULL, DATE '2024-01-01', TIME '10:00:00', TIMESTAMP '2024-01-01 00:00:00'")]
    [InlineData("SELECT INTERVAL '5' MINUTE, INTERVAL '1:30' MINUTE TO SECOND, ts - INTERVAL '10' HOUR FROM t")]
    [InlineData("SELECT a FROM t WHERE a IN (1, 2) AND b NOT IN (SELECT b FROM u) AND EXISTS (SELECT 1 FROM v) AND c = (SELECT MAX(c) FROM w)")]
    [InlineData("SELECT SUM(x) OVER (PARTITION BY k ORDER BY ts DESC NULLS FIRST ROWS BETWEEN 10 PRECEDING AND CURRENT ROW) FROM t")]
    [InlineData("SELECT COUNT(*) OVER (ORDER BY ts RANGE BETWEEN INTERVAL '1' HOUR PRECEDING AND CURRENT ROW), SUM(x) OVER w FROM t WINDOW w AS (PARTITION BY k)")]
    [InlineData("SELECT * FROM a JOIN b ON a.id = b.id LEFT JOIN c USING (id) CROSS JOIN d, e RIGHT JOIN f ON TRUE FULL JOIN g ON TRUE")]
    [InlineData("SELECT * FROM a, (b JOIN c ON b.k = c.k) JOIN (SELECT 1 AS k) AS s(k) ON s.k = a.k")]
    [InlineData("SELECT * FROM o JOIN r FOR SYSTEM_TIME AS OF o.proctime AS r2 ON o.k = r2.k")]
    [InlineData("SELECT o.id, c.name FROM orders AS o LEFT JOIN customers FOR SYSTEM_TIME AS OF o.proc_time AS c ON o.customer_id = c.id AND c.region = o.region AND c.country = 'US' AND o.amount > 10")]
    [InlineData("SELECT * FROM o JOIN a FOR SYSTEM_TIME AS OF o.pt ON o.k = a.k JOIN b FOR SYSTEM_TIME AS OF o.pt AS bb ON bb.k = a.k + 1")]
    [InlineData("SELECT * FROM t, LATERAL TABLE(split(s)) AS x(w) LEFT JOIN LATERAL TABLE(f(a)) AS y ON TRUE")]
    [InlineData("SELECT * FROM t CROSS JOIN UNNEST(t.tags) WITH ORDINALITY AS x(tag, i)")]
    [InlineData("SELECT window_start, COUNT(*) FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end")]
    [InlineData("SELECT * FROM TABLE(SESSION(TABLE t PARTITION BY a, b, DESCRIPTOR(ts), INTERVAL '5' MINUTE))")]
    [InlineData("SELECT * FROM TABLE(HOP(DATA => TABLE t, TIMECOL => DESCRIPTOR(ts), SLIDE => INTERVAL '1' MINUTE, SIZE => INTERVAL '5' MINUTE)) AS w")]
    [InlineData("SELECT * FROM TABLE(TUMBLE(TABLE (SELECT * FROM t), DESCRIPTOR(ts), INTERVAL '1' MINUTE, OFFSET => INTERVAL '5' SECOND))")]
    [InlineData("SELECT a FROM t GROUP BY GROUPING SETS ((a, b), (a), ()), ROLLUP(a), CUBE(a, b) HAVING COUNT(*) > 1")]
    [InlineData("WITH a AS (SELECT 1 AS x), b (y) AS (SELECT x FROM a) SELECT * FROM b ORDER BY y DESC LIMIT 10 OFFSET 2")]
    [InlineData("SELECT 1 UNION SELECT 2 INTERSECT SELECT 3 EXCEPT ALL SELECT 4")]
    [InlineData("(SELECT 1 UNION SELECT 2) INTERSECT SELECT 3")]
    [InlineData("SELECT 1 UNION (SELECT 2 UNION ALL SELECT 3)")]
    [InlineData("(SELECT a FROM t ORDER BY a LIMIT 1) UNION ALL SELECT a FROM u ORDER BY a")]
    [InlineData("VALUES (1, 'a'), (2, 'b')")]
    [InlineData("SELECT `select`, `my col`, `a``b`, `from`.x FROM `from`")]
    [InlineData("SELECT LEFT(s, 2), RIGHT(s, 2), `IF`(a, b, c), `db`.`f`(x) FROM t")]
    [InlineData("SELECT `TRIM`(s), `extract`(a, b), `ROW`(1), `CURRENT_TIMESTAMP`(1), `array`[1], `map`['k'], ARRAY[1][1] FROM t")]
    public void Queries(string sql) => P.RoundTrip(sql);

    [Theory]
    [InlineData("CREATE TEMPORARY TABLE IF NOT EXISTS c.d.t (a INT NOT NULL COMMENT 'x', b AS a + 1, ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL, m INT METADATA, WATERMARK FOR ts AS ts - INTERVAL '5' SECOND, CONSTRAINT pk PRIMARY KEY (a) NOT ENFORCED) COMMENT 'tbl' PARTITIONED BY (a) WITH ('connector' = 'kafka', 'topic' = '${T}')")]
    [InlineData("CREATE TABLE t (id INT PRIMARY KEY NOT ENFORCED, `v a` VARCHAR(10), r ROW<x INT, y MAP<STRING, ARRAY<BYTES>>>) WITH ('connector' = 'print')")]
    [InlineData("CREATE OR REPLACE TABLE t WITH ('connector' = 'blackhole') AS SELECT * FROM s")]
    [InlineData("DROP TABLE IF EXISTS t; DROP TEMPORARY VIEW v; DROP TEMPORARY SYSTEM FUNCTION IF EXISTS f")]
    [InlineData("CREATE TEMPORARY VIEW IF NOT EXISTS v (a, b) COMMENT 'c' AS SELECT 1, 2")]
    [InlineData("CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS f AS 'My.Assembly.Func' LANGUAGE CSHARP; CREATE FUNCTION db.g AS 'X.Y'")]
    [InlineData("INSERT INTO s (a, b) SELECT 1, 2; INSERT OVERWRITE s SELECT * FROM t; INSERT INTO s VALUES (1)")]
    [InlineData("EXECUTE STATEMENT SET BEGIN INSERT INTO a SELECT * FROM s; INSERT INTO b SELECT * FROM s; END")]
    [InlineData("BEGIN STATEMENT SET; INSERT INTO a SELECT 1; END")]
    [InlineData("SET 'a.b' = 'c'; SET; RESET 'a.b'; RESET; SHOW TABLES; SHOW FUNCTIONS; SHOW VIEWS")]
    [InlineData("DESCRIBE t; DESC EXTENDED db.t; USE db; USE CATALOG c")]
    [InlineData("EXPLAIN PLAN FOR SELECT 1; EXPLAIN CHANGELOG_MODE, JSON_EXECUTION_PLAN INSERT INTO s SELECT 1")]
    public void Statements(string sql) => P.RoundTrip(sql);

    [Fact]
    public void Lab_script() => P.RoundTrip(LabTests.Script);

    [Fact]
    public void Printed_lab_insert_reads_naturally()
    {
        var printed = SqlParser.ParseStatement(LabTests.InsertAgg).ToSql();
        Assert.Equal("""
            INSERT INTO processed_events_aggregated
            SELECT window_start AS event_hour, test_data, COUNT(*) AS num_hits
            FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(event_watermark), INTERVAL '1' MINUTE))
            GROUP BY window_start, test_data
            """, printed);
    }

    [Fact]
    public void Printed_src_table()
    {
        var printed = SqlParser.ParseStatement(LabTests.SrcDdl).ToSql();
        Assert.Equal("""
            CREATE TABLE src (
              test_data INT,
              event_timestamp BIGINT,
              event_watermark AS TO_TIMESTAMP_LTZ(event_timestamp, 3),
              WATERMARK FOR event_watermark AS event_watermark - INTERVAL '5' SECOND
            ) WITH (
              'connector' = 'datagen'
            )
            """, printed);
    }

    [Fact]
    public void Expressions_print_minimal_parentheses()
    {
        Assert.Equal("a + b * c", P.Expr("a + (b * c)").ToSql());
        Assert.Equal("(a + b) * c", P.Expr("((a + b)) * c").ToSql());
        Assert.Equal("a - (b - c)", P.Expr("a - (b - c)").ToSql());
        Assert.Equal("NOT (a AND b)", P.Expr("NOT (a AND b)").ToSql());
        Assert.Equal("- -a", P.Expr("-(-a)").ToSql());
        Assert.Equal("a OR b AND c", P.Expr("a OR (b AND c)").ToSql());
        Assert.Equal("(a OR b) AND c", P.Expr("(a OR b) AND c").ToSql());
        Assert.Equal("`my col` + `from`", P.Expr("`my col` + `from`").ToSql());
    }

    [Fact]
    public void Generated_script_round_trips() => P.RoundTrip(PerformanceTests.GenerateScript(200));
}
