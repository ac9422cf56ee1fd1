using System.Globalization;
using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

/// <summary>
/// OVER window aggregates against an independent computation in LINQ of the SQL frames (ROWS: the row and the n rows
/// before it in time order, ties in arrival order; RANGE: every row of the partition whose time is within the range,
/// peers included). The rows come one per read (<see cref="OneRowPerReadConnector"/>), so the watermark each row sees
/// follows from the file's order: the stream has many equal timestamps, NULL values, three partitions, and late rows
/// that Flink drops.
/// </summary>
public class OverTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("eddy-over-").FullName;

    public void Dispose()
    {
        Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    private sealed record Event(int N, string K, int? V, int Seconds, bool Late);

    private static readonly DateTime Base = new(2024, 1, 1, 0, 0, 0, DateTimeKind.Unspecified);

    /// <summary>
    /// Times advance by 0 or 1 s per row, each row up to 1 s behind its time: never behind the watermark
    /// (max - 2 s). The first six rows cover every key; from row 30 on, every 10th row is a row at 1 s, later than
    /// the watermark and than every key's processed rows: late for every OVER frame, unless a bounded RANGE frame's
    /// cleanup forgot the key first (<see cref="RangeCleanedLateRows"/>).
    /// </summary>
    private static List<Event> Stream(int seed, int count)
    {
        var random = new Random(seed);
        var keys = new[] { "a", "b", "c" };
        var events = new List<Event>();
        int t = 3;
        for (int i = 0; i < count; i++)
        {
            string k = i < 6 ? keys[i % 3] : keys[random.Next(3)];
            int? v = random.Next(4) == 0 ? null : random.Next(-5, 20);
            if (i >= 30 && i % 10 == 0)
            {
                events.Add(new Event(i + 1, k, v, 1, Late: true));
                continue;
            }
            t += random.Next(2);
            events.Add(new Event(i + 1, k, v, t - random.Next(2), Late: false));
        }
        return events;
    }

    private string Table(List<Event> events)
    {
        string path = Path.Combine(dir, "events.jsonl");
        File.WriteAllLines(path, events.Select(e =>
            $$"""{"k":"{{e.K}}","n":{{e.N}},"v":{{(e.V is { } v ? v.ToString(CultureInfo.InvariantCulture) : "null")}},"event_time":"{{Base.AddSeconds(e.Seconds):yyyy-MM-dd HH:mm:ss}}"}"""));
        return $"""
            CREATE TABLE events (
              k STRING, n INT, v INT, event_time STRING,
              ts AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd HH:mm:ss'),
              pt AS PROCTIME(),
              WATERMARK FOR ts AS ts - INTERVAL '2' SECOND
            ) WITH ('connector' = 'one-row-per-read', 'path' = '{path}');
            CREATE TABLE results (k STRING, n INT, s INT, c BIGINT, cs BIGINT, mn INT, mx INT, a INT) WITH ('connector' = 'print');

            """;
    }

    private const string Select = "SELECT k, n, SUM(v) OVER w, COUNT(v) OVER w, COUNT(*) OVER w, MIN(v) OVER w, MAX(v) OVER w, AVG(v) OVER w FROM events";

    /// <summary>The expected rows: each row kept, with the aggregates over its frame.</summary>
    private static List<string> Expected(List<Event> events, bool partitioned, Func<List<Event>, int, IEnumerable<Event>> frame, bool dropLate = true,
        int? rangeSeconds = null)
    {
        var revived = rangeSeconds is { } r ? RangeCleanedLateRows(events, partitioned, r * 1000L) : [];
        var kept = events.Where(e => !(dropLate && e.Late) || revived.Contains(e)).ToList();
        if (revived.Count > 0) frame = AloneIfRevived(frame, revived);
        var lines = new List<string>();
        foreach (var partition in kept.GroupBy(e => partitioned ? e.K : ""))
        {
            // Time order, ties in arrival order (OrderBy is stable).
            var ordered = partition.OrderBy(e => e.Seconds).ToList();
            for (int i = 0; i < ordered.Count; i++)
            {
                var rows = frame(ordered, i).ToList();
                var values = rows.Where(r => r.V is not null).Select(r => r.V!.Value).ToList();
                string Show(int? x) => x is { } y ? y.ToString(CultureInfo.InvariantCulture) : "null";
                lines.Add($"+I[{ordered[i].K}, {ordered[i].N}, {Show(values.Count == 0 ? null : values.Sum())}, {values.Count}, {rows.Count}, "
                    + $"{Show(values.Count == 0 ? null : values.Min())}, {Show(values.Count == 0 ? null : values.Max())}, "
                    + $"{Show(values.Count == 0 ? null : values.Sum() / values.Count)}]");
            }
        }
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    /// <summary>
    /// Flink's RowTimeRangeBoundedPrecedingFunction forgets a key (rows, accumulator, last processed time) when its
    /// cleanup timer fires: a kept row whose rowtime + range + 1 is after the cleanupTs (or with none) registers an
    /// event-time timer at rowtime + (long)(1.5 × range) + 1 that becomes the cleanupTs. When the watermark advances,
    /// the timers up to it fire in time order: the one at cleanupTs clears the key, any other sets the last processed
    /// time to its time (0 when cleared). A late row (1 s) after the last processed time of its key is processed.
    /// Simulated in arrival order with the watermark each row sees (max of earlier times - 2 s).
    /// </summary>
    private static HashSet<Event> RangeCleanedLateRows(List<Event> events, bool partitioned, long rangeMs)
    {
        var revived = new HashSet<Event>();
        var timers = new Dictionary<string, SortedSet<long>>();
        var cleanupTs = new Dictionary<string, long>();
        var lastTriggered = new Dictionary<string, long>();
        long maxSeen = long.MinValue, watermark = long.MinValue;
        foreach (var e in events)
        {
            long seen = maxSeen == long.MinValue ? long.MinValue : maxSeen - 2000;
            if (seen > watermark)
            {
                watermark = seen;
                foreach (var (k, keyTimers) in timers)
                {
                    while (keyTimers.Count > 0 && keyTimers.Min <= watermark)
                    {
                        long t = keyTimers.Min;
                        keyTimers.Remove(t);
                        if (cleanupTs.TryGetValue(k, out long c) && c <= t)
                        {
                            cleanupTs.Remove(k);
                            lastTriggered.Remove(k);
                        }
                        else lastTriggered[k] = t;
                    }
                }
            }
            string key = partitioned ? e.K : "";
            long ts = e.Seconds * 1000L;
            maxSeen = Math.Max(maxSeen, ts);
            if (ts <= lastTriggered.GetValueOrDefault(key)) continue;
            if (!timers.TryGetValue(key, out var pending)) timers[key] = pending = [];
            if (e.Late)
            {
                // Premise of a revived row's frame being itself alone: no other row of its time waits with it.
                Assert.DoesNotContain(ts, pending);
                revived.Add(e);
            }
            pending.Add(ts);
            if (!cleanupTs.TryGetValue(key, out long current) || current < ts + rangeMs + 1)
            {
                cleanupTs[key] = ts + (long)(rangeMs * 1.5) + 1;
                pending.Add(cleanupTs[key]);
            }
        }
        return revived;
    }

    private static Func<List<Event>, int, IEnumerable<Event>> AloneIfRevived(Func<List<Event>, int, IEnumerable<Event>> frame, HashSet<Event> revived) =>
        (o, i) => revived.Contains(o[i]) ? [o[i]] : frame(o, i).Where(e => !revived.Contains(e));

    private static IEnumerable<Event> RowsPreceding(List<Event> ordered, int i, int n) => ordered.Skip(Math.Max(0, i - n)).Take(i - Math.Max(0, i - n) + 1);

    private static IEnumerable<Event> RangePreceding(List<Event> ordered, int i, int seconds) =>
        ordered.Where(e => e.Seconds <= ordered[i].Seconds && e.Seconds >= ordered[i].Seconds - seconds);

    public static TheoryData<string, bool, string> Frames => new()
    {
        { "ROWS BETWEEN 2 PRECEDING AND CURRENT ROW", true, "rows2" },
        { "ROWS BETWEEN 2 PRECEDING AND CURRENT ROW", false, "rows2" },
        { "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW", true, "rowsAll" },
        { "RANGE BETWEEN INTERVAL '3' SECOND PRECEDING AND CURRENT ROW", true, "range3" },
        { "RANGE BETWEEN INTERVAL '3' SECOND PRECEDING AND CURRENT ROW", false, "range3" },
        { "RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW", true, "rangeAll" },
        { "", true, "rangeAll" },
        { "ROWS BETWEEN CURRENT ROW AND CURRENT ROW", true, "rows0" },
        { "RANGE BETWEEN INTERVAL '0' SECOND PRECEDING AND CURRENT ROW", true, "range0" },
    };

    private static Func<List<Event>, int, IEnumerable<Event>> FrameOf(string name) => name switch
    {
        "rows2" => (o, i) => RowsPreceding(o, i, 2),
        "rows0" => (o, i) => RowsPreceding(o, i, 0),
        "rowsAll" => (o, i) => RowsPreceding(o, i, int.MaxValue / 2),
        "range3" => (o, i) => RangePreceding(o, i, 3),
        "range0" => (o, i) => RangePreceding(o, i, 0),
        _ => (o, i) => RangePreceding(o, i, int.MaxValue / 2),
    };

    [Theory]
    [MemberData(nameof(Frames))]
    public void Event_time_over_aggregates_match_the_frame_computed_independently(string frame, bool partitioned, string expected)
    {
        var events = Stream(seed: 7, count: 120);
        string window = $"({(partitioned ? "PARTITION BY k " : "")}ORDER BY ts {frame})";
        var lines = SessionTests.Run(Table(events) + $"INSERT INTO results {Select} WINDOW w AS {window};");
        lines.Sort(StringComparer.Ordinal);
        int? rangeSeconds = expected switch { "range3" => 3, "range0" => 0, _ => null };
        Assert.Equal(Expected(events, partitioned, FrameOf(expected), rangeSeconds: rangeSeconds), lines);
    }

    [Fact]
    public void Inline_windows_equal_to_each_other_are_one_window()
    {
        var events = Stream(seed: 11, count: 80);
        const string w = "(PARTITION BY k ORDER BY ts ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)";
        var lines = SessionTests.Run(Table(events) + $"INSERT INTO results SELECT k, n, SUM(v) OVER {w}, COUNT(v) OVER {w}, COUNT(*) OVER {w}, "
            + $"MIN(v) OVER {w}, MAX(v) OVER {w}, AVG(v) OVER {w} FROM events;");
        lines.Sort(StringComparer.Ordinal);
        Assert.Equal(Expected(events, true, (o, i) => RowsPreceding(o, i, 3)), lines);
    }

    [Fact]
    public void The_late_rows_of_the_test_stream_are_behind_the_watermark()
    {
        // The premise of the expected values: a row is late when its time is not after max(earlier times) - 2 s.
        var events = Stream(seed: 7, count: 120);
        for (int i = 1; i < events.Count; i++)
        {
            int watermark = events.Take(i).Max(e => e.Seconds) - 2;
            Assert.Equal(events[i].Late, events[i].Seconds <= watermark);
        }
        Assert.Contains(events, e => e.Late);
    }

    [Fact]
    public void Processing_time_rows_are_aggregated_in_arrival_order_and_none_is_late()
    {
        var events = Stream(seed: 5, count: 60);
        var lines = SessionTests.Run(Table(events)
            + $"INSERT INTO results {Select} WINDOW w AS (PARTITION BY k ORDER BY pt ROWS BETWEEN 2 PRECEDING AND CURRENT ROW);");
        lines.Sort(StringComparer.Ordinal);
        // Arrival order: the expected computation sees every row at the same time, so its stable sort keeps file order.
        var arrival = events.Select(e => e with { Seconds = 0 }).ToList();
        Assert.Equal(Expected(arrival, true, (o, i) => RowsPreceding(o, i, 2), dropLate: false), lines);
    }

    [Fact]
    public void Over_output_keeps_the_time_attribute_for_a_window_aggregation_above()
    {
        var events = Stream(seed: 3, count: 50);
        var lines = SessionTests.Run(Table(events) + """
            CREATE TABLE sums (window_start TIMESTAMP(3), k STRING, total BIGINT) WITH ('connector' = 'print');
            INSERT INTO sums
            SELECT window_start, k, SUM(c) FROM TABLE(TUMBLE(TABLE (
              SELECT k, ts, COUNT(*) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS c FROM events
            ), DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY window_start, window_end, k;
            """);
        var expected = new List<string>();
        foreach (var partition in events.Where(e => !e.Late).GroupBy(e => e.K))
        {
            var ordered = partition.OrderBy(e => e.Seconds).ToList();
            foreach (var window in ordered.Select((e, i) => (e, c: Math.Min(i, 1) + 1)).GroupBy(x => x.e.Seconds / 10 * 10))
                expected.Add($"+I[{Base.AddSeconds(window.Key):yyyy-MM-dd HH:mm:ss}.000, {partition.Key}, {window.Sum(x => x.c)}]");
        }
        expected.Sort(StringComparer.Ordinal);
        lines.Sort(StringComparer.Ordinal);
        Assert.Equal(expected, lines);
    }

    [Theory]
    [InlineData("ROWS BETWEEN 2 PRECEDING AND CURRENT ROW", "rows2")]
    [InlineData("RANGE BETWEEN INTERVAL '3' SECOND PRECEDING AND CURRENT ROW", "range3")]
    [InlineData("ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW", "rowsAll")]
    public void Array_agg_listagg_and_percentile_over_a_frame_match_the_frame_computed_independently(string frame, string expected)
    {
        // ARRAY_AGG lists the frame's values in time order (ties in arrival order), NULLs included; PERCENTILE(v, 0.5)
        // is the median of its non-NULL values (the mean of the two middle ones for an even count), NULL for none.
        var events = Stream(seed: 13, count: 100);
        var lines = SessionTests.Run(Table(events) + $"""
            CREATE TABLE lists (k STRING, n INT, a ARRAY<INT>, b ARRAY<INT>, p DOUBLE, l STRING) WITH ('connector' = 'print');
            INSERT INTO lists SELECT k, n, ARRAY_AGG(v) OVER w, ARRAY_AGG(v IGNORE NULLS) OVER w, PERCENTILE(v, 0.5) OVER w,
              LISTAGG(CAST(v AS STRING), ';') OVER w FROM events
            WINDOW w AS (PARTITION BY k ORDER BY ts {frame});
            """);
        var rows = new List<string>();
        foreach (var partition in events.Where(e => !e.Late).GroupBy(e => e.K))
        {
            var ordered = partition.OrderBy(e => e.Seconds).ToList();
            for (int i = 0; i < ordered.Count; i++)
            {
                var inFrame = FrameOf(expected)(ordered, i).ToList();
                string A(IEnumerable<int?> xs) => xs.Any() ? "[" + string.Join(", ", xs.Select(x => x?.ToString(CultureInfo.InvariantCulture) ?? "null")) + "]" : "null";
                var sorted = inFrame.Where(e => e.V is not null).Select(e => (double)e.V!.Value).Order().ToList();
                string median = sorted.Count == 0 ? "null"
                    : Row.FormatDouble(sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2);
                var texts = inFrame.Where(e => e.V is not null).Select(e => e.V!.Value.ToString(CultureInfo.InvariantCulture)).ToList();
                string list = texts.Count == 0 ? "null" : string.Join(";", texts);
                rows.Add($"+I[{ordered[i].K}, {ordered[i].N}, {A(inFrame.Select(e => e.V))}, {A(inFrame.Where(e => e.V is not null).Select(e => e.V))}, {median}, {list}]");
            }
        }
        rows.Sort(StringComparer.Ordinal);
        lines.Sort(StringComparer.Ordinal);
        Assert.Equal(rows, lines);
    }

    [Theory]
    [InlineData("ROWS BETWEEN 2 PRECEDING AND CURRENT ROW", "rows2")]
    [InlineData("RANGE BETWEEN INTERVAL '3' SECOND PRECEDING AND CURRENT ROW", "range3")]
    [InlineData("", "rangeAll")]
    [InlineData("ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW", "rowsAll")]
    public void First_and_last_value_over_a_frame_skip_nulls_as_Flink(string frame, string expected)
    {
        // Flink's FirstValue/LastValue(WithRetract)AggFunction accumulate only non-NULL values, in arrival order.
        var events = Stream(seed: 19, count: 100);
        var lines = SessionTests.Run(Table(events) + $"""
            CREATE TABLE firsts (k STRING, n INT, f INT, l INT) WITH ('connector' = 'print');
            INSERT INTO firsts SELECT k, n, FIRST_VALUE(v) OVER w, LAST_VALUE(v) OVER w FROM events
            WINDOW w AS (PARTITION BY k ORDER BY ts {frame});
            """);
        var rows = new List<string>();
        foreach (var partition in events.Where(e => !e.Late).GroupBy(e => e.K))
        {
            var ordered = partition.OrderBy(e => e.Seconds).ToList();
            for (int i = 0; i < ordered.Count; i++)
            {
                var values = FrameOf(expected)(ordered, i).Where(e => e.V is not null).Select(e => e.V!.Value).ToList();
                string S(int? x) => x?.ToString(CultureInfo.InvariantCulture) ?? "null";
                rows.Add($"+I[{ordered[i].K}, {ordered[i].N}, {S(values.Count == 0 ? null : values[0])}, {S(values.Count == 0 ? null : values[^1])}]");
            }
        }
        rows.Sort(StringComparer.Ordinal);
        lines.Sort(StringComparer.Ordinal);
        Assert.Equal(rows, lines);
    }

    private static SqlParseException Refused(string query)
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        session.Execute("""
            CREATE TABLE events (k STRING, v INT, s STRING, ts TIMESTAMP(3), pt AS PROCTIME(), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
              WITH ('connector' = 'datagen');
            CREATE TABLE sink (k STRING, x BIGINT) WITH ('connector' = 'blackhole');
            """);
        return Assert.Throws<SqlParseException>(() => session.Execute("INSERT INTO sink " + query).ToList());
    }

    [Theory]
    [InlineData("SELECT k, COUNT(*) OVER (PARTITION BY k ORDER BY ts ROWS 2 PRECEDING) + COUNT(*) OVER (PARTITION BY k ORDER BY ts) FROM events",
        "all OVER aggregates of a query must be computed on the same window", "COUNT(*) OVER (PARTITION BY k ORDER BY ts)")]
    [InlineData("SELECT k, COUNT(*) OVER (PARTITION BY k ORDER BY v) FROM events", "must be defined on a time attribute", "v) FROM")]
    [InlineData("SELECT k, COUNT(*) OVER (PARTITION BY k ORDER BY ts DESC) FROM events", "ASCENDING", "ts DESC")]
    [InlineData("SELECT k, COUNT(*) OVER (PARTITION BY k) FROM events", "needs ORDER BY", "(PARTITION BY k)")]
    [InlineData("SELECT k, COUNT(*) OVER (ORDER BY ts ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM events", "CURRENT ROW", "1 FOLLOWING")]
    [InlineData("SELECT k, COUNT(DISTINCT v) OVER (ORDER BY ts) FROM events", "COUNT(DISTINCT ...) OVER", "COUNT(DISTINCT")]
    [InlineData("SELECT k, CAST(STDDEV_POP(v) OVER (ORDER BY ts) AS BIGINT) FROM events", "STDDEV_POP in an OVER window", "STDDEV_POP(v)")]
    [InlineData("SELECT k, NTH_VALUE(v, 2) OVER (PARTITION BY k ORDER BY ts) FROM events", "NTH_VALUE OVER is not supported by Eddy yet", "NTH_VALUE(v")]
    [InlineData("SELECT k, LAG(v) OVER (PARTITION BY k ORDER BY ts ROWS 2 PRECEDING) FROM events", "ROW/RANGE not allowed with LAG", "ROWS 2")]
    [InlineData("SELECT k, LAG(v, -1) OVER (PARTITION BY k ORDER BY ts) FROM events", "Offset(-1) should be positive.", "-1)")]
    [InlineData("SELECT k, LAG(v, 1, 'x') OVER (PARTITION BY k ORDER BY ts) FROM events", "Please explicitly cast default value", "'x')")]
    [InlineData("SELECT k, COUNT(*) OVER w FROM events WINDOW x AS (ORDER BY ts)", "unknown window 'w'", "w FROM")]
    [InlineData("SELECT k, COUNT(*) OVER (ORDER BY ts RANGE BETWEEN 3 PRECEDING AND CURRENT ROW) FROM events", "day-time INTERVAL", "3 PRECEDING")]
    public void Unsupported_over_windows_are_refused_where_they_are_written(string query, string reason, string at)
    {
        var e = Refused(query);
        Assert.Contains(reason, e.Reason);
        Assert.Equal("INSERT INTO sink ".Length + query.LastIndexOf(at, StringComparison.Ordinal) + 1, e.Column);
    }
}
