using Eddy.Sql.Plan;
using Eddy.Sql.Plan.Join;
using Eddy.Sql.Plan.Scan;
using Eddy.Sql.Plan.TableSink;
using Eddy.Sql.Planning;
using Eddy.Sql.Planning.Rules;

namespace Eddy.Sql.Tests.Planning.Rules;

/// <summary>A join's sides keep only the columns its keys, residual and consumer read (results: <c>JoinTests</c>, which run through this rule).</summary>
public class JoinInputNarrowingTests
{
    private const string Tables = """
        CREATE TABLE l (k INT, a STRING, b BIGINT, c STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '10');
        CREATE TABLE r (k INT, x STRING, y BIGINT, z STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '10');

        """;

    private static JoinPlan Rewritten(string sink, string query)
    {
        var jobs = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null).Execute(Tables + sink + $"INSERT INTO o {query};");
        var plan = jobs.SelectMany(j => j.Plans).Cast<SinkPlan>().Single();
        LogicalPlan p = new PlanRules([plan], TestConnectors.Registry).Rewrite(plan);
        while (p is not JoinPlan) p = p.Inputs.First();
        return (JoinPlan)p;
    }

    private static string[] Columns(LogicalPlan side) => side.Schema.Columns.Select(c => c.Name).ToArray();

    [Fact]
    public void Each_side_keeps_its_key_the_residual_columns_and_what_the_projection_reads()
    {
        var join = Rewritten("CREATE TABLE o (a STRING, y BIGINT) WITH ('connector' = 'blackhole');\n",
            "SELECT l.a, r.y FROM l LEFT JOIN r ON l.k = r.k AND l.b < r.y");
        Assert.Equal(["k", "a", "b"], Columns(join.Left));
        Assert.Equal(["k", "y"], Columns(join.Right));
        // Keys and residual read the narrowed rows: r.y is column 4 of the joined row (k, a, b | k, y).
        Assert.Equal(0, Assert.IsType<InputRef>(Assert.Single(join.RightKeys)).Index);
        var residual = Assert.IsType<Binary>(join.Residual);
        Assert.Equal(4, Assert.IsType<InputRef>(residual.Right).Index);
        Assert.Equal(5, join.Schema.Count);
    }

    [Fact]
    public void A_group_aggregation_over_a_join_narrows_it_to_its_keys_and_arguments()
    {
        var join = Rewritten("CREATE TABLE o (a STRING, m BIGINT, PRIMARY KEY (a) NOT ENFORCED) WITH ('connector' = 'print');\n",
            "SELECT l.a, MAX(r.y) FROM l JOIN r ON l.k = r.k GROUP BY l.a");
        Assert.Equal(["k", "a"], Columns(join.Left));
        Assert.Equal(["k", "y"], Columns(join.Right));
    }

    [Fact]
    public void A_join_whose_every_column_is_read_is_left_as_it_is()
    {
        var join = Rewritten("CREATE TABLE o (k INT, a STRING, b BIGINT, c STRING, k2 INT, x STRING, y BIGINT, z STRING) WITH ('connector' = 'blackhole');\n",
            "SELECT * FROM l JOIN r ON l.k = r.k");
        Assert.Equal(4, join.Left.Schema.Count);
        Assert.Equal(4, join.Right.Schema.Count);
        Assert.IsType<ScanPlan>(join.Left);
    }
}
