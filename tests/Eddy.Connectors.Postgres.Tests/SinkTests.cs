using Eddy.Runtime;

namespace Eddy.Connectors.Postgres.Tests;

public class SinkTests
{
    private static readonly PostgresSinkSettings NoTimer = new(FlushInterval: TimeSpan.Zero);

    internal static void WriteBatches(Sink<Row> sink, params (RowKind Kind, Row Row)[][] batches)
    {
        using var writer = sink.CreateWriter(new SinkWriterContext(0, 1, TimeProvider.System, new SubtaskMetrics("sink", 0)));
        foreach (var records in batches)
        {
            var batch = new Batch<Row>();
            foreach (var (kind, row) in records) batch.Add(row, 0, kind);
            writer.Write(batch);
        }
        writer.Flush();
    }

    private static (RowKind, Row) I(params object?[] f) => (RowKind.Insert, Row.Of(f));

    [Fact]
    public void Append_writes_processed_events_by_copy_in_buffers_of_max_rows()
    {
        string table = PgServer.UniqueName("processed_events");
        PgServer.Execute($"CREATE TABLE {table} (ip text, event_timestamp timestamp(3), referrer text, host text, url text)");
        var schema = Schema.Of(("ip", DataType.String), ("event_timestamp", DataType.Timestamp3), ("referrer", DataType.String),
            ("host", DataType.String), ("url", DataType.String));
        var sink = PostgresSink.Open(PgServer.ConnectionString, table, schema, [], NoTimer with { MaxRows = 3 });
        Assert.False(sink.IsUpsert);
        var t0 = new DateTime(2024, 1, 1, 10, 0, 1, 123);
        var batch = Enumerable.Range(0, 7).Select(i => I($"10.0.0.{i}", t0.AddSeconds(i), i % 2 == 0 ? null : "https://ref", "a.example", $"/p/{i}")).ToArray();
        WriteBatches(sink, batch);

        var rows = PgServer.Query($"SELECT ip, event_timestamp, referrer, host, url FROM {table} ORDER BY url");
        Assert.Equal(7, rows.Count);
        for (int i = 0; i < 7; i++)
        {
            Assert.Equal([$"10.0.0.{i}", t0.AddSeconds(i), i % 2 == 0 ? null : "https://ref", "a.example", $"/p/{i}"], rows[i]);
        }
    }

    [Fact]
    public void Append_rejects_retractions()
    {
        string table = PgServer.UniqueName("append_only");
        PgServer.Execute($"CREATE TABLE {table} (k text)");
        var sink = PostgresSink.Open(PgServer.ConnectionString, table, Schema.Of(("k", DataType.String)), [], NoTimer);
        var e = Assert.Throws<InvalidOperationException>(() => WriteBatches(sink, [(RowKind.Delete, Row.Of("a"))]));
        Assert.Contains("PRIMARY KEY", e.Message);
    }

    [Fact]
    public void Upsert_late_refire_corrects_the_count_instead_of_adding_a_row()
    {
        string table = PgServer.UniqueName("processed_events_aggregated");
        PgServer.Execute($"CREATE TABLE {table} (event_hour timestamp(3), host text, num_hits bigint, PRIMARY KEY (event_hour, host))");
        var schema = Schema.Of(("event_hour", DataType.Timestamp3), ("host", DataType.String), ("num_hits", DataType.BigInt));
        var sink = PostgresSink.Open(PgServer.ConnectionString, table, schema, ["event_hour", "host"], NoTimer);
        Assert.True(sink.IsUpsert);
        var w1 = new DateTime(2024, 1, 1, 10, 0, 0);
        var w2 = w1.AddMinutes(1);
        WriteBatches(sink,
            [I(w1, "a", 2L), I(w1, "b", 1L), I(w2, "a", 1L)],
            // The re-fire of window w1 for host a after a late event: -U of the old count, +U of the new.
            [(RowKind.UpdateBefore, Row.Of(w1, "a", 2L)), (RowKind.UpdateAfter, Row.Of(w1, "a", 3L))]);

        var rows = PgServer.Query($"SELECT event_hour, host, num_hits FROM {table} ORDER BY event_hour, host");
        Assert.Equal([[w1, "a", 3L], [w1, "b", 1L], [w2, "a", 1L]], rows);
    }

    [Fact]
    public void Upsert_collapses_changes_per_key_within_a_batch_and_deletes()
    {
        string table = PgServer.UniqueName("counts");
        PgServer.Execute($"CREATE TABLE {table} (k text PRIMARY KEY, n int)");
        var schema = Schema.Of(("k", DataType.String.NotNull()), ("n", DataType.Int));
        var sink = PostgresSink.Open(PgServer.ConnectionString, table, schema, ["k"], NoTimer);
        WriteBatches(sink,
            [I("a", 1), I("b", 1), I("c", 1), I("d", 1)],
            [
                (RowKind.UpdateBefore, Row.Of("a", 1)), (RowKind.UpdateAfter, Row.Of("a", 2)),
                (RowKind.UpdateBefore, Row.Of("a", 2)), (RowKind.UpdateAfter, Row.Of("a", 3)),
                (RowKind.Delete, Row.Of("b", 1)),
                (RowKind.Delete, Row.Of("c", 1)), (RowKind.Insert, Row.Of("c", 7)),
                (RowKind.Insert, Row.Of("e", 5)), (RowKind.Delete, Row.Of("e", 5)),
                (RowKind.Insert, Row.Of("f", null)),
            ]);
        var rows = PgServer.Query($"SELECT k, n FROM {table} ORDER BY k");
        Assert.Equal([["a", 3], ["c", 7], ["d", 1], ["f", null]], rows);
    }

    [Fact]
    public void Upsert_deletes_the_row_of_a_retraction_whose_update_goes_to_another_key()
    {
        // A join of an updating input keyed by (left id, right id): when the left row moves to another group, its
        // pairs with the old group are retracted (-U) and pairs with the new group come as +U under other keys.
        // Flink's JDBC sink deletes by key on UPDATE_BEFORE as on DELETE; ignoring the -U would leave the old pair.
        string table = PgServer.UniqueName("pairs");
        PgServer.Execute($"CREATE TABLE {table} (l bigint, r bigint, grp text, PRIMARY KEY (l, r))");
        var schema = Schema.Of(("l", DataType.BigInt.NotNull()), ("r", DataType.BigInt.NotNull()), ("grp", DataType.String));
        var sink = PostgresSink.Open(PgServer.ConnectionString, table, schema, ["l", "r"], NoTimer);
        WriteBatches(sink,
            [I(1L, 10L, "a"), I(1L, 11L, "a"), I(2L, 20L, "b")],
            [
                (RowKind.UpdateBefore, Row.Of(1L, 10L, "a")), (RowKind.UpdateBefore, Row.Of(1L, 11L, "a")),
                (RowKind.UpdateAfter, Row.Of(1L, 20L, "b")),
            ],
            // A retraction and its update under one key, in separate batches: the key ends with the update.
            [(RowKind.UpdateBefore, Row.Of(2L, 20L, "b"))],
            [(RowKind.UpdateAfter, Row.Of(2L, 20L, "c"))]);
        var rows = PgServer.Query($"SELECT l, r, grp FROM {table} ORDER BY l, r");
        Assert.Equal([[1L, 20L, "b"], [2L, 20L, "c"]], rows);
    }

    [Fact]
    public void A_dropped_connection_is_reopened_and_the_buffer_written_again()
    {
        string table = PgServer.UniqueName("retry");
        string app = PgServer.UniqueName("eddy_retry");
        PgServer.Execute($"CREATE TABLE {table} (k text PRIMARY KEY, n int)");
        var conn = new Npgsql.NpgsqlConnectionStringBuilder(PgServer.ConnectionString) { ApplicationName = app }.ConnectionString;
        var sink = PostgresSink.Open(conn, table, Schema.Of(("k", DataType.String), ("n", DataType.Int)), ["k"], NoTimer);
        using var writer = sink.CreateWriter(new SinkWriterContext(0, 1, TimeProvider.System, new SubtaskMetrics("sink", 0)));
        var batch = new Batch<Row>();
        batch.Add(Row.Of("a", 1), 0, RowKind.Insert);
        writer.Write(batch);
        writer.Flush();
        // The server ends the sink's session, as a restart or failover would.
        Assert.Equal(1, PgServer.Query($"SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity WHERE application_name = '{app}'")[0][0]);
        batch.Clear();
        batch.Add(Row.Of("a", 2), 0, RowKind.UpdateAfter);
        batch.Add(Row.Of("b", 1), 0, RowKind.Insert);
        writer.Write(batch);
        writer.Flush();
        Assert.Equal([["a", 2], ["b", 1]], PgServer.Query($"SELECT k, n FROM {table} ORDER BY k"));
    }

    [Fact]
    public void Without_retries_a_dropped_connection_fails_the_write()
    {
        string table = PgServer.UniqueName("no_retry");
        string app = PgServer.UniqueName("eddy_noretry");
        PgServer.Execute($"CREATE TABLE {table} (k text)");
        var conn = new Npgsql.NpgsqlConnectionStringBuilder(PgServer.ConnectionString) { ApplicationName = app }.ConnectionString;
        var sink = PostgresSink.Open(conn, table, Schema.Of(("k", DataType.String)), [], NoTimer with { MaxRetries = 0 });
        using var writer = sink.CreateWriter(new SinkWriterContext(0, 1, TimeProvider.System, new SubtaskMetrics("sink", 0)));
        var batch = new Batch<Row>();
        batch.Add(Row.Of("a"), 0, RowKind.Insert);
        writer.Write(batch);
        writer.Flush();
        PgServer.Query($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{app}'");
        writer.Write(batch);
        var e = Assert.Throws<InvalidOperationException>(writer.Flush);
        Assert.Contains("after 1 attempts", e.Message);
        Assert.IsAssignableFrom<Npgsql.NpgsqlException>(e.InnerException);
    }

    [Fact]
    public void Timed_flush_writes_buffered_rows_without_end_of_input()
    {
        string table = PgServer.UniqueName("timed");
        PgServer.Execute($"CREATE TABLE {table} (k text)");
        var sink = PostgresSink.Open(PgServer.ConnectionString, table, Schema.Of(("k", DataType.String)), [],
            new PostgresSinkSettings(MaxRows: 1000, FlushInterval: TimeSpan.FromMilliseconds(100)));
        using var writer = sink.CreateWriter(new SinkWriterContext(0, 1, TimeProvider.System, new SubtaskMetrics("sink", 0)));
        var batch = new Batch<Row>();
        batch.Add(Row.Of("x"), 0, RowKind.Insert);
        writer.Write(batch);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (PgServer.Query($"SELECT count(*) FROM {table}")[0][0] is long n && n == 0 && DateTime.UtcNow < deadline) Thread.Sleep(20);
        Assert.Equal(1L, PgServer.Query($"SELECT count(*) FROM {table}")[0][0]);
    }

    public static readonly Schema AllTypes = Schema.Of(
        ("id", DataType.Int.NotNull()), ("s", DataType.String), ("b", DataType.Boolean), ("ti", DataType.TinyInt), ("si", DataType.SmallInt),
        ("i", DataType.Int), ("bi", DataType.BigInt), ("f", DataType.Float), ("d", DataType.Double), ("dec", DataType.Decimal(10, 3)),
        ("dt", DataType.Date), ("tm", DataType.Time), ("ts", DataType.Timestamp3), ("ltz", DataType.TimestampLtz3), ("by", new DataType(TypeKind.Binary)));

    public static readonly object?[] AllValues =
    [
        1, "héllo \"q\" \t", true, (sbyte)-7, (short)-300, 123456, 9_000_000_000L, 1.5f, 2.25, 12345.678m,
        new DateOnly(2024, 2, 29), new TimeOnly(13, 45, 10, 250), new DateTime(2024, 1, 1, 10, 0, 1, 123),
        new DateTimeOffset(2024, 1, 1, 12, 0, 0, 5, TimeSpan.Zero), new byte[] { 0, 1, 0xff },
    ];

    private static void AssertAllTypesRoundTrip(string table)
    {
        var rows = PgServer.Query($"SELECT * FROM {table} ORDER BY id");
        Assert.Equal(2, rows.Count);
        var expected = (object?[])AllValues.Clone();
        expected[3] = (short)-7; // PostgreSQL has no one-byte integer: TINYINT is stored as smallint
        expected[13] = new DateTime(2024, 1, 1, 12, 0, 0, 5, DateTimeKind.Utc);
        Assert.Equal(expected, rows[0]);
        Assert.Equal(2, rows[1][0]);
        Assert.All(rows[1].Skip(1), Assert.Null);
    }

    private const string AllTypesDdl = "(id int PRIMARY KEY, s text, b boolean, ti smallint, si smallint, i integer, bi bigint, f real, " +
                                       "d double precision, dec numeric(10,3), dt date, tm time, ts timestamp(3), ltz timestamptz, by bytea)";

    [Fact]
    public void Every_type_round_trips_through_copy()
    {
        string table = PgServer.UniqueName("types_copy");
        PgServer.Execute($"CREATE TABLE {table} {AllTypesDdl}");
        var sink = PostgresSink.Open(PgServer.ConnectionString, table, AllTypes, [], NoTimer);
        WriteBatches(sink, [I(AllValues), I([2, .. new object?[14]])]);
        AssertAllTypesRoundTrip(table);
    }

    [Fact]
    public void Every_type_round_trips_through_upsert()
    {
        string table = PgServer.UniqueName("types_upsert");
        PgServer.Execute($"CREATE TABLE {table} {AllTypesDdl}");
        var sink = PostgresSink.Open(PgServer.ConnectionString, table, AllTypes, ["id"], NoTimer);
        WriteBatches(sink, [I(AllValues), I([2, .. new object?[14]])], [I(AllValues)]);
        AssertAllTypesRoundTrip(table);
    }

    [Fact]
    public void Narrower_ddl_types_are_widened_into_wider_columns()
    {
        string table = PgServer.UniqueName("widen");
        PgServer.Execute($"CREATE TABLE {table} (a bigint, b double precision, c varchar(20))");
        var sink = PostgresSink.Open(PgServer.ConnectionString, table,
            Schema.Of(("a", DataType.Int), ("b", DataType.Float), ("c", DataType.String)), [], NoTimer);
        WriteBatches(sink, [I(42, 0.5f, "v")]);
        Assert.Equal([[42L, 0.5, "v"]], PgServer.Query($"SELECT a, b, c FROM {table}"));
    }
}

public class EncodingTests
{
    private static readonly PostgresSinkSettings NoTimer = new(FlushInterval: TimeSpan.Zero);

    [Fact]
    public void Numeric_values_of_every_shape_are_encoded_exactly()
    {
        string table = PgServer.UniqueName("numerics");
        PgServer.Execute($"CREATE TABLE {table} (i int, n numeric)");
        decimal[] values =
        [
            0m, 1m, -1m, 0.0001m, -0.00001234m, 12345.6789m, 10000m, 100000000m, 0.1m, 1.10m, 9999.9999m,
            79228162514264337593543950335m, -79228162514264337593543950335m, 0.0000000000000000000000000001m, 123456789.000000001m,
        ];
        var sink = PostgresSink.Open(PgServer.ConnectionString, table, Schema.Of(("i", DataType.Int), ("n", DataType.Decimal(38, 28))), [], NoTimer);
        SinkTests.WriteBatches(sink, [.. values.Select((v, i) => (RowKind.Insert, Row.Of(i, v)))]);
        var rows = PgServer.Query($"SELECT i, n::text FROM {table} ORDER BY i");
        Assert.Equal(values.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)), rows.Select(r => (string)r[1]!));
    }

    [Fact]
    public void A_row_the_table_refuses_fails_the_write_and_is_shown()
    {
        string table = PgServer.UniqueName("refusing");
        PgServer.Execute($"CREATE TABLE {table} (k text, n int CHECK (n < 100))");
        var sink = PostgresSink.Open(PgServer.ConnectionString + ";Password=s3cret-pw", table, Schema.Of(("k", DataType.String), ("n", DataType.Int)), [], NoTimer);
        var e = Assert.Throws<InvalidOperationException>(() => SinkTests.WriteBatches(sink,
            [(RowKind.Insert, Row.Of("a", 1)), (RowKind.Insert, Row.Of("b", 2)), (RowKind.Insert, Row.Of("bad", 500)), (RowKind.Insert, Row.Of("c", 3))]));
        Assert.Contains("check constraint", e.Message);
        Assert.Contains("k='bad', n=500", e.Message);
        Assert.DoesNotContain("s3cret", e.ToString());
        Assert.Empty(PgServer.Query($"SELECT * FROM {table}"));
    }

    [Fact]
    public void An_upsert_the_table_refuses_fails_the_write_and_is_shown()
    {
        string table = PgServer.UniqueName("refusing_upsert");
        PgServer.Execute($"CREATE TABLE {table} (k text PRIMARY KEY, n int CHECK (n < 100))");
        var sink = PostgresSink.Open(PgServer.ConnectionString, table, Schema.Of(("k", DataType.String.NotNull()), ("n", DataType.Int)), ["k"], NoTimer);
        var e = Assert.Throws<InvalidOperationException>(() => SinkTests.WriteBatches(sink,
            [(RowKind.Insert, Row.Of("a", 1)), (RowKind.Insert, Row.Of("bad", 500))]));
        Assert.Contains("check constraint", e.Message);
        Assert.Contains("(bad, 500)", e.Message);
        Assert.Empty(PgServer.Query($"SELECT * FROM {table}"));
    }
}
