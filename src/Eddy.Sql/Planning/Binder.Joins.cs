using Eddy.Joins;
using Eddy.Sql.Codegen;
using Eddy.Sql.Parsing;
using Eddy.Sql.Plan;
using Eddy.Sql.Plan.Aggregate;
using Eddy.Sql.Plan.Calc;
using Eddy.Sql.Plan.Join;

namespace Eddy.Sql.Planning;

public sealed partial class Binder
{
    /// <summary>Flink's <c>table.exec.state.ttl</c> in ms (0: state is kept forever), for regular joins.</summary>
    public long StateTtlMs { get; init; }

    /// <summary>The session's <c>parallelism.default</c> (functions whose result depends on it check it).</summary>
    public int Parallelism { get; init; } = 1;

    /// <summary>
    /// A non-windowed GROUP BY expires its accumulators after <c>table.exec.state.ttl</c> as Flink's GroupAggFunction
    /// does. Flink keeps some aggregates' state in data views whose entries expire one by one (DISTINCT aggregates,
    /// MIN/MAX/LISTAGG over a changelog, user aggregates with views), and SELECT DISTINCT changes its changelog with a
    /// TTL; Eddy keeps those in one accumulator per key, so they are refused with the option set.
    /// </summary>
    private void CheckGroupStateTtl(SqlNode at, LogicalPlan input, IReadOnlyList<AggregateCall> aggregates, long? ttlMs = null)
    {
        if ((ttlMs ?? StateTtlMs) <= 0 || batchMode) return;
        const string View = "Flink keeps it in a data view whose entries expire one by one, which Eddy does not reproduce";
        (string What, string Why)? refused = aggregates.Count == 0
                ? ("a GROUP BY without aggregates (SELECT DISTINCT)", "with a TTL Flink's aggregation emits -U/+U for every repeated row, which Eddy does not reproduce")
            : aggregates.FirstOrDefault(a => a.Distinct) is { } d ? ($"a DISTINCT aggregate ({d})", View)
            : aggregates.FirstOrDefault(a => a.Kind == AggregateKind.User) is { } u ? ($"a user aggregate function ({u})", "Flink may keep it in data views whose entries expire one by one")
            : input.IsUpdating && aggregates.FirstOrDefault(a => a.Kind is AggregateKind.Min or AggregateKind.Max or AggregateKind.ListAgg
                or AggregateKind.FirstValue or AggregateKind.LastValue) is { } v ? ($"{v} over an updating input", View)
            : null;
        if (refused is { } r)
        {
            throw Error(at, $"a state TTL is set ('table.exec.state.ttl' or a STATE_TTL hint), but Eddy does not expire the state of {r.What}: "
                + $"{r.Why}; remove the TTL (or set it to 0) to keep that state");
        }
    }

    /// <summary>
    /// <c>a [INNER|LEFT|RIGHT|FULL] JOIN b ON a.k = b.k [AND ...]</c>: a regular join, or an interval join when the ON
    /// clause also bounds one side's time attribute by the other's on both ends.
    /// </summary>
    private (LogicalPlan, Scope, WindowedInput?) BindRegularJoin(JoinRef join)
    {
        if (join.Using.Count > 0) throw Error(join.Using[0], "JOIN ... USING is not supported by Eddy yet: write ON a.col = b.col");
        foreach (var side in new[] { join.Right, join.Left })
        {
            // jdbc/postgres tables are looked up, not scanned: the likely intent is a lookup join without its AS OF.
            if (side is NamedTableRef named && IsLookupTable(named))
                throw Error(named, $"'{named.Name}' is a lookup table (its connector looks rows up and cannot be scanned): join it as one: "
                    + $"JOIN {named.Name} FOR SYSTEM_TIME AS OF <probe alias>.<PROCTIME() column>{(named.Alias is null ? "" : $" AS {named.Alias.Value}")} ON ...");
        }
        if (join.Condition is null) throw Error(join, "a JOIN needs ON with an equality between the two sides");
        var type = join.Kind switch
        {
            JoinKind.Left => JoinType.Left,
            JoinKind.Right => JoinType.Right,
            JoinKind.Full => JoinType.Full,
            _ => JoinType.Inner,
        };
        var (left, leftScope) = BindJoinSide(join.Left);
        var (right, rightScope) = BindJoinSide(join.Right);
        var scope = JoinScope(leftScope, left.Schema.Count, rightScope, type);
        var condition = RequireBoolean(Bind(join.Condition, scope), join.Condition);
        var plan = MakeJoin(left, right, type, Conjuncts(condition).ToList(), join.Condition, SideName(join.Left), SideName(join.Right));
        return (plan, scope, null);
    }

    private (LogicalPlan, Scope) BindJoinSide(TableRef side)
    {
        var (plan, scope, windowed) = BindFrom(side);
        return (windowed is null ? plan : WindowedRelation(windowed, side), scope);
    }

    /// <summary>Both sides' columns; a side that can be padded with NULLs (the other side is outer) becomes nullable.</summary>
    private static Scope JoinScope(Scope leftScope, int leftCount, Scope rightScope, JoinType type)
    {
        bool leftNullable = type.IsRightOuter(), rightNullable = type.IsLeftOuter();
        var columns = leftScope.Columns.Select(c => leftNullable ? c with { Type = c.Type with { Nullable = true } } : c)
            .Concat(rightScope.Columns.Select(c => (rightNullable ? c with { Type = c.Type with { Nullable = true } } : c) with { Index = c.Index + leftCount }))
            .ToList();
        return new Scope(columns);
    }

    /// <summary>
    /// The FROM list <c>a, b [, c ...]</c> (or CROSS JOIN) with its WHERE clause: equalities of WHERE between a table and the
    /// ones before it make inner joins (left-deep, in the written order, as Flink joins them); the rest of WHERE filters
    /// the joined rows. Null when <paramref name="from"/> is no such list.
    /// </summary>
    private (LogicalPlan, Scope)? BindCommaJoin(TableRef from, Expr? where)
    {
        var leaves = new List<TableRef>();
        var at = from;
        while (at is JoinRef { Kind: JoinKind.Comma or JoinKind.Cross } j && j.Right is not TableFunctionRef { Lateral: true } && j.Right is not NamedTableRef { SystemTimeAsOf: not null }
            && j.Right is not UnnestRef)
        {
            leaves.Add(j.Right);
            at = j.Left;
        }
        if (leaves.Count == 0) return null;
        leaves.Add(at);
        leaves.Reverse();
        var sides = leaves.Select(BindJoinSide).ToList();
        var scopeColumns = new List<ScopeColumn>();
        var offsets = new List<int>();
        foreach (var (plan, scope) in sides)
        {
            offsets.Add(scopeColumns.Count);
            scopeColumns.AddRange(scope.Columns.Select(c => c with { Index = c.Index + offsets[^1] }));
        }
        var fullScope = new Scope(scopeColumns);
        if (where is null) throw Error(from, "a join needs an equality between the two sides (cross joins are not supported by Flink's streaming SQL): add WHERE a.k = b.k");
        var conjuncts = Conjuncts(RequireBoolean(Bind(where, fullScope), where)).ToList();
        var acc = sides[0].Item1;
        for (int i = 1; i < sides.Count; i++)
        {
            int end = offsets[i] + sides[i].Item1.Schema.Count;
            // The conjuncts that read only the tables joined so far, and the others, left for later joins.
            var ready = conjuncts.Where(c => ReadsBelow(c, end, scopeColumns.Count)).ToList();
            conjuncts = conjuncts.Where(c => !ready.Contains(c)).ToList();
            acc = MakeJoin(acc, sides[i].Item1, JoinType.Inner, ready, where, i == 1 ? SideName(leaves[0]) : null, SideName(leaves[i]));
        }
        LogicalPlan result = acc;
        if (conjuncts.Count > 0)
        {
            var filter = conjuncts.Aggregate((a, b) => new Binary(BinaryOp.And, a, b, DataType.Boolean));
            result = new CalcPlan(acc, acc.Schema.Columns.Select((c, i) => (BoundExpr)new InputRef(i, c.Name, c.Type)).ToList(), filter, acc.Schema, acc.Rowtime);
        }
        return (result, fullScope);
    }

    private static bool ReadsBelow(BoundExpr e, int end, int columns) =>
        !ExpressionCompiler.ReferencedColumns(columns, [e], null).Skip(end).Any(x => x);

    /// <summary>
    /// A join of <paramref name="left"/> and <paramref name="right"/> on <paramref name="conjuncts"/> (bound over the
    /// joined row): equalities between the sides become keys, two bounds between the time attributes an interval.
    /// The rest is the residual condition, evaluated on each pair of rows with equal keys.
    /// </summary>
    private LogicalPlan MakeJoin(LogicalPlan left, LogicalPlan right, JoinType type, List<BoundExpr> conjuncts, SqlNode at, string? leftName, string? rightName)
    {
        if (TryMakeWindowJoin(left, right, ToWindowJoinType(type), conjuncts, at) is { } windowJoin) return windowJoin;
        int n = left.Schema.Count, m = right.Schema.Count;
        var leftKeys = new List<BoundExpr>();
        var rightKeys = new List<BoundExpr>();
        var residual = new List<BoundExpr>();
        foreach (var c in conjuncts)
        {
            if (AsJoinKey(c, n, m, left.Schema, right.Schema) is { } key)
            {
                leftKeys.Add(key.Left);
                rightKeys.Add(key.Right);
            }
            else residual.Add(c);
        }
        if (leftKeys.Count == 0)
        {
            throw Error(at, "a join needs at least one equality between a column (or expression) of each side, e.g. ON a.id = b.id: "
                + "Flink's streaming SQL runs equi-joins only (no cross or theta joins)");
        }
        if (leftKeys.Count > 7) throw Error(at, "Eddy joins on at most 7 key equalities");
        var interval = FindInterval(left, right, residual, at);
        var output = JoinOutput(left.Schema, right.Schema, type);
        if (interval is not null && (left.IsUpdating || right.IsUpdating))
        {
            throw Error(at, "an interval join takes append-only inputs, but an input is updating (a GROUP BY without a window, an outer join, "
                + "or a changelog source such as upsert-kafka); Flink refuses this too");
        }
        if (batchMode && interval is null && (type != JoinType.Inner || left.IsUpdating || right.IsUpdating))
        {
            throw Error(at, "in batch mode an outer join (or a join of an updating input) would print its changelog, where Flink's batch join "
                + "gives final rows; Eddy does not have a batch join yet: run it in streaming mode, or use an inner join of append-only inputs");
        }
        var cond = residual.Count == 0 ? null : residual.Aggregate((a, b) => new Binary(BinaryOp.And, a, b, DataType.Boolean));
        return new JoinPlan(left, right, type, leftKeys, rightKeys, cond, output, HintedTtl(leftName), HintedTtl(rightName), interval);
    }

    private static Schema JoinOutput(Schema left, Schema right, JoinType type)
    {
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        Column Unique(Column c, bool nullable)
        {
            string name = c.Name;
            for (int k = 0; !used.Add(name); k++) name = $"{c.Name}{k}";
            return new Column(name, nullable ? c.Type with { Nullable = true } : c.Type);
        }
        return new Schema(left.Columns.Select(c => Unique(c, type.IsRightOuter())).Concat(right.Columns.Select(c => Unique(c, type.IsLeftOuter()))).ToArray());
    }

    /// <summary><c>left expr = right expr</c> (either way round), each side re-read over its own row, with one key type for both.</summary>
    private static (BoundExpr Left, BoundExpr Right)? AsJoinKey(BoundExpr conjunct, int n, int m, Schema leftSchema, Schema rightSchema)
    {
        if (conjunct is not Binary { Op: BinaryOp.Equal } eq) return null;
        foreach (var (a, b) in new[] { (eq.Left, eq.Right), (eq.Right, eq.Left) })
        {
            var ra = ExpressionCompiler.ReferencedColumns(n + m, [a], null);
            var rb = ExpressionCompiler.ReferencedColumns(n + m, [b], null);
            if (!ra.Take(n).Any(x => x) || ra.Skip(n).Any(x => x)) continue;
            if (!rb.Skip(n).Any(x => x) || rb.Take(n).Any(x => x)) continue;
            if (a.Type.Kind != b.Type.Kind || a.Type.Kind is TypeKind.Array or TypeKind.Map or TypeKind.Row) return null;
            var l = Retype(a, 0, leftSchema);
            var r = Retype(b, n, rightSchema);
            if (l is null || r is null) return null;
            bool nullable = l.Type.Nullable || r.Type.Nullable;
            return (l with { Type = l.Type with { Nullable = nullable } }, r with { Type = r.Type with { Nullable = nullable } });
        }
        return null;
    }

    /// <summary>
    /// An expression over the joined row as one over a side's own row (columns shifted by <paramref name="offset"/>,
    /// a column's own type: not nullable unless it is); null for an expression kind this does not know.
    /// </summary>
    internal static BoundExpr? Retype(BoundExpr e, int offset, Schema side)
    {
        switch (e)
        {
            case Unary u:
                return Retype(u.Operand, offset, side) is { } operand ? u with { Operand = operand } : null;
            case InputRef r:
                return new InputRef(r.Index - offset, r.Name, side[r.Index - offset].Type);
            case Literal:
                return e;
            case Cast c:
                return Retype(c.Operand, offset, side) is { } o ? c with { Operand = o, Type = c.Type with { Nullable = c.Type.Nullable && o.Type.Nullable || c.Try } } : null;
            case Call c:
            {
                var args = c.Args.Select(a => Retype(a, offset, side)).ToList();
                return args.Any(a => a is null) ? null : c with { Args = args! };
            }
            case Binary b:
            {
                var l = Retype(b.Left, offset, side);
                var r = Retype(b.Right, offset, side);
                return l is null || r is null ? null : b with { Left = l, Right = r };
            }
            default:
                return null;
        }
    }

    /// <summary>
    /// Two conjuncts bounding one side's time attribute by the other's (<c>l.t BETWEEN r.t - INTERVAL .. AND r.t + INTERVAL ..</c>,
    /// or a pair of &lt;, &lt;=, &gt;, &gt;=), both rowtimes or both proctimes: they are taken out of
    /// <paramref name="conjuncts"/> as the interval. Null (a regular join) without both bounds.
    /// </summary>
    private IntervalBounds? FindInterval(LogicalPlan left, LogicalPlan right, List<BoundExpr> conjuncts, SqlNode at)
    {
        int n = left.Schema.Count;
        var times = new List<(int Left, int Right, bool Proc)>();
        if (left.Rowtime is { } lr && right.Rowtime is { } rr) times.Add((lr, n + rr, false));
        if (left.Proctime is { } lp && right.Proctime is { } rp) times.Add((lp, n + rp, true));
        foreach (var (lt, rt, proc) in times)
        {
            long? lower = null, upper = null;
            var used = new List<BoundExpr>();
            foreach (var c in conjuncts)
            {
                if (TimeBound(c, lt, rt) is not { } bound) continue;
                if (bound.IsLower) lower = lower is { } lo ? Math.Max(lo, bound.Ms) : bound.Ms;
                else upper = upper is { } up ? Math.Min(up, bound.Ms) : bound.Ms;
                used.Add(c);
            }
            if (lower is null || upper is null) continue;
            conjuncts.RemoveAll(used.Contains);
            return new IntervalBounds(lt, rt - n, lower.Value, upper.Value, proc);
        }
        bool mixed = (left.Rowtime is not null && right.Proctime is not null) || (left.Proctime is not null && right.Rowtime is not null);
        if (mixed && conjuncts.Any(c => c is Binary { Op: BinaryOp.Less or BinaryOp.LessOrEqual or BinaryOp.Greater or BinaryOp.GreaterOrEqual } b
                && TimeOf(b.Left) is { } x && TimeOf(b.Right) is { } y
                && ((x.Column == left.Rowtime && y.Column == n + right.Proctime) || (x.Column == left.Proctime && y.Column == n + right.Rowtime)
                    || (y.Column == left.Rowtime && x.Column == n + right.Proctime) || (y.Column == left.Proctime && x.Column == n + right.Rowtime))))
        {
            throw Error(at, "an interval join bounds two time attributes of the same kind (both event time or both processing time), not one of each");
        }
        return null;
    }

    /// <summary><c>l.t OP r.t + c</c> (either way round) as a bound on l.t - r.t: lower (≥) or upper (≤), strict ones moved by 1 ms.</summary>
    private static (bool IsLower, long Ms)? TimeBound(BoundExpr conjunct, int leftTime, int rightTime)
    {
        if (conjunct is not Binary { Op: BinaryOp.Less or BinaryOp.LessOrEqual or BinaryOp.Greater or BinaryOp.GreaterOrEqual } b) return null;
        if (TimeOf(b.Left) is not { } x || TimeOf(b.Right) is not { } y) return null;
        var op = b.Op;
        if (x.Column == rightTime && y.Column == leftTime)
        {
            (x, y) = (y, x);
            op = op switch { BinaryOp.Less => BinaryOp.Greater, BinaryOp.LessOrEqual => BinaryOp.GreaterOrEqual, BinaryOp.Greater => BinaryOp.Less, _ => BinaryOp.LessOrEqual };
        }
        if (x.Column != leftTime || y.Column != rightTime) return null;
        // l + x.Ms OP r + y.Ms  ⇔  l - r OP y.Ms - x.Ms
        long c = y.Ms - x.Ms;
        return op switch
        {
            BinaryOp.GreaterOrEqual => (true, c),
            BinaryOp.Greater => (true, c + 1),
            BinaryOp.LessOrEqual => (false, c),
            _ => (false, c - 1),
        };
    }

    /// <summary>A column, or a column plus a day-time INTERVAL, as (column, ms).</summary>
    private static (int Column, long Ms)? TimeOf(BoundExpr e) => e switch
    {
        InputRef r => (r.Index, 0),
        Call { Name: "+", Args: [InputRef r, Literal { Value: long ms }, Literal { Value: int months }] } when months == 0 => (r.Index, ms),
        // A comparison of TIMESTAMP and TIMESTAMP_LTZ casts one side.
        Cast { Try: false } c => TimeOf(c.Operand),
        _ => null,
    };

    /// <summary>
    /// The STATE_TTL hint's TTL for the GROUP BY of the SELECT whose FROM was just bound (its one input named), taken by
    /// <see cref="BindSelect"/> right after.
    /// </summary>
    private (long Ms, TableOption At)? groupStateTtlHint;

    /// <summary>The STATE_TTL hint of the SELECT being bound: table name or alias → TTL in ms, with the hint for its place.</summary>
    private Dictionary<string, (long Ms, TableOption At, bool Used)>? stateTtlHint;

    /// <summary>
    /// The FROM clause with WHERE: a comma list is joined on WHERE's equalities (then WHERE is used up). The SELECT's
    /// <c>/*+ STATE_TTL('alias' = '1h', ...) */</c> hint sets the state TTL of the join inputs it names, as Flink's.
    /// </summary>
    private (LogicalPlan Plan, Scope Scope, WindowedInput? Windowed, bool WhereUsed) BindFromWithWhere(TableRef from, Expr? where, NodeList<SqlHint> hints,
        bool grouped = false)
    {
        groupStateTtlHint = null;
        var saved = stateTtlHint;
        stateTtlHint = null;
        foreach (var hint in hints)
        {
            // Join strategy hints (BROADCAST, SHUFFLE_HASH, ...) and LOOKUP are not implemented: refused, never ignored.
            if (!string.Equals(hint.Name.Value, "STATE_TTL", StringComparison.OrdinalIgnoreCase))
                throw Error(hint, $"query hint '{hint.Name.Value}' is not supported by Eddy (it takes STATE_TTL)");
            if (hint.Options.Count == 0) throw Error(hint, "STATE_TTL takes 'table or alias' = 'duration' pairs, e.g. /*+ STATE_TTL('o' = '1h') */");
            stateTtlHint ??= new(StringComparer.OrdinalIgnoreCase);
            foreach (var option in hint.Options)
            {
                long ms;
                try
                {
                    ms = (long)SqlSession.ParseDuration("STATE_TTL", option.Value).TotalMilliseconds;
                }
                catch (FormatException e)
                {
                    throw Error(option, e.Message);
                }
                if (ms < 0) throw Error(option, "a state TTL cannot be negative");
                stateTtlHint[option.Key] = (ms, option, false);
            }
        }
        try
        {
            (LogicalPlan, Scope, WindowedInput?, bool) result;
            if (BindCommaJoin(from, where) is { } joined) result = (joined.Item1, joined.Item2, null, true);
            else
            {
                var (plan, scope, windowed) = BindFrom(from);
                result = (plan, scope, windowed, false);
                // A GROUP BY of one named input: the hint naming it is the aggregation's TTL (Flink's STATE_TTL for group aggregates).
                if (grouped && from is NamedTableRef or SubqueryRef && SideName(from) is { } input && stateTtlHint is not null
                    && stateTtlHint.TryGetValue(input, out var hinted))
                {
                    stateTtlHint[input] = hinted with { Used = true };
                    groupStateTtlHint = (hinted.Ms, hinted.At);
                }
            }
            if (stateTtlHint?.Values.FirstOrDefault(h => !h.Used) is { At: not null } unused)
            {
                throw Error(unused.At, $"the STATE_TTL hint names '{unused.At.Key}', which is not an input of a regular join or of the GROUP BY "
                    + "of this SELECT; name a joined or grouped table by its name or alias");
            }
            return result;
        }
        finally
        {
            stateTtlHint = saved;
        }
    }

    /// <summary>A join input's state TTL: its STATE_TTL hint, else table.exec.state.ttl.</summary>
    private long HintedTtl(string? name)
    {
        if (name is null || stateTtlHint is null || !stateTtlHint.TryGetValue(name, out var hint)) return StateTtlMs;
        stateTtlHint[name] = hint with { Used = true };
        return hint.Ms;
    }

    /// <summary>The name a STATE_TTL hint uses for a join input: its alias, or the table's name.</summary>
    private static string? SideName(TableRef side) => side switch
    {
        NamedTableRef n => n.Alias?.Value ?? n.Name.Last.Value,
        SubqueryRef s => s.Alias?.Value,
        MatchRecognizeRef m => m.Alias?.Value,
        _ => null,
    };

    /// <summary>Why a plan's output is updating, for the message of an append-only sink that refuses it.</summary>
    private static string UpdatingCause(LogicalPlan plan)
    {
        static JoinPlan? OuterJoin(LogicalPlan p) => p is JoinPlan { Interval: null, JoinType: not JoinType.Inner } j ? j
            : p.Inputs.Select(OuterJoin).FirstOrDefault(j => j is not null);
        return OuterJoin(plan) is { } join
            ? $"a {join.JoinType.ToString().ToUpperInvariant()} OUTER JOIN retracts its NULL-padded rows (-D) when a match arrives"
            : "a GROUP BY without a window, a regular join of an updating input, or a changelog source such as upsert-kafka";
    }
}
