namespace Eddy.Connectors.Postgres.Tests;

public class CheckTests
{
    private static readonly PostgresSinkSettings Settings = new(FlushInterval: TimeSpan.Zero);

    private static PostgresConfigException Fails(string table, Schema schema, params string[] key) =>
        Assert.Throws<PostgresConfigException>(() => PostgresSink.Open(PgServer.ConnectionString, table, schema, key, Settings));

    [Fact]
    public void Missing_table_is_an_error_with_the_ddl()
    {
        var e = Fails(PgServer.UniqueName("absent"), Schema.Of(("k", DataType.String)));
        Assert.Contains("does not exist", e.Message);
        Assert.Contains("k STRING", e.Message);
        Assert.Contains("sink.create-table", e.Message);
    }

    [Fact]
    public void Missing_column_shows_both_sides()
    {
        string table = PgServer.UniqueName("missing_col");
        PgServer.Execute($"CREATE TABLE {table} (host text, hits bigint)");
        var e = Fails(table, Schema.Of(("host", DataType.String), ("num_hits", DataType.BigInt)));
        Assert.Contains("no column 'num_hits'", e.Message);
        Assert.Contains("DDL: (host STRING, num_hits BIGINT)", e.Message);
        Assert.Contains("table: (host text, hits bigint)", e.Message);
    }

    [Fact]
    public void Incompatible_type_shows_both_sides()
    {
        string table = PgServer.UniqueName("bad_type");
        PgServer.Execute($"CREATE TABLE {table} (host text, num_hits integer)");
        var e = Fails(table, Schema.Of(("host", DataType.String), ("num_hits", DataType.BigInt)));
        Assert.Contains("column 'num_hits' is integer but the DDL declares BIGINT", e.Message);
        Assert.Contains("int8", e.Message);
    }

    [Fact]
    public void Too_narrow_numeric_is_an_error()
    {
        string table = PgServer.UniqueName("narrow_dec");
        PgServer.Execute($"CREATE TABLE {table} (v numeric(5,1))");
        var e = Fails(table, Schema.Of(("v", DataType.Decimal(10, 3))));
        Assert.Contains("numeric(5,1)", e.Message);
        Assert.Contains("DECIMAL(10, 3)", e.Message);
    }

    [Fact]
    public void Primary_key_without_a_unique_index_is_an_error()
    {
        string table = PgServer.UniqueName("no_unique");
        PgServer.Execute($"CREATE TABLE {table} (host text, w timestamp, n bigint, UNIQUE (host))");
        var e = Fails(table, Schema.Of(("w", DataType.Timestamp3), ("host", DataType.String), ("n", DataType.BigInt)), "w", "host");
        Assert.Contains("PRIMARY KEY (w, host)", e.Message);
        Assert.Contains("(host)", e.Message);
    }

    [Fact]
    public void Unwritten_not_null_column_is_an_error()
    {
        string table = PgServer.UniqueName("unwritten");
        PgServer.Execute($"CREATE TABLE {table} (host text, required_col int NOT NULL, id serial)");
        var e = Fails(table, Schema.Of(("host", DataType.String)));
        Assert.Contains("required_col", e.Message);
        Assert.DoesNotContain("id,", e.Message.Split(';')[0]);
    }

    [Fact]
    public void Create_table_makes_the_table_from_the_ddl()
    {
        string table = PgServer.UniqueName("created");
        var schema = Schema.Of(("Event_Hour", DataType.Timestamp3), ("host", DataType.String), ("num_hits", DataType.BigInt),
            ("avg_v", DataType.Decimal(12, 2)));
        var sink = PostgresSink.Open(PgServer.ConnectionString, $"public.{table}", schema, ["Event_Hour", "host"], Settings, createTable: true);
        Assert.True(sink.IsUpsert);
        var cols = PgServer.Query($"""
            SELECT column_name::text, data_type::text, is_nullable::text FROM information_schema.columns
            WHERE table_name = '{table}' ORDER BY ordinal_position
            """);
        Assert.Equal([
            ["event_hour", "timestamp without time zone", "NO"], ["host", "text", "NO"], ["num_hits", "bigint", "YES"], ["avg_v", "numeric", "YES"],
        ], cols);
        // A second job start finds the table and checks it instead of creating it.
        PostgresSink.Open(PgServer.ConnectionString, table, schema, ["Event_Hour", "host"], Settings, createTable: true);
        SinkTests.WriteBatches(sink, [(RowKind.Insert, Row.Of(new DateTime(2024, 1, 1), "a", 1L, 1.25m))]);
        Assert.Equal([[new DateTime(2024, 1, 1), "a", 1L, 1.25m]], PgServer.Query($"SELECT * FROM {table}"));
    }
}
