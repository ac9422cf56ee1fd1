namespace Eddy.Connectors.Postgres.Tests;

/// <summary>ARRAY, MAP and ROW columns: ARRAY&lt;scalar&gt; as PostgreSQL arrays, the rest as jsonb.</summary>
public class NestedTypeTests
{
    private static readonly PostgresSinkSettings NoTimer = new(FlushInterval: TimeSpan.Zero);

    private static readonly DataType Point = DataType.RowOf(new Column("x", DataType.Int), new Column("label", DataType.String));

    private static Schema NestedSchema(bool keyed) => Schema.Of(
        ("k", keyed ? DataType.Int.NotNull() : DataType.Int),
        ("ints", DataType.ArrayOf(DataType.Int)),
        ("names", DataType.ArrayOf(DataType.String)),
        ("amounts", DataType.ArrayOf(DataType.Decimal(10, 2))),
        ("times", DataType.ArrayOf(DataType.Timestamp3)),
        ("attrs", DataType.MapOf(DataType.String, DataType.BigInt)),
        ("point", Point),
        ("points", DataType.ArrayOf(Point)));

    private static Row Sample(int k, int n) => Row.Of(
        k,
        new object?[] { n, null, n + 1 },
        new object?[] { "a,b", "q\"uote", "" },
        new object?[] { 1.25m, -n * 1000.5m },
        new object?[] { new DateTime(2024, 1, 1, 10, 0, 0, 123) },
        new Dictionary<object, object?> { ["hits"] = (long)n, ["none"] = null },
        Row.Of(n, "p"),
        new object?[] { Row.Of(1, "first"), Row.Of(2, null) });

    private static string Select(string table) => $"""
        SELECT k, ints::text, names::text, amounts::text, times::text, attrs->>'hits', attrs ? 'none', attrs->'none' = 'null'::jsonb,
               point->>'x', point->>'label', jsonb_array_length(points), points->1->>'label' IS NULL, points->0->>'label'
        FROM {table} ORDER BY k
        """;

    private static object?[] Expected(int k, int n) =>
    [
        k, $"{{{n},NULL,{n + 1}}}", "{\"a,b\",\"q\\\"uote\",\"\"}", $"{{1.25,{(-n * 1000.5m).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)}}}",
        "{\"2024-01-01 10:00:00.123\"}", n.ToString(System.Globalization.CultureInfo.InvariantCulture), true, true,
        n.ToString(System.Globalization.CultureInfo.InvariantCulture), "p", 2, true, "first",
    ];

    [Fact]
    public void Create_table_makes_arrays_and_jsonb_and_append_writes_them()
    {
        string table = PgServer.UniqueName("nested_append");
        var sink = PostgresSink.Open(PgServer.ConnectionString, table, NestedSchema(keyed: false), [], NoTimer with { MaxRows = 2 }, createTable: true);
        var types = PgServer.Query($"SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = '{table}'::regclass AND attnum > 0 ORDER BY attnum");
        Assert.Equal(
            [["k", "integer"], ["ints", "integer[]"], ["names", "text[]"], ["amounts", "numeric(10,2)[]"], ["times", "timestamp(3) without time zone[]"],
             ["attrs", "jsonb"], ["point", "jsonb"], ["points", "jsonb"]],
            types);

        SinkTests.WriteBatches(sink, Enumerable.Range(0, 5).Select(i => (RowKind.Insert, Sample(i, i * 10))).ToArray(),
            [(RowKind.Insert, Row.Of(9, Array.Empty<object?>(), null, null, null, new Dictionary<object, object?>(), null, Array.Empty<object?>()))]);

        var rows = PgServer.Query(Select(table));
        Assert.Equal(6, rows.Count);
        for (int i = 0; i < 5; i++) Assert.Equal(Expected(i, i * 10), rows[i]);
        var empty = PgServer.Query($"SELECT ints::text, names IS NULL, attrs::text, point IS NULL, points::text FROM {table} WHERE k = 9");
        Assert.Equal([["{}", true, "{}", true, "[]"]], empty);
    }

    [Fact]
    public void Upsert_replaces_nested_values_by_key()
    {
        string table = PgServer.UniqueName("nested_upsert");
        PgServer.Execute($"""
            CREATE TABLE {table} (k integer PRIMARY KEY, ints bigint[], names varchar(20)[], amounts numeric(12,3)[], times timestamp[],
                                  attrs jsonb, point json, points jsonb)
            """);
        var sink = PostgresSink.Open(PgServer.ConnectionString, table, NestedSchema(keyed: true), ["k"], NoTimer);
        Assert.True(sink.IsUpsert);
        SinkTests.WriteBatches(sink,
            [(RowKind.Insert, Sample(1, 1)), (RowKind.Insert, Sample(2, 2)), (RowKind.Insert, Sample(3, 3))],
            [(RowKind.UpdateBefore, Sample(2, 2)), (RowKind.UpdateAfter, Sample(2, 20)), (RowKind.Delete, Sample(3, 3))]);

        var rows = PgServer.Query($"""
            SELECT k, ints::text, attrs->>'hits', point->>'x', amounts::text FROM {table} ORDER BY k
            """);
        Assert.Equal([[1, "{1,NULL,2}", "1", "1", "{1.250,-1000.500}"], [2, "{20,NULL,21}", "20", "20", "{1.250,-20010.000}"]], rows);
    }

    [Fact]
    public void Array_of_the_wrong_element_type_is_refused_with_both_sides()
    {
        string table = PgServer.UniqueName("nested_bad");
        PgServer.Execute($"CREATE TABLE {table} (ints integer[], attrs text)");
        var e = Assert.Throws<PostgresConfigException>(() =>
            PostgresSink.Open(PgServer.ConnectionString, table, Schema.Of(("ints", DataType.ArrayOf(DataType.String)), ("attrs", DataType.String)), [], NoTimer));
        Assert.Contains("column 'ints' is integer[] but the DDL declares ARRAY<STRING>", e.Message);
        Assert.Contains("_text", e.Message);

        var map = Assert.Throws<PostgresConfigException>(() =>
            PostgresSink.Open(PgServer.ConnectionString, table, Schema.Of(("ints", DataType.ArrayOf(DataType.Int)), ("attrs", DataType.MapOf(DataType.String, DataType.Int))), [], NoTimer));
        Assert.Contains("column 'attrs' is text but the DDL declares MAP<STRING, INT>", map.Message);
        Assert.Contains("jsonb", map.Message);
    }

    [Fact]
    public void Nested_primary_key_is_refused()
    {
        var e = Assert.Throws<PostgresConfigException>(() => PostgresSink.Open(PgServer.ConnectionString, PgServer.UniqueName("nested_key"),
            Schema.Of(("p", Point.NotNull()), ("n", DataType.Int)), ["p"], NoTimer, createTable: true));
        Assert.Contains("PRIMARY KEY column 'p' is ROW<x INT, label STRING> NOT NULL; key columns must be scalar", e.Message);
    }

    [Fact]
    public void A_refused_array_row_is_shown_with_its_elements()
    {
        string table = PgServer.UniqueName("nested_check");
        PgServer.Execute($"CREATE TABLE {table} (k integer, ints integer[] CHECK (cardinality(ints) < 3))");
        var sink = PostgresSink.Open(PgServer.ConnectionString, table, Schema.Of(("k", DataType.Int), ("ints", DataType.ArrayOf(DataType.Int))), [], NoTimer);
        var e = Assert.Throws<InvalidOperationException>(() => SinkTests.WriteBatches(sink,
            [(RowKind.Insert, Row.Of(1, new object?[] { 1 })), (RowKind.Insert, Row.Of(2, new object?[] { 1, null, 3 }))]));
        Assert.Contains("ints=[1, null, 3]", e.Message);
    }
}
