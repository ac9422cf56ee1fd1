namespace Eddy.Sql.Tests;

/// <summary>
/// DISTINCT and FILTER aggregates (Nexmark q15/q16 shapes: COUNT(DISTINCT x) FILTER (WHERE ...)) in window and group
/// aggregations over random bids with NULL prices, against the same aggregation computed by LINQ.
/// </summary>
public class DistinctFilterAggregateTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("eddy-sql-").FullName;

    public void Dispose()
    {
        Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    private static List<(string User, int? Price, int Second)> RandomBids(int seed)
    {
        var random = new Random(seed);
        string[] users = ["u1", "u2", "u3", "u4", "u5"];
        return Enumerable.Range(0, 150).Select(i => (users[random.Next(users.Length)], random.Next(6) == 0 ? (int?)null : random.Next(0, 12), i * 2)).ToList();
    }

    private void WriteBids(List<(string User, int? Price, int Second)> bids) =>
        File.WriteAllLines(Path.Combine(dir, "bids.jsonl"), bids.Select(b =>
            "{\"bidder\":\"" + b.User + "\",\"price\":" + (b.Price is null ? "null" : b.Price.Value.ToString(System.Globalization.CultureInfo.InvariantCulture))
            + ",\"event_time\":\"" + DateTime.UnixEpoch.AddSeconds(b.Second).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture) + "\"}"));

    private string BidTable => $$"""
        CREATE TABLE bids (
          bidder STRING,
          price INT,
          event_time STRING,
          ts AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
          WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
        ) WITH ('connector' = 'filesystem', 'path' = '{{dir}}', 'format' = 'json');

        """;

    private const string BidAggregates = "COUNT(*), COUNT(*) FILTER (WHERE price < 5), COUNT(DISTINCT bidder), "
        + "COUNT(DISTINCT bidder) FILTER (WHERE price < 5), COUNT(DISTINCT price), SUM(DISTINCT price), SUM(price) FILTER (WHERE price >= 5)";

    private const string BidColumns = "n BIGINT, n_low BIGINT, bidders BIGINT, low_bidders BIGINT, prices BIGINT, distinct_sum INT, high_sum INT";

    /// <summary>The expected values of <see cref="BidAggregates"/>, as the print sink shows them.</summary>
    private static string Expected(IEnumerable<(string User, int? Price, int Second)> bids)
    {
        var list = bids.ToList();
        var prices = list.Where(b => b.Price is not null).Select(b => b.Price!.Value).ToList();
        var high = prices.Where(p => p >= 5).ToList();
        // COUNT(*) counts rows with a NULL price; COUNT/SUM/DISTINCT ignore NULLs; a FILTER keeps rows where it is TRUE.
        return $"{list.Count}, {list.Count(b => b.Price < 5)}, {list.Select(b => b.User).Distinct().Count()}, "
            + $"{list.Where(b => b.Price < 5).Select(b => b.User).Distinct().Count()}, {prices.Distinct().Count()}, "
            + $"{(prices.Count == 0 ? "null" : prices.Distinct().Sum().ToString(System.Globalization.CultureInfo.InvariantCulture))}, "
            + $"{(high.Count == 0 ? "null" : high.Sum().ToString(System.Globalization.CultureInfo.InvariantCulture))}";
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Distinct_and_filter_in_a_tumbling_window_aggregation(int seed)
    {
        var bids = RandomBids(seed);
        WriteBids(bids);
        var lines = SessionTests.Run(BidTable + $"""
            CREATE TABLE out_t (window_start TIMESTAMP(3), {BidColumns}) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT window_start, {BidAggregates}
            FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end;
            """);
        var expected = bids.GroupBy(b => b.Second / 60)
            .Select(w => $"+I[{DateTime.UnixEpoch.AddMinutes(w.Key).ToString("yyyy-MM-dd HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture)}, {Expected(w)}]")
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, lines.Order(StringComparer.Ordinal).ToList());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Distinct_and_filter_in_a_group_aggregation_as_nexmark_q15(int seed)
    {
        var bids = RandomBids(seed);
        WriteBids(bids);
        var lines = SessionTests.Run(BidTable + $"""
            CREATE TABLE out_t (`minute` STRING, {BidColumns}) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT DATE_FORMAT(ts, 'HH:mm'), {BidAggregates} FROM bids GROUP BY DATE_FORMAT(ts, 'HH:mm');
            """);
        var expected = bids.GroupBy(b => b.Second / 60)
            .Select(g => $"[{DateTime.UnixEpoch.AddMinutes(g.Key).ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture)}, {Expected(g)}]")
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, RetractingAggregateTests.Materialize(lines));
    }

    [Fact]
    public void Distinct_and_filter_over_a_changelog()
    {
        // The inner aggregation's changelog (the highest price per bidder and minute) feeds DISTINCT and FILTER aggregates.
        var bids = RandomBids(3);
        WriteBids(bids);
        var lines = SessionTests.Run(BidTable + """
            CREATE TABLE out_t (m STRING, bidders BIGINT, high BIGINT, top_sum INT, low_top BIGINT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT m, COUNT(*), COUNT(DISTINCT top) FILTER (WHERE top >= 5), SUM(DISTINCT top), COUNT(*) FILTER (WHERE top < 5)
            FROM (SELECT DATE_FORMAT(ts, 'HH:mm') AS m, bidder, MAX(price) AS top FROM bids GROUP BY DATE_FORMAT(ts, 'HH:mm'), bidder)
            GROUP BY m;
            """);
        var expected = bids.GroupBy(b => b.Second / 60).Select(g =>
        {
            var tops = g.GroupBy(b => b.User).Select(u => u.Max(b => b.Price)).ToList();
            var present = tops.Where(t => t is not null).Select(t => t!.Value).Distinct().ToList();
            return $"[{DateTime.UnixEpoch.AddMinutes(g.Key).ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture)}, {tops.Count}, "
                + $"{present.Count(t => t >= 5)}, {(present.Count == 0 ? "null" : present.Sum().ToString(System.Globalization.CultureInfo.InvariantCulture))}, "
                + $"{tops.Count(t => t < 5)}]";
        }).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, RetractingAggregateTests.Materialize(lines));
    }
}
