using System.Globalization;
using Eddy.Runtime;
using Eddy.Sql.Plan.Over;
using Eddy.Testing;

namespace Eddy.Sql.Tests;

/// <summary>
/// <c>RANGE BETWEEN INTERVAL ... PRECEDING AND CURRENT ROW</c> over a processing-time attribute, driven by a manual
/// clock. Expected values are worked by hand from Flink's ProcTimeRangeBoundedPrecedingFunction: a row waits until the
/// millisecond it arrived in has passed; the rows of one millisecond are processed together (peers); rows whose
/// arrival is more than the range before the processed millisecond are retracted first (a row exactly the range
/// before stays), and the SQL variant against LINQ.
/// </summary>
public class ProcTimeRangeOverTests
{
    public struct Rec
    {
        public string K;
        public int V;
    }

    private static Rec R(string k, int v) => new() { K = k, V = v };

    private static KeyedProcessOperator<string, Rec, string> Operator(long rangeMs) => new(r => r.K,
        new OverAggregateFunction<Rec, string, long, string>((r, acc) => acc + r.V, (r, acc) => acc - r.V, (r, acc) => $"{r.K}{r.V}:{acc}",
            eventTime: false, rows: false, preceding: rangeMs));

    private static List<string> Take(OperatorHarness<Rec, string> h)
    {
        var lines = h.Output.Records.Select(e => e.Value).ToList();
        h.Output.Clear();
        return lines;
    }

    [Fact]
    public void Rows_of_one_millisecond_are_peers_and_rows_older_than_the_range_are_retracted()
    {
        var h = new OperatorHarness<Rec, string>(Operator(10_000));
        h.Element(R("a", 1)).Element(R("a", 2)).Element(R("b", 100));
        Assert.Empty(Take(h));
        h.AdvanceProcessingTime(TimeSpan.FromMilliseconds(1));
        Assert.Equal(["a1:3", "a2:3", "b100:100"], Take(h).Order(StringComparer.Ordinal));
        h.SetProcessingTime(5_000);
        h.Element(R("a", 4));
        h.AdvanceProcessingTime(TimeSpan.FromMilliseconds(1));
        Assert.Equal(["a4:7"], Take(h));
        // At 10 000 the rows of 0 are exactly the range before: still inside.
        h.SetProcessingTime(10_000);
        h.Element(R("a", 8));
        h.AdvanceProcessingTime(TimeSpan.FromMilliseconds(1));
        Assert.Equal(["a8:15"], Take(h));
        // At 10 001 they are out (before 10 001 - 10 000).
        h.Element(R("a", 16));
        h.AdvanceProcessingTime(TimeSpan.FromMilliseconds(1));
        Assert.Equal(["a16:28"], Take(h));
        // A key seen again much later starts from its own rows only.
        h.SetProcessingTime(30_000);
        h.Element(R("b", 1));
        h.AdvanceProcessingTime(TimeSpan.FromMilliseconds(1));
        Assert.Equal(["b1:1"], Take(h));
    }

    [Fact]
    public void Rows_still_waiting_when_the_input_ends_are_processed_then()
    {
        var h = new OperatorHarness<Rec, string>(Operator(1_000));
        h.Element(R("a", 1));
        h.AdvanceProcessingTime(TimeSpan.FromMilliseconds(1));
        Assert.Equal(["a1:1"], Take(h));
        h.Element(R("a", 2)).Element(R("c", 5));
        h.EndInput();
        Assert.Equal(["a2:3", "c5:5"], Take(h).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Waiting_rows_and_the_window_survive_a_checkpoint()
    {
        var h = new OperatorHarness<Rec, string>(Operator(10_000), checkpointing: true);
        h.Element(R("a", 1));
        h.AdvanceProcessingTime(TimeSpan.FromMilliseconds(1));
        h.SetProcessingTime(4_000);
        h.Element(R("a", 2));
        var restored = OperatorHarness<Rec, string>.Restored(Operator(10_000), [h.Snapshot()], startProcessingTime: 4_000);
        restored.AdvanceProcessingTime(TimeSpan.FromMilliseconds(1));
        Assert.Equal(["a2:3"], Take(restored));
        restored.SetProcessingTime(10_002);
        restored.Element(R("a", 4));
        restored.AdvanceProcessingTime(TimeSpan.FromMilliseconds(1));
        Assert.Equal(["a4:6"], Take(restored));
    }

    [Fact]
    public async Task A_sql_range_over_on_proctime_gives_each_row_its_partitions_rows_within_the_range()
    {
        // The session's clock does not move: every row arrives in the same millisecond, so all rows of a partition
        // are peers, processed when the bounded input ends.
        var rows = Enumerable.Range(0, 40).Select(i => (K: i % 3, X: i * 7 % 11 - 3)).ToArray();
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null) { Clock = new ManualClock(1_700_000_000_000) };
        foreach (var job in session.Execute($"""
            SET 'parallelism.default' = '2';
            CREATE VIEW v AS SELECT k, x, PROCTIME() AS pt FROM (VALUES {string.Join(", ", rows.Select(r => $"({r.K}, {r.X})"))}) AS t(k, x);
            CREATE TABLE out_t (k INT, x INT, s INT, n BIGINT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT k, x, SUM(x) OVER w, COUNT(*) OVER w FROM v
            WINDOW w AS (PARTITION BY k ORDER BY pt RANGE BETWEEN INTERVAL '10' SECOND PRECEDING AND CURRENT ROW);
            """))
        {
            var result = await job.Environment.ExecuteAsync(job.Name);
            Assert.Null(result.Failure);
        }
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')[(l.IndexOf('+', StringComparison.Ordinal))..]);
        var expected = rows.Select(r => $"+I[{r.K}, {r.X}, {rows.Where(o => o.K == r.K).Sum(o => o.X)}, {rows.Count(o => o.K == r.K)}]");
        Assert.Equal(expected.Order(StringComparer.Ordinal), lines.Order(StringComparer.Ordinal));
    }
}
