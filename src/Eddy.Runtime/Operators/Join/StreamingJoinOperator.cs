using System.Runtime.CompilerServices;
using Eddy.Runtime;

namespace Eddy.Joins;

/// <summary>
/// Flink's regular (unbounded) equi-join, <c>StreamingJoinOperator</c>: both inputs, tagged as <see cref="JoinInput{TLeft, TRight}"/>
/// and keyed by the join key, are kept per key as multisets; each record joins the other side's records of its key that
/// pass the residual condition, and the output is the changelog Flink's operator emits:
/// <list type="bullet">
/// <item>a side that is not outer passes its row kind to the joined rows (+I, +U, -U, -D) when the other side is not
/// outer either; with an outer other side, accumulations emit +I and retractions -D;</item>
/// <item>an outer side counts, per record, its matches on the other side (associations): an unmatched record is emitted
/// null-padded (+I), retracted (-D) when its first match arrives and emitted padded again (+I) when its last match goes.</item>
/// </list>
/// With a state TTL (<c>table.exec.state.ttl</c>, or per side as Flink's <c>STATE_TTL</c> hint), a record not written
/// for its side's TTL (processing time) is treated as absent and dropped, as Flink's state TTL with update on create and write, never returning expired state.
/// </summary>
public sealed class StreamingJoinOperator<TKey, TLeft, TRight, TOut> : StreamingJoinOperatorBase<TKey, TLeft, TRight, TOut>
    where TKey : notnull where TLeft : notnull where TRight : notnull
{
    private readonly JoinCombiner<TLeft, TRight, TOut> combine;
    private readonly bool leftOuter;
    private readonly bool rightOuter;
    private readonly List<int> matches = [];

    /// <param name="stateTtl">Flink's <c>table.exec.state.ttl</c>; zero or null keeps state forever.</param>
    /// <param name="rightStateTtl">The right side's TTL when it differs (Flink's <c>STATE_TTL</c> hint); <paramref name="stateTtl"/> is then the left's.</param>
    public StreamingJoinOperator(Func<TLeft, TKey> leftKey, Func<TRight, TKey> rightKey, JoinType joinType,
        Func<TLeft, TRight, bool>? residual, JoinCombiner<TLeft, TRight, TOut> combine, TimeSpan? stateTtl = null,
        TimeSpan? rightStateTtl = null)
        : base(leftKey, rightKey, residual, stateTtl, rightStateTtl)
    {
        this.combine = combine;
        leftOuter = joinType.IsLeftOuter();
        rightOuter = joinType.IsRightOuter();
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
                Process(left, right, ref lists.LeftFirst, ref lists.LeftLast, ref lists.RightFirst, ref lists.RightLast,
                    v.Left, kind, inputIsLeft: true, leftOuter, rightOuter, state.LeftTtl, state.RightTtl);
                if (lists.IsEmpty) keys.Remove(key);
            }
            else
            {
                var key = rightKey(v.Right);
                ref var lists = ref JoinKeyIndex.Lists(keys, key);
                Process(right, left, ref lists.RightFirst, ref lists.RightLast, ref lists.LeftFirst, ref lists.LeftLast,
                    v.Right, kind, inputIsLeft: false, rightOuter, leftOuter, state.RightTtl, state.LeftTtl);
                if (lists.IsEmpty) keys.Remove(key);
            }
        }
        BatchPool<JoinInput<TLeft, TRight>>.Return(batch);
        state.ScheduleSweep(Context.ProcessingTimers);
    }

    private void Process<TIn, TOther>(JoinRecordStore<TIn> input, JoinRecordStore<TOther> other,
        ref int inFirst, ref int inLast, ref int otherFirst, ref int otherLast,
        TIn record, RowKind kind, bool inputIsLeft, bool inputOuter, bool otherOuter, long inTtl, long otherTtl)
        where TIn : notnull where TOther : notnull
    {
        // The other side's records of this key that the residual condition accepts (expired ones go on the way).
        matches.Clear();
        int matched = 0;
        for (int s = otherFirst - 1; s != None;)
        {
            ref var e = ref other[s];
            int next = e.Next;
            if (state.Expired(e.WrittenAt, otherTtl)) other.Remove(ref otherFirst, ref otherLast, s);
            else if (Accepts(record, e.Value, inputIsLeft))
            {
                matches.Add(s);
                matched += e.Count;
            }
            s = next;
        }

        int slot = input.Find(record);
        if (slot != None && state.Expired(input[slot].WrittenAt, inTtl))
        {
            input.Remove(ref inFirst, ref inLast, slot);
            slot = None;
        }

        bool accumulate = kind is RowKind.Insert or RowKind.UpdateAfter;
        if (accumulate)
        {
            if (slot != None)
            {
                ref var e = ref input[slot];
                e.Count++;
                e.Associations = matched;
                e.WrittenAt = state.Now;
            }
            else input.Append(ref inFirst, ref inLast, record, 1, matched, state.Now);

            if (matched == 0)
            {
                if (inputOuter) EmitPadded(record, inputIsLeft, RowKind.Insert);
                return;
            }
            if (otherOuter)
            {
                foreach (int m in matches)
                {
                    ref var e = ref other[m];
                    if (e.Associations == 0)
                    {
                        for (int c = 0; c < e.Count; c++) EmitPadded(e.Value, !inputIsLeft, RowKind.Delete);
                    }
                    e.Associations++;
                    e.WrittenAt = state.Now;
                }
            }
            var joinedKind = inputOuter || otherOuter ? RowKind.Insert : kind;
            foreach (int m in matches)
            {
                ref var e = ref other[m];
                for (int c = 0; c < e.Count; c++) EmitJoined(record, e.Value, inputIsLeft, joinedKind);
            }
        }
        else
        {
            if (slot != None)
            {
                ref var e = ref input[slot];
                if (--e.Count == 0) input.Remove(ref inFirst, ref inLast, slot);
                else e.WrittenAt = state.Now;
            }

            if (matched == 0)
            {
                if (inputOuter) EmitPadded(record, inputIsLeft, RowKind.Delete);
                return;
            }
            var joinedKind = inputOuter ? RowKind.Delete : kind;
            foreach (int m in matches)
            {
                ref var e = ref other[m];
                for (int c = 0; c < e.Count; c++) EmitJoined(record, e.Value, inputIsLeft, joinedKind);
            }
            if (otherOuter)
            {
                foreach (int m in matches)
                {
                    ref var e = ref other[m];
                    if (e.Associations == 1)
                    {
                        for (int c = 0; c < e.Count; c++) EmitPadded(e.Value, !inputIsLeft, RowKind.Insert);
                    }
                    e.Associations--;
                    e.WrittenAt = state.Now;
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Accepts<TIn, TOther>(TIn record, TOther other, bool inputIsLeft)
    {
        if (residual is null) return true;
        return inputIsLeft
            ? residual(Unsafe.As<TIn, TLeft>(ref record), Unsafe.As<TOther, TRight>(ref other))
            : residual(Unsafe.As<TOther, TLeft>(ref other), Unsafe.As<TIn, TRight>(ref record));
    }

    private void EmitJoined<TIn, TOther>(TIn record, TOther other, bool inputIsLeft, RowKind kind)
    {
        var o = output!;
        var row = inputIsLeft
            ? combine(Unsafe.As<TIn, TLeft>(ref record), true, Unsafe.As<TOther, TRight>(ref other), true)
            : combine(Unsafe.As<TOther, TLeft>(ref other), true, Unsafe.As<TIn, TRight>(ref record), true);
        o.Collect(row, o.CurrentTimestamp, kind);
    }

    private void EmitPadded<T>(T record, bool isLeft, RowKind kind)
    {
        var o = output!;
        var row = isLeft
            ? combine(Unsafe.As<T, TLeft>(ref record), true, default!, false)
            : combine(default!, false, Unsafe.As<T, TRight>(ref record), true);
        o.Collect(row, o.CurrentTimestamp, kind);
    }
}
