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
/// <item>a right accumulation that gives a left record its first match emits that record as +I (semi) or -D (anti);
/// a right retraction that takes its last match emits it as -D (semi) or +I (anti). Duplicates emit once per copy.</item>
/// </list>
/// </summary>
public sealed class SemiAntiJoinOperator<TKey, TLeft, TRight> : StreamOperator<JoinInput<TLeft, TRight>, TLeft>
    where TKey : notnull where TLeft : notnull where TRight : notnull
{
    private const int None = JoinRecordStore<TLeft>.None;

    private readonly Func<TLeft, TKey> leftKey;
    private readonly Func<TRight, TKey> rightKey;
    private readonly Func<TLeft, TRight, bool>? residual;
    private readonly bool anti;

    private readonly Dictionary<TKey, JoinKeyLists> keys = [];
    private readonly JoinRecordStore<TLeft> left = new();
    private readonly JoinRecordStore<TRight> right = new();
    private Collector<TLeft>? output;

    /// <param name="anti">An anti join (left rows without a match) instead of a semi join (left rows with one).</param>
    public SemiAntiJoinOperator(Func<TLeft, TKey> leftKey, Func<TRight, TKey> rightKey, bool anti, Func<TLeft, TRight, bool>? residual)
    {
        this.leftKey = leftKey;
        this.rightKey = rightKey;
        this.anti = anti;
        this.residual = residual;
    }

    /// <summary>Keys holding records.</summary>
    public int KeyCount => keys.Count;

    /// <summary>Distinct records held per side.</summary>
    public (int Left, int Right) HeldRecords => (left.Count, right.Count);

    public override bool HasState => true;

    public override void Open()
    {
        output = Out;
        if (Context.CheckpointingEnabled) ResolveSerializers();
    }

    public override void OnBatch(Batch<JoinInput<TLeft, TRight>> batch)
    {
        var values = batch.Values;
        var times = batch.Timestamps;
        var o = output!;
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
    }

    private void ProcessLeft(ref JoinKeyLists lists, TLeft record, RowKind kind)
    {
        int matched = 0;
        for (int s = lists.RightFirst - 1; s != None; s = right[s].Next)
        {
            ref var e = ref right[s];
            if (Accepts(record, e.Value)) matched += e.Count;
        }
        if ((matched > 0) != anti) output!.Collect(record, output.CurrentTimestamp, kind);

        int slot = left.Find(record);
        if (kind is RowKind.Insert or RowKind.UpdateAfter)
        {
            if (slot != None)
            {
                ref var e = ref left[slot];
                e.Count++;
                e.Associations = matched;
            }
            else left.Append(ref lists.LeftFirst, ref lists.LeftLast, record, 1, matched, 0);
        }
        else if (slot != None)
        {
            ref var e = ref left[slot];
            if (--e.Count == 0) left.Remove(ref lists.LeftFirst, ref lists.LeftLast, slot);
        }
    }

    private void ProcessRight(ref JoinKeyLists lists, TRight record, RowKind kind)
    {
        var o = output!;
        if (kind is RowKind.Insert or RowKind.UpdateAfter)
        {
            int slot = right.Find(record);
            if (slot != None) right[slot].Count++;
            else right.Append(ref lists.RightFirst, ref lists.RightLast, record, 1, 0, 0);
            for (int s = lists.LeftFirst - 1; s != None; s = left[s].Next)
            {
                ref var e = ref left[s];
                if (!Accepts(e.Value, record)) continue;
                if (e.Associations == 0)
                {
                    var emitted = anti ? RowKind.Delete : RowKind.Insert;
                    for (int c = 0; c < e.Count; c++) o.Collect(e.Value, o.CurrentTimestamp, emitted);
                }
                e.Associations++;
            }
        }
        else
        {
            int slot = right.Find(record);
            if (slot != None)
            {
                ref var r = ref right[slot];
                if (--r.Count == 0) right.Remove(ref lists.RightFirst, ref lists.RightLast, slot);
            }
            for (int s = lists.LeftFirst - 1; s != None; s = left[s].Next)
            {
                ref var e = ref left[s];
                if (!Accepts(e.Value, record)) continue;
                if (e.Associations == 1)
                {
                    var emitted = anti ? RowKind.Insert : RowKind.Delete;
                    for (int c = 0; c < e.Count; c++) o.Collect(e.Value, o.CurrentTimestamp, emitted);
                }
                // A retraction of a row never added (Flink: state cleared) leaves the count at zero.
                if (e.Associations > 0) e.Associations--;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Accepts(TLeft l, TRight r) => residual is null || residual(l, r);

    private const byte StateVersion = 1;
    private const byte KeySection = 1;
    private JoinStateSerializers<TKey, TLeft, TRight>? serializers;

    private void ResolveSerializers() => serializers ??= JoinStateSerializers<TKey, TLeft, TRight>.Resolve(Context.OperatorName);

    /// <summary>A section per key: the key, then the left records with count and associations, then the right records with count.</summary>
    public override void SnapshotState(long checkpointId, OperatorStateWriter writer)
    {
        ResolveSerializers();
        var sections = new KeyGroupSectionWriter(writer, Context.MaxParallelism);
        foreach (var (key, lists) in keys)
        {
            var w = sections.Section(KeyGroups.ForKey(key, sections.MaxParallelism), KeySection);
            serializers!.Key.Write(w, key);
            WriteList(w, left, lists.LeftFirst, serializers!.Left);
            WriteList(w, right, lists.RightFirst, serializers!.Right);
        }
        sections.Complete();
        OperatorStateFormat.WriteVersion(writer.OperatorState, StateVersion);
    }

    private static void WriteList<T>(BinaryWriter w, JoinRecordStore<T> store, int first, StateSerializer<T> values) where T : notnull
    {
        w.Write(store.CountOf(first));
        for (int s = first - 1; s != None; s = store[s].Next)
        {
            ref var e = ref store[s];
            values.Write(w, e.Value);
            w.Write(e.Count);
            w.Write(e.Associations);
        }
    }

    public override void RestoreState(OperatorStateReader reader)
    {
        ResolveSerializers();
        foreach (var r in reader.OperatorStates) OperatorStateFormat.CheckVersion(r, StateVersion, Context.OperatorName);
        KeyGroupSections.Read(reader, (_, tag, r) =>
        {
            if (tag != KeySection) throw new InvalidDataException($"operator '{Context.OperatorName}': unknown state section {tag}");
            var key = serializers!.Key.Read(r);
            ref var lists = ref JoinKeyIndex.Lists(keys, key);
            ReadList(r, left, ref lists.LeftFirst, ref lists.LeftLast, serializers!.Left);
            ReadList(r, right, ref lists.RightFirst, ref lists.RightLast, serializers!.Right);
            if (lists.IsEmpty) keys.Remove(key);
        });
    }

    private static void ReadList<T>(BinaryReader r, JoinRecordStore<T> store, ref int first, ref int last, StateSerializer<T> values) where T : notnull
    {
        int n = r.ReadInt32();
        for (int i = 0; i < n; i++)
        {
            var value = values.Read(r);
            int count = r.ReadInt32();
            int associations = r.ReadInt32();
            store.Append(ref first, ref last, value, count, associations, 0);
        }
    }
}
