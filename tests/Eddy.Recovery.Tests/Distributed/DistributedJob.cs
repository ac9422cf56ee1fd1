using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Eddy.Connectors.Kafka.Tests;
using Eddy.Connectors.Postgres.Tests;

namespace Eddy.Recovery.Tests.Distributed;

/// <summary>
/// One INSERT of a distributed test job, as a job of its own (<c>SET 'pipeline.name' = '&lt;job&gt;-&lt;Name&gt;'</c>):
/// its sink table's columns, its query, how PostgreSQL shows a row (one text per row), how many stages follow its source
/// stage (one per repartition topic), whether its table is updated by key (then it equals the oracle only once every
/// change has arrived), and which rows depend on the closing events (held back by the unbounded workers, flushed by the
/// end of a bounded <c>eddy run</c>).
/// </summary>
internal record SinkCase(string Name, string Columns, string Query, string RowText, int KeyedStages, bool UpdatedByKey = false, Func<string, bool>? Open = null)
{
    public bool HeldBack(string row) => Open?.Invoke(row) ?? false;

    /// <summary>How the workers' log lines of each of its stages start.</summary>
    public IEnumerable<string> Stages(string job) =>
        Enumerable.Range(0, KeyedStages + 1).Select(s => s == 0 ? $"job '{job}-{Name}'" : $"job '{job}-{Name}' stage {s}");
}

/// <summary>
/// What the distributed worker tests' jobs share: their Kafka source and JDBC sink options, the plan's repartition
/// topics (the dev broker creates topics only at its start), the test's events sent to chosen partitions, and the sink
/// tables read back as counted row texts and compared with an oracle.
/// </summary>
internal static class DistributedJob
{
    /// <summary>A broker address for a job text that is only planned (<c>eddy explain</c>), never run.</summary>
    public const string NoBroker = "127.0.0.1:1";

    public static string Time(DateTime t) => t.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static long Ms(DateTime t) => (long)(t - DateTime.UnixEpoch).TotalMilliseconds;

    /// <summary>A TIMESTAMP column as epoch milliseconds in a row text.</summary>
    public static string Ms(string column) => $"(extract(epoch from {column}) * 1000)::bigint";

    public static string Text(params object?[] parts) => string.Join('|', parts.Select(p => p is null ? "null" : Convert.ToString(p, CultureInfo.InvariantCulture)));

    /// <summary>
    /// A Kafka source's options but its connector and format: read from the earliest offset, to the end when
    /// <paramref name="bounded"/> (<c>eddy run</c>), and a 6 s session so that a killed worker's partitions move soon.
    /// </summary>
    public static string KafkaOptions(string bootstrap, string topic, string groupId, bool bounded) => $"""
        'topic' = '{topic}', 'properties.bootstrap.servers' = '{bootstrap}',
        'properties.group.id' = '{groupId}', 'properties.session.timeout.ms' = '6000', 'properties.heartbeat.interval.ms' = '1000',
        'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = '{(bounded ? "latest-offset" : "unbounded")}'
        """;

    /// <summary>A JDBC sink's options: the test PostgreSQL server, the table created by the sink.</summary>
    public static string JdbcOptions(string table)
    {
        var (url, user) = RecoveryHarness.JdbcUrl();
        return $"'connector' = 'jdbc', 'url' = '{url}', 'username' = '{user}', 'table-name' = '{table}', 'sink.create-table' = 'true'";
    }

    /// <summary>A sink table per case (<c>&lt;case&gt;_sink</c>), then each case's INSERT as the job <c>&lt;name&gt;-&lt;case&gt;</c>.</summary>
    public static string Inserts(string name, IEnumerable<SinkCase> cases, IReadOnlyDictionary<SinkCase, string> tables)
    {
        var sb = new StringBuilder();
        foreach (var c in cases) sb.AppendLine($"CREATE TABLE {c.Name}_sink ({c.Columns}) WITH ({JdbcOptions(tables[c])});");
        foreach (var c in cases)
        {
            sb.AppendLine($"SET 'pipeline.name' = '{name}-{c.Name}';");
            sb.AppendLine($"INSERT INTO {c.Name}_sink {c.Query};");
        }
        return sb.ToString();
    }

    public static string Write(RecoveryHarness harness, string name, string jobText)
    {
        string file = Path.Combine(harness.WorkDir, name + ".sql");
        File.WriteAllText(file, jobText);
        return file;
    }

    /// <summary>
    /// The repartition topics of <paramref name="jobText"/> (planned against <see cref="NoBroker"/>) as
    /// <c>eddy explain --distributed</c> names them, <paramref name="expected"/> of them, and the plan's text.
    /// </summary>
    public static (string[] Topics, string Plan) RepartitionTopics(string name, string jobText, int expected, string why)
    {
        string dir = Directory.CreateTempSubdirectory("eddy-explain-").FullName;
        try
        {
            string file = Path.Combine(dir, name + ".sql");
            File.WriteAllText(file, jobText);
            using var p = EddyProcess.Start("explain", file, "--distributed");
            var stdout = p.StandardOutput.ReadToEndAsync();
            string stderr = p.StandardError.ReadToEnd();
            if (!p.WaitForExit(TimeSpan.FromMinutes(2))) throw new TimeoutException("eddy explain did not finish in 2 minutes");
            Assert.True(p.ExitCode == 0, stderr + stdout.Result);
            var topics = Regex.Matches(stdout.Result, @"writes (\S+-repartition) \(").Select(m => m.Groups[1].Value).Distinct().ToArray();
            Assert.True(topics.Length == expected, $"{expected} repartition topics expected ({why}):\n" + stdout.Result);
            return (topics, stdout.Result);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Sends each message to its topic's partition (a null key: none; a null value: a tombstone), all delivered.</summary>
    public static void Send(RecoveryHarness harness, IEnumerable<(string Topic, int Partition, string? Key, string? Value)> messages)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = harness.Bootstrap, LingerMs = 5 }).Build();
        foreach (var (topic, partition, key, value) in messages)
        {
            producer.Produce(new TopicPartition(topic, partition), new Message<byte[]?, byte[]?>
            {
                Key = key is null ? null : Encoding.UTF8.GetBytes(key),
                Value = value is null ? null : Encoding.UTF8.GetBytes(value),
            });
        }
        if (producer.Flush(TimeSpan.FromSeconds(60)) != 0) throw new TimeoutException("events were not delivered");
    }

    public static long Count(string table)
    {
        try
        {
            return (long)PgServer.Query($"SELECT count(*) FROM {table}")[0][0]!;
        }
        catch (Npgsql.PostgresException e) when (e.SqlState == "42P01")
        {
            return 0; // not created yet
        }
    }

    /// <summary>The table's rows as <paramref name="rowText"/> shows them, each with how often it is there.</summary>
    public static Dictionary<string, long> Rows(string table, string rowText)
    {
        try
        {
            return Counts(PgServer.Query($"SELECT {rowText} FROM {table}").Select(r => (string)r[0]!));
        }
        catch (Npgsql.PostgresException e) when (e.SqlState == "42P01")
        {
            return []; // not created yet
        }
    }

    public static Dictionary<string, long> Counts(IEnumerable<string> rows) => rows.GroupBy(r => r).ToDictionary(g => g.Key, g => (long)g.Count());

    public static List<string> Differences(Dictionary<string, long> expected, Dictionary<string, long> actual) =>
    [
        .. expected.Where(e => actual.GetValueOrDefault(e.Key) != e.Value).Select(e => $"{e.Key}: {e.Value} expected, {actual.GetValueOrDefault(e.Key)} found"),
        .. actual.Where(a => !expected.ContainsKey(a.Key)).Select(a => $"{a.Key}: {a.Value} not expected"),
    ];

    public static void Compare(string what, Dictionary<string, long> expected, Dictionary<string, long> actual, IEnumerable<WorkerProcess> workers)
    {
        var differences = Differences(expected, actual);
        Assert.True(differences.Count == 0,
            $"{what}: {differences.Count} rows differ ({actual.Values.Sum()} rows for {expected.Values.Sum()})\n"
            + string.Join("\n", differences.Take(20)) + "\n" + string.Join("\n", workers.Select(w => w.Describe(40))));
    }
}
