using System.Globalization;
using System.Text.RegularExpressions;
using Eddy.Runtime;
using Eddy.Testing;
using Eddy.Sql.Parsing;
using Eddy.Sql.Plan.TemporalSort;

namespace Eddy.Sql.Tests;

/// <summary>
/// ORDER BY in streaming mode (Flink's temporal sort on event time): rows come out in time order, rows of equal time
/// by the other keys, ties in arrival order. Expected order from LINQ's stable OrderBy over the file's rows.
/// </summary>
public class TemporalSortTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("eddy-tsort-").FullName;

    public void Dispose()
    {
        Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    private static List<string> Run(SqlSession session, StringWriter output, string sql)
    {
        foreach (var job in session.Execute(sql, "test.sql"))
        {
            var result = job.Environment.ExecuteAsync(job.Name).GetAwaiter().GetResult();
            if (result.Failure is not null) throw result.Failure;
        }
        return output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => Regex.Replace(l.TrimEnd('\r'), @"^\d+> ", "")).ToList();
    }

    private (SqlSession, StringWriter) Session(List<(int Id, int Amount, int Second)> rows)
    {
        string path = Path.Combine(dir, "t.csv");
        File.WriteAllLines(path, rows.Select(r => $"{r.Id},{r.Amount},2024-01-01 00:00:{r.Second:00}.000"));
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null, _ => null);
        session.Execute($"""
            CREATE TABLE t (id INT, amount INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
              WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'csv');
            """);
        return (session, output);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Streaming_order_by_rowtime_then_other_keys_matches_a_stable_sort(int seed)
    {
        var random = new Random(seed);
        var rows = Enumerable.Range(0, 40).Select(i => (Id: i, Amount: random.Next(4), Second: random.Next(10))).ToList();
        var (session, output) = Session(rows);
        var lines = Run(session, output, "SELECT id, amount, ts FROM t ORDER BY ts, amount DESC");
        var expected = rows.OrderBy(r => r.Second).ThenByDescending(r => r.Amount)
            .Select(r => string.Create(CultureInfo.InvariantCulture, $"+I[{r.Id}, {r.Amount}, 2024-01-01 00:00:{r.Second:00}.000]")).ToList();
        Assert.Equal(expected, lines);
        output.GetStringBuilder().Clear();
        // Ordered by the rowtime only: ties keep the order they arrived in (the file's).
        lines = Run(session, output, "SELECT id, ts FROM t ORDER BY ts");
        Assert.Equal(rows.OrderBy(r => r.Second).Select(r => string.Create(CultureInfo.InvariantCulture, $"+I[{r.Id}, 2024-01-01 00:00:{r.Second:00}.000]")), lines);
        output.GetStringBuilder().Clear();
        // The rowtime need not be selected (Flink sorts on it and projects it away).
        lines = Run(session, output, "SELECT id FROM t ORDER BY ts, amount DESC");
        Assert.Equal(rows.OrderBy(r => r.Second).ThenByDescending(r => r.Amount).Select(r => string.Create(CultureInfo.InvariantCulture, $"+I[{r.Id}]")), lines);
    }

    [Fact]
    public void Rows_wait_for_the_watermark_and_rows_not_after_the_last_fired_time_are_dropped()
    {
        // Flink's RowTimeSortOperator: a row is late when its time is not after the last time fired (not the watermark).
        var op = new KeyedProcessOperator<ValueTuple, (long T, int V), (long T, int V)>(_ => default,
            new TemporalSortFunction<(long T, int V)>(r => r.T, (a, b) => b.V.CompareTo(a.V)));
        var harness = new OperatorHarness<(long T, int V), (long T, int V)>(op);
        harness.Element((5, 1), 5).Element((3, 2), 3).Element((5, 9), 5).Watermark(4);
        Assert.Equal([(3L, 2)], harness.Output.Values);
        harness.Element((4, 7), 4).Element((3, 8), 3).Watermark(6);
        Assert.Equal([(3L, 2), (4L, 7), (5L, 9), (5L, 1)], harness.Output.Values);
        harness.Element((5, 3), 5).Element((6, 4), 6).Watermark(long.MaxValue);
        Assert.Equal([(3L, 2), (4L, 7), (5L, 9), (5L, 1), (6L, 4)], harness.Output.Values);
    }

    [Fact]
    public void The_rowtime_stays_a_time_attribute_after_the_sort()
    {
        var (session, output) = Session([(1, 1, 1), (2, 1, 3), (3, 1, 12)]);
        var lines = Run(session, output, """
            SELECT window_start, COUNT(*) FROM TABLE(TUMBLE(TABLE (SELECT * FROM (SELECT id, ts FROM t ORDER BY ts)), DESCRIPTOR(ts), INTERVAL '10' SECOND))
            GROUP BY window_start, window_end
            """);
        Assert.Equal(["+I[2024-01-01 00:00:00.000, 2]", "+I[2024-01-01 00:00:10.000, 1]"], lines.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("SELECT id, amount, ts FROM t ORDER BY amount", "amount", "Sort on a non-time-attribute field is not supported")]
    [InlineData("SELECT id, ts FROM t ORDER BY ts DESC", "ts DESC", "Sort on a non-time-attribute field is not supported")]
    [InlineData("SELECT id, ts FROM t ORDER BY ts LIMIT 3", "ts LIMIT", "ORDER BY and LIMIT need a bounded input")]
    [InlineData("SELECT id, MAX(ts) AS ts FROM t GROUP BY id ORDER BY ts", "ts", "Sort on a non-time-attribute field is not supported")]
    public void Other_streaming_orders_are_refused_where_written(string query, string marker, string reason)
    {
        var (session, _) = Session([(1, 1, 1)]);
        var e = Assert.Throws<SqlParseException>(() => session.Execute(query, "test.sql"));
        Assert.Contains(reason, e.Reason, StringComparison.Ordinal);
        Assert.Equal(query.LastIndexOf(marker, StringComparison.Ordinal) + 1, e.Column);
    }
}
