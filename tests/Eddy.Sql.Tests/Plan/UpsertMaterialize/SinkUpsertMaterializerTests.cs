using Eddy.Runtime;
using Eddy.Sql.Parsing;
using Eddy.Sql.Plan.UpsertMaterialize;
using Eddy.Testing;

namespace Eddy.Sql.Tests.Plan.UpsertMaterialize;

/// <summary>
/// Flink's SinkUpsertMaterializer and <c>table.exec.sink.upsert-materialize</c>. Expected changelogs are worked by hand
/// or computed by <see cref="FlinkRule"/>, plain C# applying the rule of Flink's operator to a list per key: +I/+U
/// replace the first row of equal upsert key (or, without one, are appended), emitted as +I when the key had no row,
/// else +U; -U/-D remove the first equal row, then -D when none is left, +U of the new last row when the last was
/// removed, nothing otherwise (nothing at all when no row is equal).
/// </summary>
public class SinkUpsertMaterializerTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("eddy-sumat-").FullName;

    public void Dispose()
    {
        Directory.Delete(folder, recursive: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>A row of an order (<see cref="Id"/>, the sink's key) joined with a payment (<see cref="Pay"/>, <see cref="Amount"/>).</summary>
    public struct Rec
    {
        public string Id;
        public string? Pay;
        public int Amount;

        public override readonly string ToString() => $"[{Id},{Pay ?? "null"},{Amount}]";
    }

    private static Rec R(string id, string? pay, int amount = 0) => new() { Id = id, Pay = pay, Amount = amount };

    private static readonly Func<Rec, Rec, bool> WholeRow = (a, b) => a.Id == b.Id && a.Pay == b.Pay && a.Amount == b.Amount;

    // The upsert key (Id, Pay): rows of one payment compare equal whatever their amount.
    private static readonly Func<Rec, Rec, bool> ByPayment = (a, b) => a.Id == b.Id && a.Pay == b.Pay;

    private static KeyedProcessOperator<string, Rec, Rec> Operator(bool upsertKey, long ttlMs = 0) =>
        new(r => r.Id, new SinkUpsertMaterializer<Rec, string>(upsertKey ? ByPayment : WholeRow, upsertKey, ttlMs));

    private static List<string> Push(OperatorHarness<Rec, Rec> h, params (RowKind Kind, Rec Row)[] rows)
    {
        h.Output.Clear();
        h.Elements(rows.Select(r => (r.Row, 0L, r.Kind)));
        return h.Output.Records.Select(e => e.Kind.ShortString() + e.Value).ToList();
    }

    /// <summary>Flink's rule, applied independently of the operator: the rows alive per key, in order.</summary>
    private sealed class FlinkRule(Func<Rec, Rec, bool> same, bool upsertKey)
    {
        private readonly Dictionary<string, List<Rec>> alive = [];

        public IEnumerable<string> Apply(RowKind kind, Rec row)
        {
            if (!alive.TryGetValue(row.Id, out var rows)) alive[row.Id] = rows = [];
            int at = rows.FindIndex(r => same(row, r));
            if (kind is RowKind.Insert or RowKind.UpdateAfter)
            {
                string emitted = (rows.Count == 0 ? "+I" : "+U") + row;
                if (upsertKey && at >= 0) rows[at] = row;
                else rows.Add(row);
                return [emitted];
            }
            if (at < 0) return [];
            bool wasLast = at == rows.Count - 1;
            rows.RemoveAt(at);
            if (rows.Count == 0) return ["-D" + row];
            return wasLast ? ["+U" + rows[^1]] : [];
        }
    }

    [Fact]
    public void Left_join_retraction_of_one_payment_keeps_the_order_s_other_row()
    {
        // orders LEFT JOIN payments written by order id: the join's rows for order 1 are its padded row, then one per payment.
        var h = new OperatorHarness<Rec, Rec>(Operator(upsertKey: false));
        Assert.Equal(["+I[1,null,0]"], Push(h, (RowKind.Insert, R("1", null))));
        // Payment p1 arrives: the join retracts the padded row and adds the matched one.
        Assert.Equal(["-D[1,null,0]", "+I[1,p1,10]"], Push(h, (RowKind.Delete, R("1", null)), (RowKind.Insert, R("1", "p1", 10))));
        Assert.Equal(["+U[1,p2,20]"], Push(h, (RowKind.Insert, R("1", "p2", 20))));
        // p1 is withdrawn: without a materializer the sink would delete order 1; its row of p2 is still alive.
        Assert.Empty(Push(h, (RowKind.Delete, R("1", "p1", 10))));
        Assert.Equal(["+U[1,p3,30]"], Push(h, (RowKind.Insert, R("1", "p3", 30))));
        // The last row withdrawn: the one before it is restored.
        Assert.Equal(["+U[1,p2,20]"], Push(h, (RowKind.Delete, R("1", "p3", 30))));
        // A retraction of a row not alive (its state expired, or never seen) changes nothing.
        Assert.Empty(Push(h, (RowKind.Delete, R("1", "p9", 90))));
        // The last payment withdrawn with no padded row re-added: the order's row is deleted.
        Assert.Equal(["-D[1,p2,20]"], Push(h, (RowKind.UpdateBefore, R("1", "p2", 20))));
    }

    [Fact]
    public void With_an_upsert_key_a_row_replaces_the_alive_row_of_its_key()
    {
        var h = new OperatorHarness<Rec, Rec>(Operator(upsertKey: true));
        Assert.Equal(["+I[1,p1,10]", "+U[1,p2,20]"], Push(h, (RowKind.Insert, R("1", "p1", 10)), (RowKind.Insert, R("1", "p2", 20))));
        // p1's amount changes (-U/+U of its upsert key): the -U removes p1 (not last: nothing), the +U appends it last.
        Assert.Equal(["+U[1,p1,15]"], Push(h, (RowKind.UpdateBefore, R("1", "p1", 10)), (RowKind.UpdateAfter, R("1", "p1", 15))));
        // A +U without its -U replaces p1 in place (still last).
        Assert.Equal(["+U[1,p1,16]"], Push(h, (RowKind.UpdateAfter, R("1", "p1", 16))));
        // Retractions compare by the upsert key: another amount still finds p2 (first, not last: nothing emitted).
        Assert.Empty(Push(h, (RowKind.Delete, R("1", "p2", 99))));
        // The key's last row goes: Flink emits the retraction it was given, as -D.
        Assert.Equal(["-D[1,p1,0]"], Push(h, (RowKind.Delete, R("1", "p1", 0))));
    }

    /// <summary>Random changelogs over few keys and rows (retractions of rows alive and not), against <see cref="FlinkRule"/>.</summary>
    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 2)]
    [InlineData(true, 3)]
    [InlineData(true, 4)]
    public void Random_changelogs_follow_flink_s_rule(bool upsertKey, int seed)
    {
        var random = new Random(seed);
        var input = RandomChangelog(random, 600);
        var rule = new FlinkRule(upsertKey ? ByPayment : WholeRow, upsertKey);
        var expected = input.SelectMany(c => rule.Apply(c.Kind, c.Row)).ToList();
        var h = new OperatorHarness<Rec, Rec>(Operator(upsertKey));
        Assert.Equal(expected, Push(h, input.ToArray()));
    }

    private static List<(RowKind Kind, Rec Row)> RandomChangelog(Random random, int count)
    {
        var alive = new List<Rec>();
        var changes = new List<(RowKind, Rec)>();
        for (int i = 0; i < count; i++)
        {
            var row = R(random.Next(4).ToString(System.Globalization.CultureInfo.InvariantCulture), random.Next(3) == 0 ? null : $"p{random.Next(3)}", random.Next(3));
            int dice = random.Next(10);
            if (dice < 5 || alive.Count == 0)
            {
                changes.Add((dice % 2 == 0 ? RowKind.Insert : RowKind.UpdateAfter, row));
                alive.Add(row);
            }
            else if (dice < 9)
            {
                var gone = alive[random.Next(alive.Count)];
                alive.Remove(gone);
                changes.Add((dice % 2 == 0 ? RowKind.Delete : RowKind.UpdateBefore, gone));
            }
            else changes.Add((RowKind.Delete, row));
        }
        return changes;
    }

    [Fact]
    public void State_ttl_forgets_a_key_s_rows_once_not_written_for_the_ttl()
    {
        var h = new OperatorHarness<Rec, Rec>(Operator(upsertKey: false, ttlMs: 10_000));
        Assert.Equal(["+I[1,p1,10]", "+U[1,p2,20]"], Push(h, (RowKind.Insert, R("1", "p1", 10)), (RowKind.Insert, R("1", "p2", 20))));
        h.AdvanceProcessingTime(TimeSpan.FromSeconds(6));
        // A retraction that finds its row writes the list (alive until 16 s).
        Assert.Empty(Push(h, (RowKind.Delete, R("1", "p1", 10))));
        h.AdvanceProcessingTime(TimeSpan.FromMilliseconds(9_999));
        Assert.Equal(["+U[1,p3,30]"], Push(h, (RowKind.Insert, R("1", "p3", 30))));
        // Written at 15.999 s: gone at 25.999 s. The retraction finds nothing (Flink logs it), a new row is a first row again.
        h.AdvanceProcessingTime(TimeSpan.FromSeconds(10));
        Assert.Empty(Push(h, (RowKind.Delete, R("1", "p3", 30))));
        Assert.Equal(["+I[1,p4,40]"], Push(h, (RowKind.Insert, R("1", "p4", 40))));
    }

    [Fact]
    public void Restored_from_a_checkpoint_on_two_subtasks_it_goes_on_as_one_would()
    {
        var input = RandomChangelog(new Random(7), 400);
        var rule = new FlinkRule(WholeRow, upsertKey: false);
        var expected = input.SelectMany(c => rule.Apply(c.Kind, c.Row).Select(line => (Key: c.Row.Id, Line: line))).ToList();

        var before = new OperatorHarness<Rec, Rec>(Operator(upsertKey: false), checkpointing: true);
        var first = Push(before, input.Take(200).ToArray());
        var snapshot = before.Snapshot();
        // Rescaled to two subtasks: each takes the key groups of its range and the rows of its keys.
        var subtasks = Enumerable.Range(0, 2).Select(i => OperatorHarness<Rec, Rec>.Restored(Operator(upsertKey: false), [snapshot], subtask: i, parallelism: 2)).ToList();
        int SubtaskOf(string id) => KeyGroups.SubtaskFor(KeyGroups.ForKey(id, KeyGroups.DefaultMaxParallelism), KeyGroups.DefaultMaxParallelism, 2);
        var after = new List<(string Key, string Line)>();
        foreach (var change in input.Skip(200))
            after.AddRange(Push(subtasks[SubtaskOf(change.Row.Id)], change).Select(line => (change.Row.Id, line)));

        Assert.Equal(expected.Take(first.Count).Select(e => e.Line), first);
        // Per key the order is the one order of its changes.
        foreach (var key in expected.Select(e => e.Key).Distinct())
            Assert.Equal(expected.Skip(first.Count).Where(e => e.Key == key).Select(e => e.Line), after.Where(e => e.Key == key).Select(e => e.Line));
        Assert.Equal(expected.Count - first.Count, after.Count);
    }

    // ---- SQL: the option and the planner's decision ------------------------------------------------------------

    private static readonly (string K, string V)[] Rows =
        [("a", "x"), ("a", "y"), ("a", "x"), ("b", "x"), ("a", "y"), ("b", "z"), ("a", "x"), ("b", "x")];

    private string Input()
    {
        string path = Path.Combine(folder, "t.jsonl");
        File.WriteAllLines(path, Rows.Select(r => $$"""{"k":"{{r.K}}","v":"{{r.V}}"}"""));
        return $"""
            SET 'parallelism.default' = '1';
            CREATE TABLE t (k STRING, v STRING) WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json');

            """;
    }

    /// <summary>The changelog of <c>SELECT k, v, COUNT(*) GROUP BY k, v</c> (or by k alone) over <see cref="Rows"/>, as Flink's GroupAggFunction emits it.</summary>
    private static List<(RowKind Kind, string K, string V, long C)> GroupCounts(bool byKOnly)
    {
        var counts = new Dictionary<(string, string), long>();
        var changes = new List<(RowKind, string, string, long)>();
        foreach (var (k, v0) in Rows)
        {
            string v = byKOnly ? "" : v0;
            counts.TryGetValue((k, v), out long c);
            if (c > 0) changes.Add((RowKind.UpdateBefore, k, v, c));
            changes.Add((c == 0 ? RowKind.Insert : RowKind.UpdateAfter, k, v, c + 1));
            counts[(k, v)] = c + 1;
        }
        return changes;
    }

    private static string Line(RowKind kind, string k, string v, long c) => $"{kind.ShortString()}[{k}, {v}, {c}]";

    private static string Line(RowKind kind, string k, long c) => $"{kind.ShortString()}[{k}, {c}]";

    [Fact]
    public void Auto_materializes_a_group_by_whose_key_is_not_within_the_sink_s_key()
    {
        // GROUP BY k, v has the upsert key (k, v), not within the primary key (k): Flink materializes, comparing rows by (k, v).
        var sql = Input() + """
            CREATE TABLE o (k STRING, v STRING, c BIGINT, PRIMARY KEY (k) NOT ENFORCED) WITH ('connector' = 'print');
            INSERT INTO o SELECT k, v, COUNT(*) FROM t GROUP BY k, v;
            """;
        var alive = new Dictionary<string, List<(string V, long C)>>();
        var expected = new List<string>();
        foreach (var (kind, k, v, c) in GroupCounts(byKOnly: false))
        {
            // Flink's rule with the upsert key (k, v), worked here over (v, count) per k.
            if (!alive.TryGetValue(k, out var rows)) alive[k] = rows = [];
            int at = rows.FindIndex(r => r.V == v);
            if (kind.IsAccumulate())
            {
                expected.Add(Line(rows.Count == 0 ? RowKind.Insert : RowKind.UpdateAfter, k, v, c));
                if (at >= 0) rows[at] = (v, c);
                else rows.Add((v, c));
                continue;
            }
            if (at < 0) continue;
            bool last = at == rows.Count - 1;
            rows.RemoveAt(at);
            if (rows.Count == 0) expected.Add(Line(RowKind.Delete, k, v, c));
            else if (last) expected.Add(Line(RowKind.UpdateAfter, k, rows[^1].V, rows[^1].C));
        }
        Assert.Equal(expected, SessionTests.Run(sql));
        var plan = Explain(sql);
        Assert.Contains("upsertMaterialize=[true], upsertMaterializeKey=[k], inputUpsertKey=[k, v]", plan);
    }

    [Theory]
    [InlineData("")]
    [InlineData("SET 'table.exec.sink.upsert-materialize' = 'NONE';")]
    public void Auto_leaves_a_group_by_on_the_sink_s_key_alone_and_none_never_materializes(string option)
    {
        // GROUP BY k into the primary key (k): the upsert key lies within it (AUTO); NONE never materializes. The
        // aggregation's changelog reaches the sink as it is.
        var lines = SessionTests.Run(Input() + option + """
            CREATE TABLE o (k STRING, c BIGINT, PRIMARY KEY (k) NOT ENFORCED) WITH ('connector' = 'print');
            INSERT INTO o SELECT k, COUNT(*) FROM t GROUP BY k;
            """);
        Assert.Equal(GroupCounts(byKOnly: true).Select(c => Line(c.Kind, c.K, c.C)), lines);
        var none = SessionTests.Run(Input() + "SET 'table.exec.sink.upsert-materialize' = 'NONE';" + """
            CREATE TABLE o (k STRING, v STRING, c BIGINT, PRIMARY KEY (k) NOT ENFORCED) WITH ('connector' = 'print');
            INSERT INTO o SELECT k, v, COUNT(*) FROM t GROUP BY k, v;
            """);
        Assert.Equal(GroupCounts(byKOnly: false).Select(c => Line(c.Kind, c.K, c.V, c.C)), none);
    }

    [Fact]
    public void Force_materializes_even_a_group_by_on_the_sink_s_key()
    {
        // The upsert key (k) is the primary key: each -U finds the key's one row and empties the list (-D), the +U
        // after it is a first row again (+I), as Flink's operator does under FORCE.
        var lines = SessionTests.Run(Input() + """
            SET 'table.exec.sink.upsert-materialize' = 'FORCE';
            CREATE TABLE o (k STRING, c BIGINT, PRIMARY KEY (k) NOT ENFORCED) WITH ('connector' = 'print');
            INSERT INTO o SELECT k, COUNT(*) FROM t GROUP BY k;
            """);
        var expected = GroupCounts(byKOnly: true).Select(c => Line(c.Kind == RowKind.UpdateBefore ? RowKind.Delete : RowKind.Insert, c.K, c.C));
        Assert.Equal(expected, lines);
    }

    [Fact]
    public void Force_leaves_an_append_only_input_alone()
    {
        // Flink's CommonExecSink materializes only an input with changes.
        var sql = Input() + """
            SET 'table.exec.sink.upsert-materialize' = 'FORCE';
            CREATE TABLE o (k STRING, v STRING, PRIMARY KEY (k) NOT ENFORCED) WITH ('connector' = 'print');
            INSERT INTO o SELECT k, v FROM t;
            """;
        Assert.DoesNotContain("upsertMaterialize", Explain(sql));
        Assert.Equal(Rows.Select(r => $"+I[{r.K}, {r.V}]"), SessionTests.Run(sql));
    }

    [Fact]
    public void Left_join_into_a_key_that_is_not_the_join_s_is_materialized()
    {
        // Neither side has a key, so the join has no upsert key and AUTO materializes by the sink's key (order id).
        string orders = Path.Combine(folder, "orders.jsonl"), payments = Path.Combine(folder, "payments.jsonl");
        (string Id, string Order)[] orderRows = [("o1", "1"), ("o2", "2"), ("o3", "3"), ("o1b", "1")];
        (string Order, int Amount)[] paymentRows = [("1", 10), ("1", 20), ("2", 5), ("4", 7)];
        File.WriteAllLines(orders, orderRows.Select(o => $$"""{"id":"{{o.Id}}","order_id":"{{o.Order}}"}"""));
        File.WriteAllLines(payments, paymentRows.Select(p => $$"""{"order_id":"{{p.Order}}","amount":{{p.Amount}}}"""));
        var sql = $"""
            SET 'parallelism.default' = '2';
            CREATE TABLE orders (id STRING, order_id STRING) WITH ('connector' = 'filesystem', 'path' = '{orders}', 'format' = 'json');
            CREATE TABLE payments (order_id STRING, amount INT) WITH ('connector' = 'filesystem', 'path' = '{payments}', 'format' = 'json');
            CREATE TABLE o (order_id STRING, id STRING, amount INT, PRIMARY KEY (order_id) NOT ENFORCED) WITH ('connector' = 'print');
            INSERT INTO o SELECT o.order_id, o.id, p.amount FROM orders o LEFT JOIN payments p ON o.order_id = p.order_id;
            """;
        Assert.Contains("upsertMaterialize=[true], upsertMaterializeKey=[order_id])", Explain(sql));
        var lines = SessionTests.Run(sql).Select(l => l.Split("> ")[^1]).ToList();
        Assert.DoesNotContain(lines, l => l.StartsWith("-U", StringComparison.Ordinal));
        // The batch LEFT join, computed here: the rows alive per order id at the end.
        var joined = orderRows.SelectMany(o =>
        {
            var m = paymentRows.Where(p => p.Order == o.Order).Select(p => $"{o.Order}, {o.Id}, {p.Amount}").ToList();
            return m.Count > 0 ? m : [$"{o.Order}, {o.Id}, null"];
        }).GroupBy(r => r.Split(", ")[0]).ToDictionary(g => g.Key, g => g.ToList());
        // Applied as an upsert sink applies it, the output holds per key one row alive in the join; whichever arrived
        // last depends on the order the sides' rows met, so only membership is checked. No key is ever left deleted.
        var table = new Dictionary<string, string>();
        foreach (var line in lines)
        {
            string row = line[3..^1], key = row.Split(", ")[0];
            // An upsert stream: +I of a key not there, +U and -D of a key there (the join's own changelog, without the
            // materializer, inserts order 1 twice: its rows of o1 and o1b).
            Assert.Equal(line.StartsWith("+I", StringComparison.Ordinal), !table.ContainsKey(key));
            if (line.StartsWith("-D", StringComparison.Ordinal)) table.Remove(key);
            else table[key] = row;
        }
        Assert.Equal(joined.Keys.Order(), table.Keys.Order());
        foreach (var (key, row) in table) Assert.Contains(row, joined[key]);
        Assert.DoesNotContain(lines, l => l.StartsWith("-D", StringComparison.Ordinal) && !l.Contains("null", StringComparison.Ordinal));
    }

    [Theory]
    // Flink's getUpsertKeysOnOver keeps the input's keys that hold the PARTITION BY columns. Partitioned by the scan's
    // key k, the OVER keeps {k}; the LEFT join keeps the left's keys as the right is unique on its join column (its
    // key), so {k} lies within the sink's key: no materializer. Partitioned by v, the OVER has no key left, nor has the
    // join: AUTO materializes.
    [InlineData("k", false)]
    [InlineData("v", true)]
    public void Auto_follows_an_over_window_s_upsert_keys_through_its_partition_columns(string partitionBy, bool materialized)
    {
        var sql = $"""
            CREATE TABLE ev (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts, PRIMARY KEY (k) NOT ENFORCED) WITH ('connector' = 'datagen', 'number-of-rows' = '1');
            CREATE TABLE dim (k STRING, w INT, PRIMARY KEY (k) NOT ENFORCED) WITH ('connector' = 'datagen', 'number-of-rows' = '1');
            CREATE TABLE o (k STRING, s INT, w INT, PRIMARY KEY (k) NOT ENFORCED) WITH ('connector' = 'blackhole');
            INSERT INTO o SELECT e.k, e.s, d.w
            FROM (SELECT k, SUM(v) OVER (PARTITION BY {partitionBy} ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS s FROM ev) e
            LEFT JOIN dim d ON e.k = d.k;
            """;
        var plan = Explain(sql);
        Assert.Contains("OverAggregate(", plan, StringComparison.Ordinal);
        if (materialized) Assert.Contains("upsertMaterialize=[true], upsertMaterializeKey=[k])", plan, StringComparison.Ordinal);
        else Assert.DoesNotContain("upsertMaterialize", plan, StringComparison.Ordinal);
    }

    [Theory]
    // Flink's getRankUniqueKeys: only a deduplication (rank 1 ordered by one time attribute, the number not read) is
    // keyed by its partition columns; a Top-1 ordered by another column has the input's keys that hold them (none
    // here); a ROW_NUMBER whose number is read is keyed by the partition columns with it.
    [InlineData("ts DESC", "k STRING, v INT", "k, v", "rn = 1", "k", false)]
    [InlineData("v DESC", "k STRING, v INT", "k, v", "rn = 1", "k", true)]
    [InlineData("v DESC", "k STRING, rn BIGINT, v INT", "k, rn, v", "rn <= 2", "k, rn", false)]
    public void Auto_follows_a_top_n_s_upsert_keys_as_flink_derives_them(string order, string columns, string select, string filter, string key, bool materialized)
    {
        var sql = $"""
            CREATE TABLE ev (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ('connector' = 'datagen', 'number-of-rows' = '1');
            CREATE TABLE o ({columns}, PRIMARY KEY ({key}) NOT ENFORCED) WITH ('connector' = 'blackhole');
            INSERT INTO o SELECT {select} FROM (SELECT k, v, ts, ROW_NUMBER() OVER (PARTITION BY k ORDER BY {order}) AS rn FROM ev) WHERE {filter};
            """;
        var plan = Explain(sql);
        if (materialized) Assert.Contains($"upsertMaterialize=[true], upsertMaterializeKey=[{key}])", plan, StringComparison.Ordinal);
        else Assert.DoesNotContain("upsertMaterialize", plan, StringComparison.Ordinal);
    }

    [Fact]
    public void Auto_refuses_where_eddy_cannot_tell_flink_s_upsert_keys_and_names_the_option()
    {
        var e = Assert.Throws<SqlParseException>(() => SessionTests.Run("""
            CREATE TABLE ev (k STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ('connector' = 'datagen', 'number-of-rows' = '1');
            SET 'parallelism.default' = '1';
            CREATE TABLE o (k STRING, n BIGINT, PRIMARY KEY (k) NOT ENFORCED) WITH ('connector' = 'blackhole');
            INSERT INTO o SELECT k, COUNT(*) FROM ev GROUP BY ROLLUP (k);
            """));
        Assert.Contains("line 4, column 1", e.Message, StringComparison.Ordinal);
        Assert.Contains("'table.exec.sink.upsert-materialize' = 'FORCE'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'NONE'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_option_takes_none_auto_or_force()
    {
        var e = Assert.ThrowsAny<Exception>(() => SessionTests.Run("SET 'table.exec.sink.upsert-materialize' = 'SOMETIMES';"));
        Assert.Contains("NONE, AUTO or FORCE", e.Message, StringComparison.Ordinal);
        Assert.Equal(UpsertMaterializeMode.Force, UpsertMaterializer.ParseMode("force"));
    }

    private static string Explain(string sql)
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        return string.Join("\n", session.Execute(sql).Select(j => SqlSession.Describe(j)));
    }
}
