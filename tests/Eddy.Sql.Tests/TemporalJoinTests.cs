using System.Globalization;
using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

/// <summary>
/// Event-time temporal joins (<c>JOIN v FOR SYSTEM_TIME AS OF o.ts</c>) end to end against a plain-code computation of
/// the documented semantics: each order joins the rate version of its currency with the latest time at or before the
/// order's time (Flink's "Joins → Event Time Temporal Join"). Both inputs are in time order, so no row is late and
/// the watermark-driven emission and cleanup give exactly that answer.
/// </summary>
public sealed class TemporalJoinTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("eddy-temporal-").FullName;

    public void Dispose()
    {
        Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    private sealed record Order(int Id, string? Currency, int Amount, long Time);

    private sealed record Rate(string Currency, int Value, long Time);

    private static readonly DateTime Epoch = new(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static string Stamp(long ms) => Epoch.AddMilliseconds(ms).ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture);

    /// <summary>Random orders and rate versions, each in time order (equal times happen), currencies with and without rates and NULL.</summary>
    private static (List<Order>, List<Rate>) Data(int seed)
    {
        var random = new Random(seed);
        string?[] currencies = ["EUR", "USD", "JPY", "GBP", "CHF", null];
        var orders = new List<Order>();
        long t = 0;
        for (int i = 0; i < 300; i++)
        {
            t += random.Next(0, 3) * 500;
            orders.Add(new Order(i, currencies[random.Next(currencies.Length)], random.Next(1, 100), t));
        }
        var rates = new List<Rate>();
        t = 1000;
        for (int i = 0; i < 80; i++)
        {
            t += random.Next(0, 5) * 500;
            rates.Add(new Rate(currencies[random.Next(4)]!, random.Next(1, 500), t));
        }
        return (orders, rates);
    }

    /// <summary>The documented answer: the version with the latest time at or before the order's (the later row among equal times).</summary>
    private static List<string> Expected(List<Order> orders, List<Rate> rates, bool leftOuter, Func<Order, Rate, bool>? condition = null)
    {
        var rows = new List<string>();
        foreach (var o in orders)
        {
            var version = rates.Where(r => r.Currency == o.Currency && r.Time <= o.Time).OrderBy(r => r.Time).LastOrDefault();
            if (version is not null && (condition?.Invoke(o, version) ?? true))
                rows.Add($"+I[{o.Id}, {o.Currency}, {o.Amount}, {version.Value}, {Stamp(version.Time)}]");
            else if (leftOuter) rows.Add($"+I[{o.Id}, {o.Currency ?? "null"}, {o.Amount}, null, null]");
        }
        rows.Sort(StringComparer.Ordinal);
        return rows;
    }

    private string Tables(List<Order> orders, List<Rate> rates, string parallelism, bool view)
    {
        string o = Path.Combine(dir, "orders.jsonl"), r = Path.Combine(dir, "rates.csv");
        File.WriteAllLines(o, orders.Select(x => $$"""{"id":{{x.Id}},"currency":{{(x.Currency is null ? "null" : $"\"{x.Currency}\"")}},"amount":{{x.Amount}},"ts":"{{Stamp(x.Time)}}"}"""));
        File.WriteAllLines(r, rates.Select(x => $"{x.Currency},{x.Value},{Stamp(x.Time)}"));
        string rateTable = view
            ? $"""
                CREATE TABLE rate_log (currency STRING, rate INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
                  WITH ('connector' = 'filesystem', 'path' = '{r}', 'format' = 'csv');
                CREATE VIEW rates AS SELECT currency, rate, ts FROM (
                  SELECT *, ROW_NUMBER() OVER (PARTITION BY currency ORDER BY ts DESC) AS rn FROM rate_log) WHERE rn = 1;
                """
            : $"""
                CREATE TABLE rates (currency STRING, rate INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND,
                  PRIMARY KEY (currency) NOT ENFORCED) WITH ('connector' = 'filesystem', 'path' = '{r}', 'format' = 'csv');
                """;
        return $"""
            SET 'parallelism.default' = '{parallelism}';
            CREATE TABLE orders (id INT, currency STRING, amount INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
              WITH ('connector' = 'filesystem', 'path' = '{o}', 'format' = 'json');
            {rateTable}
            CREATE TABLE out (id INT, currency STRING, amount INT, rate INT, rate_ts TIMESTAMP(3)) WITH ('connector' = 'print');

            """;
    }

    private static List<string> Sorted(List<string> lines)
    {
        var rows = lines.Select(l => l.Contains("> ", StringComparison.Ordinal) ? l[(l.IndexOf("> ", StringComparison.Ordinal) + 2)..] : l).ToList();
        rows.Sort(StringComparer.Ordinal);
        return rows;
    }

    [Theory]
    [InlineData("INNER", "1", false, 1)]
    [InlineData("LEFT", "1", false, 2)]
    [InlineData("INNER", "2", false, 3)]
    [InlineData("LEFT", "2", false, 4)]
    [InlineData("INNER", "2", true, 5)]
    [InlineData("LEFT", "1", true, 6)]
    public void Each_order_joins_the_version_valid_at_its_time(string type, string parallelism, bool view, int seed)
    {
        var (orders, rates) = Data(seed);
        var lines = SessionTests.Run(Tables(orders, rates, parallelism, view) + $"""
            INSERT INTO out SELECT o.id, o.currency, o.amount, r.rate, r.ts
            FROM orders AS o {type} JOIN rates FOR SYSTEM_TIME AS OF o.ts AS r ON o.currency = r.currency;
            """);
        Assert.Equal(Expected(orders, rates, type == "LEFT"), Sorted(lines));
    }

    [Theory]
    [InlineData("INNER")]
    [InlineData("LEFT")]
    public void The_rest_of_on_is_checked_on_the_version_found(string type)
    {
        var (orders, rates) = Data(7);
        var lines = SessionTests.Run(Tables(orders, rates, "2", view: false) + $"""
            INSERT INTO out SELECT o.id, o.currency, o.amount, r.rate, r.ts
            FROM orders AS o {type} JOIN rates FOR SYSTEM_TIME AS OF o.ts AS r ON r.currency = o.currency AND o.amount * 3 < r.rate;
            """);
        Assert.Equal(Expected(orders, rates, type == "LEFT", (o, r) => o.Amount * 3 < r.Value), Sorted(lines));
    }

    private SqlParseException Refused(string tables, string query) =>
        Assert.Throws<SqlParseException>(() => SessionTests.Run(tables + query));

    [Fact]
    public void A_table_without_primary_key_or_watermark_is_not_versioned()
    {
        var (orders, rates) = Data(1);
        string tables = Tables(orders, rates, "1", view: false) + $"""
            CREATE TABLE plain (currency STRING, rate INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
              WITH ('connector' = 'filesystem', 'path' = '{Path.Combine(dir, "rates.csv")}', 'format' = 'csv');
            CREATE TABLE keyed (currency STRING, rate INT, ts TIMESTAMP(3), PRIMARY KEY (currency) NOT ENFORCED)
              WITH ('connector' = 'filesystem', 'path' = '{Path.Combine(dir, "rates.csv")}', 'format' = 'csv');

            """;
        var e = Refused(tables, "INSERT INTO out SELECT o.id, o.currency, o.amount, r.rate, r.ts FROM orders AS o JOIN plain FOR SYSTEM_TIME AS OF o.ts AS r ON o.currency = r.currency;");
        Assert.Contains("'plain' has no primary key", e.Message, StringComparison.Ordinal);
        Assert.Contains("line ", e.Message, StringComparison.Ordinal);
        e = Refused(tables, "INSERT INTO out SELECT o.id, o.currency, o.amount, r.rate, r.ts FROM orders AS o JOIN keyed FOR SYSTEM_TIME AS OF o.ts AS r ON o.currency = r.currency;");
        Assert.Contains("'keyed' has no event-time attribute", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Conditions_flink_would_treat_differently_are_refused()
    {
        var (orders, rates) = Data(1);
        string tables = Tables(orders, rates, "1", view: false);
        var e = Refused(tables, "INSERT INTO out SELECT o.id, o.currency, o.amount, r.rate, r.ts FROM orders AS o JOIN rates FOR SYSTEM_TIME AS OF o.ts AS r ON o.amount = r.rate;");
        Assert.Contains("not its primary key", e.Message, StringComparison.Ordinal);
        e = Refused(tables, "INSERT INTO out SELECT o.id, o.currency, o.amount, r.rate, r.ts FROM orders AS o JOIN rates FOR SYSTEM_TIME AS OF o.ts AS r ON o.currency = r.currency AND r.rate > 3;");
        Assert.Contains("reads only 'rates'", e.Message, StringComparison.Ordinal);
        e = Refused(tables, "INSERT INTO out SELECT o.id, o.currency, o.amount, r.rate, r.ts FROM orders AS o RIGHT JOIN rates FOR SYSTEM_TIME AS OF o.ts AS r ON o.currency = r.currency;");
        Assert.Contains("INNER or LEFT", e.Message, StringComparison.Ordinal);
    }
}
