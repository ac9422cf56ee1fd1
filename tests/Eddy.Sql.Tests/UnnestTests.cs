using System.Globalization;
using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

/// <summary>
/// Flink's array and map expansion (<c>CROSS JOIN UNNEST</c>, <c>LEFT JOIN UNNEST ... ON TRUE</c>, <c>WITH
/// ORDINALITY</c>) end to end against the same expansion computed here with LINQ.
/// </summary>
public class UnnestTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("eddy-unnest-").FullName;

    public void Dispose()
    {
        Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    private sealed record Order(int Id, string?[]? Tags, (string Key, int? Value)[]? Attrs);

    // An empty array, a NULL array, NULL and repeated elements; an empty map, a NULL map, a NULL value.
    private static readonly Order[] Orders =
    [
        new(1, ["a", "b"], [("x", 1), ("y", 2)]),
        new(2, [], []),
        new(3, null, null),
        new(4, ["c", null, "c"], [("z", null)]),
    ];

    private static string Json(string? s) => s is null ? "null" : $"\"{s}\"";

    private static string Show(object? v) => v is null ? "null" : Convert.ToString(v, CultureInfo.InvariantCulture)!;

    private List<string> Run(string select, string sinkColumns)
    {
        string path = Path.Combine(dir, "orders.jsonl");
        File.WriteAllLines(path, Orders.Select(o =>
            $$"""{"id":{{o.Id}},"tags":{{(o.Tags is null ? "null" : "[" + string.Join(",", o.Tags.Select(Json)) + "]")}},"attrs":{{(o.Attrs is null ? "null" : "{" + string.Join(",", o.Attrs.Select(a => $"\"{a.Key}\":{Show(a.Value)}")) + "}")}}}"""));
        var lines = SessionTests.Run($"""
            CREATE TABLE orders (id INT, tags ARRAY<STRING>, attrs MAP<STRING, INT>) WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json');
            CREATE TABLE o ({sinkColumns}) WITH ('connector' = 'print');
            INSERT INTO o {select};
            """);
        Assert.All(lines, l => Assert.StartsWith("+I[", l.Split("> ")[^1], StringComparison.Ordinal));
        return lines.Select(l => l.Split("> ")[^1]["+I[".Length..^1]).Order(StringComparer.Ordinal).ToList();
    }

    private static List<string> Sorted(IEnumerable<string> rows) => rows.Order(StringComparer.Ordinal).ToList();

    [Fact]
    public void Cross_join_unnest_gives_a_row_per_element()
    {
        var expected = Sorted(Orders.SelectMany(o => (o.Tags ?? []).Select(t => $"{o.Id}, {Show(t)}")));
        Assert.Equal(expected, Run("SELECT id, tag FROM orders CROSS JOIN UNNEST(tags) AS t (tag)", "id INT, tag STRING"));
        Assert.Equal(expected, Run("SELECT o.id, t.tag FROM orders AS o, UNNEST(o.tags) AS t (tag)", "id INT, tag STRING"));
    }

    [Fact]
    public void Left_join_unnest_on_true_keeps_rows_with_empty_or_null_arrays()
    {
        var expected = Sorted(Orders.SelectMany(o => o.Tags is { Length: > 0 } tags ? tags.Select(t => $"{o.Id}, {Show(t)}") : [$"{o.Id}, null"]));
        Assert.Equal(expected, Run("SELECT id, tag FROM orders LEFT JOIN UNNEST(tags) AS t (tag) ON TRUE", "id INT, tag STRING"));
    }

    [Fact]
    public void With_ordinality_numbers_the_elements_from_one()
    {
        var expected = Sorted(Orders.SelectMany(o => (o.Tags ?? []).Select((t, i) => $"{o.Id}, {Show(t)}, {i + 1}")));
        Assert.Equal(expected, Run("SELECT id, tag, pos FROM orders CROSS JOIN UNNEST(tags) WITH ORDINALITY AS t (tag, pos)", "id INT, tag STRING, pos INT"));
    }

    [Fact]
    public void Unnest_of_a_map_gives_key_and_value()
    {
        var expected = Sorted(Orders.SelectMany(o => (o.Attrs ?? []).Select(a => $"{o.Id}, {a.Key}, {Show(a.Value)}")));
        Assert.Equal(expected, Run("SELECT id, k, v FROM orders CROSS JOIN UNNEST(attrs) AS t (k, v)", "id INT, k STRING, v INT"));
        Assert.Equal(expected, Run("SELECT id, KEY, `VALUE` FROM orders CROSS JOIN UNNEST(attrs)", "id INT, k STRING, v INT"));
    }

    [Fact]
    public void Unnested_columns_can_be_filtered_and_computed()
    {
        var expected = Sorted(Orders.SelectMany(o => (o.Tags ?? []).Where(t => t is not null).Select(t => $"{o.Id}, {t!.ToUpperInvariant()}")));
        Assert.Equal(expected, Run("SELECT id, UPPER(tag) FROM orders CROSS JOIN UNNEST(tags) AS t (tag) WHERE tag IS NOT NULL", "id INT, tag STRING"));
    }

    [Theory]
    [InlineData("SELECT id, x FROM orders CROSS JOIN UNNEST(id) AS t (x)", "id) AS", "takes an ARRAY or a MAP")]
    [InlineData("SELECT id, x FROM orders LEFT JOIN UNNEST(tags) AS t (x) ON id > 1", "id > 1", "takes ON TRUE")]
    [InlineData("SELECT id, x, y FROM orders CROSS JOIN UNNEST(tags) AS t (x, y)", "UNNEST", "but 2 name(s)")]
    [InlineData("SELECT x FROM UNNEST(ARRAY['a']) AS t (x)", "UNNEST", "joined to the table")]
    public void Unsupported_forms_are_refused_where_written(string select, string at, string message)
    {
        string path = Path.Combine(dir, "orders.jsonl");
        File.WriteAllText(path, "");
        string script = $"""
            CREATE TABLE orders (id INT, tags ARRAY<STRING>, attrs MAP<STRING, INT>) WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json');
            CREATE TABLE o (id INT, x STRING, y STRING) WITH ('connector' = 'print');
            INSERT INTO o {select};
            """;
        var e = Assert.Throws<SqlParseException>(() => SessionTests.Run(script));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        int column = script.Split('\n')[2].IndexOf(at, StringComparison.Ordinal) + 1;
        Assert.Contains($"line 3, column {column}", e.Message, StringComparison.Ordinal);
    }
}
