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

    /// <summary>Event time: rows waiting for the watermark, sorted by time (ties in arrival order), from <see cref="PendingHead"/> on.</summary>
    public List<TIn> Pending { get; set; } = [];

    public List<long> PendingTimes { get; set; } = [];

    public int PendingHead { get; set; }
}

/// <summary>
/// OVER aggregation on a keyed stream, as Flink's over functions. On event time, rows wait per key (by timestamp)
/// until the watermark passes their time, then are processed in timestamp order: RANGE processes the rows of one
/// timestamp together (peers get the same values), ROWS one after the other in arrival order. Late rows are dropped,
/// as in Flink: for unbounded windows those not after the watermark (RowTimeRange/RowsUnboundedPrecedingFunction),
/// for bounded ones those not after the last timestamp the key processed (RowTimeRange/RowsBoundedPrecedingFunction).
/// One timer per key, at its earliest waiting time, rather than Flink's timer per timestamp: no allocation per row.
/// On processing time, ROWS and unbounded RANGE windows process each row on arrival. A bounded RANGE window on processing
/// time works as Flink's ProcTimeRangeBoundedPrecedingFunction: a row waits until the millisecond of processing time it
/// arrived in has passed (a timer at that time + 1), then the rows of that millisecond are processed together (peers
/// get the same values) after the rows more than the range before it were retracted; rows still waiting when a
/// bounded input ends are processed then. Bounded windows retract the rows that leave them and keep only the rows
/// still inside; unbounded windows keep only the accumulator.
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
    private readonly List<TIn> single = [default!];

    /// <summary>Rows dropped for being late (Flink's numLateRecordsDropped).</summary>
    public long LateRecordsDropped { get; private set; }

    public override void Open(KeyedContext<TKey> context)
    {
        state = context.GetValueState<OverKeyState<TIn, TAcc>>("over");
    }

    /// <summary>A bounded RANGE window on processing time: rows wait for their millisecond to pass.</summary>
    private bool ProcessingTimeRange => !eventTime && !rows && preceding is not null;

    public override void ProcessElement(TIn value, KeyedContext<TKey> context, Collector<TOut> output)
    {
        var current = state!.Value;
        if (current is null) state.Value = current = new OverKeyState<TIn, TAcc>();
        if (ProcessingTimeRange)
        {
            var waiting = current.PendingTimes;
            long now = context.CurrentProcessingTime;
            if (current.PendingHead < waiting.Count) now = Math.Max(now, waiting[^1]);
            if (current.PendingHead == waiting.Count || waiting[^1] != now) context.RegisterProcessingTimeTimer(now + 1);
            current.Pending.Add(value);
            waiting.Add(now);
            return;
        }
        if (!eventTime)
        {
            single[0] = value;
            Process(single, 0, 1, context.Timestamp, current, output);
            single[0] = default!;
            return;
        }
        long ts = context.Timestamp;
        bool late = preceding is null ? ts <= context.CurrentWatermark : ts <= current.LastTriggered;
        if (late)
        {
            LateRecordsDropped++;
            return;
        }
        var times = current.PendingTimes;
        int head = current.PendingHead;
        if (head == times.Count) context.RegisterEventTimeTimer(ts);
        else if (ts < times[head])
        {
            context.DeleteEventTimeTimer(times[head]);
            context.RegisterEventTimeTimer(ts);
        }
        if (times.Count == head || times[^1] <= ts)
        {
            current.Pending.Add(value);
            times.Add(ts);
            return;
        }
        // Out of order: after every waiting row with the same time or earlier (ties keep arrival order).
        int lo = head, hi = times.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (times[mid] <= ts) lo = mid + 1;
            else hi = mid;
        }
        current.Pending.Insert(lo, value);
        times.Insert(lo, ts);
    }

    public override void OnTimer(long timestamp, KeyedContext<TKey> context, Collector<TOut> output)
    {
        var current = state!.Value;
        if (current is null) return;
        // Processing time: the rows of the milliseconds before the timer's (Flink's timer at arrival + 1).
        bool processingTime = ProcessingTimeRange;
        ProcessWaiting(current, processingTime ? timestamp - 1 : Math.Max(context.CurrentWatermark, timestamp), processingTime, context, output);
    }

    public override void OnEndOfInput(KeyedContext<TKey> context, Collector<TOut> output)
    {
        if (!ProcessingTimeRange) return;
        context.ForEachKey(state!, _ => ProcessWaiting(state!.Value!, long.MaxValue, processingTime: true, context, output));
    }

    /// <summary>Processes the waiting rows up to <paramref name="upTo"/>, one time at a time.</summary>
    private void ProcessWaiting(OverKeyState<TIn, TAcc> current, long upTo, bool processingTime, KeyedContext<TKey> context, Collector<TOut> output)
    {
        var times = current.PendingTimes;
        int head = current.PendingHead;
        long watermark = upTo;
        if (head == times.Count || times[head] > watermark) return;
        while (head < times.Count && times[head] <= watermark)
        {
            long time = times[head];
            int end = head + 1;
            while (end < times.Count && times[end] == time) end++;
            // Rows processed on processing time carry no event time.
            output.CurrentTimestamp = processingTime ? EventTime.None : time;
            Process(current.Pending, head, end, time, current, output);
            current.LastTriggered = time;
            for (int i = head; i < end; i++) current.Pending[i] = default!;
            head = end;
        }
        if (head == times.Count)
        {
            current.Pending.Clear();
            times.Clear();
            head = 0;
        }
        else
        {
            // On processing time every waiting millisecond has its timer already.
            if (!processingTime) context.RegisterEventTimeTimer(times[head]);
            if (head > 64 && head * 2 > times.Count)
            {
                current.Pending.RemoveRange(0, head);
                times.RemoveRange(0, head);
                head = 0;
            }
        }
        current.PendingHead = head;
    }

    private void Process(List<TIn> arrived, int start, int end, long time, OverKeyState<TIn, TAcc> key, Collector<TOut> output)
    {
        var acc = key.Accumulator;
        if (rows)
        {
            for (int i = start; i < end; i++)
            {
                var row = arrived[i];
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
            for (int i = start; i < end; i++)
            {
                var row = arrived[i];
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
            for (int i = start; i < end; i++) output.Collect(result(arrived[i], acc));
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
