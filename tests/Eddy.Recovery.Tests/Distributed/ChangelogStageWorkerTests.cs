using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Eddy.Connectors.Kafka.Tests;
using Eddy.Connectors.Postgres.Tests;
using Xunit.Abstractions;
using static Eddy.Recovery.Tests.Distributed.KeyedStageWorkerTests;

namespace Eddy.Recovery.Tests.Distributed;

/// <summary>
/// <c>eddy worker</c> processes reading changelog topics: a Debezium JSON topic (<c>'format' = 'debezium-json'</c>) and
/// an upsert topic (<c>'connector' = 'upsert-kafka'</c>, whose source keeps each key's last row per source partition),
/// both keyed by the row id. Four jobs, each through repartition topics that carry the changes (+I, -U, +U, -D): a
/// GROUP BY of the Debezium table, a retracting Top-N of the upsert table, and an inner and a FULL OUTER join of the
/// two on a column that updates change (so a row's -U and +U go to different partitions). All into upsert PostgreSQL tables,
/// exactly-once; one worker of two is killed with SIGKILL mid-run and started again (its upsert source partitions, with
/// their per-key rows, move to the other worker and back). Expected rows: plain C# applying the changelogs, and a
/// single-process <c>eddy run</c> over the same topics. The joins' tables are written through Flink's
/// SinkUpsertMaterializer (AUTO), in the join's partition tasks.
/// </summary>
public sealed class ChangelogStageWorkerTests(ITestOutputHelper log)
{
    private const int Partitions = 4;
    private const string DebeziumTopic = "cdcitems";
    private const string UpsertTopic = "upsertitems";
    private const int Ids = 120;
    private const int Groups = 10;

    /// <summary>A row of either table: id (the primary key and the message key), group, quantity (unique over every version written).</summary>
    private sealed record Item(long Id, string Group, int Qty);

    /// <summary>One change as the test writes it: the row before (null: an insert) and after (null: a delete).</summary>
    private sealed record Change(Item? Before, Item? After)
    {
        public long Id => (After ?? Before)!.Id;
    }

    private static string Text(params object[] parts) => string.Join('|', parts.Select(p => Convert.ToString(p, CultureInfo.InvariantCulture)));

    private sealed record Case(string Name, string Columns, string Query, string RowText);

    private static readonly Case GroupBy = new("cdc_group", "grp VARCHAR, total BIGINT, cnt BIGINT, PRIMARY KEY (grp) NOT ENFORCED",
        "SELECT grp, CAST(SUM(qty) AS BIGINT), COUNT(*) FROM cdc GROUP BY grp",
        "grp || '|' || total || '|' || cnt");

    private static readonly Case TopN = new("upsert_topn", "grp VARCHAR, rn BIGINT, id BIGINT, qty INT, PRIMARY KEY (grp, rn) NOT ENFORCED",
        "SELECT grp, rn, id, qty FROM (SELECT grp, id, qty, ROW_NUMBER() OVER (PARTITION BY grp ORDER BY qty DESC) AS rn FROM ups) WHERE rn <= 3",
        "grp || '|' || rn || '|' || id || '|' || qty");

    /// <summary>
    /// The sink's key holds the join key: a pair's row in group g is made and retracted by the task owning g only, so
    /// its changes reach PostgreSQL in order. Keyed by the ids alone, a pair whose rows both move from g to h would get
    /// its -U from g's task and its +U from h's, committed in either order (as with parallel sink tasks in one process).
    /// </summary>
    private static readonly Case Join = new("changelog_join", "cid BIGINT, uid BIGINT, grp VARCHAR, cqty INT, uqty INT, PRIMARY KEY (cid, uid, grp) NOT ENFORCED",
        "SELECT c.id, u.id, c.grp, c.qty, u.qty FROM cdc c JOIN ups u ON c.grp = u.grp",
        "cid || '|' || uid || '|' || grp || '|' || cqty || '|' || uqty");

    /// <summary>
    /// A FULL OUTER join: a group's rows of one side without rows of the other are padded (-1 for the missing id, so
    /// that the key has no NULL), and retracted when a match arrives or they leave the group. Keyed as the inner join.
    /// </summary>
    private static readonly Case FullJoin = new("changelog_full_join", "cid BIGINT, uid BIGINT, grp VARCHAR, cqty INT, uqty INT, PRIMARY KEY (cid, uid, grp) NOT ENFORCED",
        "SELECT COALESCE(c.id, -1), COALESCE(u.id, -1), COALESCE(c.grp, u.grp), c.qty, u.qty FROM cdc c FULL JOIN ups u ON c.grp = u.grp",
        "cid || '|' || uid || '|' || grp || '|' || COALESCE(cqty::text, 'null') || '|' || COALESCE(uqty::text, 'null')");

    private static readonly Case[] Cases = [GroupBy, TopN, Join, FullJoin];

    [Fact]
    public void Group_by_top_n_and_inner_and_full_outer_joins_of_changelog_topics_across_two_workers_with_one_killed_and_restarted_equal_the_oracle_and_one_process()
    {
        const string name = "changelog";
        var tables = Cases.ToDictionary(c => c, c => PgServer.UniqueName(c.Name));
        string[] repartition = RepartitionTopics(name, tables);
        using var harness = new RecoveryHarness(log, Partitions, [DebeziumTopic, UpsertTopic, .. repartition]);
        var clock = Stopwatch.StartNew();
        string sql = WriteJob(harness, name, tables, bounded: false);
        string home = Path.Combine(harness.WorkDir, "home");
        var workers = new List<WorkerProcess>();
        string[] prefixes =
        [
            $"job '{name}-{GroupBy.Name}'", $"job '{name}-{GroupBy.Name}' stage 1",
            $"job '{name}-{TopN.Name}'", $"job '{name}-{TopN.Name}' stage 1",
            $"job '{name}-{Join.Name}'", $"job '{name}-{Join.Name}' stage 1", $"job '{name}-{Join.Name}' stage 2",
            $"job '{name}-{FullJoin.Name}'", $"job '{name}-{FullJoin.Name}' stage 1", $"job '{name}-{FullJoin.Name}' stage 2",
        ];
        var random = new Random(1717);
        var qtys = Enumerable.Range(1, 100_000).ToArray();
        random.Shuffle(qtys);
        int nextQty = 0;
        var cdc = new Dictionary<long, Item>();
        var ups = new Dictionary<long, Item>();
        try
        {
            // Chunk 0: every id inserted; chunks 1 and 2: updates (some moving the row to another group), deletes and re-inserts.
            Send(harness, Chunk(random, cdc, qtys, ref nextQty, first: true), Chunk(random, ups, qtys, ref nextQty, first: true));
            workers.AddRange(new[] { "a", "b" }.Select(n => new WorkerProcess(n, sql, home, clock)));
            WaitFor(log, () => workers.All(w => prefixes.All(p => w.Said($"{p}: assigned partitions") is not null)) && tables.Values.All(t => Count(t) > 0),
                "both workers own partitions of every stage and every table has rows", workers);

            // Mid-run: the second chunk is on its way while worker b dies without a checkpoint or a goodbye.
            var cdcChunk = Chunk(random, cdc, qtys, ref nextQty, first: false);
            var upsChunk = Chunk(random, ups, qtys, ref nextQty, first: false);
            Exception? produceFailure = null;
            var producing = new Thread(() =>
            {
                try
                {
                    Send(harness, cdcChunk, upsChunk);
                }
                catch (Exception e) when (e is InvalidOperationException or TimeoutException or KafkaException)
                {
                    produceFailure = e;
                }
            });
            producing.Start();
            var killedAt = clock.Elapsed;
            workers[1].KillHard();
            var orphans = prefixes.ToDictionary(p => p, p => OwnedAt(workers[1], p, killedAt));
            log.WriteLine($"[{killedAt.TotalSeconds:F2} s] worker b killed (SIGKILL) owning " + string.Join("; ", orphans.Select(o => $"{o.Key}: {string.Join(",", o.Value)}")));
            // The upsert source stages of b (their per-key rows) move to a.
            Assert.True(orphans[$"job '{name}-{TopN.Name}'"].Count > 0, "worker b owned no partition of the upsert source stage when killed");
            producing.Join();
            if (produceFailure is not null) throw produceFailure;
            WaitFor(log, () => orphans.All(o => o.Value.All(p => workers[0].Said($"{o.Key}: partition {p}: started ", killedAt) is not null)),
                "worker a takes over every partition of b in every stage", workers);

            workers[1].Dispose();
            workers[1] = new WorkerProcess("b", sql, home, clock);
            WaitFor(log, () => prefixes.All(p => workers[1].Said($"{p}: assigned partitions") is not null), "the restarted worker b owns partitions of every stage", workers);
            Send(harness, Chunk(random, cdc, qtys, ref nextQty, first: false), Chunk(random, ups, qtys, ref nextQty, first: false));

            var expected = new Dictionary<Case, Dictionary<string, long>>
            {
                [GroupBy] = Counts(cdc.Values.GroupBy(i => i.Group).Select(g => Text(g.Key, g.Sum(i => (long)i.Qty), g.Count()))),
                [TopN] = Counts(ups.Values.GroupBy(i => i.Group).SelectMany(g => g.OrderByDescending(i => i.Qty).Take(3).Select((i, r) => Text(g.Key, r + 1, i.Id, i.Qty)))),
                [Join] = Counts(cdc.Values.SelectMany(c => ups.Values.Where(u => u.Group == c.Group).Select(u => Text(c.Id, u.Id, c.Group, c.Qty, u.Qty)))),
                [FullJoin] = Counts(
                [
                    .. cdc.Values.SelectMany(c => ups.Values.Any(u => u.Group == c.Group)
                        ? ups.Values.Where(u => u.Group == c.Group).Select(u => Text(c.Id, u.Id, c.Group, c.Qty, u.Qty))
                        : [Text(c.Id, -1, c.Group, c.Qty, "null")]),
                    .. ups.Values.Where(u => !cdc.Values.Any(c => c.Group == u.Group)).Select(u => Text(-1, u.Id, u.Group, "null", u.Qty)),
                ]),
            };
            foreach (var c in Cases) Assert.True(expected[c].Count > 0, $"{c.Name}: the oracle has no rows");
            // Upsert tables equal the oracle only once every change has arrived: wait for that (bounded), then compare.
            var waited = Stopwatch.StartNew();
            while (!Cases.All(c => Differences(expected[c], Rows(c, tables[c])).Count == 0) && waited.Elapsed < TimeSpan.FromMinutes(3))
            {
                var dead = workers.FirstOrDefault(w => w.HasExited && !w.Ended);
                Assert.True(dead is null, $"worker {dead?.Name} exited on its own\n{dead?.Describe(60)}");
                Thread.Sleep(500);
            }
            log.WriteLine($"every table equals the oracle (or the wait ended): after {waited.Elapsed.TotalSeconds:F1} s");
            foreach (var w in workers) Assert.True(w.Stop(TimeSpan.FromMinutes(2)) == 0, "a worker did not stop cleanly:\n" + w.Describe());
            var distributed = Cases.ToDictionary(c => c, c => Rows(c, tables[c]));

            // The same from one process: eddy run over the same topics, to their end.
            var single = Cases.ToDictionary(c => c, c => PgServer.UniqueName(c.Name + "_single"));
            var run = harness.Run(WriteJob(harness, name + "_single", single, bounded: true), KillPlan.None, TimeSpan.FromMinutes(3));
            Assert.True(run.ExitCode == 0, run.Output);
            var singleRows = Cases.ToDictionary(c => c, c => Rows(c, single[c]));
            var report = Cases.SelectMany(c => new[]
            {
                (What: $"{c.Name} ({tables[c]}) against the oracle", Differences: Differences(expected[c], distributed[c])),
                (What: $"{c.Name}: eddy run ({single[c]}) against the oracle", Differences: Differences(expected[c], singleRows[c])),
            }).Where(r => r.Differences.Count > 0).ToList();
            Assert.True(report.Count == 0, string.Join("\n", report.Select(r => $"{r.What}: {r.Differences.Count} rows differ\n  " + string.Join("\n  ", r.Differences.Take(15))))
                + "\n" + string.Join("\n", workers.Select(w => w.Describe(40))));
            foreach (var c in Cases) Compare($"{c.Name}: eddy run ({single[c]}) against the workers", distributed[c], singleRows[c], workers);
        }
        finally
        {
            foreach (var w in workers) w.Dispose();
            foreach (var w in workers) log.WriteLine(w.Describe(60));
        }
    }

    /// <summary>
    /// The changes of one chunk, applied to <paramref name="table"/> (the oracle's state): the first inserts every id;
    /// the others update about half the live rows (a third of those move to another group), delete a tenth and insert
    /// back about half the deleted ids. Every version gets a quantity of its own, so every ranking is total.
    /// </summary>
    private static List<Change> Chunk(Random random, Dictionary<long, Item> table, int[] qtys, ref int nextQty, bool first)
    {
        var changes = new List<Change>();
        string Group() => $"g{random.Next(Groups)}";
        for (long id = 0; id < Ids; id++)
        {
            table.TryGetValue(id, out var before);
            Item? after;
            if (first) after = new Item(id, Group(), qtys[nextQty++]);
            else if (before is null)
            {
                if (random.Next(2) == 0) continue;
                after = new Item(id, Group(), qtys[nextQty++]);
            }
            else
            {
                int roll = random.Next(20);
                if (roll < 2) after = null;
                else if (roll < 12) after = before with { Group = random.Next(3) == 0 ? Group() : before.Group, Qty = qtys[nextQty++] };
                else continue;
            }
            changes.Add(new Change(before, after));
            if (after is null) table.Remove(id);
            else table[id] = after;
        }
        return changes;
    }

    private static string Json(Item i) => $$"""{"id":{{i.Id}},"grp":"{{i.Group}}","qty":{{i.Qty}}}""";

    /// <summary>Debezium envelopes to the Debezium topic and key/value (a tombstone for a delete) to the upsert topic, each id to partition id mod 4.</summary>
    private static void Send(RecoveryHarness harness, List<Change> cdc, List<Change> ups)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = harness.Bootstrap, LingerMs = 5 }).Build();
        foreach (var c in cdc)
        {
            string op = c.Before is null ? "c" : c.After is null ? "d" : "u";
            string json = $$"""{"before":{{(c.Before is null ? "null" : Json(c.Before))}},"after":{{(c.After is null ? "null" : Json(c.After))}},"op":"{{op}}"}""";
            producer.Produce(new TopicPartition(DebeziumTopic, (int)(c.Id % Partitions)),
                new Message<byte[]?, byte[]?> { Key = Encoding.UTF8.GetBytes($$"""{"id":{{c.Id}}}"""), Value = Encoding.UTF8.GetBytes(json) });
        }
        foreach (var c in ups)
        {
            producer.Produce(new TopicPartition(UpsertTopic, (int)(c.Id % Partitions)), new Message<byte[]?, byte[]?>
            {
                Key = Encoding.UTF8.GetBytes($$"""{"id":{{c.Id}}}"""),
                Value = c.After is null ? null : Encoding.UTF8.GetBytes(Json(c.After)),
            });
        }
        if (producer.Flush(TimeSpan.FromSeconds(60)) != 0) throw new TimeoutException("changes were not delivered");
    }

    /// <summary>The table's rows as text, each with how often it is there.</summary>
    private static Dictionary<string, long> Rows(Case c, string table)
    {
        try
        {
            return Counts(PgServer.Query($"SELECT {c.RowText} FROM {table}").Select(r => (string)r[0]!));
        }
        catch (Npgsql.PostgresException e) when (e.SqlState == "42P01")
        {
            return []; // not created yet
        }
    }

    /// <summary>The jobs' repartition topics as <c>eddy explain --distributed</c> names them (the dev broker creates them at its start).</summary>
    private static string[] RepartitionTopics(string name, Dictionary<Case, string> tables)
    {
        string dir = Directory.CreateTempSubdirectory("eddy-explain-").FullName;
        try
        {
            string file = Path.Combine(dir, name + ".sql");
            File.WriteAllText(file, JobText(name, "127.0.0.1:1", tables, bounded: false));
            using var p = EddyProcess.Start("explain", file, "--distributed");
            var stdout = p.StandardOutput.ReadToEndAsync();
            string stderr = p.StandardError.ReadToEnd();
            if (!p.WaitForExit(TimeSpan.FromMinutes(2))) throw new TimeoutException("eddy explain did not finish in 2 minutes");
            Assert.True(p.ExitCode == 0, stderr + stdout.Result);
            var topics = Regex.Matches(stdout.Result, @"writes (\S+-repartition) \(").Select(m => m.Groups[1].Value).Distinct().ToArray();
            Assert.True(topics.Length == 6, "a repartition topic for the GROUP BY and the Top-N, two for each join:\n" + stdout.Result);
            Assert.Contains("Rank(strategy=[RetractStrategy]", stdout.Result);
            // The joins' sinks get a SinkUpsertMaterializer (no upsert key of a join lies within their keys), which runs
            // in the join's stage: their keys hold the join key (grp, or COALESCE of both sides' grp).
            Assert.Equal(2, Regex.Matches(stdout.Result, @"-> Join -> (.* -> )?SinkMaterializer -> Sink: changelog_(full_)?join_sink").Count);
            return topics;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string WriteJob(RecoveryHarness harness, string name, Dictionary<Case, string> tables, bool bounded)
    {
        string file = Path.Combine(harness.WorkDir, name + ".sql");
        File.WriteAllText(file, JobText(name, harness.Bootstrap, tables, bounded));
        return file;
    }

    private static string JobText(string name, string bootstrap, Dictionary<Case, string> tables, bool bounded)
    {
        var (url, user) = RecoveryHarness.JdbcUrl();
        string common(string topic) => $"""
            'topic' = '{topic}', 'properties.bootstrap.servers' = '{bootstrap}',
            'properties.group.id' = '{name}-{topic}', 'properties.session.timeout.ms' = '6000', 'properties.heartbeat.interval.ms' = '1000',
            'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = '{(bounded ? "latest-offset" : "unbounded")}'
            """;
        var sb = new StringBuilder();
        sb.AppendLine($"""
            SET 'execution.checkpointing.interval' = '1 s';
            CREATE TABLE cdc (id BIGINT, grp VARCHAR, qty INT, PRIMARY KEY (id) NOT ENFORCED) WITH (
                'connector' = 'kafka', {common(DebeziumTopic)}, 'format' = 'debezium-json'
            );
            CREATE TABLE ups (id BIGINT, grp VARCHAR, qty INT, PRIMARY KEY (id) NOT ENFORCED) WITH (
                'connector' = 'upsert-kafka', {common(UpsertTopic)}, 'key.format' = 'json', 'value.format' = 'json'
            );
            """);
        foreach (var c in Cases)
        {
            sb.AppendLine($"""
                CREATE TABLE {c.Name}_sink ({c.Columns}) WITH (
                    'connector' = 'jdbc', 'url' = '{url}', 'username' = '{user}', 'table-name' = '{tables[c]}', 'sink.create-table' = 'true'
                );
                """);
        }
        foreach (var c in Cases)
        {
            sb.AppendLine($"SET 'pipeline.name' = '{name}-{c.Name}';");
            sb.AppendLine($"INSERT INTO {c.Name}_sink {c.Query};");
        }
        return sb.ToString();
    }
}
