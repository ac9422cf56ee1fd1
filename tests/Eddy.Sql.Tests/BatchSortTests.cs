using System.Globalization;

namespace Eddy.Sql.Tests;

/// <summary>
/// ORDER BY in batch mode on keys that are not output columns, as Flink allows: expressions of the output, columns of
/// the FROM clause that are not selected, and aggregates not selected. Expected rows: LINQ over the same input.
/// </summary>
public sealed class BatchSortTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("eddy-batch-sort-").FullName;

    public void Dispose()
    {
        Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    private sealed record Order(int Id, string Product, int Amount, int Weight);

    private static readonly Order[] Orders =
    [
        new(1, "pen", 30, 2), new(2, "ink", 10, 9), new(3, "pad", 25, 1), new(4, "pen", 5, 7), new(5, "cap", 40, 3),
        new(6, "ink", 15, 4), new(7, "box", 20, 8), new(8, "pad", 35, 6),
    ];

    private List<string> Run(string query)
    {
        string path = Path.Combine(dir, "orders.csv");
        File.WriteAllLines(path, Orders.Select(o => string.Create(CultureInfo.InvariantCulture, $"{o.Id},{o.Product},{o.Amount},{o.Weight}")));
        return SessionTests.Run($"""
            SET 'execution.runtime-mode' = 'batch';
            CREATE TABLE orders (id INT, product STRING, amount INT, weight INT) WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'csv');
            {query}
            """);
    }

    [Fact]
    public void Orders_by_a_column_that_is_not_selected()
    {
        var expected = Orders.OrderBy(o => o.Weight).Select(o => $"+I[{o.Id}]").ToList();
        Assert.Equal(expected, Run("SELECT id FROM orders ORDER BY weight;"));
    }

    [Fact]
    public void Orders_by_an_expression_of_the_output_with_a_limit()
    {
        var expected = Orders.OrderByDescending(o => o.Amount * 10 - o.Id).Take(3).Select(o => $"+I[{o.Id}, {o.Amount}]").ToList();
        Assert.Equal(expected, Run("SELECT id, amount FROM orders ORDER BY amount * 10 - id DESC LIMIT 3;"));
    }

    [Fact]
    public void Orders_groups_by_an_aggregate_that_is_not_selected()
    {
        var expected = Orders.GroupBy(o => o.Product)
            .OrderBy(g => g.Sum(o => o.Weight)).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"+I[{g.Key}, {g.Count()}]").ToList();
        Assert.Equal(expected, Run("SELECT product, COUNT(*) AS n FROM orders GROUP BY product ORDER BY SUM(weight), product;"));
    }

    [Fact]
    public void A_column_not_selected_cannot_order_a_distinct_select()
    {
        var e = Assert.Throws<Eddy.Sql.Parsing.SqlParseException>(() => Run("SELECT DISTINCT product FROM orders ORDER BY weight;"));
        Assert.Contains("weight", e.Message, StringComparison.Ordinal);
    }
}
