using System.Runtime.CompilerServices;
using Eddy.Runtime;

namespace Eddy.Joins;

/// <summary>
/// Flink's streaming semi/anti join (<c>StreamingSemiAntiJoinOperator</c>), which SQL's <c>IN</c>/<c>EXISTS</c>
/// (semi) and <c>NOT IN</c>/<c>NOT EXISTS</c> (anti) subqueries plan to: the output is the left input's rows that have
/// (semi) or have not (anti) a right row of the same key passing the residual condition. Both inputs, tagged as
/// <see cref="JoinInput{TLeft, TRight}"/> and keyed by the join key, are kept per key as multisets; each left record
/// counts its matches on the right (associations). The changelog is Flink's:
/// <list type="bullet">
/// <item>a left record is emitted with its own row kind (+I, +U, -U, -D) when it has matches (semi) or none (anti);</item>
/// <item>a right accumulation that gives a left record its first match emits that record with the right row's kind
/// (+I or +U, semi) or as -D (anti); a right retraction that takes its last match emits it with the right row's kind
/// (-D or -U, semi) or as +I (anti). Duplicates emit once per copy.</item>
/// </list>
/// With a state TTL (<c>table.exec.state.ttl</c>) a record not written for the TTL counts as absent, as in
/// <see cref="StreamingJoinOperator{TKey, TLeft, TRight, TOut}"/>; as in Flink, a right record's expiry emits nothing.
/// </summary>
public sealed class SemiAntiJoinOperator<TKey, TLeft, TRight> : StreamingJoinOperatorBase<TKey, TLeft, TRight, TLeft>
    where TKey : notnull where TLeft : notnull where TRight : notnull
{
    private readonly bool anti;

    /// <param name="anti">An anti join (left rows without a match) instead of a semi join (left rows with one).</param>
    /// <param name="stateTtl">Flink's <c>table.exec.state.ttl</c>; zero or null keeps state forever.</param>
    public SemiAntiJoinOperator(Func<TLeft, TKey> leftKey, Func<TRight, TKey> rightKey, bool anti, Func<TLeft, TRight, bool>? residual,
        TimeSpan? stateTtl = null)
        : base(leftKey, rightKey, residual, stateTtl, stateTtl)
    {
        this.anti = anti;
    }

    public override void OnBatch(Batch<JoinInput<TLeft, TRight>> batch)
    {
        var values = batch.Values;
        var times = batch.Timestamps;
        var o = output!;
        if (state.HasTtl) state.Now = Context.ProcessingTimers.Now;
        for (int i = 0; i < batch.Count; i++)
        {
            ref readonly var v = ref values[i];
            o.CurrentTimestamp = times[i];
            var kind = batch.KindAt(i);
            if (v.IsLeft)
            {
                var key = leftKey(v.Left);
                ref var lists = ref JoinKeyIndex.Lists(keys, key);
                ProcessLeft(ref lists, v.Left, kind);
                if (lists.IsEmpty) keys.Remove(key);
            }
            else
            {
                var key = rightKey(v.Right);
                ref var lists = ref JoinKeyIndex.Lists(keys, key);
                ProcessRight(ref lists, v.Right, kind);
                if (lists.IsEmpty) keys.Remove(key);
            }
        }
        BatchPool<JoinInput<TLeft, TRight>>.Return(batch);
        state.ScheduleSweep(Context.ProcessingTimers);
    }

    private void ProcessLeft(ref JoinKeyLists lists, TLeft record, RowKind kind)
    {
        int matched = 0;
        for (int s = lists.RightFirst - 1; s != None;)
        {
            ref var e = ref right[s];
            int next = e.Next;
            if (state.Expired(e.WrittenAt, state.RightTtl)) right.Remove(ref lists.RightFirst, ref lists.RightLast, s);
            else if (Accepts(record, e.Value)) matched += e.Count;
            s = next;
        }
        if ((matched > 0) != anti) output!.Collect(record, output.CurrentTimestamp, kind);

        int slot = FindLive(left, ref lists.LeftFirst, ref lists.LeftLast, record, state.LeftTtl);
        if (kind is RowKind.Insert or RowKind.UpdateAfter)
        {
            if (slot != None)
            {
                ref var e = ref left[slot];
                e.Count++;
                e.Associations = matched;
                e.WrittenAt = state.Now;
            }
            else left.Append(ref lists.LeftFirst, ref lists.LeftLast, record, 1, matched, state.Now);
        }
        else if (slot != None)
        {
            ref var e = ref left[slot];
            if (--e.Count == 0) left.Remove(ref lists.LeftFirst, ref lists.LeftLast, slot);
            else e.WrittenAt = state.Now;
        }
    }

    /// <summary>The record's slot, or none when absent or expired (an expired entry is dropped).</summary>
    private int FindLive<T>(JoinRecordStore<T> store, ref int first, ref int last, T record, long ttl) where T : notnull
    {
        int slot = store.Find(record);
        if (slot != None && state.Expired(store[slot].WrittenAt, ttl))
        {
            store.Remove(ref first, ref last, slot);
            return None;
        }
        return slot;
    }

    private void ProcessRight(ref JoinKeyLists lists, TRight record, RowKind kind)
    {
        var o = output!;
        state.DropExpired(left, ref lists.LeftFirst, ref lists.LeftLast, state.LeftTtl);
        int slot = FindLive(right, ref lists.RightFirst, ref lists.RightLast, record, state.RightTtl);
        if (kind is RowKind.Insert or RowKind.UpdateAfter)
        {
            if (slot != None)
            {
                right[slot].Count++;
                right[slot].WrittenAt = state.Now;
            }
            else right.Append(ref lists.RightFirst, ref lists.RightLast, record, 1, 0, state.Now);
            for (int s = lists.LeftFirst - 1; s != None; s = left[s].Next)
            {
                ref var e = ref left[s];
                if (!Accepts(e.Value, record)) continue;
                e.WrittenAt = state.Now;
                if (e.Associations == 0)
                {
                    var emitted = anti ? RowKind.Delete : kind;
                    for (int c = 0; c < e.Count; c++) o.Collect(e.Value, o.CurrentTimestamp, emitted);
                }
                e.Associations++;
            }
        }
        else
        {
            if (slot != None)
            {
                ref var r = ref right[slot];
                if (--r.Count == 0) right.Remove(ref lists.RightFirst, ref lists.RightLast, slot);
                else r.WrittenAt = state.Now;
            }
            for (int s = lists.LeftFirst - 1; s != None; s = left[s].Next)
            {
                ref var e = ref left[s];
                if (!Accepts(e.Value, record)) continue;
                e.WrittenAt = state.Now;
                if (e.Associations == 1)
                {
                    var emitted = anti ? RowKind.Insert : kind;
                    for (int c = 0; c < e.Count; c++) o.Collect(e.Value, o.CurrentTimestamp, emitted);
                }
                // A retraction of a row never added (Flink: state cleared) leaves the count at zero.
                if (e.Associations > 0) e.Associations--;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Accepts(TLeft l, TRight r) => residual is null || residual(l, r);
}
