using System.Text.RegularExpressions;
using Xunit.Abstractions;
using static Eddy.Recovery.Tests.Distributed.DistributedJob;

namespace Eddy.Recovery.Tests.Distributed;

/// <summary>
/// <c>eddy worker</c> processes reading changelog topics: a Debezium JSON topic (<c>'format' = 'debezium-json'</c>) and
/// an upsert topic (<c>'connector' = 'upsert-kafka'</c>, whose source keeps each key's last row per source partition),
/// both keyed by the row id. Five jobs, each through repartition topics that carry the changes (+I, -U, +U, -D): a
/// GROUP BY of the Debezium table, a retracting Top-N of the upsert table, an inner and a FULL OUTER join of the
/// two on a column that updates change (so a row's -U and +U go to different partitions), and the Debezium table
/// straight into a table keyed otherwise than by id, through Flink's SinkUpsertMaterializer in a stage of its own. All into upsert PostgreSQL tables,
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

    private sealed record Case(string Name, string Columns, string Query, string RowText, int KeyedStages)
        : SinkCase(Name, Columns, Query, RowText, KeyedStages, UpdatedByKey: true);

    private static readonly Case GroupBy = new("cdc_group", "grp VARCHAR, total BIGINT, cnt BIGINT, PRIMARY KEY (grp) NOT ENFORCED",
        "SELECT grp, CAST(SUM(qty) AS BIGINT), COUNT(*) FROM cdc GROUP BY grp",
        "grp || '|' || total || '|' || cnt", KeyedStages: 1);

    private static readonly Case TopN = new("upsert_topn", "grp VARCHAR, rn BIGINT, id BIGINT, qty INT, PRIMARY KEY (grp, rn) NOT ENFORCED",
        "SELECT grp, rn, id, qty FROM (SELECT grp, id, qty, ROW_NUMBER() OVER (PARTITION BY grp ORDER BY qty DESC) AS rn FROM ups) WHERE rn <= 3",
        "grp || '|' || rn || '|' || id || '|' || qty", KeyedStages: 1);

    /// <summary>
    /// The sink's key holds the join key: a pair's row in group g is made and retracted by the task owning g only, so
    /// its changes reach PostgreSQL in order. Keyed by the ids alone, a pair whose rows both move from g to h would get
    /// its -U from g's task and its +U from h's, committed in either order (as with parallel sink tasks in one process).
    /// </summary>
    private static readonly Case Join = new("changelog_join", "cid BIGINT, uid BIGINT, grp VARCHAR, cqty INT, uqty INT, PRIMARY KEY (cid, uid, grp) NOT ENFORCED",
        "SELECT c.id, u.id, c.grp, c.qty, u.qty FROM cdc c JOIN ups u ON c.grp = u.grp",
        "cid || '|' || uid || '|' || grp || '|' || cqty || '|' || uqty", KeyedStages: 2);

    /// <summary>
    /// A FULL OUTER join: a group's rows of one side without rows of the other are padded (-1 for the missing id, so
    /// that the key has no NULL), and retracted when a match arrives or they leave the group. Keyed as the inner join.
    /// </summary>
    private static readonly Case FullJoin = new("changelog_full_join", "cid BIGINT, uid BIGINT, grp VARCHAR, cqty INT, uqty INT, PRIMARY KEY (cid, uid, grp) NOT ENFORCED",
        "SELECT COALESCE(c.id, -1), COALESCE(u.id, -1), COALESCE(c.grp, u.grp), c.qty, u.qty FROM cdc c FULL JOIN ups u ON c.grp = u.grp",
        "cid || '|' || uid || '|' || grp || '|' || COALESCE(cqty::text, 'null') || '|' || COALESCE(uqty::text, 'null')", KeyedStages: 2);

    /// <summary>
    /// The Debezium table straight into a table keyed by (grp, part), not by the source's key id: several ids share a
    /// key, so AUTO adds a SinkUpsertMaterializer with no keyed operator before it, which reads a repartition topic keyed
    /// by (grp, part). part is the id's source partition (id mod 4): a key's changes all come from one source partition,
    /// in the order they were written, so which of its live rows was added last is known to the oracle.
    /// </summary>
    private static readonly Case ByGroup = new("cdc_by_group", "grp VARCHAR, part BIGINT, id BIGINT, qty INT, PRIMARY KEY (grp, part) NOT ENFORCED",
        "SELECT grp, MOD(id, 4), id, qty FROM cdc",
        "grp || '|' || part || '|' || id || '|' || qty", KeyedStages: 1);

    private static readonly Case[] Cases = [GroupBy, TopN, Join, FullJoin, ByGroup];

    [Fact]
    public void Group_by_top_n_and_inner_and_full_outer_joins_of_changelog_topics_across_two_workers_with_one_killed_and_restarted_equal_the_oracle_and_one_process()
    {
        const string name = "changelog";
        var random = new Random(1717);
        var qtys = Enumerable.Range(1, 100_000).ToArray();
        random.Shuffle(qtys);
        int nextQty = 0;
        var cdc = new Dictionary<long, Item>();
        var ups = new Dictionary<long, Item>();
        // Per (grp, part): the rows added and not retracted, in the order added (Flink's materializer state), and the
        // last change's row, null after a retraction (what the sink would hold with 'NONE': a -U or -D deletes the key).
        var materialized = new Dictionary<(string, long), List<Item>>();
        var lastChange = new Dictionary<(string, long), Item?>();
        new StagedJobScenario(log)
        {
            Name = name,
            Partitions = Partitions,
            SourceTopics = [DebeziumTopic, UpsertTopic],
            Cases = Cases,
            JobText = JobText,
            CheckPlan = plan =>
            {
                Assert.Contains("Rank(strategy=[RetractStrategy]", plan);
                // The joins' sinks get a SinkUpsertMaterializer (no upsert key of a join lies within their keys), which runs
                // in the join's stage: their keys hold the join key (grp, or COALESCE of both sides' grp).
                Assert.Equal(2, Regex.Matches(plan, @"-> Join -> (.* -> )?SinkMaterializer -> Sink: changelog_(full_)?join_sink").Count);
                // With no keyed operator before it, the materializer is a stage of its own, reading a repartition topic.
                Assert.Matches(@"Repartition reader: \S+-SinkMaterializer-repartition -> SinkMaterializer -> Sink: cdc_by_group_sink", plan);
            },
            // Chunk 0: every id inserted; chunks 1 and 2: updates (some moving the row to another group), deletes and re-inserts.
            Produce = (harness, chunk) =>
            {
                var cdcChunk = Chunk(random, cdc, qtys, ref nextQty, first: chunk == 0);
                Materialize(cdcChunk, materialized, lastChange);
                var upsChunk = Chunk(random, ups, qtys, ref nextQty, first: chunk == 0);
                Send(harness, cdcChunk, upsChunk);
            },
            // The materializer's rows differ from what the changes as they are would leave ('NONE'): keys where one row
            // was retracted while another stays alive.
            CheckOracle = (sink, expected) =>
            {
                if (sink != ByGroup) return;
                var none = Counts(lastChange.Where(k => k.Value is not null).Select(k => Text(k.Key.Item1, k.Key.Item2, k.Value!.Id, k.Value.Qty)));
                int differing = expected.Keys.Except(none.Keys).Count() + none.Keys.Except(expected.Keys).Count();
                log.WriteLine($"{ByGroup.Name}: {expected.Count} keys materialized, {none.Count} with the changes as they are ('NONE'); {differing} rows differ");
                Assert.True(differing > 0, "no key kept a live row after another's retraction: the materializer changes nothing");
            },
            // The upsert source stages of b (their per-key rows) move to a.
            CheckOrphans = orphans => Assert.True(orphans[$"job '{name}-{TopN.Name}'"].Count > 0, "worker b owned no partition of the upsert source stage when killed"),
            Oracle = sink => sink == GroupBy ? cdc.Values.GroupBy(i => i.Group).Select(g => Text(g.Key, g.Sum(i => (long)i.Qty), g.Count()))
                : sink == TopN ? ups.Values.GroupBy(i => i.Group).SelectMany(g => g.OrderByDescending(i => i.Qty).Take(3).Select((i, r) => Text(g.Key, r + 1, i.Id, i.Qty)))
                : sink == ByGroup ? materialized.Where(k => k.Value.Count > 0).Select(k => Text(k.Key.Item1, k.Key.Item2, k.Value[^1].Id, k.Value[^1].Qty))
                : sink == Join ? cdc.Values.SelectMany(c => ups.Values.Where(u => u.Group == c.Group).Select(u => Text(c.Id, u.Id, c.Group, c.Qty, u.Qty)))
                :
                [
                    .. cdc.Values.SelectMany(c => ups.Values.Any(u => u.Group == c.Group)
                        ? ups.Values.Where(u => u.Group == c.Group).Select(u => Text(c.Id, u.Id, c.Group, c.Qty, u.Qty))
                        : [Text(c.Id, -1, c.Group, c.Qty, "null")]),
                    .. ups.Values.Where(u => !cdc.Values.Any(c => c.Group == u.Group)).Select(u => Text(-1, u.Id, u.Group, "null", u.Qty)),
                ],
        }.Run();
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

    /// <summary>
    /// Flink's SinkUpsertMaterializer rule over (grp, part): a retraction (-U, -D) removes its row from the key's list, an
    /// addition (+I, +U) appends it; the sink holds the list's last row. Also notes each key's last change.
    /// </summary>
    private static void Materialize(List<Change> changes, Dictionary<(string, long), List<Item>> materialized, Dictionary<(string, long), Item?> lastChange)
    {
        static (string, long) Key(Item i) => (i.Group, i.Id % Partitions);
        foreach (var c in changes)
        {
            if (c.Before is { } before)
            {
                Assert.True(materialized[Key(before)].Remove(before));
                lastChange[Key(before)] = null;
            }
            if (c.After is { } after)
            {
                materialized.TryAdd(Key(after), []);
                materialized[Key(after)].Add(after);
                lastChange[Key(after)] = after;
            }
        }
    }

    private static string Json(Item i) => $$"""{"id":{{i.Id}},"grp":"{{i.Group}}","qty":{{i.Qty}}}""";

    /// <summary>Debezium envelopes to the Debezium topic and key/value (a tombstone for a delete) to the upsert topic, each id to partition id mod 4.</summary>
    private static void Send(RecoveryHarness harness, List<Change> cdc, List<Change> ups) => DistributedJob.Send(harness,
    [
        .. cdc.Select(c => (DebeziumTopic, (int)(c.Id % Partitions), (string?)$$"""{"id":{{c.Id}}}""",
            (string?)$$"""{"before":{{(c.Before is null ? "null" : Json(c.Before))}},"after":{{(c.After is null ? "null" : Json(c.After))}},"op":"{{(c.Before is null ? "c" : c.After is null ? "d" : "u")}}"}""")),
        .. ups.Select(c => (UpsertTopic, (int)(c.Id % Partitions), (string?)$$"""{"id":{{c.Id}}}""", c.After is null ? null : Json(c.After))),
    ]);

    private static string JobText(string name, string bootstrap, IReadOnlyDictionary<SinkCase, string> tables, bool bounded) => $"""
        SET 'execution.checkpointing.interval' = '1 s';
        CREATE TABLE cdc (id BIGINT, grp VARCHAR, qty INT, PRIMARY KEY (id) NOT ENFORCED) WITH (
            'connector' = 'kafka', {KafkaOptions(bootstrap, DebeziumTopic, $"{name}-{DebeziumTopic}", bounded)}, 'format' = 'debezium-json'
        );
        CREATE TABLE ups (id BIGINT, grp VARCHAR, qty INT, PRIMARY KEY (id) NOT ENFORCED) WITH (
            'connector' = 'upsert-kafka', {KafkaOptions(bootstrap, UpsertTopic, $"{name}-{UpsertTopic}", bounded)}, 'key.format' = 'json', 'value.format' = 'json'
        );
        {Inserts(name, Cases.Where(tables.ContainsKey), tables)}
        """;
}
