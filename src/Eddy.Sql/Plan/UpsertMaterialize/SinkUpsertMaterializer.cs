using Eddy.Runtime;

namespace Eddy.Sql.Plan.UpsertMaterialize;

/// <summary>
/// Flink's SinkUpsertMaterializer: keyed by the sink's primary key, it keeps per key the rows alive (in the order they
/// came) so that a retraction of one of several rows sharing the key restores another instead of deleting the key.
/// <list type="bullet">
/// <item>+I/+U: emitted as +I when no row was alive, else +U. With an input upsert key (<paramref name="sameRow"/>
/// compares it) the row replaces the first alive row of equal upsert key, or is appended; without one
/// (<paramref name="sameRow"/> compares whole rows) it is always appended, as Flink does.</item>
/// <item>-U/-D: the first equal row is removed; then -D of the retracted row when none is left, +U of the new last row
/// when the removed one was last, nothing otherwise. No equal row (its state expired): nothing, Flink logs and drops.</item>
/// </list>
/// The output carries +I, +U and -D only. With a state TTL (<see cref="StateRetention{TKey}"/>, Flink's ValueState
/// with TTL) a key's list is forgotten once it has not been written for the TTL; every +I/+U and every retraction that
/// finds its row writes it.
/// </summary>
public sealed class SinkUpsertMaterializer<TRow, TKey>(Func<TRow, TRow, bool> sameRow, bool hasUpsertKey, long stateTtlMs = 0)
    : KeyedProcessFunction<TKey, TRow, TRow>
    where TKey : notnull
{
    private readonly StateRetention<TKey> retention = new(stateTtlMs);
    private ValueState<TKey, List<TRow>>? state;

    public override void Open(KeyedContext<TKey> context)
    {
        state = context.GetValueState<List<TRow>>("values");
        retention.Open(context);
    }

    public override void ProcessElement(TRow value, KeyedContext<TKey> context, Collector<TRow> output)
    {
        if (retention.Expired(context))
        {
            state!.Clear();
            retention.Cleared();
        }
        var values = state!.HasValue ? state.Value! : [];
        long ts = context.Timestamp;
        if (context.RowKind.IsAccumulate())
        {
            var kind = values.Count == 0 ? RowKind.Insert : RowKind.UpdateAfter;
            int index = hasUpsertKey ? FindFirst(values, value) : -1;
            if (index < 0) values.Add(value);
            else values[index] = value;
            output.Collect(value, ts, kind);
            state.Value = values;
            retention.Written(context);
            return;
        }
        int found = FindFirst(values, value);
        if (found < 0) return;
        int last = values.Count - 1;
        values.RemoveAt(found);
        if (values.Count == 0)
        {
            output.Collect(value, ts, RowKind.Delete);
            state.Clear();
            retention.Cleared();
            return;
        }
        if (found == last) output.Collect(values[^1], ts, RowKind.UpdateAfter);
        state.Value = values;
        retention.Written(context);
    }

    public override void OnTimer(long timestamp, KeyedContext<TKey> context, Collector<TRow> output)
    {
        if (retention.OnTimer(context)) state!.Clear();
    }

    private int FindFirst(List<TRow> values, TRow target)
    {
        for (int i = 0; i < values.Count; i++)
        {
            if (sameRow(target, values[i])) return i;
        }
        return -1;
    }
}
