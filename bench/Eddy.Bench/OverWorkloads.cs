using Eddy.Sql;

namespace Eddy.Bench;

/// <summary>OVER window aggregates in SQL over the benchmark events (keyed by k, event time rt, watermark = rt).</summary>
public static class OverWorkloads
{
    private const string Events = """
        CREATE TABLE events (
          ts BIGINT NOT NULL, k INT NOT NULL, payload INT NOT NULL,
          rt AS TO_TIMESTAMP_LTZ(ts, 3),
          WATERMARK FOR rt AS rt
        ) WITH ('connector' = 'bench-events');
        CREATE TABLE counted (k INT, ts BIGINT, agg BIGINT) WITH ('connector' = 'bench-count');
        """;

    /// <summary>SUM over the row and the 10 before it, per key: each row added once and retracted once.</summary>
    public static long RowsSum(BenchEvent[] events) => Run(events,
        "SELECT k, ts, SUM(CAST(payload AS BIGINT)) OVER (PARTITION BY k ORDER BY rt ROWS BETWEEN 10 PRECEDING AND CURRENT ROW) FROM events");

    /// <summary>COUNT(*) over the last 10 seconds of event time, per key (peers included).</summary>
    public static long RangeCount(BenchEvent[] events) => Run(events,
        "SELECT k, ts, COUNT(*) OVER (PARTITION BY k ORDER BY rt RANGE BETWEEN INTERVAL '10' SECOND PRECEDING AND CURRENT ROW) FROM events");

    private static long Run(BenchEvent[] events, string query)
    {
        SqlWorkloads.UseEvents(events);
        var session = new SqlSession(BenchConnectors.Registry, TextWriter.Null, Console.Error);
        var jobs = session.Execute(Events + "INSERT INTO counted " + query + ";");
        return SqlWorkloads.ExecuteCounted(jobs[0]);
    }
}
