using Eddy.Connectors;
using Eddy.Runtime;
using Eddy.Testing;
using Eddy.Sql.Connectors;

namespace Eddy.Tests;

public class DatagenTests
{
    private static readonly Schema Schema = Eddy.Schema.Of(
        ("id", DataType.Int), ("ip", DataType.String), ("age", DataType.Int), ("ts", DataType.Timestamp3));

    private static DatagenSource Source(Schema schema, params (string Key, string Value)[] options) =>
        new(schema, options.ToDictionary(o => o.Key, o => o.Value));

    [Fact]
    public void Sequence_emits_start_to_end_and_bounds_the_source()
    {
        var schema = Eddy.Schema.Of(("id", DataType.Int));
        var source = Source(schema, ("fields.id.kind", "sequence"), ("fields.id.start", "1"), ("fields.id.end", "10"));
        Assert.True(source.IsBounded);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => Row.Of(i)), SourceReading.Values(source));
    }

    [Fact]
    public void Sequence_is_partitioned_over_subtasks_like_flink()
    {
        var schema = Eddy.Schema.Of(("id", DataType.BigInt));
        var source = Source(schema, ("fields.id.kind", "sequence"), ("fields.id.start", "1"), ("fields.id.end", "10"));
        long[] Ids(int subtask) => SourceReading.Values(source, subtask, 3).Select(r => (long)r[0]!).ToArray();
        Assert.Equal([1L, 4, 7, 10], Ids(0));
        Assert.Equal([2L, 5, 8], Ids(1));
        Assert.Equal([3L, 6, 9], Ids(2));
    }

    [Fact]
    public void Sequence_values_have_the_column_type()
    {
        var schema = Eddy.Schema.Of(("a", DataType.TinyInt), ("b", DataType.SmallInt), ("c", DataType.Double),
            ("d", DataType.Decimal(10, 2)), ("e", DataType.String), ("f", DataType.Float));
        var options = new Dictionary<string, string>();
        foreach (var c in schema.Columns)
        {
            options[$"fields.{c.Name}.kind"] = "sequence";
            options[$"fields.{c.Name}.start"] = "5";
            options[$"fields.{c.Name}.end"] = "7";
        }
        var rows = SourceReading.Values(new DatagenSource(schema, options));
        Assert.Equal(
        [
            Row.Of((sbyte)5, (short)5, 5.0, 5m, "5", 5f),
            Row.Of((sbyte)6, (short)6, 6.0, 6m, "6", 6f),
            Row.Of((sbyte)7, (short)7, 7.0, 7m, "7", 7f),
        ], rows);
    }

    [Fact]
    public void The_shortest_sequence_ends_the_source()
    {
        var schema = Eddy.Schema.Of(("a", DataType.Int), ("b", DataType.Int));
        var source = Source(schema, ("fields.a.kind", "sequence"), ("fields.a.start", "1"), ("fields.a.end", "100"),
            ("fields.b.kind", "sequence"), ("fields.b.start", "0"), ("fields.b.end", "2"));
        Assert.Equal([Row.Of(1, 0), Row.Of(2, 1), Row.Of(3, 2)], SourceReading.Values(source));
    }

    [Fact]
    public void Number_of_rows_bounds_the_source_and_is_shared_among_subtasks()
    {
        var source = Source(Schema, ("number-of-rows", "10"), ("seed", "1"));
        Assert.True(source.IsBounded);
        Assert.Equal([4, 3, 3], Enumerable.Range(0, 3).Select(s => SourceReading.Values(source, s, 3).Count));
        Assert.Equal(10, SourceReading.Values(source).Count);
        Assert.Empty(SourceReading.Values(Source(Schema, ("number-of-rows", "0"))));
    }

    [Fact]
    public void Without_rows_or_sequences_the_source_is_unbounded()
    {
        var source = Source(Schema, ("seed", "1"));
        Assert.False(source.IsBounded);
        Assert.Equal(5000, SourceReading.Take(source, 5000).Count);
    }

    [Fact]
    public void Random_numbers_stay_within_min_and_max_and_cover_them()
    {
        var schema = Eddy.Schema.Of(("a", DataType.Int), ("b", DataType.Double), ("c", DataType.Decimal(5, 2)),
            ("d", DataType.BigInt), ("e", DataType.TinyInt));
        var source = Source(schema, ("number-of-rows", "2000"), ("seed", "7"),
            ("fields.a.min", "5"), ("fields.a.max", "7"),
            ("fields.b.min", "-1.5"), ("fields.b.max", "2.5"),
            ("fields.c.min", "1.00"), ("fields.c.max", "2.00"),
            ("fields.d.min", "-3"), ("fields.d.max", "-3"),
            ("fields.e.min", "-128"), ("fields.e.max", "127"));
        var rows = SourceReading.Values(source);
        Assert.Equal([5, 6, 7], rows.Select(r => (int)r[0]!).Distinct().Order());
        Assert.IsType<int>(rows[0][0]);
        Assert.All(rows, r => Assert.InRange((double)r[1]!, -1.5, 2.5));
        Assert.All(rows, r => Assert.InRange((decimal)r[2]!, 1.00m, 2.00m));
        Assert.All(rows, r => Assert.True(((decimal)r[2]!).Scale <= 2));
        Assert.All(rows, r => Assert.Equal(-3L, r[3]));
        Assert.IsType<sbyte>(rows[0][4]);
        Assert.True(rows.Select(r => (sbyte)r[4]!).Distinct().Count() > 200);
    }

    [Fact]
    public void Random_strings_are_hex_of_the_given_length()
    {
        var schema = Eddy.Schema.Of(("s", DataType.String), ("v", DataType.String), ("d", DataType.String), ("c", new DataType(TypeKind.Char, Precision: 4)));
        var source = Source(schema, ("number-of-rows", "500"), ("seed", "3"), ("fields.s.length", "8"),
            ("fields.v.length", "6"), ("fields.v.var-len", "true"));
        var rows = SourceReading.Values(source);
        Assert.All(rows, r => Assert.Matches("^[0-9a-f]{8}$", (string)r[0]!));
        Assert.All(rows, r => Assert.Matches("^[0-9a-f]{1,6}$", (string)r[1]!));
        Assert.Equal([1, 2, 3, 4, 5, 6], rows.Select(r => ((string)r[1]!).Length).Distinct().Order());
        Assert.All(rows, r => Assert.Equal(DatagenOptions.DefaultStringLength, ((string)r[2]!).Length));
        Assert.All(rows, r => Assert.Equal(4, ((string)r[3]!).Length));
    }

    [Fact]
    public void Every_sql_type_gets_values_of_its_clr_type()
    {
        var schema = Eddy.Schema.Of(
            ("str", DataType.String), ("chr", new DataType(TypeKind.Char, Precision: 3)), ("b", DataType.Boolean),
            ("ti", DataType.TinyInt), ("si", DataType.SmallInt), ("i", DataType.Int), ("bi", DataType.BigInt),
            ("f", DataType.Float), ("d", DataType.Double), ("dec", DataType.Decimal(10, 3)),
            ("date", DataType.Date), ("time", DataType.Time), ("ts", DataType.Timestamp3), ("ltz", DataType.TimestampLtz3),
            ("arr", DataType.ArrayOf(DataType.Int)), ("map", DataType.MapOf(DataType.String, DataType.BigInt)),
            ("row", DataType.RowOf(new Column("x", DataType.Int), new Column("y", DataType.String))));
        var rows = SourceReading.Values(Source(schema, ("number-of-rows", "100"), ("seed", "11"), ("fields.arr.length", "5")));
        Assert.Equal(100, rows.Count);
        foreach (var row in rows)
        {
            for (int i = 0; i < schema.Count; i++) Assert.IsType(schema[i].Type.ClrType, row[i]);
            Assert.Equal(5, ((object?[])row[14]!).Length);
            Assert.All((object?[])row[14]!, e => Assert.IsType<int>(e));
            Assert.InRange(((Dictionary<object, object?>)row[15]!).Count, 1, 3);
            var nested = (Row)row[16]!;
            Assert.IsType<int>(nested[0]);
            Assert.Equal(100, ((string)nested[1]!).Length);
            Assert.InRange(Math.Abs((decimal)row[9]!), 0m, 9_999_999.999m);
        }
        Assert.Contains(rows, r => (bool)r[2]!);
        Assert.Contains(rows, r => !(bool)r[2]!);
    }

    [Fact]
    public void Temporal_values_lie_within_max_past_of_the_reader_clock()
    {
        var schema = Eddy.Schema.Of(("ts", DataType.Timestamp3), ("ltz", DataType.TimestampLtz3), ("d", DataType.Date), ("t", DataType.Time), ("now", DataType.Timestamp3));
        var clock = new ManualClock(new DateTimeOffset(2024, 3, 10, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds());
        var start = clock.GetUtcNow();
        var source = Source(schema, ("number-of-rows", "1000"), ("seed", "5"), ("rows-per-second", "1000000"),
            ("fields.ts.max-past", "1 h"), ("fields.ltz.max-past", "10 s"), ("fields.d.max-past", "3 d"), ("fields.t.max-past", "1min"));
        var rows = SourceReading.Values(source, clock: clock);
        var end = clock.GetUtcNow();
        foreach (var r in rows)
        {
            var ts = (DateTime)r[0]!;
            Assert.Equal(DateTimeKind.Unspecified, ts.Kind);
            Assert.InRange(ts, start.UtcDateTime.AddHours(-1), end.UtcDateTime);
            Assert.Equal(0, ts.Ticks % TimeSpan.TicksPerMillisecond);
            Assert.InRange((DateTimeOffset)r[1]!, start.AddSeconds(-10), end);
            Assert.InRange((DateOnly)r[2]!, new DateOnly(2024, 3, 7), new DateOnly(2024, 3, 10));
            var t = (TimeOnly)r[3]!;
            Assert.Equal(0, t.Millisecond);
            Assert.InRange(t, new TimeOnly(11, 59), new TimeOnly(12, 0, 59));
            Assert.InRange((DateTime)r[4]!, start.UtcDateTime, end.UtcDateTime);
        }
        Assert.True(rows.Select(r => (DateTime)r[0]!).Min() < start.UtcDateTime.AddMinutes(-50));
    }

    [Theory]
    [InlineData("5000", 5000)]
    [InlineData("10 s", 10_000)]
    [InlineData("1min", 60_000)]
    [InlineData("2 h", 7_200_000)]
    [InlineData("1 d", 86_400_000)]
    [InlineData("250ms", 250)]
    public void Durations_are_read_in_flink_syntax(string text, long ms) =>
        Assert.Equal(TimeSpan.FromMilliseconds(ms), DatagenOptions.Parse("t", Eddy.Schema.Of(("ts", DataType.Timestamp3)), new Dictionary<string, string> { ["fields.ts.max-past"] = text }).Fields[0].MaxPast);

    [Fact]
    public void Null_rate_makes_that_share_null()
    {
        var schema = Eddy.Schema.Of(("a", DataType.Int), ("b", DataType.String));
        var rows = SourceReading.Values(Source(schema, ("number-of-rows", "10000"), ("seed", "2"),
            ("fields.a.null-rate", "1"), ("fields.b.null-rate", "0.25")));
        Assert.All(rows, r => Assert.Null(r[0]));
        Assert.InRange(rows.Count(r => r[1] is null), 2200, 2800);
    }

    [Fact]
    public void A_seed_makes_the_data_the_same_on_every_run()
    {
        var options = new Dictionary<string, string> { ["number-of-rows"] = "300", ["seed"] = "42" };
        var first = SourceReading.Values(new DatagenSource(Schema, options), 1, 2);
        var second = SourceReading.Values(new DatagenSource(Schema, options), 1, 2);
        Assert.Equal(first.Select(r => r.ToString()), second.Select(r => r.ToString()));
        var other = SourceReading.Values(new DatagenSource(Schema, new Dictionary<string, string> { ["number-of-rows"] = "300", ["seed"] = "43" }), 1, 2);
        Assert.NotEqual(first.Select(r => r[1]), other.Select(r => r[1]));
        var subtask0 = SourceReading.Values(new DatagenSource(Schema, options), 0, 2);
        Assert.NotEqual(first.Select(r => r[1]), subtask0.Select(r => r[1]));
    }

    [Fact]
    public void Rows_per_second_throttles_by_the_reader_clock()
    {
        var schema = Eddy.Schema.Of(("id", DataType.Int));
        var source = Source(schema, ("rows-per-second", "100"), ("seed", "1"));
        var clock = new ManualClock(1_000_000);
        using var reader = source.CreateReader(SourceReading.Context(0, 1, clock));
        var output = new SourceOutput<Row>();
        var (status, records) = SourceReading.ReadOnce(reader, output);
        Assert.Equal(SourceStatus.NothingAvailable, status);
        Assert.Empty(records);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(100, SourceReading.ReadOnce(reader, output).Records.Count);
        Assert.Equal(SourceStatus.NothingAvailable, SourceReading.ReadOnce(reader, output).Status);
        clock.Advance(TimeSpan.FromMilliseconds(250));
        Assert.Equal(25, SourceReading.ReadOnce(reader, output).Records.Count);
        // A reader that was held up catches up, at most a batch at a time.
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(Batch<Row>.DefaultCapacity, SourceReading.ReadOnce(reader, output).Records.Count);
        Assert.Equal(Batch<Row>.DefaultCapacity, SourceReading.ReadOnce(reader, output).Records.Count);
        Assert.Equal(3000 - 2 * Batch<Row>.DefaultCapacity, SourceReading.ReadOnce(reader, output).Records.Count);
        Assert.Empty(SourceReading.ReadOnce(reader, output).Records);
    }

    [Fact]
    public void Rows_per_second_is_shared_among_subtasks()
    {
        var schema = Eddy.Schema.Of(("id", DataType.Int));
        var source = Source(schema, ("rows-per-second", "1000"), ("seed", "1"));
        var clock = new ManualClock(0);
        using var reader = source.CreateReader(SourceReading.Context(2, 4, clock));
        var output = new SourceOutput<Row>();
        SourceReading.ReadOnce(reader, output);
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(500, SourceReading.ReadOnce(reader, output).Records.Count);
    }

    [Fact]
    public void Rate_limiter_counts_from_its_first_call()
    {
        var clock = new ManualClock(5_000);
        var limiter = new RateLimiter(clock, 10);
        Assert.Equal(0, limiter.Acquire(100));
        clock.Advance(TimeSpan.FromMilliseconds(99));
        Assert.Equal(0, limiter.Acquire(100));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, limiter.Acquire(100));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(4, limiter.Acquire(4));
        Assert.Equal(6, limiter.Acquire(100));
    }

    [Theory]
    [InlineData("fields.ip.kind=x", "table 't', option 'fields.ip.kind': expected one of random, sequence, got 'x'")]
    [InlineData("rows-per-second=0", "table 't', option 'rows-per-second': expected a positive integer, got '0'")]
    [InlineData("rows-per-second=fast", "table 't', option 'rows-per-second': expected a positive integer, got 'fast'")]
    [InlineData("number-of-rows=-1", "table 't', option 'number-of-rows': expected a non-negative integer, got '-1'")]
    [InlineData("seed=x", "table 't', option 'seed': expected an integer, got 'x'")]
    [InlineData("connector=kafka", "table 't', option 'connector': expected 'datagen', got 'kafka'")]
    [InlineData("foo=1", "table 't', option 'foo': unknown option for connector 'datagen'; its options are connector, rows-per-second, number-of-rows, seed, fields.<name>.kind, fields.<name>.min, fields.<name>.max, fields.<name>.max-past, fields.<name>.length, fields.<name>.var-len, fields.<name>.null-rate, fields.<name>.start, fields.<name>.end")]
    [InlineData("fields.nope.kind=random", "table 't', option 'fields.nope.kind': no column 'nope' (the columns are id, ip, age, ts)")]
    [InlineData("fields.age.mni=1", "table 't', option 'fields.age.mni': unknown option for connector 'datagen'; did you mean 'fields.age.min'?")]
    [InlineData("fields.age.min=abc", "table 't', option 'fields.age.min': expected a value of type INT, got 'abc'")]
    [InlineData("fields.age.min=3000000000", "table 't', option 'fields.age.min': 3000000000 is out of the range of INT")]
    [InlineData("fields.age.min=10;fields.age.max=5", "table 't', option 'fields.age.min': 10 is greater than max 5")]
    [InlineData("fields.ip.min=1", "table 't', option 'fields.ip.min': only for numeric columns; 'ip' is STRING")]
    [InlineData("fields.age.length=5", "table 't', option 'fields.age.length': only for STRING, ARRAY and MAP columns; 'age' is INT")]
    [InlineData("fields.ip.length=-5", "table 't', option 'fields.ip.length': expected a non-negative integer, got '-5'")]
    [InlineData("fields.ip.var-len=maybe", "table 't', option 'fields.ip.var-len': expected true or false, got 'maybe'")]
    [InlineData("fields.age.max-past=5 s", "table 't', option 'fields.age.max-past': only for TIMESTAMP, TIMESTAMP_LTZ, DATE and TIME columns; 'age' is INT")]
    [InlineData("fields.ts.max-past=5 parsecs", "table 't', option 'fields.ts.max-past': unknown time unit 'parsecs' in '5 parsecs'; use ms, s, min, h or d")]
    [InlineData("fields.ts.max-past=soon", "table 't', option 'fields.ts.max-past': expected a duration such as '5000', '10 s' or '1 min', got 'soon'")]
    [InlineData("fields.age.null-rate=2", "table 't', option 'fields.age.null-rate': expected a number between 0 and 1, got '2'")]
    [InlineData("fields.id.kind=sequence", "table 't', option 'fields.id.start': required for a sequence field")]
    [InlineData("fields.id.kind=sequence;fields.id.start=1", "table 't', option 'fields.id.end': required for a sequence field")]
    [InlineData("fields.id.kind=sequence;fields.id.start=5;fields.id.end=1", "table 't', option 'fields.id.end': end 1 is less than start 5")]
    [InlineData("fields.id.kind=sequence;fields.id.start=a;fields.id.end=1", "table 't', option 'fields.id.start': expected an integer, got 'a'")]
    [InlineData("fields.id.kind=sequence;fields.id.start=1;fields.id.end=9999999999", "table 't', option 'fields.id.end': 9999999999 is out of the range of INT")]
    [InlineData("fields.id.kind=sequence;fields.id.start=1;fields.id.end=5;fields.id.min=1", "table 't', option 'fields.id.min': not allowed for a sequence field")]
    [InlineData("fields.id.start=1", "table 't', option 'fields.id.start': not allowed for a random field (set 'fields.id.kind' = 'sequence')")]
    [InlineData("fields.ts.kind=sequence;fields.ts.start=1;fields.ts.end=2", "table 't', option 'fields.ts.kind': a sequence needs a numeric or string column; 'ts' is TIMESTAMP(3)")]
    public void Bad_options_fail_naming_the_option(string options, string message)
    {
        var dict = options.Split(';').Select(o => o.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);
        var e = Assert.Throws<ConnectorOptionException>(() => DatagenOptions.Parse("t", Schema, dict));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Null_rate_on_a_not_null_column_is_an_error()
    {
        var schema = Eddy.Schema.Of(("id", DataType.Int.NotNull()));
        var e = Assert.Throws<ConnectorOptionException>(() => Source(schema, ("fields.id.null-rate", "0.1")));
        Assert.Equal("table 'datagen', option 'fields.id.null-rate': column 'id' is INT NOT NULL", e.Message);
    }

    [Fact]
    public void Options_parse_into_their_values()
    {
        var options = DatagenOptions.Parse("t", Schema, new Dictionary<string, string>
        {
            ["connector"] = "datagen", ["rows-per-second"] = "5", ["number-of-rows"] = "7", ["seed"] = "-3",
            ["fields.age.min"] = "1", ["fields.age.max"] = "9", ["fields.ip.length"] = "12", ["fields.ts.max-past"] = "10 s",
            ["fields.id.kind"] = "sequence", ["fields.id.start"] = "0", ["fields.id.end"] = "99",
        });
        Assert.Equal(5, options.RowsPerSecond);
        Assert.Equal(7, options.NumberOfRows);
        Assert.Equal(-3, options.Seed);
        Assert.Equal(new DatagenField(Schema[2], DatagenKind.Random) { Min = 1L, Max = 9L }, options.Fields[2]);
        Assert.Equal(12, options.Fields[1].Length);
        Assert.Equal(TimeSpan.FromSeconds(10), options.Fields[3].MaxPast);
        Assert.Equal((DatagenKind.Sequence, 0L, 99L), (options.Fields[0].Kind, options.Fields[0].Start, options.Fields[0].End));
        Assert.Equal(DatagenOptions.DefaultRowsPerSecond, DatagenOptions.Parse("t", Schema, new Dictionary<string, string>()).RowsPerSecond);
    }
}
