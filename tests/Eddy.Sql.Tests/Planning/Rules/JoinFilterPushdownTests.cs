using Eddy.Sql.Plan;
using Eddy.Sql.Plan.Calc;
using Eddy.Sql.Plan.Join;
using Eddy.Sql.Plan.TableSink;
using Eddy.Sql.Planning.Rules;

namespace Eddy.Sql.Tests.Planning.Rules;

/// <summary>Conjuncts of a filter over a join that read one side move below it, into sides that are never padded.</summary>
public class JoinFilterPushdownTests
{
    private const string Tables = """
        CREATE TABLE l (k INT, x INT) WITH ('connector' = 'datagen', 'number-of-rows' = '10');
        CREATE TABLE r (k INT, y INT) WITH ('connector' = 'datagen', 'number-of-rows' = '10');
        CREATE TABLE o (k INT, x INT, y INT) WITH ('connector' = 'blackhole');

        """;

    private static JoinPlan Rewritten(string where)
    {
        var jobs = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null).Execute(Tables + $"INSERT INTO o SELECT l.k, l.x, r.y FROM {where};");
        var plan = jobs.SelectMany(j => j.Plans).Cast<SinkPlan>().Single();
        LogicalPlan p = new PlanRules([plan], TestConnectors.Registry).Rewrite(plan);
        while (p is not JoinPlan) p = p.Inputs.Single();
        return (JoinPlan)p;
    }

    /// <summary>The filter a join side got (a table read once runs it in its scan).</summary>
    private static BoundExprSummary Filter(LogicalPlan side) => side switch
    {
        CalcPlan { Filter: { } f } => new(true, Explain(f), f),
        Eddy.Sql.Plan.Scan.FusedScanPlan { Calc.Filter: { } f } => new(true, Explain(f), f),
        _ => new(false, ""),
    };

    private sealed record BoundExprSummary(bool Filtered, string Text, Eddy.Sql.Planning.BoundExpr? Expr = null);

    private static string Explain(Eddy.Sql.Planning.BoundExpr e) => e.ToString();

    [Fact]
    public void Inner_join_takes_one_side_conjuncts_into_each_side()
    {
        var join = Rewritten("l JOIN r ON l.k = r.k WHERE l.x > 1 AND r.y < 5 AND l.x < r.y");
        Assert.True(Filter(join.Left).Filtered);
        Assert.True(Filter(join.Right).Filtered);
        // The right side's filter reads the right row's own column 1 (y), not the joined row's.
        var filter = Assert.IsType<Eddy.Sql.Planning.Binary>(Filter(join.Right).Expr);
        Assert.Equal(1, Assert.IsType<Eddy.Sql.Planning.InputRef>(filter.Left).Index);
    }

    [Fact]
    public void Left_join_takes_left_conjuncts_only()
    {
        var join = Rewritten("l LEFT JOIN r ON l.k = r.k WHERE l.x > 1 AND r.y < 5");
        Assert.True(Filter(join.Left).Filtered);
        Assert.False(Filter(join.Right).Filtered);
    }

    [Fact]
    public void Full_join_keeps_its_filter_above()
    {
        var join = Rewritten("l FULL JOIN r ON l.k = r.k WHERE l.x > 1 AND r.y < 5");
        Assert.False(Filter(join.Left).Filtered);
        Assert.False(Filter(join.Right).Filtered);
    }
}
