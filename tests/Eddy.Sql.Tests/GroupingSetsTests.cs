using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

/// <summary>
/// GROUPING SETS, ROLLUP and CUBE (an Expand under the group aggregation). The expected rows here are the examples of
/// Flink's documentation (Queries → Group Aggregation); larger inputs are compared with PostgreSQL in
/// Eddy.Connectors.Postgres.Tests/GroupingSetsTests.cs.
/// </summary>
public class GroupingSetsTests
{
    private const string Products = """
        (VALUES ('supplier1', 'product1', 4), ('supplier1', 'product2', 3),
                ('supplier2', 'product3', 3), ('supplier2', 'product4', 4)) AS Products(supplier_id, product_id, rating)
        """;

    private static List<string> Run(string query, string sinkColumns) => RetractingAggregateTests.Materialize(SessionTests.Run($"""
        SET 'parallelism.default' = '1';
        CREATE TABLE out_t ({sinkColumns}) WITH ('connector' = 'print');
        INSERT INTO out_t {query};
        """));

    [Fact]
    public void Grouping_sets_give_one_group_per_set_with_the_other_keys_null()
    {
        var rows = Run($"SELECT supplier_id, rating, COUNT(*) AS total FROM {Products} GROUP BY GROUPING SETS ((supplier_id, rating), (supplier_id), ())",
            "supplier_id STRING, rating INT, total BIGINT");
        Assert.Equal(new[]
        {
            "[supplier1, 4, 1]", "[supplier1, null, 2]", "[null, null, 4]", "[supplier1, 3, 1]",
            "[supplier2, 3, 1]", "[supplier2, null, 2]", "[supplier2, 4, 1]",
        }.Order(StringComparer.Ordinal), rows);
    }

    [Fact]
    public void Rollup_is_the_grouping_sets_of_its_prefixes()
    {
        // Flink's documentation: ROLLUP (supplier_id, rating) = GROUPING SETS ((supplier_id, rating), (supplier_id), ()).
        var rows = Run($"SELECT supplier_id, rating, COUNT(*) AS total FROM {Products} GROUP BY ROLLUP (supplier_id, rating)",
            "supplier_id STRING, rating INT, total BIGINT");
        Assert.Equal(new[]
        {
            "[supplier1, 4, 1]", "[supplier1, null, 2]", "[null, null, 4]", "[supplier1, 3, 1]",
            "[supplier2, 3, 1]", "[supplier2, null, 2]", "[supplier2, 4, 1]",
        }.Order(StringComparer.Ordinal), rows);
    }

    [Fact]
    public void Cube_groups_by_every_subset_and_grouping_tells_the_sets_apart()
    {
        // CUBE (supplier_id, rating): sets (s, r), (s), (r), (). GROUPING(x) is 1 where x is rolled up;
        // GROUPING_ID(s, r) = 2 * GROUPING(s) + GROUPING(r). Worked by hand from the four rows above.
        var rows = Run($"""
            SELECT supplier_id, rating, GROUPING(supplier_id), GROUPING(rating), GROUPING_ID(supplier_id, rating), SUM(rating)
            FROM {Products} GROUP BY CUBE (supplier_id, rating)
            """, "supplier_id STRING, rating INT, gs BIGINT, gr BIGINT, gid BIGINT, total INT");
        Assert.Equal(new[]
        {
            "[supplier1, 4, 0, 0, 0, 4]", "[supplier1, 3, 0, 0, 0, 3]", "[supplier2, 3, 0, 0, 0, 3]", "[supplier2, 4, 0, 0, 0, 4]",
            "[supplier1, null, 0, 1, 1, 7]", "[supplier2, null, 0, 1, 1, 7]",
            "[null, 3, 1, 0, 2, 6]", "[null, 4, 1, 0, 2, 8]",
            "[null, null, 1, 1, 3, 14]",
        }.Order(StringComparer.Ordinal), rows);
    }

    [Fact]
    public void A_key_with_null_values_stays_apart_from_the_rolled_up_set()
    {
        // Two groups print as (null, 2): the real NULL key and the grand total; GROUPING tells them apart.
        var rows = Run("""
            SELECT k, COUNT(*), GROUPING(k) FROM (VALUES (CAST(NULL AS STRING)), (CAST(NULL AS STRING))) AS t(k)
            GROUP BY GROUPING SETS ((k), ())
            """, "k STRING, n BIGINT, g BIGINT");
        Assert.Equal(["[null, 2, 0]", "[null, 2, 1]"], rows);
    }

    [Fact]
    public void Grouping_of_an_expression_that_is_not_grouped_is_refused_where_written()
    {
        var session = new SqlSession(TextWriter.Null, TextWriter.Null);
        var e = Assert.Throws<SqlParseException>(() => session.Execute($"""
            SELECT supplier_id, GROUPING(product_id), COUNT(*)
            FROM {Products} GROUP BY ROLLUP (supplier_id)
            """));
        Assert.Contains("line 1, column 30", e.Message);
        Assert.Contains("must be a GROUP BY expression", e.Message);
    }
}
