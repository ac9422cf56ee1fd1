using System.Diagnostics;
using System.Text;
using Eddy.Sql.Parsing;
using Xunit.Abstractions;

namespace Eddy.Sql.Tests;

[CollectionDefinition(nameof(PerformanceTests), DisableParallelization = true)]
public sealed class PerformanceCollection;

/// <summary>Timing is printed, not asserted. Runs alone so other tests do not skew it.</summary>
[Collection(nameof(PerformanceTests))]
public class PerformanceTests(ITestOutputHelper output)
{
    /// <summary>A realistic job script of roughly <paramref name="lines"/> lines: DDL, views and inserts.</summary>
    public static string GenerateScript(int lines)
    {
        var sb = new StringBuilder();
        int i = 0;
        while (sb.ToString().Count(c => c == '\n') < lines)
        {
            sb.Append($$"""
                -- source {{i}}
                CREATE TABLE src_{{i}} (
                  id BIGINT NOT NULL,
                  user_id STRING,
                  amount DECIMAL(10, 2),
                  tags ARRAY<STRING>,
                  attrs MAP<STRING, STRING>,
                  ts TIMESTAMP(3),
                  proc AS PROCTIME(),
                  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND,
                  PRIMARY KEY (id) NOT ENFORCED
                ) WITH ('connector' = 'kafka', 'topic' = 'topic_{{i}}', 'properties.bootstrap.servers' = '${KAFKA_URL}', 'format' = 'json');
                CREATE TEMPORARY VIEW v_{{i}} AS
                  SELECT user_id, amount * 2 AS doubled, CASE WHEN amount > 100 THEN 'big' ELSE 'small' END AS size, ts
                  FROM src_{{i}} WHERE user_id IS NOT NULL AND amount BETWEEN 1 AND 1000 AND user_id LIKE 'u%';
                INSERT INTO sink_{{i}}
                SELECT window_start, window_end, user_id, COUNT(*) AS cnt, SUM(doubled) FILTER (WHERE size = 'big') AS big_sum,
                       MAX(CAST(doubled AS DOUBLE)) AS mx
                FROM TABLE(TUMBLE(TABLE v_{{i}}, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
                GROUP BY window_start, window_end, user_id;
                INSERT INTO enriched_{{i}}
                SELECT o.id, o.user_id, r.rate * o.amount, ROW_NUMBER() OVER (PARTITION BY o.user_id ORDER BY o.ts DESC) AS rn
                FROM src_{{i}} AS o
                JOIN rates FOR SYSTEM_TIME AS OF o.proc AS r ON o.user_id = r.user_id
                LEFT JOIN LATERAL TABLE(split_tags(o.tags)) AS t(tag) ON TRUE
                WHERE o.amount > (SELECT AVG(amount) FROM src_{{i}}) OR o.user_id IN ('a', 'b', 'c');

                """);
            i++;
        }
        return sb.ToString();
    }

    [Fact]
    public void Parses_a_200_line_job_quickly()
    {
        string script = GenerateScript(200);
        int lineCount = script.Count(c => c == '\n');
        // Warm up (JIT, tiered compilation, static tables) for about half a second.
        SqlScript parsed = SqlParser.ParseScript(script);
        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 500) parsed = SqlParser.ParseScript(script);

        const int runs = 200;
        var times = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            long start = Stopwatch.GetTimestamp();
            parsed = SqlParser.ParseScript(script);
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        var tokens = Lexer.Tokenize(script).Count;
        output.WriteLine($"script: {lineCount} lines, {script.Length} chars, {tokens} tokens, {parsed.Statements.Count} statements");
        output.WriteLine($"parse time after warm-up: median {times[runs / 2]:F3} ms, p95 {times[runs * 95 / 100]:F3} ms, min {times[0]:F3} ms, max {times[^1]:F3} ms");
        Console.WriteLine($"[Eddy.Sql] 200-line parse: median {times[runs / 2]:F3} ms, p95 {times[runs * 95 / 100]:F3} ms ({lineCount} lines, {tokens} tokens)");
        Assert.True(parsed.Statements.Count > 20);
    }
}
