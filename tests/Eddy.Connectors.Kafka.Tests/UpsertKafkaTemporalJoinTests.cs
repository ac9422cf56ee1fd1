using System.Text;
using Confluent.Kafka;
using Eddy.Sql;

namespace Eddy.Connectors.Kafka.Tests;

/// <summary>
/// An upsert-kafka topic as the versioned table of an event-time temporal join (Flink's documented example: orders
/// joined with the currency rate valid at each order's time), over the mock broker. The expected rows are computed
/// here from the messages: the version of the order's currency with the latest time at or before the order's time.
/// </summary>
public sealed class UpsertKafkaTemporalJoinTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("eddy-temporal-kafka-").FullName;

    public void Dispose()
    {
        Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    private static string Stamp(int seconds) => new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(seconds).ToString("yyyy-MM-dd HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("INNER")]
    [InlineData("LEFT")]
    public async Task Orders_join_the_rate_valid_at_their_time(string type)
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "rates");
        // (currency, rate, time in s), in time order; later messages of a key are updates (-U/+U).
        (string Currency, int Rate, int Time)[] rates = [("EUR", 114, 1), ("USD", 100, 2), ("EUR", 116, 5), ("JPY", 2, 6), ("EUR", 119, 9), ("USD", 101, 9), ("USD", 99, 12)];
        using (var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = kafka.Cluster.Bootstrap, LingerMs = 2 }).Build())
        {
            foreach (var (currency, rate, time) in rates)
                producer.Produce(new TopicPartition(kafka.Topic, 0), new Message<byte[]?, byte[]?>
                {
                    Key = Encoding.UTF8.GetBytes(currency),
                    Value = Encoding.UTF8.GetBytes($$"""{"currency":"{{currency}}","rate":{{rate}},"ts":"{{Stamp(time)}}"}"""),
                });
            if (producer.Flush(TimeSpan.FromSeconds(30)) != 0) throw new TimeoutException("records were not delivered");
        }
        (int Id, string Currency, int Time)[] orders = [(1, "EUR", 0), (2, "EUR", 1), (3, "USD", 3), (4, "EUR", 6), (5, "GBP", 7), (6, "JPY", 8), (7, "EUR", 9), (8, "USD", 10), (9, "USD", 14), (10, "EUR", 15)];
        string path = Path.Combine(dir, "orders.jsonl");
        File.WriteAllLines(path, orders.Select(o => $$"""{"id":{{o.Id}},"currency":"{{o.Currency}}","ts":"{{Stamp(o.Time)}}"}"""));

        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null, _ => null);
        foreach (var job in session.Execute($$"""
            CREATE TABLE orders (id INT, currency STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
              WITH ('connector' = 'filesystem', 'path' = '{{path}}', 'format' = 'json');
            CREATE TABLE rates (currency STRING, rate INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND,
              PRIMARY KEY (currency) NOT ENFORCED) WITH (
              'connector' = 'upsert-kafka', 'topic' = '{{kafka.Topic}}', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}',
              'key.format' = 'raw', 'value.format' = 'json', 'scan.bounded.mode' = 'latest-offset');
            CREATE TABLE out_t (id INT, currency STRING, rate INT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT o.id, o.currency, r.rate FROM orders AS o {{type}} JOIN rates FOR SYSTEM_TIME AS OF o.ts AS r ON o.currency = r.currency;
            """))
        {
            var result = await job.Environment.ExecuteAsync(job.Name);
            if (result.Failure is not null) throw result.Failure;
        }
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).Order(StringComparer.Ordinal).ToList();

        var expected = new List<string>();
        foreach (var o in orders)
        {
            var version = rates.Where(r => r.Currency == o.Currency && r.Time <= o.Time).OrderBy(r => r.Time).Select(r => (int?)r.Rate).LastOrDefault();
            if (version is { } rate) expected.Add($"+I[{o.Id}, {o.Currency}, {rate}]");
            else if (type == "LEFT") expected.Add($"+I[{o.Id}, {o.Currency}, null]");
        }
        Assert.Equal(expected.Order(StringComparer.Ordinal), lines);
    }
}
