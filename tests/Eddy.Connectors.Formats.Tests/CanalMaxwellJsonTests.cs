using System.Text;
using Eddy.Connectors.Formats.Debezium;

namespace Eddy.Connectors.Formats.Tests;

public class CanalMaxwellJsonTests
{
    private static readonly Schema Products = Schema.Of(
        ("id", DataType.BigInt), ("name", DataType.String), ("description", DataType.String), ("weight", DataType.Decimal(10, 2)));

    /// <summary>Flink's documented Canal event (docs: formats/canal): product 111's weight changes from 5.15 to 5.18.</summary>
    private const string CanalUpdate = """
        {"data": [{"id": "111", "name": "scooter", "description": "Big 2-wheel scooter", "weight": "5.18"}],
         "database": "inventory", "es": 1589373560000, "id": 9, "isDdl": false,
         "mysqlType": {"id": "INTEGER", "name": "VARCHAR(255)", "description": "VARCHAR(512)", "weight": "FLOAT"},
         "old": [{"weight": "5.15"}], "pkNames": ["id"], "sql": "",
         "sqlType": {"id": 4, "name": 12, "description": 12, "weight": 7},
         "table": "products", "ts": 1589373560798, "type": "UPDATE"}
        """;

    private static List<Row> Decode(IValueFormat format, string json, IReadOnlyList<string>? metadata = null, Dictionary<string, string>? options = null)
    {
        var decoder = format.CreateDecoder(new FormatContext("t", Products, metadata ?? [], n => options?.GetValueOrDefault(n), _ => null));
        var rows = new List<Row>();
        decoder.Decode(Encoding.UTF8.GetBytes(json), rows);
        return rows;
    }

    [Fact]
    public void Flinks_documented_canal_update_keeps_unchanged_fields_in_the_old_row()
    {
        var rows = Decode(new CanalJsonFormat(), CanalUpdate, ["database", "table", "pk-names", "ingestion-timestamp", "event-timestamp", "sql-type"]);
        Assert.Equal([RowKind.UpdateBefore, RowKind.UpdateAfter], rows.Select(r => r.Kind));
        Assert.Equal(new object?[] { 111L, "scooter", "Big 2-wheel scooter", 5.15m }, rows[0].Fields[..4].ToArray());
        Assert.Equal(new object?[] { 111L, "scooter", "Big 2-wheel scooter", 5.18m }, rows[1].Fields[..4].ToArray());
        Assert.Equal("inventory", rows[0][4]);
        Assert.Equal("products", rows[0][5]);
        Assert.Equal(new object?[] { "id" }, (object?[])rows[0][6]!);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1589373560798), rows[1][7]);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1589373560000), rows[1][8]);
        Assert.Equal(7, ((Dictionary<object, object?>)rows[1][9]!)["weight"]);
    }

    [Fact]
    public void Canal_inserts_and_deletes_give_a_row_each_ddl_is_skipped_and_filters_keep_the_asked_tables()
    {
        const string insert = """{"data":[{"id":"1","name":"a","weight":"1.5"},{"id":"2","name":"b","weight":null}],"database":"inventory","table":"products","type":"INSERT"}""";
        Assert.Equal([RowKind.Insert, RowKind.Insert], Decode(new CanalJsonFormat(), insert).Select(r => r.Kind));
        var deleted = Decode(new CanalJsonFormat(), insert.Replace("INSERT", "DELETE"));
        Assert.Equal(new object?[] { 2L, "b", null, null }, deleted[1].Fields.ToArray());
        Assert.Equal(RowKind.Delete, deleted[1].Kind);
        Assert.Empty(Decode(new CanalJsonFormat(), """{"data":null,"database":"inventory","table":"products","type":"CREATE","isDdl":true,"sql":"CREATE TABLE ..."}"""));
        Assert.Empty(Decode(new CanalJsonFormat(), insert, options: new() { ["canal-json.table.include"] = "orders|custom.*" }));
        Assert.Equal(2, Decode(new CanalJsonFormat(), insert, options: new() { ["canal-json.database.include"] = "inv.*", ["canal-json.table.include"] = "prod.*" }).Count);
        Assert.Empty(Decode(new CanalJsonFormat(), insert, options: new() { ["canal-json.table.include"] = "prod" }));
    }

    [Theory]
    [InlineData("""{"data":[{"id":"1"}],"type":"ALTER"}""", "unknown \"type\" value \"ALTER\"")]
    [InlineData("""{"data":[{"id":"1"}],"type":"UPDATE"}""", "\"old\" is missing or null")]
    [InlineData("""{"data":[{"id":"x"}],"type":"INSERT"}""", "'data.id'")]
    public void Bad_canal_events_are_errors_quoting_the_message(string json, string expected)
    {
        var e = Assert.Throws<RecordFormatException>(() => Decode(new CanalJsonFormat(), json));
        Assert.Contains(expected, e.Message);
        Assert.Contains("corrupt Canal JSON message", e.Message);
    }

    [Fact]
    public void Maxwell_insert_update_delete_with_the_old_fields_of_an_update()
    {
        var maxwell = new MaxwellJsonFormat();
        var inserted = Decode(maxwell, """{"database":"test","table":"product","data":{"id":111,"name":"scooter","description":"Big 2-wheel scooter","weight":5.18},"type":"insert","ts":1596684883,"xid":7125,"xoffset":0,"primary_key_columns":["id"]}""",
            ["database", "table", "primary-key-columns", "ingestion-timestamp"]);
        Assert.Equal(RowKind.Insert, Assert.Single(inserted).Kind);
        Assert.Equal(new object?[] { 111L, "scooter", "Big 2-wheel scooter", 5.18m, "test", "product" }, inserted[0].Fields[..6].ToArray());
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1596684883), inserted[0][7]);
        // "old" holds the changed fields, a null among them (description was NULL before): it stays NULL.
        var updated = Decode(maxwell, """{"database":"test","table":"product","type":"update","ts":1596684893,"data":{"id":111,"name":"scooter","description":"Big","weight":5.15},"old":{"weight":5.18,"description":null}}""");
        Assert.Equal(new object?[] { 111L, "scooter", null, 5.18m }, updated[0].Fields.ToArray());
        Assert.Equal(RowKind.UpdateBefore, updated[0].Kind);
        Assert.Equal(new object?[] { 111L, "scooter", "Big", 5.15m }, updated[1].Fields.ToArray());
        var deleted = Decode(maxwell, """{"database":"test","table":"product","type":"delete","data":{"id":111,"name":"scooter","description":"Big","weight":5.15}}""");
        Assert.Equal(RowKind.Delete, Assert.Single(deleted).Kind);
        var e = Assert.Throws<RecordFormatException>(() => Decode(maxwell, """{"type":"bootstrap-insert","data":{"id":1}}"""));
        Assert.Contains("unknown \"type\" value \"bootstrap-insert\"", e.Message);
    }
}
