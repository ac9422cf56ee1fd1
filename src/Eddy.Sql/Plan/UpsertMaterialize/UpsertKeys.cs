using Eddy.Sql.Plan.Aggregate;
using Eddy.Sql.Plan.Calc;
using Eddy.Sql.Plan.Join;
using Eddy.Sql.Plan.Rank;
using Eddy.Sql.Plan.Scan;
using Eddy.Sql.Planning;

namespace Eddy.Sql.Plan.UpsertMaterialize;

/// <summary>
/// The upsert keys of a relation as Flink's FlinkRelMdUpsertKeys derives them, as far as Eddy can tell exactly:
/// <see cref="Known"/> are keys Flink surely derives (output column indexes); <see cref="Complete"/> says Flink derives
/// no other. A relation Eddy cannot follow is <see cref="Unknown"/> (no known key, not complete): a decision that
/// depends on what is missing is refused rather than guessed.
/// </summary>
internal sealed record UpsertKeys(IReadOnlyList<IReadOnlyList<int>> Known, bool Complete, string? Why = null)
{
    public static UpsertKeys None { get; } = new([], true);

    public static UpsertKeys Unknown(string why) => new([], false, why);

    public static UpsertKeys Of(LogicalPlan plan)
    {
        DeepStack.Ensure();
        switch (plan)
        {
            case ScanPlan scan:
                // A changelog source with a PRIMARY KEY: Flink normalises it by that key (ChangelogNormalize, or the
                // CDC format's own keyed changes), its one upsert key. An append-only table's declared key is a unique
                // key Flink may derive too, but nothing here depends on whether others exist.
                if (scan.Table.PrimaryKey.Count == 0) return None;
                var key = scan.Table.PrimaryKey.Select(n => scan.Schema.IndexOf(n)).ToList();
                if (key.Any(i => i < 0)) return Unknown($"the primary key of '{scan.Table.Name}'");
                return new([key], scan.Updating);
            case CalcPlan calc:
                return Project(Of(calc.Input), calc.Projections);
            case AggregatePlan { Window: null, FinalOnly: false } agg when agg.Input is not Expand.ExpandPlan:
                // Flink's GroupAggregate: its grouping columns (the first of its output) are its one upsert key, the
                // empty key for a global aggregation.
                return new([Enumerable.Range(0, agg.Keys.Count).ToList()], true);
            case RankPlan { IsDeduplicate: true, FinalOnly: false } dedup when !dedup.OutputRank:
                // Flink's Deduplicate: the partition columns.
                return new([dedup.PartitionKeys.ToList()], true);
            case RankPlan { Strategy: RankStrategy.AppendOnlyTopN or RankStrategy.RetractTopN or RankStrategy.UpdateFastTopN, FinalOnly: false } rank
                when rank.OutputRank && rank.Function == RankFunction.RowNumber:
                // Flink's Rank with the row number selected: partition columns and the row number; whether it keeps
                // keys of its input too is not followed here.
                return new([[.. rank.PartitionKeys, rank.Schema.Count - 1]], false, "a Top-N's keys beyond its partition and row number");
            case JoinPlan { Interval: null } join:
            {
                // Flink's join keeps a side's keys only when the other side is unique on the join key, and combines
                // one key of each side: a side without any upsert key leaves the join without any.
                var left = Of(join.Left);
                var right = Of(join.Right);
                if ((left.Complete && left.Known.Count == 0) || (right.Complete && right.Known.Count == 0)) return None;
                return Unknown("the upsert keys of a join whose sides both have keys");
            }
            default:
                return Unknown($"the upsert keys of {plan.Describe().Split('(')[0]}");
        }
    }

    /// <summary>
    /// Keys through a projection (Flink's getProjectUpsertKeys): a key survives when each of its columns is projected as
    /// it is, once or several times (every combination is a key). A key column projected under a CAST may survive in
    /// Flink (a cast that keeps values distinct), which is not followed: the result is then not complete.
    /// </summary>
    private static UpsertKeys Project(UpsertKeys input, IReadOnlyList<BoundExpr> projections)
    {
        var known = new List<IReadOnlyList<int>>();
        bool complete = input.Complete;
        foreach (var key in input.Known)
        {
            var choices = key.Select(c => Enumerable.Range(0, projections.Count).Where(j => projections[j] is InputRef r && r.Index == c).ToList()).ToList();
            if (key.Any(c => projections.Any(p => p is Cast { Operand: InputRef r } && r.Index == c))) complete = false;
            if (choices.Any(ch => ch.Count == 0)) continue;
            IEnumerable<List<int>> combos = [[]];
            foreach (var ch in choices) combos = combos.SelectMany(prefix => ch.Select(j => new List<int>(prefix) { j }));
            foreach (var combo in combos.Take(64)) known.Add(combo.Distinct().Order().ToList());
        }
        return new(known, complete, complete ? null : input.Why ?? "a key column under a CAST");
    }
}
