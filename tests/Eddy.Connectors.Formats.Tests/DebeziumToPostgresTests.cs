using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Eddy.Connectors.Kafka;
using Eddy.Connectors.Kafka.Tests;
using Eddy.Connectors.Postgres;
using Eddy.Connectors.Postgres.Tests;
using Eddy.Sql;

namespace Eddy.Connectors.Formats.Tests;

/// <summary>
/// A database table's history as Debezium writes it (keyed by the primary key, snapshot reads, inserts, updates,
/// deletes, tombstones) in a topic of the dev broker, aggregated by Eddy and upserted into PostgreSQL: the result must
/// equal the aggregate of the table's final state, computed here in plain C#.
/// </summary>
public class DebeziumToPostgresTests
{
    private sealed record Product(long Id, string Category, int Amount);

    /// <summary>One change event and the product row it is about (before for deletes).</summary>
    private sealed record Change(string Op, Product? Before, Product? After);

    private static readonly string[] Categories = ["books", "games", "music", "tools", "toys"];

    /// <summary>A random history of a products table and its final state.</summary>
    private static (List<Change> History, Dictionary<long, Product> Final) History(int seed, int events)
    {
        var random = new Random(seed);
        var table = new Dictionary<long, Product>();
        var history = new List<Change>();
        long nextId = 1;
        // A snapshot first, as Debezium's initial snapshot ("r").
        for (int i = 0; i < 20; i++)
        {
            var p = new Product(nextId++, Categories[random.Next(Categories.Length)], random.Next(1, 100));
            table[p.Id] = p;
            history.Add(new Change("r", null, p));
        }
        for (int i = 0; i < events; i++)
        {
            int action = random.Next(10);
            if (action < 3 || table.Count == 0)
            {
                var p = new Product(nextId++, Categories[random.Next(Categories.Length)], random.Next(1, 100));
                table[p.Id] = p;
                history.Add(new Change("c", null, p));
            }
            else if (action < 8)
            {
                var old = table.Values.ElementAt(random.Next(table.Count));
                // Some updates move a product to another category, others change the amount only.
                var updated = random.Next(3) == 0
                    ? old with { Category = Categories[random.Next(Categories.Length)] }
                    : old with { Amount = random.Next(1, 100) };
                table[old.Id] = updated;
                history.Add(new Change("u", old, updated));
            }
            else
            {
                var old = table.Values.ElementAt(random.Next(table.Count));
                table.Remove(old.Id);
                history.Add(new Change("d", old, null));
            }
        }
        return (history, table);
    }

    private static string Json(Product? p) => p is null ? "null" : JsonSerializer.Serialize(new { id = p.Id, category = p.Category, amount = p.Amount });

    private static string Event(Change c, long tsMs) =>
        $$"""{"before":{{Json(c.Before)}},"after":{{Json(c.After)}},"source":{"db":"shop","table":"products","ts_ms":{{tsMs}}},"op":"{{c.Op}}","ts_ms":{{tsMs + 5}}}""";

    /// <summary>Writes the events keyed by product id (as Debezium does), each delete followed by its tombstone.</summary>
    private static void Produce(KafkaFixture kafka, IEnumerable<Change> history)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = kafka.Cluster.Bootstrap, LingerMs = 5 }).Build();
        long ts = 1_700_000_000_000;
        foreach (var change in history)
        {
            long id = (change.After ?? change.Before)!.Id;
            var key = Encoding.UTF8.GetBytes($$"""{"id":{{id}}}""");
            producer.Produce(kafka.Topic, new Message<byte[]?, byte[]?> { Key = key, Value = Encoding.UTF8.GetBytes(Event(change, ts++)) });
            if (change.Op == "d") producer.Produce(kafka.Topic, new Message<byte[]?, byte[]?> { Key = key, Value = null });
        }
        if (producer.Flush(TimeSpan.FromSeconds(30)) != 0) throw new TimeoutException("records were not delivered");
    }

    private static string JdbcUrl()
    {
        var b = new Npgsql.NpgsqlConnectionStringBuilder(PgServer.ConnectionString);
        return $"jdbc:postgresql://{b.Host}:{b.Port}/{b.Database}?user={b.Username}&ApplicationName=eddy-test";
    }

    private static void Run(string sql)
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null, _ => null);
        foreach (var job in session.Execute(sql))
        {
            var result = job.Environment.ExecuteAsync(job.Name).GetAwaiter().GetResult();
            if (result.Failure is not null) throw result.Failure;
        }
    }

    /// <summary>The expected sink table: per category of the final state, the sum and count of amounts.</summary>
    private static List<object?[]> Expected(Dictionary<long, Product> final) =>
        [.. final.Values.GroupBy(p => p.Category).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new object?[] { g.Key, (long)g.Sum(p => p.Amount), (long)g.Count() })];

    private static string Job(KafkaFixture kafka, string sinkTable, string sourceExtra = "", string prefix = "") => $$"""
        {{prefix}}
        CREATE TABLE products (
          id BIGINT, category STRING, amount INT{{sourceExtra}}
        ) WITH (
          'connector' = 'kafka', 'topic' = '{{kafka.Topic}}', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}',
          'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset', 'format' = 'debezium-json');
        CREATE TABLE totals (category STRING, total BIGINT, products BIGINT, PRIMARY KEY (category) NOT ENFORCED) WITH (
          'connector' = 'jdbc', 'url' = '{{JdbcUrl()}}', 'table-name' = '{{sinkTable}}');
        INSERT INTO totals SELECT category, SUM(CAST(amount AS BIGINT)), COUNT(*) FROM products GROUP BY category;
        """;

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 3)]
    public void A_debezium_changelog_aggregated_and_upserted_into_postgres_equals_the_final_table(int seed, int partitions)
    {
        var (history, final) = History(seed, 400);
        using var kafka = new KafkaFixture(partitions, topic: "dbserver1.shop.products");
        Produce(kafka, history);
        string sink = PgServer.UniqueName("totals");
        PgServer.Execute($"CREATE TABLE {sink} (category varchar PRIMARY KEY, total bigint, products bigint)");
        Run(Job(kafka, sink, prefix: $"SET 'parallelism.default' = '{partitions}';"));
        var rows = PgServer.Query($"SELECT category, total, products FROM {sink} ORDER BY category COLLATE \"C\"");
        Assert.Equal(Expected(final), rows);
    }

    [Fact]
    public void Duplicated_events_are_normalized_by_the_primary_key_with_cdc_events_duplicate()
    {
        var (history, final) = History(seed: 7, events: 200);
        // Debezium delivers at least once: after a restart of its connector some events come again.
        var random = new Random(11);
        var replayed = new List<Change>();
        foreach (var change in history)
        {
            replayed.Add(change);
            if (random.Next(5) == 0) replayed.Add(change);
        }
        using var kafka = new KafkaFixture(partitions: 1, topic: "dbserver1.shop.products");
        Produce(kafka, replayed);
        string sink = PgServer.UniqueName("totals");
        PgServer.Execute($"CREATE TABLE {sink} (category varchar PRIMARY KEY, total bigint, products bigint)");
        Run(Job(kafka, sink, ", PRIMARY KEY (id) NOT ENFORCED", "SET 'table.exec.source.cdc-events-duplicate' = 'true';"));
        Assert.Equal(Expected(final), PgServer.Query($"SELECT category, total, products FROM {sink} ORDER BY category COLLATE \"C\""));

        // Without the option the duplicates are counted twice, as in Flink: the independent result differs.
        string wrong = PgServer.UniqueName("totals");
        PgServer.Execute($"CREATE TABLE {wrong} (category varchar PRIMARY KEY, total bigint, products bigint)");
        Run(Job(kafka, wrong));
        Assert.NotEqual(Expected(final), PgServer.Query($"SELECT category, total, products FROM {wrong} ORDER BY category COLLATE \"C\""));
    }
}
