using System.Globalization;
using System.Text.RegularExpressions;
using Xunit.Abstractions;
using static Eddy.Recovery.Tests.Distributed.DistributedJob;

namespace Eddy.Recovery.Tests.Distributed;

/// <summary>
/// <c>eddy worker</c> processes running the keyed operators that follow a window table function: window Top-N and
/// window deduplication (one repartition topic after TVF → Calc), and window joins of two topics (inner, semi, anti,
/// LEFT, RIGHT, FULL: each side TVF → Calc → tagging into its own co-partitioned repartition topic), over TUMBLE, HOP
/// and CUMULATE, whose rows share their source offset (told apart downstream by their ordinals). Each is a job into
/// PostgreSQL exactly-once; one worker of two is killed with SIGKILL mid-run and started again. Expected rows: plain C#
/// over the produced events (windows assigned by their definition), and a single-process <c>eddy run</c> over the same
/// topics.
/// </summary>
public sealed class WindowStageWorkerTests(ITestOutputHelper log)
{
    private const int Partitions = 4;
    private const string LeftTopic = "wleft";
    private const string RightTopic = "wright";
    private const int Chunks = 3;
    private const int LeftPerChunk = 600;
    private const int RightPerChunk = 200;
    private const long ClosingId = 1_000_000;
    private const int ClosingKey = 99;
    private const long Second = 1000;
    private static readonly DateTime Start = new(2024, 1, 1, 10, 0, 0, DateTimeKind.Utc);

    /// <summary>Later than every window of the chunks: one such event per partition of each topic fires every earlier window.</summary>
    private static readonly DateTime Closing = Start.AddHours(1);

    private sealed record Event(int Partition, long Id, int K, int Score, DateTime Time)
    {
        public long Ms => (long)(Time - DateTime.UnixEpoch).TotalMilliseconds;
    }

    private sealed record Windowed(long Start, long End, Event Row);

    /// <summary>
    /// One job: its sink table's columns, its query, how PostgreSQL shows a row (window start first), the rows expected
    /// from the left and right events, and the repartition topics it has (one per keyed input).
    /// </summary>
    private sealed record Case(string Name, string Columns, string Query, string RowText, Func<List<Event>, List<Event>, IEnumerable<string>> Oracle, int KeyedInputs)
        : SinkCase(Name, Columns, Query, RowText, KeyedInputs, UpdatedByKey: false, Open: InClosingWindow);

    private static string OrNull(string text) => $"coalesce(({text})::text, 'null')";

    /// <summary>A row whose window holds the closing events: the workers still hold it back (a bounded run flushes it).</summary>
    private static bool InClosingWindow(string row) => long.Parse(row.Split('|')[0], CultureInfo.InvariantCulture) >= (long)(Closing - DateTime.UnixEpoch).TotalMilliseconds - 60 * Second;

    // The windows by their definitions (Flink's windowing TVFs, offset 0), for the oracle.
    private static IEnumerable<Windowed> Tumble(IEnumerable<Event> events, long size) =>
        events.Select(e => new Windowed(e.Ms - e.Ms % size, e.Ms - e.Ms % size + size, e));

    private static IEnumerable<Windowed> Hop(IEnumerable<Event> events, long slide, long size) =>
        events.SelectMany(e => Enumerable.Range(0, (int)(size / slide)).Select(i => e.Ms - e.Ms % slide - i * slide)
            .Where(s => s > e.Ms - size).Select(s => new Windowed(s, s + size, e)));

    private static IEnumerable<Windowed> Cumulate(IEnumerable<Event> events, long step, long max) =>
        events.SelectMany(e =>
        {
            long start = e.Ms - e.Ms % max;
            long firstEnd = e.Ms - e.Ms % step + step;
            return Enumerable.Range(0, (int)((start + max - firstEnd) / step) + 1).Select(i => new Windowed(start, firstEnd + i * step, e));
        });

    private static string Tvf(string table, string window) => $"(SELECT * FROM TABLE({window.Replace("{T}", $"TABLE {table}", StringComparison.Ordinal)}))";

    private const string TumbleSql = "TUMBLE({T}, DESCRIPTOR(ts), INTERVAL '10' SECOND)";
    private const string HopSql = "HOP({T}, DESCRIPTOR(ts), INTERVAL '10' SECOND, INTERVAL '30' SECOND)";
    private const string CumulateSql = "CUMULATE({T}, DESCRIPTOR(ts), INTERVAL '10' SECOND, INTERVAL '30' SECOND)";

    private static IEnumerable<Windowed> TumbleOf(List<Event> events) => Tumble(events, 10 * Second);

    private static IEnumerable<Windowed> HopOf(List<Event> events) => Hop(events, 10 * Second, 30 * Second);

    private static IEnumerable<Windowed> CumulateOf(List<Event> events) => Cumulate(events, 10 * Second, 30 * Second);

    private static readonly Case TopN = new("window_topn", "ws TIMESTAMP(3), we TIMESTAMP(3), k INT, rn BIGINT, id BIGINT, score INT",
        $"""
        SELECT window_start, window_end, k, rn, id, score FROM (
            SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end, k ORDER BY score DESC) AS rn
            FROM TABLE({HopSql.Replace("{T}", "TABLE lefts", StringComparison.Ordinal)}))
        WHERE rn <= 2
        """,
        $"{Ms("ws")} || '|' || {Ms("we")} || '|' || k || '|' || rn || '|' || id || '|' || score",
        (left, _) => HopOf(left).GroupBy(w => (w.Start, w.End, w.Row.K))
            .SelectMany(g => g.OrderByDescending(w => w.Row.Score).Take(2).Select((w, i) => Text(w.Start, w.End, w.Row.K, i + 1, w.Row.Id, w.Row.Score))),
        KeyedInputs: 1);

    private static readonly Case Dedup = new("window_dedup", "ws TIMESTAMP(3), we TIMESTAMP(3), k INT, id BIGINT",
        $"""
        SELECT window_start, window_end, k, id FROM (
            SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end, k ORDER BY ts DESC) AS rn
            FROM TABLE({CumulateSql.Replace("{T}", "TABLE lefts", StringComparison.Ordinal)}))
        WHERE rn = 1
        """,
        $"{Ms("ws")} || '|' || {Ms("we")} || '|' || k || '|' || id",
        (left, _) => CumulateOf(left).GroupBy(w => (w.Start, w.End, w.Row.K)).Select(g => g.MaxBy(w => w.Row.Ms)!)
            .Select(w => Text(w.Start, w.End, w.Row.K, w.Row.Id)),
        KeyedInputs: 1);

    private static readonly Case Inner = new("window_inner", "ws TIMESTAMP(3), we TIMESTAMP(3), k INT, l_id BIGINT, r_id BIGINT",
        $"""
        SELECT L.window_start, L.window_end, L.k, L.id, R.id FROM {Tvf("lefts", TumbleSql)} L JOIN {Tvf("rights", TumbleSql)} R
            ON L.window_start = R.window_start AND L.window_end = R.window_end AND L.k = R.k
        """,
        $"{Ms("ws")} || '|' || {Ms("we")} || '|' || k || '|' || l_id || '|' || r_id",
        (left, right) => from l in TumbleOf(left) join r in TumbleOf(right) on (l.Start, l.End, l.Row.K) equals (r.Start, r.End, r.Row.K)
                         select Text(l.Start, l.End, l.Row.K, l.Row.Id, r.Row.Id),
        KeyedInputs: 2);

    private static readonly Case Semi = new("window_semi", "ws TIMESTAMP(3), we TIMESTAMP(3), k INT, id BIGINT",
        $"""
        SELECT L.window_start, L.window_end, L.k, L.id FROM {Tvf("lefts", HopSql)} L
        WHERE EXISTS (SELECT 1 FROM {Tvf("rights", HopSql)} R WHERE R.k = L.k AND L.window_start = R.window_start AND L.window_end = R.window_end)
        """,
        $"{Ms("ws")} || '|' || {Ms("we")} || '|' || k || '|' || id",
        (left, right) =>
        {
            var present = HopOf(right).Select(r => (r.Start, r.End, r.Row.K)).ToHashSet();
            return HopOf(left).Where(l => present.Contains((l.Start, l.End, l.Row.K))).Select(l => Text(l.Start, l.End, l.Row.K, l.Row.Id));
        },
        KeyedInputs: 2);

    private static readonly Case Anti = new("window_anti", "ws TIMESTAMP(3), we TIMESTAMP(3), k INT, id BIGINT",
        $"""
        SELECT L.window_start, L.window_end, L.k, L.id FROM {Tvf("lefts", CumulateSql)} L
        WHERE NOT EXISTS (SELECT 1 FROM {Tvf("rights", CumulateSql)} R WHERE R.k = L.k AND L.window_start = R.window_start AND L.window_end = R.window_end)
        """,
        $"{Ms("ws")} || '|' || {Ms("we")} || '|' || k || '|' || id",
        (left, right) =>
        {
            var present = CumulateOf(right).Select(r => (r.Start, r.End, r.Row.K)).ToHashSet();
            return CumulateOf(left).Where(l => !present.Contains((l.Start, l.End, l.Row.K))).Select(l => Text(l.Start, l.End, l.Row.K, l.Row.Id));
        },
        KeyedInputs: 2);

    private const string OuterColumns = "ws TIMESTAMP(3), we TIMESTAMP(3), lk INT, rk INT, l_id BIGINT, r_id BIGINT";

    private static readonly string OuterText = $"{Ms("ws")} || '|' || {Ms("we")} || '|' || {OrNull("lk")} || '|' || {OrNull("rk")} || '|' || {OrNull("l_id")} || '|' || {OrNull("r_id")}";

    private static string OuterQuery(string type, string window) => $"""
        SELECT COALESCE(L.window_start, R.window_start), COALESCE(L.window_end, R.window_end), L.k, R.k, L.id, R.id
        FROM {Tvf("lefts", window)} L {type} JOIN {Tvf("rights", window)} R
            ON L.window_start = R.window_start AND L.window_end = R.window_end AND L.k = R.k
        """;

    /// <summary>The rows of a window outer join: matched pairs, and the unmatched rows of the padded side(s) with NULLs.</summary>
    private static IEnumerable<string> OuterOracle(IEnumerable<Windowed> left, IEnumerable<Windowed> right, bool keepLeft, bool keepRight)
    {
        var l = left.ToList();
        var r = right.ToList();
        var rightBy = r.ToLookup(w => (w.Start, w.End, w.Row.K));
        var leftBy = l.ToLookup(w => (w.Start, w.End, w.Row.K));
        foreach (var a in l)
        {
            var matches = rightBy[(a.Start, a.End, a.Row.K)].ToList();
            foreach (var b in matches) yield return Text(a.Start, a.End, a.Row.K, b.Row.K, a.Row.Id, b.Row.Id);
            if (matches.Count == 0 && keepLeft) yield return Text(a.Start, a.End, a.Row.K, null, a.Row.Id, null);
        }
        if (!keepRight) yield break;
        foreach (var b in r.Where(b => !leftBy.Contains((b.Start, b.End, b.Row.K))))
            yield return Text(b.Start, b.End, null, b.Row.K, null, b.Row.Id);
    }

    private static readonly Case LeftOuter = new("window_left", OuterColumns, OuterQuery("LEFT", TumbleSql), OuterText,
        (left, right) => OuterOracle(TumbleOf(left), TumbleOf(right), keepLeft: true, keepRight: false), KeyedInputs: 2);

    private static readonly Case RightOuter = new("window_right", OuterColumns, OuterQuery("RIGHT", HopSql), OuterText,
        (left, right) => OuterOracle(HopOf(left), HopOf(right), keepLeft: false, keepRight: true), KeyedInputs: 2);

    private static readonly Case FullOuter = new("window_full", OuterColumns, OuterQuery("FULL", CumulateSql), OuterText,
        (left, right) => OuterOracle(CumulateOf(left), CumulateOf(right), keepLeft: true, keepRight: true), KeyedInputs: 2);

    [Fact]
    public void Window_top_n_deduplication_and_inner_semi_anti_window_joins_across_two_workers_with_one_killed_and_restarted()
    {
        Run("windows", [TopN, Dedup, Inner, Semi, Anti]);
    }

    [Fact]
    public void Left_right_and_full_window_joins_across_two_workers_with_one_killed_and_restarted()
    {
        Run("outer_windows", [LeftOuter, RightOuter, FullOuter]);
    }

    private void Run(string name, Case[] cases)
    {
        var (left, right) = Generate();
        var bounds = Enumerable.Range(1, Chunks - 1).Select(c => Start.AddSeconds(c * LeftPerChunk / 2)).Append(DateTime.MaxValue).ToArray();
        List<Event> Chunk(List<Event> events, int c) => [.. events.Where(e => e.Time < bounds[c] && (c == 0 || e.Time >= bounds[c - 1]))];
        new StagedJobScenario(log)
        {
            Name = name,
            Partitions = Partitions,
            SourceTopics = [LeftTopic, RightTopic],
            Cases = cases,
            JobText = JobText,
            // The window table function (and its Calc) stay in the source stage, before the writer.
            CheckPlan = plan => Assert.Equal(cases.Sum(c => c.KeyedStages),
                Regex.Matches(plan, @"stage \d+: Source: \w+ -> WindowTableFunction( -> Calc)? -> (JoinLeftInput -> |JoinRightInput -> )?Repartition writer").Count),
            Produce = (harness, chunk) => Send(harness, Chunk(left, chunk), Chunk(right, chunk)),
            CheckOrphans = orphans => Assert.Contains(orphans, o => o.Key.Contains(" stage ", StringComparison.Ordinal) && o.Value.Count > 0),
            Oracle = c => ((Case)c).Oracle(left, right),
        }.Run();
    }

    /// <summary>
    /// Left events every 500 ms (± 3 s, no two at one millisecond, scores distinct) on keys 0–4; right events every
    /// 1.5 s (± 3 s) on keys 0–5, so some windows and keys have rows on one side only. Both topics get their events
    /// round-robin over the partitions: within each partition no event trails another by more than the 15 s
    /// watermark bound, so none is late. Then one closing event per partition of each topic.
    /// </summary>
    private static (List<Event> Left, List<Event> Right) Generate()
    {
        var random = new Random(1717);
        int leftCount = LeftPerChunk * Chunks;
        var scores = Enumerable.Range(0, leftCount).ToArray();
        random.Shuffle(scores);
        var times = new HashSet<long>();
        var left = new List<Event>();
        for (int i = 0; i < leftCount; i++)
        {
            long ms = i * 500L + random.Next(-3000, 3000);
            while (!times.Add(ms)) ms++;
            left.Add(new Event(i % Partitions, i, random.Next(5), scores[i], Start.AddMilliseconds(ms)));
        }
        var right = Enumerable.Range(0, RightPerChunk * Chunks)
            .Select(j => new Event(j % Partitions, 500_000 + j, random.Next(6), random.Next(1000), Start.AddMilliseconds(j * 1500L + random.Next(-3000, 3000)))).ToList();
        for (int p = 0; p < Partitions; p++)
        {
            left.Add(new Event(p, ClosingId + p, ClosingKey, -1 - p, Closing.AddMilliseconds(p)));
            right.Add(new Event(p, ClosingId + 100 + p, ClosingKey, 0, Closing.AddMilliseconds(p)));
        }
        return (left, right);
    }

    private static void Send(RecoveryHarness harness, List<Event> left, List<Event> right) => DistributedJob.Send(harness,
        from pair in new[] { (Topic: LeftTopic, Events: left), (Topic: RightTopic, Events: right) }
        from e in pair.Events
        select (pair.Topic, e.Partition, (string?)null, (string?)$$"""{"id":{{e.Id}},"k":{{e.K}},"score":{{e.Score}},"event_time":"{{Time(e.Time)}}"}"""));

    /// <summary>A job per case (<c>&lt;name&gt;-&lt;case&gt;</c>).</summary>
    private static string JobText(string name, string bootstrap, IReadOnlyDictionary<SinkCase, string> tables, bool bounded) =>
        "SET 'execution.checkpointing.interval' = '1 s';\n"
        + string.Concat(new[] { ("lefts", LeftTopic), ("rights", RightTopic) }.Select(t => $"""
            CREATE TABLE {t.Item1} (
                id BIGINT, k INT, score INT, event_time VARCHAR,
                ts AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
                WATERMARK FOR ts AS ts - INTERVAL '15' SECOND
            ) WITH ('connector' = 'kafka', {KafkaOptions(bootstrap, t.Item2, $"{name}-{t.Item2}", bounded)}, 'format' = 'json');

            """))
        + Inserts(name, tables.Keys, tables);
}
