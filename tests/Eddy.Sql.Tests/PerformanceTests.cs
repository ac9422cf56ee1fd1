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

    /// <summary>
    /// A job script of about <paramref name="lines"/> lines that Eddy can run, shaped like the lab's jobs: sources with
    /// computed event time and watermarks, sinks, views, and one statement set of INSERTs through window TVFs.
    /// </summary>
    public static string GeneratePlannableScript(int lines)
    {
        var ddl = new StringBuilder();
        var inserts = new StringBuilder();
        int i = 0;
        while ((ddl.ToString() + inserts).Count(c => c == '\n') < lines - 2)
        {
            ddl.Append($$"""
                -- source {{i}}: a click stream with epoch-ms event time
                CREATE TABLE clicks_{{i}} (
                  event_ms BIGINT NOT NULL,
                  user_id STRING,
                  url STRING,
                  amount INT,
                  country STRING,
                  event_time AS TO_TIMESTAMP_LTZ(event_ms, 3),
                  WATERMARK FOR event_time AS event_time - INTERVAL '5' SECOND
                ) WITH ('connector' = 'datagen', 'number-of-rows' = '1000');
                CREATE TABLE per_user_{{i}} (window_start TIMESTAMP(3), window_end TIMESTAMP(3), user_id STRING, clicks BIGINT,
                  total BIGINT, biggest INT, countries BIGINT) WITH ('connector' = 'blackhole');
                CREATE TABLE per_url_{{i}} (window_start TIMESTAMP(3), url STRING, hits BIGINT, avg_amount INT) WITH ('connector' = 'blackhole');
                CREATE TABLE sessions_{{i}} (user_id STRING, session_start TIMESTAMP(3), session_end TIMESTAMP(3), n BIGINT) WITH ('connector' = 'blackhole');
                CREATE TABLE paid_{{i}} (user_id STRING, url STRING, amount_cents BIGINT, tier STRING) WITH ('connector' = 'blackhole');
                CREATE TEMPORARY VIEW cleaned_{{i}} AS
                  SELECT user_id, LOWER(url) AS url, COALESCE(amount, 0) AS amount, UPPER(country) AS country, event_time,
                         CASE WHEN amount > 100 THEN 'big' WHEN amount > 10 THEN 'medium' ELSE 'small' END AS tier
                  FROM clicks_{{i}}
                  WHERE user_id IS NOT NULL AND url <> '' AND (amount IS NULL OR amount BETWEEN 0 AND 100000);

                """);
            inserts.Append($$"""
                  INSERT INTO per_user_{{i}}
                  SELECT window_start, window_end, user_id, COUNT(*), SUM(amount), MAX(amount), COUNT(DISTINCT country)
                  FROM TABLE(TUMBLE(TABLE cleaned_{{i}}, DESCRIPTOR(event_time), INTERVAL '1' MINUTE))
                  GROUP BY window_start, window_end, user_id;
                  INSERT INTO per_url_{{i}}
                  SELECT window_start, url, COUNT(*) AS hits, AVG(amount)
                  FROM TABLE(HOP(TABLE cleaned_{{i}}, DESCRIPTOR(event_time), INTERVAL '10' SECOND, INTERVAL '1' MINUTE))
                  WHERE tier <> 'small'
                  GROUP BY window_start, window_end, url;
                  INSERT INTO sessions_{{i}}
                  SELECT user_id, window_start, window_end, COUNT(*)
                  FROM TABLE(SESSION(TABLE cleaned_{{i}} PARTITION BY user_id, DESCRIPTOR(event_time), INTERVAL '30' SECOND))
                  GROUP BY window_start, window_end, user_id;
                  INSERT INTO paid_{{i}}
                  SELECT user_id, url, CAST(amount AS BIGINT) * 100, tier FROM cleaned_{{i}} WHERE url LIKE '/pay%';

                """);
            i++;
        }
        return ddl + "EXECUTE STATEMENT SET BEGIN\n" + inserts + "END;\n";
    }

    /// <summary>Parse, bind, translate and compile (expression trees to delegates) a 200-line job: printed, not asserted.</summary>
    [Fact]
    public void Plans_a_200_line_job()
    {
        string script = GeneratePlannableScript(200);
        int lineCount = script.Count(c => c == '\n');
        IReadOnlyList<SqlJob> Plan() => new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null).Execute(script);

        // The first plan of the process pays for JIT-compiling the planner itself: report it apart.
        long coldStart = Stopwatch.GetTimestamp();
        var jobs = Plan();
        double cold = Stopwatch.GetElapsedTime(coldStart).TotalMilliseconds;
        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 4000) jobs = Plan();

        const int runs = 20;
        var times = new double[runs];
        for (int r = 0; r < runs; r++)
        {
            long start = Stopwatch.GetTimestamp();
            jobs = Plan();
            times[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        int inserts = jobs.Sum(j => j.Plans.Count);
        output.WriteLine($"script: {lineCount} lines, {jobs.Count} job(s), {inserts} INSERTs");
        output.WriteLine($"planning (parse + bind + translate + compile): median {times[runs / 2]:F1} ms, min {times[0]:F1} ms, max {times[^1]:F1} ms; first in process {cold:F1} ms");
        Console.WriteLine($"[Eddy.Sql] 200-line job planning: median {times[runs / 2]:F1} ms, min {times[0]:F1} ms, first {cold:F1} ms ({lineCount} lines, {inserts} INSERTs)");
        Assert.Single(jobs);
        Assert.True(inserts >= 12);
    }
}
