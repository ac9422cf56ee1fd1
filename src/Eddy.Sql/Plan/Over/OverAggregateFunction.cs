using Eddy.Runtime;

namespace Eddy.Sql.Plan.Over;

/// <summary>
/// One key's OVER state: the accumulator of its window, the rows a bounded window may still retract (from
/// <see cref="Head"/> on, with their times for RANGE), and the last event time processed.
/// </summary>
public sealed class OverKeyState<TIn, TAcc>
{
    public TAcc Accumulator { get; set; } = default!;

    public List<TIn> Rows { get; set; } = [];

    public List<long> Times { get; set; } = [];

    public int Head { get; set; }

    public long LastTriggered { get; set; } = long.MinValue;
}

/// <summary>
/// OVER aggregation on a keyed stream, as Flink's over functions. On event time, rows wait per key (by timestamp)
/// until the watermark passes their time, then are processed in timestamp order: RANGE processes the rows of one
/// timestamp together (peers get the same values), ROWS one after the other in arrival order. Late rows are dropped,
/// as in Flink: for unbounded windows those not after the watermark (RowTimeRange/RowsUnboundedPrecedingFunction),
/// for bounded ones those not after the last timestamp the key processed (RowTimeRange/RowsBoundedPrecedingFunction).
/// On processing time, each row is processed on arrival. Bounded windows retract the rows that leave them and keep
/// only the rows still inside; unbounded windows keep only the accumulator.
/// </summary>
public sealed class OverAggregateFunction<TIn, TKey, TAcc, TOut>(
    Func<TIn, TAcc, TAcc> add,
    Func<TIn, TAcc, TAcc>? retract,
    Func<TIn, TAcc, TOut> result,
    bool eventTime,
    bool rows,
    long? preceding) : KeyedProcessFunction<TKey, TIn, TOut> where TKey : notnull
{
    private ValueState<TKey, OverKeyState<TIn, TAcc>>? state;
    private MapState<TKey, long, List<TIn>>? pending;
    private readonly List<TIn> single = [default!];

    /// <summary>Rows dropped for being late (Flink's numLateRecordsDropped).</summary>
    public long LateRecordsDropped { get; private set; }

    public override void Open(KeyedContext<TKey> context)
    {
        state = context.GetValueState<OverKeyState<TIn, TAcc>>("over");
        if (eventTime) pending = context.GetMapState<long, List<TIn>>("pending");
    }

    public override void ProcessElement(TIn value, KeyedContext<TKey> context, Collector<TOut> output)
    {
        if (!eventTime)
        {
            var current = state!.Value;
            if (current is null) state.Value = current = new OverKeyState<TIn, TAcc>();
            single[0] = value;
            Process(single, context.Timestamp, current, output);
            single[0] = default!;
            return;
        }
        long ts = context.Timestamp;
        bool late = preceding is null ? ts <= context.CurrentWatermark : state!.Value is { } s && ts <= s.LastTriggered;
        if (late)
        {
            LateRecordsDropped++;
            return;
        }
        if (pending!.TryGet(ts, out var waiting))
        {
            waiting.Add(value);
            return;
        }
        pending.Put(ts, [value]);
        context.RegisterEventTimeTimer(ts);
    }

    public override void OnTimer(long timestamp, KeyedContext<TKey> context, Collector<TOut> output)
    {
        if (!pending!.TryGet(timestamp, out var arrived)) return;
        pending.Remove(timestamp);
        var current = state!.Value;
        if (current is null) state.Value = current = new OverKeyState<TIn, TAcc>();
        Process(arrived, timestamp, current, output);
        current.LastTriggered = timestamp;
    }

    private void Process(List<TIn> arrived, long time, OverKeyState<TIn, TAcc> key, Collector<TOut> output)
    {
        var acc = key.Accumulator;
        if (rows)
        {
            foreach (var row in arrived)
            {
                acc = add(row, acc);
                if (preceding is { } n)
                {
                    key.Rows.Add(row);
                    if (key.Rows.Count - key.Head > n + 1)
                    {
                        acc = retract!(key.Rows[key.Head], acc);
                        key.Rows[key.Head++] = default!;
                    }
                }
                output.Collect(result(row, acc));
            }
        }
        else
        {
            foreach (var row in arrived)
            {
                acc = add(row, acc);
                if (preceding is not null)
                {
                    key.Rows.Add(row);
                    key.Times.Add(time);
                }
            }
            if (preceding is { } range)
            {
                // A row at exactly time - range is still inside the window (Flink retracts rows before that).
                long limit = time - range;
                while (key.Times[key.Head] < limit)
                {
                    acc = retract!(key.Rows[key.Head], acc);
                    key.Rows[key.Head++] = default!;
                }
            }
            foreach (var row in arrived) output.Collect(result(row, acc));
        }
        key.Accumulator = acc;
        if (key.Head > 64 && key.Head * 2 > key.Rows.Count)
        {
            key.Rows.RemoveRange(0, key.Head);
            if (key.Times.Count > 0) key.Times.RemoveRange(0, key.Head);
            key.Head = 0;
        }
    }
}
