using System.Runtime.CompilerServices;
using Eddy.Runtime;

namespace Eddy.Joins;

/// <summary>The join types of a window join: SQL's four, and the semi/anti joins of IN/EXISTS (output: the left row).</summary>
public enum WindowJoinType : byte
{
    Inner,
    Left,
    Right,
    Full,
    /// <summary>Each left row that has at least one partner in its window, once (<c>IN</c>/<c>EXISTS</c>).</summary>
    Semi,
    /// <summary>Each left row that has no partner in its window (<c>NOT IN</c>/<c>NOT EXISTS</c>).</summary>
    Anti,
}

/// <summary>
/// Flink SQL's window join (<c>WindowJoinOperator</c>): both inputs carry the window each row belongs to (the
/// <c>window_end</c> of a window TVF or window aggregation, read by <c>leftWindowEnd</c>/<c>rightWindowEnd</c>); rows
/// of one key and one window are buffered until the watermark reaches <c>window_end - 1</c>, then joined all at once
/// (residual condition on each pair; padding for outer sides, existence for semi/anti) and dropped. A row whose window
/// has already fired on arrival is late and dropped, as Flink does. Inputs are append-only, the output is too
/// (<c>+I</c>), stamped <c>window_end - 1</c>.
/// </summary>
public sealed class WindowJoinOperator<TKey, TLeft, TRight, TOut> : TimedJoinOperator<TKey, TLeft, TRight, TOut>
    where TKey : notnull
{
    private readonly Func<TLeft, long> leftWindowEnd;
    private readonly Func<TRight, long> rightWindowEnd;
    private readonly WindowJoinType joinType;

    // State per (key, window end): both sides' rows in arrival order. One timer per (key, window end - 1).
    private readonly Dictionary<(TKey Key, long WindowEnd), WindowRows> windows = [];
    private readonly Stack<WindowRows> pool = new();
    private long lateRecords;
    private bool[] rightMatched = new bool[16];

    private sealed class WindowRows
    {
        public TLeft[] Left = new TLeft[4];
        public int LeftCount;
        public TRight[] Right = new TRight[4];
        public int RightCount;

        public void Clear()
        {
            if (RuntimeHelpers.IsReferenceOrContainsReferences<TLeft>()) Array.Clear(Left, 0, LeftCount);
            if (RuntimeHelpers.IsReferenceOrContainsReferences<TRight>()) Array.Clear(Right, 0, RightCount);
            LeftCount = RightCount = 0;
        }
    }

    /// <param name="leftWindowEnd">The left row's window end (epoch ms); both sides must use the same windows.</param>
    /// <param name="combine">The output row; for <see cref="WindowJoinType.Semi"/>/<see cref="WindowJoinType.Anti"/> called with the left row only.</param>
    public WindowJoinOperator(Func<TLeft, TKey> leftKey, Func<TRight, TKey> rightKey, Func<TLeft, long> leftWindowEnd, Func<TRight, long> rightWindowEnd,
        WindowJoinType joinType, Func<TLeft, TRight, bool>? residual, JoinCombiner<TLeft, TRight, TOut> combine)
        : base(leftKey, rightKey, residual, combine)
    {
        this.leftWindowEnd = leftWindowEnd;
        this.rightWindowEnd = rightWindowEnd;
        this.joinType = joinType;
    }

    /// <summary>Rows dropped because their window had already fired.</summary>
    public long LateRecords => lateRecords;

    /// <summary>Rows buffered per side, over all keys and windows.</summary>
    public (int Left, int Right) HeldRows
    {
        get
        {
            int l = 0, r = 0;
            foreach (var w in windows.Values)
            {
                l += w.LeftCount;
                r += w.RightCount;
            }
            return (l, r);
        }
    }

    public override void OnBatch(Batch<JoinInput<TLeft, TRight>> batch)
    {
        var values = batch.Values;
        for (int i = 0; i < batch.Count; i++)
        {
            var kind = batch.KindAt(i);
            if (kind != RowKind.Insert)
                throw new InvalidOperationException($"operator '{Context.OperatorName}': a window join takes append-only inputs, "
                    + $"but a {kind.ShortString()} record arrived");
            ref readonly var v = ref values[i];
            TKey key;
            long end;
            if (v.IsLeft)
            {
                key = leftKey(v.Left);
                end = leftWindowEnd(v.Left);
            }
            else
            {
                key = rightKey(v.Right);
                end = rightWindowEnd(v.Right);
            }
            // Flink's TimeWindowUtil.isWindowFired: the window's timer (end - 1) is at or before the watermark.
            if (end - 1 <= CurrentWatermark)
            {
                lateRecords++;
                Context.Metrics.LateRecordsDropped++;
                continue;
            }
            var rows = RowsOf(key, end);
            if (v.IsLeft) Append(ref rows.Left, ref rows.LeftCount, v.Left);
            else Append(ref rows.Right, ref rows.RightCount, v.Right);
        }
        BatchPool<JoinInput<TLeft, TRight>>.Return(batch);
    }

    private WindowRows RowsOf(TKey key, long end)
    {
        if (!windows.TryGetValue((key, end), out var rows))
        {
            rows = pool.Count > 0 ? pool.Pop() : new WindowRows();
            windows.Add((key, end), rows);
            timers!.RegisterEventTime(key, end - 1);
        }
        return rows;
    }

    private static void Append<T>(ref T[] rows, ref int count, T value)
    {
        if (count == rows.Length) Array.Resize(ref rows, count * 2);
        rows[count++] = value;
    }

    private protected override void OnTimer(TKey key, long time, TimeDomain domain)
    {
        if (!windows.Remove((key, time + 1), out var rows)) return;
        var o = output!;
        o.CurrentTimestamp = time;
        var left = rows.Left;
        var right = rows.Right;
        int n = rows.LeftCount, m = rows.RightCount;
        switch (joinType)
        {
            case WindowJoinType.Semi or WindowJoinType.Anti:
            {
                bool semi = joinType == WindowJoinType.Semi;
                for (int i = 0; i < n; i++)
                {
                    bool found = false;
                    for (int j = 0; j < m && !found; j++) found = Accepts(left[i], right[j]);
                    if (found == semi) o.Collect(combine(left[i], true, default!, false), time);
                }
                break;
            }
            default:
            {
                bool leftOuter = joinType is WindowJoinType.Left or WindowJoinType.Full;
                bool rightOuter = joinType is WindowJoinType.Right or WindowJoinType.Full;
                if (rightOuter)
                {
                    if (rightMatched.Length < m) rightMatched = new bool[Math.Max(m, rightMatched.Length * 2)];
                    Array.Clear(rightMatched, 0, m);
                }
                for (int i = 0; i < n; i++)
                {
                    bool matched = false;
                    for (int j = 0; j < m; j++)
                    {
                        if (!Accepts(left[i], right[j])) continue;
                        matched = true;
                        if (rightOuter) rightMatched[j] = true;
                        o.Collect(combine(left[i], true, right[j], true), time);
                    }
                    if (!matched && leftOuter) o.Collect(combine(left[i], true, default!, false), time);
                }
                if (rightOuter)
                {
                    for (int j = 0; j < m; j++)
                        if (!rightMatched[j]) o.Collect(combine(default!, false, right[j], true), time);
                }
                break;
            }
        }
        rows.Clear();
        pool.Push(rows);
    }

    private const byte WindowSection = 1;

    /// <summary>
    /// A section per (key, window) in the key's group: the key, the window end, then each side's rows. The timers are
    /// not written: each window has exactly one, at its end - 1, re-registered on restore.
    /// </summary>
    public override void SnapshotState(long checkpointId, OperatorStateWriter writer)
    {
        ResolveSerializers();
        var sections = new KeyGroupSectionWriter(writer, Context.MaxParallelism);
        foreach (var ((key, end), rows) in windows)
        {
            var w = sections.Section(KeyGroups.ForKey(key, sections.MaxParallelism), WindowSection);
            serializers!.Key.Write(w, key);
            w.Write(end);
            WriteRows(w, rows.Left, rows.LeftCount, serializers!.Left);
            WriteRows(w, rows.Right, rows.RightCount, serializers!.Right);
        }
        sections.Complete();
        WriteOperatorState(writer, lateRecords);
    }

    private static void WriteRows<T>(BinaryWriter w, T[] rows, int count, StateSerializer<T> values)
    {
        w.Write(count);
        for (int i = 0; i < count; i++) values.Write(w, rows[i]);
    }

    public override void RestoreState(OperatorStateReader reader)
    {
        ResolveSerializers();
        if (RestoreOperatorState(reader, lateRecords, (sum, late) => sum + late) is { } late) lateRecords = late;
        KeyGroupSections.Read(reader, (_, tag, r) =>
        {
            if (tag != WindowSection) throw new InvalidDataException($"operator '{Context.OperatorName}': unknown state section {tag}");
            var key = serializers!.Key.Read(r);
            long end = r.ReadInt64();
            var rows = RowsOf(key, end);
            ReadRows(r, ref rows.Left, ref rows.LeftCount, serializers!.Left);
            ReadRows(r, ref rows.Right, ref rows.RightCount, serializers!.Right);
        });
    }

    private static void ReadRows<T>(BinaryReader r, ref T[] rows, ref int count, StateSerializer<T> values)
    {
        int n = r.ReadInt32();
        for (int i = 0; i < n; i++) Append(ref rows, ref count, values.Read(r));
    }
}
