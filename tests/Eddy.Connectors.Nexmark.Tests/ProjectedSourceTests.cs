using System.Collections.Concurrent;
using System.Globalization;
using Eddy.Runtime;
using Eddy.Sql;
using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors;
using Eddy.Sql.Plan;
using Eddy.Sql.Plan.Scan;
using Eddy.Sql.Plan.TableSink;
using Eddy.Sql.Planning.Rules;

namespace Eddy.Connectors.Nexmark.Tests;

/// <summary>
/// The source that decodes only what a query reads (nested projection pushdown, <c>NestedFieldPushdown</c>) against
/// the whole source: the same values for every field read, the same random draws.
/// </summary>
public class ProjectedSourceTests
{
    private const long Base = 1_704_153_595_000;

    private static string Ddl(long events, string extraOptions = "") => $"""
        CREATE TABLE datagen (
            event_type INT,
            person ROW<id BIGINT, name VARCHAR, emailAddress VARCHAR, creditCard VARCHAR, city VARCHAR, state VARCHAR,
                `dateTime` TIMESTAMP(3), extra VARCHAR>,
            auction ROW<id BIGINT, itemName VARCHAR, description VARCHAR, initialBid BIGINT, reserve BIGINT,
                `dateTime` TIMESTAMP(3), expires TIMESTAMP(3), seller BIGINT, category BIGINT, extra VARCHAR>,
            bid ROW<auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, `dateTime` TIMESTAMP(3), extra VARCHAR>,
            `dateTime` AS CASE WHEN event_type = 0 THEN person.`dateTime` WHEN event_type = 1 THEN auction.`dateTime` ELSE bid.`dateTime` END,
            WATERMARK FOR `dateTime` AS `dateTime` - INTERVAL '4' SECOND
        ) WITH ('connector' = 'nexmark', 'first-event.rate' = '1000', 'events.num' = '{events}', 'seed' = '11', 'base-time' = '{Base}'{extraOptions});

        """;

    // Fields of every kind, strings among them, read through row.field only.
    private const string Fields = """
        event_type, `dateTime`, person.id, person.emailAddress, person.creditCard, person.state, person.extra,
        auction.id, auction.itemName, auction.expires, auction.category, auction.extra, bid.auction, bid.price, bid.url, bid.extra
        """;

    private const string Sink = """
        CREATE TABLE o (event_type INT, dt TIMESTAMP(3), pid BIGINT, email VARCHAR, card VARCHAR, state VARCHAR, pextra VARCHAR,
            aid BIGINT, item VARCHAR, expires TIMESTAMP(3), category BIGINT, aextra VARCHAR, auction BIGINT, price BIGINT, url VARCHAR, bextra VARCHAR
        """;

    private static (List<string> Rows, FusedScanPlan? Fused) Run(string script, string table)
    {
        var jobs = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null).Execute(script, "projected.sql");
        var job = Assert.Single(jobs);
        var plan = Assert.IsType<SinkPlan>(Assert.Single(job.Plans));
        LogicalPlan p = new PlanRules([plan], TestConnectors.Registry).Rewrite(plan);
        while (p is not FusedScanPlan && p.Inputs.Any()) p = p.Inputs.First();
        var sink = new CollectSink<Row>();
        CollectConnector.Sinks[table] = sink;
        var result = job.Environment.ExecuteAsync("nexmark-projected").GetAwaiter().GetResult();
        Assert.Null(result.Failure);
        var rows = sink.Records.Select(r => string.Join("|", r.Value.Fields.ToArray().Select(v => v switch
        {
            null => "null",
            DateTime d => d.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => v.ToString(),
        }))).ToList();
        return (rows, p as FusedScanPlan);
    }

    [Fact]
    public void The_projected_source_gives_the_whole_sources_values_for_the_fields_read()
    {
        // Projected: the fields are read only through row.field, so each is decoded as a column of its own.
        var (projected, fused) = Run(Ddl(6_000) + Sink + ") WITH ('connector' = 'nexmark-test-projection');\n"
            + $"INSERT INTO o SELECT {Fields} FROM datagen;", "o");
        var nested = Assert.IsType<NestedProjection>(fused?.Scan.Nested);
        Assert.Equal(["event_type", "person.id", "person.emailAddress", "person.creditCard", "person.state", "person.dateTime", "person.extra",
            "auction.id", "auction.itemName", "auction.dateTime", "auction.expires", "auction.category", "auction.extra",
            "bid.auction", "bid.price", "bid.url", "bid.dateTime", "bid.extra"], fused!.Scan.Decoded.Columns.Select(c => c.Name));
        Assert.Equal(18, nested.Paths.Count);

        // Whole: the ROW columns are read whole too (IS NULL), so the source makes every ROW value, every string.
        var (whole, wholeFused) = Run(Ddl(6_000) + Sink + ", a BOOLEAN, b BOOLEAN, c BOOLEAN) WITH ('connector' = 'nexmark-test-projection');\n"
            + $"INSERT INTO o SELECT {Fields}, person IS NULL, auction IS NULL, bid IS NULL FROM datagen;", "o");
        Assert.Null(wholeFused?.Scan.Nested);
        Assert.Equal(6_000, projected.Count);
        Assert.Equal(whole.Select(r => string.Join("|", r.Split('|')[..^3])), projected);
        // Each kind occurs, with its strings.
        Assert.Contains(projected, r => r.StartsWith("0|", StringComparison.Ordinal) && r.Contains('@', StringComparison.Ordinal));
        Assert.Contains(projected, r => r.StartsWith("1|", StringComparison.Ordinal));
        Assert.Contains(projected, r => r.StartsWith("2|", StringComparison.Ordinal) && r.Contains("https://", StringComparison.Ordinal));
    }

    [Fact]
    public void A_window_aggregation_over_a_view_reads_only_the_bid_fields_it_aggregates()
    {
        var (rows, fused) = Run(Ddl(20_000) + """
            CREATE TABLE o (window_end TIMESTAMP(3), n BIGINT, total BIGINT) WITH ('connector' = 'nexmark-test-projection');
            CREATE VIEW bid AS SELECT bid.auction, bid.price, `dateTime`, bid.extra FROM datagen WHERE event_type = 2;
            INSERT INTO o SELECT window_end, COUNT(*), SUM(price) FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(`dateTime`), INTERVAL '5' SECOND))
            GROUP BY window_start, window_end;
            """, "o");
        Assert.NotNull(fused?.Scan.Nested);
        // The view's bid.auction and bid.extra are not read by the aggregation.
        Assert.Equal(["event_type", "person.dateTime", "auction.dateTime", "bid.price", "bid.dateTime"], fused!.Scan.Decoded.Columns.Select(c => c.Name));
        // Expected from the generator directly.
        var options = new NexmarkOptions { FirstEventRate = 1000, NextEventRate = 1000, NumEvents = 20_000 };
        var g = NexmarkGenerator.ForTable(options, 1, 11, Base)[0];
        var e = new NexmarkEvent();
        var windows = new SortedDictionary<long, (long N, long Total)>();
        while (g.HasNext)
        {
            g.Next(ref e);
            if (e.Type != NexmarkEventType.Bid) continue;
            long end = e.DateTime - Math.Abs(e.DateTime % 5000) + 5000;
            var (n, total) = windows.GetValueOrDefault(end);
            windows[end] = (n + 1, total + e.Price);
        }
        var expected = windows.Select(w => $"{DateTime.UnixEpoch.AddMilliseconds(w.Key):yyyy-MM-dd HH:mm:ss.fff}|{w.Value.N}|{w.Value.Total}").ToList();
        Assert.Equal(expected, rows.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_shared_scan_decodes_only_what_its_readers_read()
    {
        // Nexmark q3's shape: two views over one table, joined; the table is read once and shared, so no reader fuses
        // with it, and it decodes the union of the two views' reads (SharedScanPruning).
        var jobs = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null).Execute(Ddl(1_000) + """
            CREATE TABLE o (name VARCHAR, state VARCHAR, id BIGINT) WITH ('connector' = 'nexmark-test-projection');
            CREATE VIEW person AS SELECT person.id, person.name, person.city, person.state, `dateTime` FROM datagen WHERE event_type = 0;
            CREATE VIEW auction AS SELECT auction.id, auction.seller, auction.category, `dateTime` FROM datagen WHERE event_type = 1;
            INSERT INTO o SELECT P.name, P.state, A.id FROM auction AS A JOIN person AS P ON A.seller = P.id
            WHERE A.category = 10 AND P.state IN ('OR', 'ID', 'CA');
            """, "shared.sql");
        var plan = Assert.IsType<SinkPlan>(Assert.Single(Assert.Single(jobs).Plans));
        var scans = new List<ScanPlan>();
        void Find(LogicalPlan p)
        {
            if (p is ScanPlan s) scans.Add(s);
            foreach (var i in p.Inputs) Find(i);
        }
        Find(new PlanRules([plan], TestConnectors.Registry).Apply(plan));
        Assert.Equal(2, scans.Count);
        Assert.All(scans, s => Assert.NotNull(s.Nested));
        Assert.Equal(scans[0].Decoded.Columns.Select(c => c.Name), scans[1].Decoded.Columns.Select(c => c.Name));
        Assert.Equal(["event_type", "person.id", "person.name", "person.city", "person.state", "person.dateTime",
            "auction.id", "auction.dateTime", "auction.seller", "auction.category", "bid.dateTime"], scans[0].Decoded.Columns.Select(c => c.Name));
    }

    public static TheoryData<NexmarkTextFields> Subsets() =>
    [
        NexmarkTextFields.None,
        NexmarkTextFields.BidExtra,
        NexmarkTextFields.PersonEmailAddress | NexmarkTextFields.AuctionDescription,
        NexmarkTextFields.PersonCreditCard | NexmarkTextFields.PersonExtra | NexmarkTextFields.AuctionItemName,
        NexmarkTextFields.All & ~NexmarkTextFields.AuctionExtra,
    ];

    [Theory]
    [MemberData(nameof(Subsets))]
    public void Strings_not_built_leave_every_value_and_the_random_state_as_they_are(NexmarkTextFields built)
    {
        // Default sizes, sizes below the fixed fields (no extra at all) and one above half the reusable text (extra
        // drawn character by character).
        foreach (var (person, auction, bid, count) in new[] { (200, 500, 100, 5_000), (10, 10, 10, 500), (4_000_000, 500, 100, 60) })
        {
            var options = new NexmarkOptions { NumEvents = count, AvgPersonByteSize = person, AvgAuctionByteSize = auction, AvgBidByteSize = bid };
            var all = NexmarkGenerator.ForTable(options, 1, 5, Base)[0];
            var some = NexmarkGenerator.ForTable(options, 1, 5, Base, built)[0];
            Assert.Equal(built, some.Built);
            NexmarkEvent a = default, s = default;
            while (all.HasNext)
            {
                all.Next(ref a);
                some.Next(ref s);
                Assert.Equal(all.Random.State, some.Random.State);
                Assert.Equal(a.Type, s.Type);
                Assert.Equal(a.DateTime, s.DateTime);
                Assert.Equal(Expected(a, built), Expected(s, built));
            }
            Assert.False(some.HasNext);
        }
    }

    [Fact]
    public void Extras_are_cuts_of_the_reusable_text()
    {
        var text = new NexmarkStrings(9).ReusableExtra;
        var g = NexmarkGenerator.ForTable(new NexmarkOptions { NumEvents = 300 }, 1, 9, Base)[0];
        var e = new NexmarkEvent();
        while (g.HasNext)
        {
            g.Next(ref e);
            Assert.InRange(e.Extra.Length, 1, 600);
            Assert.Contains(e.Extra, text, StringComparison.Ordinal);
        }
    }

    /// <summary>The event's values of its kind: strings that are not built as "-", the others as they are.</summary>
    private static string Expected(NexmarkEvent e, NexmarkTextFields built)
    {
        string S(string? value, NexmarkTextFields field)
        {
            if ((built & field) == 0) return "-";
            Assert.NotNull(value);
            return value;
        }
        return e.Type switch
        {
            NexmarkEventType.Person => string.Join("|", e.PersonId, e.Name, S(e.EmailAddress, NexmarkTextFields.PersonEmailAddress),
                S(e.CreditCard, NexmarkTextFields.PersonCreditCard), e.City, e.State, S(e.Extra, NexmarkTextFields.PersonExtra)),
            NexmarkEventType.Auction => string.Join("|", e.AuctionId, S(e.ItemName, NexmarkTextFields.AuctionItemName),
                S(e.Description, NexmarkTextFields.AuctionDescription), e.InitialBid, e.Reserve, e.Expires, e.Seller, e.Category,
                S(e.Extra, NexmarkTextFields.AuctionExtra)),
            _ => string.Join("|", e.BidAuction, e.Bidder, e.Price, e.Channel, e.Url, S(e.Extra, NexmarkTextFields.BidExtra)),
        };
    }

    /// <summary>'connector' = 'nexmark-test-projection': rows go to the collecting sink registered under the table's name.</summary>
    internal sealed class CollectConnector : ITableConnector
    {
        public static readonly ConcurrentDictionary<string, CollectSink<Row>> Sinks = new(StringComparer.OrdinalIgnoreCase);

        public string Name => "nexmark-test-projection";

        public bool AcceptsUpdates(TableDef table) => true;

        public Source<Row> CreateSource(TableDef table, Schema decoded, ConnectorContext context) => throw new NotSupportedException();

        public Sink<Row> CreateSink(TableDef table, Schema schema, ConnectorContext context) => new Forwarding(table.Name);

        private sealed class Forwarding(string table) : Sink<Row>
        {
            public override SinkWriter<Row> CreateWriter(SinkWriterContext context) => Sinks[table].CreateWriter(context);
        }
    }
}
