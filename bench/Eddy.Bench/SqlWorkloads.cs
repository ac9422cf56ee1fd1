using System.Linq.Expressions;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Eddy.Runtime;
using Eddy.Sql;
using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors;

namespace Eddy.Bench;

/// <summary>
/// The SQL versions of workloads (1)-(5): the same events, read through a table connector that makes row structs
/// directly, planned from SQL text (planning is inside the timing, as building the typed jobs is), written to a
/// counting sink. Each runs at parallelism 1 and is compared with its typed twin.
/// </summary>
public static class SqlWorkloads
{
    private const string Events = """
        CREATE TABLE events (
          ts BIGINT NOT NULL, k INT NOT NULL, payload INT NOT NULL,
          rt AS TO_TIMESTAMP_LTZ(ts, 3),
          WATERMARK FOR rt AS rt
        ) WITH ('connector' = 'bench-events');
        """;

    public static long Filter(BenchEvent[] events) => Run(events, """
        CREATE TABLE counted (ts BIGINT, k INT, payload INT) WITH ('connector' = 'bench-count');
        INSERT INTO counted SELECT ts, k, payload FROM events WHERE payload <> 0 OR k >= 0;
        """);

    public static long Tumbling(BenchEvent[] events) => Window(events, "TUMBLE(TABLE events, DESCRIPTOR(rt), INTERVAL '1' MINUTE)");

    public static long Sliding(BenchEvent[] events) =>
        Window(events, "HOP(TABLE events, DESCRIPTOR(rt), INTERVAL '10' SECOND, INTERVAL '1' MINUTE)");

    public static long Session5s(BenchEvent[] events) =>
        Window(events, "SESSION(TABLE events PARTITION BY k, DESCRIPTOR(rt), INTERVAL '5' SECOND)");

    public static long Session30s(BenchEvent[] events) =>
        Window(events, "SESSION(TABLE events PARTITION BY k, DESCRIPTOR(rt), INTERVAL '30' SECOND)");

    /// <summary>Non-windowed GROUP BY over the append-only events: a changelog row (or -U/+U pair) per event.</summary>
    public static long Group(BenchEvent[] events) => Run(events, """
        CREATE TABLE counted (k INT, n BIGINT, s BIGINT) WITH ('connector' = 'bench-count');
        INSERT INTO counted SELECT k, COUNT(*), SUM(CAST(payload AS BIGINT)) FROM events GROUP BY k;
        """);

    /// <summary>
    /// GROUP BY over a GROUP BY's changelog (retracting): how many keys have each count, with MAX/MIN over the counts
    /// per key parity (per-value maps), as Nexmark q4's aggregate over an aggregate.
    /// </summary>
    public static long GroupOverGroup(BenchEvent[] events) => Run(events, """
        CREATE TABLE counted (p INT, keys BIGINT, mx BIGINT, mn BIGINT, a BIGINT) WITH ('connector' = 'bench-count');
        INSERT INTO counted SELECT MOD(k, 2), COUNT(*), MAX(n), MIN(n), AVG(n) FROM (SELECT k, COUNT(*) AS n FROM events GROUP BY k) GROUP BY MOD(k, 2);
        """);

    private static long Window(BenchEvent[] events, string tvf) => Run(events, $"""
        CREATE TABLE counted (k INT, window_start TIMESTAMP(3), n BIGINT) WITH ('connector' = 'bench-count');
        INSERT INTO counted SELECT k, window_start, COUNT(*) FROM TABLE({tvf}) GROUP BY window_start, window_end, k;
        """);

    private static long Run(BenchEvent[] events, string job)
    {
        BenchConnector.Events = events;
        BenchConnector.Counted = 0;
        var session = new SqlSession(BenchConnectors.Registry, TextWriter.Null, Console.Error);
        var jobs = session.Execute(Events + job);
        return ExecuteCounted(jobs[0]);
    }

    /// <summary>The events the next planned 'bench-events' table reads (other workload files plan their own SQL).</summary>
    internal static void UseEvents(BenchEvent[] events) => BenchConnector.Events = events;

    /// <summary>Runs a planned job whose sink is 'bench-count' and returns how many records reached it.</summary>
    public static long ExecuteCounted(SqlJob job)
    {
        BenchConnector.Counted = 0;
        var result = job.Environment.ExecuteAsync("sql-bench").GetAwaiter().GetResult();
        if (result.Failure is not null) throw result.Failure;
        return Interlocked.Read(ref BenchConnector.Counted);
    }

    /// <summary>Rows that reached 'bench-count' since it was last reset (other workload files run SQL jobs into it too).</summary>
    internal static long Counted
    {
        get => Interlocked.Read(ref BenchConnector.Counted);
        set => Interlocked.Exchange(ref BenchConnector.Counted, value);
    }

    /// <summary>'bench-events': the in-memory events, and a sink that counts what reaches it.</summary>
    internal sealed class BenchConnector : ITypedTableConnector
    {
        public static BenchEvent[] Events = [];
        public static long Counted;

        public string Name => "bench-events";

        public bool AcceptsUpdates(TableDef table) => true;

        public Source<Row> CreateSource(TableDef table, Schema decoded, ConnectorContext context) =>
            throw new NotSupportedException("the benchmark source makes row structs only");

        public Sink<Row> CreateSink(TableDef table, Schema schema, ConnectorContext context) =>
            throw new NotSupportedException("the benchmark sink counts row structs only");

        public Source<T>? CreateTypedSource<T>(TableDef table, Schema decoded, ConnectorContext context)
        {
            // Compiled once per job: a loop converting a slice of BenchEvents into the table's struct (ts, k, payload)
            // straight into the output batch, as a connector decoding a buffer of records would.
            var events = Expression.Parameter(typeof(BenchEvent[]), "events");
            var from = Expression.Parameter(typeof(int), "from");
            var count = Expression.Parameter(typeof(int), "count");
            var values = Expression.Parameter(typeof(T[]), "values");
            var timestamps = Expression.Parameter(typeof(long[]), "timestamps");
            var start = Expression.Parameter(typeof(int), "start");
            var i = Expression.Variable(typeof(int), "i");
            var done = Expression.Label("done");
            var e = Expression.ArrayAccess(events, Expression.Add(from, i));
            var r = Expression.ArrayAccess(values, Expression.Add(start, i));
            var loop = Expression.Block([i],
                Expression.Assign(i, Expression.Constant(0)),
                Expression.Loop(Expression.Block(
                    Expression.IfThen(Expression.GreaterThanOrEqual(i, count), Expression.Break(done)),
                    Expression.Assign(Expression.Field(r, RowTypes.FieldOf(typeof(T), 0)), Expression.Property(e, nameof(BenchEvent.Timestamp))),
                    Expression.Assign(Expression.Field(r, RowTypes.FieldOf(typeof(T), 1)), Expression.Property(e, nameof(BenchEvent.Key))),
                    Expression.Assign(Expression.Field(r, RowTypes.FieldOf(typeof(T), 2)), Expression.Property(e, nameof(BenchEvent.Payload))),
                    Expression.Assign(Expression.ArrayAccess(timestamps, Expression.Add(start, i)), Expression.Property(e, nameof(BenchEvent.Timestamp))),
                    Expression.PreIncrementAssign(i)), done));
            var convert = Expression.Lambda<ConvertSlice<T>>(loop, events, from, count, values, timestamps, start).Compile();
            return new ArraySource<T>(Events, convert);
        }

        private delegate void ConvertSlice<T>(BenchEvent[] events, int from, int count, T[] values, long[] timestamps, int start);

        public Sink<T>? CreateTypedSink<T>(TableDef table, Schema schema, ConnectorContext context) => new Counter<T>();

        private sealed class ArraySource<T>(BenchEvent[] events, ConvertSlice<T> convert) : Source<T>
        {
            public override bool IsBounded => true;

            public override SourceReader<T> CreateReader(SourceReaderContext context) => new Reader(events, convert);

            private sealed class Reader(BenchEvent[] events, ConvertSlice<T> convert) : SourceReader<T>
            {
                private readonly int[] splits = new int[Batch<T>.DefaultCapacity];
                private int next;

                // The table's struct (ts BIGINT NOT NULL, k INT NOT NULL, payload INT NOT NULL) has BenchEvent's layout:
                // then a block copy does, as the typed workloads' collection source does.
                private static readonly bool SameLayout = SameLayoutAsBenchEvent();

                private static bool SameLayoutAsBenchEvent()
                {
                    var fields = typeof(T).GetFields();
                    return typeof(T).IsValueType && Unsafe.SizeOf<T>() == Unsafe.SizeOf<BenchEvent>() && fields.Length == 3
                        && fields[0].FieldType == typeof(long) && fields[1].FieldType == typeof(int) && fields[2].FieldType == typeof(int)
                        && Marshal.OffsetOf(typeof(T), fields[1].Name) == 8 && Marshal.OffsetOf(typeof(T), fields[2].Name) == 12;
                }

                public override SourceStatus Read(SourceOutput<T> output)
                {
                    int n = Math.Min(Math.Min(output.Room, splits.Length), events.Length - next);
                    int start = output.Reserve(n, splits.AsSpan(0, n), out var values, out var timestamps);
                    if (SameLayout)
                    {
                        var from = events.AsSpan(next, n);
                        MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<BenchEvent, T>(ref MemoryMarshal.GetReference(from)), n).CopyTo(values.AsSpan(start, n));
                        for (int i = 0; i < n; i++) timestamps[start + i] = from[i].Timestamp;
                    }
                    else
                    {
                        convert(events, next, n, values, timestamps, start);
                    }
                    next += n;
                    return next < events.Length ? SourceStatus.MoreAvailable : SourceStatus.EndOfInput;
                }
            }
        }

        private sealed class Counter<T> : Sink<T>
        {
            public override SinkWriter<T> CreateWriter(SinkWriterContext context) => new Writer();

            private sealed class Writer : SinkWriter<T>
            {
                public override void Write(Batch<T> batch) => Interlocked.Add(ref Counted, batch.Count);
            }
        }
    }

    /// <summary>'bench-count' is the same connector under the sink's name.</summary>
    internal sealed class CountAlias : ITypedTableConnector
    {
        private readonly BenchConnector inner = new();

        public string Name => "bench-count";

        public bool AcceptsUpdates(TableDef table) => true;

        public Source<Row> CreateSource(TableDef table, Schema decoded, ConnectorContext context) => inner.CreateSource(table, decoded, context);

        public Sink<Row> CreateSink(TableDef table, Schema schema, ConnectorContext context) => inner.CreateSink(table, schema, context);

        public Source<T>? CreateTypedSource<T>(TableDef table, Schema decoded, ConnectorContext context) => null;

        public Sink<T>? CreateTypedSink<T>(TableDef table, Schema schema, ConnectorContext context) => inner.CreateTypedSink<T>(table, schema, context);
    }
}
