using Eddy.Sql.Plan;
using Eddy.Sql.Plan.Aggregate;
using Eddy.Sql.Plan.Calc;
using Eddy.Sql.Plan.Scan;
using Eddy.Sql.Plan.TableSink;
using Eddy.Sql.Planning;
using Eddy.Sql.Planning.Rules;

namespace Eddy.Sql.Tests.Planning.Rules;

/// <summary>The rewrite pass that runs between binding and translation (fusion needs a scan with a single reader).</summary>
public class PlanRulesTests
{
    private const string Tables = """
        CREATE TABLE src (a INT NOT NULL, b INT, ts BIGINT NOT NULL, rt AS TO_TIMESTAMP_LTZ(ts, 3), WATERMARK FOR rt AS rt)
            WITH ('connector' = 'datagen', 'number-of-rows' = '10');
        CREATE TABLE out1 (a INT, b INT) WITH ('connector' = 'blackhole');
        CREATE TABLE out2 (a INT, b INT) WITH ('connector' = 'blackhole');
        CREATE TABLE counts (a INT, window_end TIMESTAMP(3), n BIGINT) WITH ('connector' = 'blackhole');

        """;

    /// <summary>The bound plans of a script's INSERTs and the rules for the whole job.</summary>
    private static (IReadOnlyList<SinkPlan> Plans, PlanRules Rules) Bind(string inserts)
    {
        var jobs = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null).Execute(Tables + inserts);
        var plans = jobs.SelectMany(j => j.Plans).Cast<SinkPlan>().ToList();
        return (plans, new PlanRules(plans, TestConnectors.Registry));
    }

    [Fact]
    public void A_filter_over_a_table_read_once_runs_in_the_scan()
    {
        var (plans, rules) = Bind("INSERT INTO out1 SELECT a, b FROM src WHERE b > 1;");
        Assert.IsType<CalcPlan>(plans[0].Input);
        var fused = Assert.IsType<FusedScanPlan>(((SinkPlan)rules.Rewrite(plans[0])).Input);
        Assert.IsType<ScanPlan>(fused.Calc!.Input);
        Assert.NotNull(fused.Calc.Filter);
        Assert.Null(fused.Readers);
        Assert.Equal(plans[0].Input.Schema, fused.Schema);
    }

    [Fact]
    public void A_table_read_by_two_inserts_is_scanned_once_for_both_and_keeps_its_calcs()
    {
        var (plans, rules) = Bind("""
            EXECUTE STATEMENT SET BEGIN
            INSERT INTO out1 SELECT a, b FROM src WHERE b > 1;
            INSERT INTO out2 SELECT a, b FROM src WHERE b < 1;
            END;
            """);
        Assert.Equal(2, plans.Count);
        foreach (var plan in plans)
        {
            var calc = Assert.IsType<CalcPlan>(((SinkPlan)rules.Rewrite(plan)).Input);
            Assert.NotNull(calc.Filter);
            Assert.IsType<ScanPlan>(calc.Input);
        }
    }

    [Fact]
    public void Two_filters_merge_into_one_calc_before_fusing_with_the_scan()
    {
        var (plans, rules) = Bind("INSERT INTO out1 SELECT a, b FROM (SELECT a, b FROM src WHERE b > 1) WHERE a > 2;");
        var outer = Assert.IsType<CalcPlan>(plans[0].Input);
        Assert.IsType<CalcPlan>(outer.Input);
        var fused = Assert.IsType<FusedScanPlan>(((SinkPlan)rules.Rewrite(plans[0])).Input);
        // CASE WHEN b > 1 THEN a > 2 ELSE FALSE END: the outer filter only sees rows the inner one keeps.
        var filter = Assert.IsType<CaseWhen>(fused.Calc!.Filter);
        Assert.Single(filter.Branches);
        Assert.IsType<ScanPlan>(fused.Calc.Input);
    }

    [Fact]
    public void A_projection_over_a_window_aggregation_runs_in_its_result_builder_and_the_scan_computes_only_what_it_reads()
    {
        var (plans, rules) = Bind("""
            INSERT INTO counts
            SELECT a, window_end, COUNT(*) FROM TABLE(TUMBLE(TABLE src, DESCRIPTOR(rt), INTERVAL '1' MINUTE))
            GROUP BY a, window_start, window_end;
            """);
        var projected = Assert.IsType<ProjectedAggregatePlan>(((SinkPlan)rules.Rewrite(plans[0])).Input);
        Assert.NotNull(projected.Aggregate.Window);
        Assert.Equal(3, projected.Schema.Count);
        var scan = Assert.IsType<FusedScanPlan>(projected.Aggregate.Input);
        Assert.NotNull(scan.Readers);
        Assert.Equal("src", scan.Scan.Table.Name);
    }
}
