using Eddy.Joins;
using Eddy.Sql.Plan.Aggregate;
using Eddy.Sql.Plan.Calc;
using Eddy.Sql.Plan.Join;
using Eddy.Sql.Plan.Rank;
using Eddy.Sql.Plan.SemiJoin;
using Eddy.Sql.Planning;

namespace Eddy.Sql.Plan.UpsertMaterialize;

/// <summary>
/// Whether a SinkUpsertMaterializer's key (the sink's primary key) implies the key of the keyed operator its rows come
/// from, so that all rows of one primary key are made by the operator instance that owns one key of that operator (in
/// Flink terms: a materializer subtask receives each of its keys from one upstream subtask only). Then under
/// <c>eddy worker</c> the materializer runs in the same partition task as that operator, after it, with its state in the
/// partition's checkpoint; otherwise the rows of one primary key come out of several partition tasks.
/// <para>
/// The reasoning is on values: a row's partition is a function of the operator's key value (its key group), so it is
/// enough that the primary key's values determine that key value for every row the operator can emit. Between the
/// operator and the sink only projections and filters (Calc) are followed; a primary key column tells its source
/// column's value when it is that column as it is or under a cast that keeps values distinct, and
/// <c>COALESCE(l, r)</c> of a join's two key columns tells the join key of matched and padded rows alike.
/// </para>
/// <list type="bullet">
/// <item>GROUP BY and window aggregations: the grouping columns (the first of the output).</item>
/// <item>Top-N and deduplication: the PARTITION BY columns (kept at their input positions).</item>
/// <item>Regular and interval joins, per key position: the side's key column when that side is never padded (INNER;
/// the left of a LEFT join, the right of a RIGHT join), both sides' columns, or COALESCE of the two. A padded row has
/// NULL for the other side's key, so the padded side's column alone does not tell the key.</item>
/// <item>Semi and anti joins: the left key columns (the output is the left's rows).</item>
/// <item>No key (a global aggregation, a join without equality): one key group, one partition: always.</item>
/// <item>No keyed operator (the source, under projections and filters): <see cref="StraightAfterSource"/>.</item>
/// </list>
/// </summary>
internal sealed record SinkKeyAlignment(bool Implied, string Operator, string OperatorKey, string? Why)
{
    /// <summary>
    /// No keyed operator comes before the materializer: between the sink and the source (<see cref="Operator"/>) only
    /// projections and filters. Not <see cref="Implied"/> (there is no upstream key to be within): under
    /// <c>eddy worker</c> the materializer's exchange is cut into a repartition topic keyed by the primary key, whose
    /// records (a changelog source's changes included) carry their source positions.
    /// </summary>
    public bool StraightAfterSource { get; init; }

    /// <summary>The alignment of <paramref name="materializer"/>'s key with the keyed operator below <paramref name="input"/> (the sink's input).</summary>
    public static SinkKeyAlignment Of(LogicalPlan input, UpsertMaterializer materializer)
    {
        // What the primary key's values tell, as columns of the current plan's output: whole columns, and COALESCE pairs.
        var columns = new HashSet<int>(materializer.Key);
        var coalesced = new List<(int A, int B)>();
        var plan = input;
        while (true)
        {
            DeepStack.Ensure();
            switch (plan)
            {
                case CalcPlan calc:
                    (columns, coalesced) = Through(calc.Projections, columns, coalesced);
                    plan = calc.Input;
                    continue;
                case ProjectedAggregatePlan projected:
                    (columns, coalesced) = Through(projected.Projection.Projections, columns, coalesced);
                    plan = projected.Aggregate;
                    continue;
                case AggregatePlan agg when agg.Input is Expand.ExpandPlan:
                    return new(false, "the grouping-sets aggregation", Keys(agg.Keys), "its key holds the grouping set's id, which is no column of its output");
                case AggregatePlan agg:
                {
                    bool implied = Enumerable.Range(0, agg.Keys.Count).All(columns.Contains);
                    return new(implied, agg.Window is null ? "the GROUP BY" : "the window aggregation", Keys(agg.Keys),
                        implied ? null : "the primary key does not hold every grouping column");
                }
                case RankPlan rank:
                {
                    bool implied = rank.PartitionKeys.All(columns.Contains);
                    string what = rank.IsDeduplicate ? "the deduplication" : "the Top-N";
                    return new(implied, what, string.Join(", ", rank.PartitionKeys.Select(k => rank.Schema[k].Name)),
                        implied ? null : "the primary key does not hold every PARTITION BY column");
                }
                case JoinPlan join:
                    return Join(join, columns, coalesced);
                case SemiJoinPlan semi:
                {
                    var keys = semi.LeftKeys.Select(KeyColumn).ToList();
                    bool implied = keys.All(k => k is { } c && columns.Contains(c));
                    return new(implied, semi.Anti ? "the anti join" : "the semi join", Pairs(semi.LeftKeys, semi.RightKeys),
                        implied ? null : "the primary key does not hold the left side's key columns");
                }
                case var leaf when !leaf.Inputs.Any():
                    // No keyed operator before the materializer (a changelog source written into a table keyed otherwise):
                    // its exchange is the job's first keyed exchange, which a stage split cuts into a repartition topic
                    // as it cuts a GROUP BY's over the same source, each change with its own source position.
                    return new(false, Describe(leaf), "", null) { StraightAfterSource = true };
                default:
                    return new(false, Describe(plan), "",
                        "between the sink and the keyed operator below it only projections and filters are followed, and the sink reads a " + Describe(plan));
            }
        }
    }

    private static SinkKeyAlignment Join(JoinPlan join, HashSet<int> columns, List<(int A, int B)> coalesced)
    {
        int n = join.Left.Schema.Count;
        string what = (join.Interval is null ? "the " : "the interval ") + join.JoinType switch
        {
            JoinType.Inner => "inner join",
            JoinType.Left => "LEFT join",
            JoinType.Right => "RIGHT join",
            _ => "FULL OUTER join",
        };
        bool leftNeverPadded = join.JoinType is JoinType.Inner or JoinType.Left;
        bool rightNeverPadded = join.JoinType is JoinType.Inner or JoinType.Right;
        for (int i = 0; i < join.LeftKeys.Count; i++)
        {
            int? l = KeyColumn(join.LeftKeys[i]);
            int? r = KeyColumn(join.RightKeys[i]) + n;
            bool left = l is { } lc && columns.Contains(lc);
            bool right = r is { } rc && columns.Contains(rc);
            bool coalesce = join.LeftKeys[i] is InputRef && join.RightKeys[i] is InputRef && l is { } a && r is { } b
                && (coalesced.Contains((a, b)) || coalesced.Contains((b, a)));
            if (!((left && right) || (left && leftNeverPadded) || (right && rightNeverPadded) || coalesce))
            {
                string why = join.JoinType switch
                {
                    JoinType.Inner => "the primary key holds neither side's key columns",
                    JoinType.Left => "the primary key does not hold the left side's key columns (a padded row's right side is NULL)",
                    JoinType.Right => "the primary key does not hold the right side's key columns (a padded row's left side is NULL)",
                    _ => "the primary key holds neither both sides' key columns nor COALESCE of them (a padded row's other side is NULL)",
                };
                return new(false, what, Pairs(join.LeftKeys, join.RightKeys), why);
            }
        }
        return new(true, what, Pairs(join.LeftKeys, join.RightKeys), null);
    }

    /// <summary>What is known below a projection: the columns its known outputs are (or keep distinct), and COALESCE pairs of columns.</summary>
    private static (HashSet<int>, List<(int, int)>) Through(IReadOnlyList<BoundExpr> projections, HashSet<int> columns, List<(int A, int B)> coalesced)
    {
        var below = new HashSet<int>();
        var pairs = new List<(int, int)>();
        foreach (int c in columns)
        {
            if (Column(projections[c]) is { } source) below.Add(source);
            else if (projections[c] is Coalesce { Args: [InputRef a, InputRef b] }) pairs.Add((a.Index, b.Index));
        }
        foreach (var (a, b) in coalesced)
        {
            if (projections[a] is InputRef ra && projections[b] is InputRef rb) pairs.Add((ra.Index, rb.Index));
        }
        return (below, pairs);
    }

    /// <summary>The input column whose value an output column tells: the column itself, or under a cast that keeps values distinct.</summary>
    private static int? Column(BoundExpr e) => e switch
    {
        InputRef r => r.Index,
        Cast { Operand: var operand, Try: false } cast when UpsertKeys.Lossless(operand.Type, cast.Type) => Column(operand),
        _ => null,
    };

    /// <summary>The column a key expression is a function of: a column, or a cast of one (the binder's coercion to the common key type).</summary>
    private static int? KeyColumn(BoundExpr e) => e switch
    {
        InputRef r => r.Index,
        Cast { Operand: var operand, Try: false } => KeyColumn(operand),
        _ => null,
    };

    private static string Keys(IReadOnlyList<BoundExpr> keys) => string.Join(", ", keys.Select(Explain.Expr));

    private static string Pairs(IReadOnlyList<BoundExpr> left, IReadOnlyList<BoundExpr> right) =>
        left.Count == 0 ? "no equality key (one key group)" : string.Join(", ", left.Zip(right, (l, r) => $"{Explain.Expr(l)} = {Explain.Expr(r)}"));

    private static string Describe(LogicalPlan plan) => plan.Describe().Split('(')[0];
}
