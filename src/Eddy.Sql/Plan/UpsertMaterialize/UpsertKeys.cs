using Eddy.Joins;
using Eddy.Sql.Plan.Aggregate;
using Eddy.Sql.Plan.Calc;
using Eddy.Sql.Plan.Correlate;
using Eddy.Sql.Plan.Join;
using Eddy.Sql.Plan.LookupJoin;
using Eddy.Sql.Plan.Over;
using Eddy.Sql.Plan.Rank;
using Eddy.Sql.Plan.Scan;
using Eddy.Sql.Plan.SemiJoin;
using Eddy.Sql.Plan.Union;
using Eddy.Sql.Planning;

namespace Eddy.Sql.Plan.UpsertMaterialize;

/// <summary>
/// The upsert keys of a relation as Flink's FlinkRelMdUpsertKeys (over FlinkRelMdUniqueKeys) derives them, as far as
/// Eddy follows them exactly: <see cref="Known"/> are keys Flink surely derives (output column indexes);
/// <see cref="Complete"/> says Flink derives no other. A relation Eddy does not follow has no known key and is not
/// complete (<see cref="Why"/> names it): a decision that depends on what is missing is refused rather than guessed.
/// </summary>
internal sealed record UpsertKeys(IReadOnlyList<IReadOnlyList<int>> Known, bool Complete, string? Why = null)
{
    public static UpsertKeys None { get; } = new([], true);

    public static UpsertKeys Unknown(string why) => new([], false, why);

    private bool IsNone => Complete && Known.Count == 0;

    public static UpsertKeys Of(LogicalPlan plan)
    {
        DeepStack.Ensure();
        switch (plan)
        {
            case ScanPlan scan:
                // The table's primary key (the scan's unique key; a changelog source is normalised by it), else none.
                if (scan.Table.PrimaryKey.Count == 0) return None;
                var key = scan.Table.PrimaryKey.Select(n => scan.Schema.IndexOf(n)).ToList();
                return key.Any(i => i < 0) ? None : new([key], true);
            case CalcPlan calc:
                return Project(Of(calc.Input), calc.Projections);
            case AggregatePlan { Window: null, FinalOnly: false } agg when agg.Input is not Expand.ExpandPlan:
                // GroupAggregate: its grouping columns (the first of its output), the empty key for a global aggregation.
                return new([Enumerable.Range(0, agg.Keys.Count).ToList()], true);
            case AggregatePlan { Window: not null } window when window.Input is not Expand.ExpandPlan:
            {
                // A window aggregation (FlinkRelMdUniqueKeys.getUniqueKeysOnWindowAgg): its grouping columns with each
                // of its window properties, which follow them (window_start, window_end, window_time).
                var grouping = Enumerable.Range(0, window.Keys.Count).ToList();
                return new([.. Enumerable.Range(window.Keys.Count, 3).Select(p => (IReadOnlyList<int>)[.. grouping, p])], true);
            }
            case RankPlan { FinalOnly: false } rank
                when rank.Strategy is not (RankStrategy.WindowTopN or RankStrategy.WindowKeepFirst or RankStrategy.WindowKeepLast):
                return Rank(rank);
            case OverPlan over:
            {
                // Flink's getUpsertKeysOnOver: the input's keys that hold the partition columns (the output keeps the
                // input's columns at their positions, the aggregates follow).
                if (!Columns(over.Window.PartitionKeys, out var partition)) return Unknown("the upsert keys of an OVER window partitioned by expressions");
                var input = Of(over.Input);
                return input with { Known = input.Known.Where(k => partition.All(k.Contains)).ToList() };
            }
            case JoinPlan { Interval: null } join:
                return Join(join);
            case SemiJoinPlan semi:
            {
                // SEMI/ANTI: the left's keys that hold the left join columns.
                if (!Columns(semi.LeftKeys, out var leftSet)) return Unknown("the upsert keys of a semi/anti join on expressions");
                var left = Of(semi.Left);
                return left with { Known = left.Known.Where(k => leftSet.All(k.Contains)).ToList() };
            }
            case UnionPlan:
                // UNION ALL: Flink derives no key.
                return None;
            case LookupJoinPlan or CorrelatePlan:
                // Flink's lookup join combines with no key of the looked-up table, and a correlate has none.
                return None;
            default:
                return Unknown($"the upsert keys of {plan.Describe().Split('(')[0]}");
        }
    }

    /// <summary>
    /// Keys through a projection (Flink's getProjectUniqueKeys): a key survives when each of its columns is projected as
    /// it is, or under a cast Flink counts as lossless (an implicit cast); a column projected several times gives a key
    /// per combination. A key column under another cast is not followed (Flink's implicit-cast table is larger than
    /// what is recognised here): the result is then not complete.
    /// </summary>
    private static UpsertKeys Project(UpsertKeys input, IReadOnlyList<BoundExpr> projections)
    {
        var known = new List<IReadOnlyList<int>>();
        bool complete = input.Complete;
        string? why = input.Why;
        int? Source(BoundExpr e, int column) => e switch
        {
            InputRef r when r.Index == column => column,
            Cast { Operand: InputRef r, Try: false } c when r.Index == column && Lossless(r.Type, c.Type) => column,
            _ => null,
        };
        foreach (var key in input.Known)
        {
            if (key.Any(c => projections.Any(p => p is Cast { Operand: InputRef r } cast && r.Index == c && Source(cast, c) is null)))
            {
                complete = false;
                why = "a key column under a CAST";
            }
            var choices = key.Select(c => Enumerable.Range(0, projections.Count).Where(j => Source(projections[j], c) is not null).ToList()).ToList();
            if (choices.Any(ch => ch.Count == 0)) continue;
            IEnumerable<List<int>> combos = [[]];
            foreach (var ch in choices) combos = combos.SelectMany(prefix => ch.Select(j => new List<int>(prefix) { j }));
            known.AddRange(combos.Select(c => (IReadOnlyList<int>)c.Distinct().Order().ToList()));
        }
        return new(known, complete, complete ? null : why);
    }

    /// <summary>Casts that keep every value distinct and that Flink's implicit-cast rules allow (a subset of them).</summary>
    internal static bool Lossless(DataType source, DataType target)
    {
        static int IntegerRank(TypeKind k) => k switch { TypeKind.TinyInt => 1, TypeKind.SmallInt => 2, TypeKind.Int => 3, TypeKind.BigInt => 4, _ => 0 };
        if (source.Kind is TypeKind.String or TypeKind.Char && target.Kind is TypeKind.String) return true;
        if (IntegerRank(source.Kind) > 0 && IntegerRank(target.Kind) > 0) return IntegerRank(source.Kind) <= IntegerRank(target.Kind);
        return (source with { Nullable = true }) == (target with { Nullable = true });
    }

    /// <summary>
    /// Flink's Rank (getUpsertKeys over getRankUniqueKeys): a deduplication (ROW_NUMBER, rank 1, ordered by one time
    /// attribute, the row number not read) is keyed by its partition columns; any other Top-N by the input's keys that
    /// hold the partition columns, and a ROW_NUMBER whose row number is read also by the partition columns with it
    /// (RANK and DENSE_RANK add none: their numbers repeat).
    /// </summary>
    private static UpsertKeys Rank(RankPlan rank)
    {
        if (rank.IsDeduplicate) return new([rank.PartitionKeys.ToList()], true);
        var input = Of(rank.Input);
        var known = input.Known.Where(k => rank.PartitionKeys.All(k.Contains)).ToList();
        if (rank.OutputRank && rank.Function == RankFunction.RowNumber) known.Add([.. rank.PartitionKeys, rank.Schema.Count - 1]);
        return input with { Known = known };
    }

    /// <summary>
    /// Flink's regular join (getJoinUpsertKeys over getJoinUniqueKeys): each side's keys that hold its join columns;
    /// every union of a left and a right one; the left's too when the right is unique on its join columns (some key of
    /// it lies within them) and the join pads no left side (INNER, LEFT); the right's likewise.
    /// </summary>
    private static UpsertKeys Join(JoinPlan join)
    {
        if (!Columns(join.LeftKeys, out var leftSet) || !Columns(join.RightKeys, out var rightSet))
            return Unknown("the upsert keys of a join on expressions");
        var left = Of(join.Left);
        var right = Of(join.Right);
        if (!left.Complete || !right.Complete) return Unknown(left.Why ?? right.Why ?? "the upsert keys of a join's side");
        int shift = join.Left.Schema.Count;
        var l = left.Known.Where(k => leftSet.All(k.Contains)).ToList();
        var r = right.Known.Where(k => rightSet.All(k.Contains)).Select(k => (IReadOnlyList<int>)k.Select(c => c + shift).ToList()).ToList();
        var keys = new List<IReadOnlyList<int>>();
        foreach (var rk in r)
            foreach (var lk in l) keys.Add(lk.Union(rk).Order().ToList());
        bool leftUnique = left.Known.Any(k => k.All(leftSet.Contains));
        bool rightUnique = right.Known.Any(k => k.All(rightSet.Contains));
        if (rightUnique && join.JoinType is JoinType.Inner or JoinType.Left) keys.AddRange(l);
        if (leftUnique && join.JoinType is JoinType.Inner or JoinType.Right) keys.AddRange(r);
        return new(keys, true);
    }

    private static bool Columns(IReadOnlyList<BoundExpr> keys, out List<int> columns)
    {
        columns = keys.OfType<InputRef>().Select(r => r.Index).ToList();
        return columns.Count == keys.Count;
    }
}
