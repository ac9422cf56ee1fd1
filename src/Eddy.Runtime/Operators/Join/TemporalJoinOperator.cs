using System.Runtime.CompilerServices;
using Eddy.Runtime;

namespace Eddy.Joins;

/// <summary>
/// Flink SQL's event-time temporal join (<c>TemporalRowTimeJoinOperator</c>): each left row joins the version of the
/// right row of its key that was valid at the left row's time — the right row with the latest time at or before it —
/// once the watermark (the minimum over both inputs) has passed the left row's time. The right input is a versioned
/// table's changelog: every record is a version at its own time (a later record with the same time replaces it); a
/// retraction (<c>-D</c>) is a version in which the key does not exist, so left rows in its validity join nothing.
/// <c>-U</c> records are ignored, as Flink's planner asks the versioned side for upserts only. Left rows must be
/// append-only. A left row that finds no version (or whose version fails the residual) is dropped, or emitted padded
/// in a LEFT join. Right versions that no left row can still need (all but the latest at or before the watermark)
/// are removed when the watermark passes them. Output rows carry the left row's time and its kind.
/// </summary>
public sealed class TemporalJoinOperator<TKey, TLeft, TRight, TOut> : TimedJoinOperator<TKey, TLeft, TRight, TOut>
    where TKey : notnull
{
    private const long NoTimer = long.MinValue;

    private readonly Func<TLeft, long> leftTime;
    private readonly Func<TRight, long> rightTime;
    private readonly bool leftOuter;

    private readonly Dictionary<TKey, KeyState> keys = [];

    internal struct LeftRow
    {
        public long Time;
        public long Sequence;
        public TLeft Value;
    }

    internal struct Version
    {
        public long Time;
        public bool Deleted;
        public TRight Value;
    }

    private sealed class KeyState
    {
        /// <summary>Left rows waiting for the watermark, in arrival order (<see cref="LeftRow.Sequence"/> keeps it across restores).</summary>
        public LeftRow[] Left = new LeftRow[4];
        public int LeftCount;
        /// <summary>The right versions of the key, sorted by time, one per time.</summary>
        public Version[] Versions = new Version[4];
        public int VersionCount;
        /// <summary>The smallest timer registered and not yet fired (Flink's registeredTimer), or <see cref="NoTimer"/>.</summary>
        public long Timer = NoTimer;

        public bool IsEmpty => LeftCount == 0 && VersionCount == 0;
    }

    private long nextSequence;

    public TemporalJoinOperator(Func<TLeft, TKey> leftKey, Func<TRight, TKey> rightKey, Func<TLeft, long> leftTime, Func<TRight, long> rightTime,
        bool leftOuter, Func<TLeft, TRight, bool>? residual, JoinCombiner<TLeft, TRight, TOut> combine)
        : base(leftKey, rightKey, residual, combine)
    {
        this.leftTime = leftTime;
        this.rightTime = rightTime;
        this.leftOuter = leftOuter;
    }

    /// <summary>Left rows waiting and right versions held, over all keys.</summary>
    public (int Left, int Versions) HeldRows
    {
        get
        {
            int l = 0, r = 0;
            foreach (var k in keys.Values)
            {
                l += k.LeftCount;
                r += k.VersionCount;
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
            ref readonly var v = ref values[i];
            if (v.IsLeft)
            {
                if (kind != RowKind.Insert)
                    throw new InvalidOperationException($"operator '{Context.OperatorName}': the probe side of an event-time temporal join is append-only, "
                        + $"but a {kind.ShortString()} record arrived");
                var key = leftKey(v.Left);
                var state = StateOf(key);
                long time = leftTime(v.Left);
                if (state.LeftCount == state.Left.Length) Array.Resize(ref state.Left, state.LeftCount * 2);
                state.Left[state.LeftCount++] = new LeftRow { Time = time, Sequence = nextSequence++, Value = v.Left };
                RegisterSmallestTimer(key, state, time);
            }
            else
            {
                // Flink's planner asks a versioned table for upserts: an update's -U never reaches the operator.
                if (kind == RowKind.UpdateBefore) continue;
                var key = rightKey(v.Right);
                var state = StateOf(key);
                long time = rightTime(v.Right);
                PutVersion(state, time, kind == RowKind.Delete, v.Right);
                RegisterSmallestTimer(key, state, time);
            }
        }
        BatchPool<JoinInput<TLeft, TRight>>.Return(batch);
    }

    private KeyState StateOf(TKey key)
    {
        if (!keys.TryGetValue(key, out var state))
        {
            state = new KeyState();
            keys.Add(key, state);
        }
        return state;
    }

    /// <summary>Inserts the version at <paramref name="time"/> in order, replacing one of the same time.</summary>
    private static void PutVersion(KeyState state, long time, bool deleted, TRight value)
    {
        var versions = state.Versions;
        int n = state.VersionCount;
        int at = n;
        while (at > 0 && versions[at - 1].Time > time) at--;
        if (at > 0 && versions[at - 1].Time == time)
        {
            versions[at - 1] = new Version { Time = time, Deleted = deleted, Value = value };
            return;
        }
        if (n == versions.Length) Array.Resize(ref state.Versions, n * 2);
        versions = state.Versions;
        Array.Copy(versions, at, versions, at + 1, n - at);
        versions[at] = new Version { Time = time, Deleted = deleted, Value = value };
        state.VersionCount = n + 1;
    }

    private void RegisterSmallestTimer(TKey key, KeyState state, long time)
    {
        if (state.Timer != NoTimer && state.Timer <= time) return;
        state.Timer = time;
        timers!.RegisterEventTime(key, time);
    }

    private protected override void OnTimer(TKey key, long time, TimeDomain domain)
    {
        if (!keys.TryGetValue(key, out var state)) return;
        state.Timer = NoTimer;
        long watermark = CurrentWatermark;
        long lastUnprocessed = EmitAndCleanUp(state, watermark);
        if (lastUnprocessed < long.MaxValue) RegisterSmallestTimer(key, state, lastUnprocessed);
        if (state.IsEmpty) keys.Remove(key);
    }

    /// <summary>
    /// Joins the left rows at or before <paramref name="watermark"/> (in time order, arrival order among equal times)
    /// and removes them, then removes the versions older than the latest one at or before the watermark. Returns the
    /// earliest time of the left rows left, or <see cref="long.MaxValue"/>.
    /// </summary>
    private long EmitAndCleanUp(KeyState state, long watermark)
    {
        var left = state.Left;
        int count = state.LeftCount;
        // Ready rows first (sorted by time, then sequence); the rest keep their arrival order.
        int ready = 0;
        long lastUnprocessed = long.MaxValue;
        for (int i = 0; i < count; i++)
        {
            if (left[i].Time <= watermark)
            {
                if (i != ready) (left[ready], left[i]) = (left[i], left[ready]);
                ready++;
            }
        }
        if (ready > 1) Array.Sort(left, 0, ready, LeftOrder.Instance);
        var o = output!;
        for (int i = 0; i < ready; i++)
        {
            ref var row = ref left[i];
            int v = LatestAtOrBefore(state, row.Time);
            bool joined = false;
            if (v >= 0 && !state.Versions[v].Deleted && (residual is null || residual(row.Value, state.Versions[v].Value)))
            {
                o.Collect(combine(row.Value, true, state.Versions[v].Value, true), row.Time);
                joined = true;
            }
            if (!joined && leftOuter) o.Collect(combine(row.Value, true, default!, false), row.Time);
        }
        int kept = 0;
        for (int i = ready; i < count; i++)
        {
            left[kept++] = left[i];
            if (left[i].Time < lastUnprocessed) lastUnprocessed = left[i].Time;
        }
        if (RuntimeHelpers.IsReferenceOrContainsReferences<LeftRow>()) Array.Clear(left, kept, count - kept);
        state.LeftCount = kept;
        // Versions before the latest one valid at the watermark can no longer be asked for.
        int keep = LatestAtOrBefore(state, watermark);
        if (keep > 0)
        {
            int n = state.VersionCount;
            Array.Copy(state.Versions, keep, state.Versions, 0, n - keep);
            if (RuntimeHelpers.IsReferenceOrContainsReferences<Version>()) Array.Clear(state.Versions, n - keep, keep);
            state.VersionCount = n - keep;
        }
        return lastUnprocessed;
    }

    /// <summary>The index of the version with the latest time at or before <paramref name="time"/>, or -1.</summary>
    private static int LatestAtOrBefore(KeyState state, long time)
    {
        int lo = 0, hi = state.VersionCount - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (state.Versions[mid].Time <= time)
            {
                found = mid;
                lo = mid + 1;
            }
            else hi = mid - 1;
        }
        return found;
    }

    private sealed class LeftOrder : IComparer<LeftRow>
    {
        public static readonly LeftOrder Instance = new();

        public int Compare(LeftRow x, LeftRow y) => x.Time != y.Time ? x.Time.CompareTo(y.Time) : x.Sequence.CompareTo(y.Sequence);
    }

    private const byte KeySection = 1;

    /// <summary>A section per key: the key, its timer, the waiting left rows (time, sequence, value), the versions (time, deleted, value).</summary>
    public override void SnapshotState(long checkpointId, OperatorStateWriter writer)
    {
        ResolveSerializers();
        var sections = new KeyGroupSectionWriter(writer, Context.MaxParallelism);
        foreach (var (key, state) in keys)
        {
            var w = sections.Section(KeyGroups.ForKey(key, sections.MaxParallelism), KeySection);
            serializers!.Key.Write(w, key);
            w.Write(state.Timer);
            w.Write(state.LeftCount);
            for (int i = 0; i < state.LeftCount; i++)
            {
                w.Write(state.Left[i].Time);
                w.Write(state.Left[i].Sequence);
                serializers!.Left.Write(w, state.Left[i].Value);
            }
            w.Write(state.VersionCount);
            for (int i = 0; i < state.VersionCount; i++)
            {
                w.Write(state.Versions[i].Time);
                w.Write(state.Versions[i].Deleted);
                serializers!.Right.Write(w, state.Versions[i].Value);
            }
        }
        sections.Complete();
        WriteOperatorState(writer, nextSequence);
    }

    public override void RestoreState(OperatorStateReader reader)
    {
        ResolveSerializers();
        if (RestoreOperatorState(reader, nextSequence, Math.Max) is { } sequence) nextSequence = sequence;
        KeyGroupSections.Read(reader, (_, tag, r) =>
        {
            if (tag != KeySection) throw new InvalidDataException($"operator '{Context.OperatorName}': unknown state section {tag}");
            var key = serializers!.Key.Read(r);
            var state = StateOf(key);
            long timer = r.ReadInt64();
            int left = r.ReadInt32();
            for (int i = 0; i < left; i++)
            {
                long time = r.ReadInt64();
                long sequence = r.ReadInt64();
                var value = serializers!.Left.Read(r);
                if (state.LeftCount == state.Left.Length) Array.Resize(ref state.Left, state.LeftCount * 2);
                state.Left[state.LeftCount++] = new LeftRow { Time = time, Sequence = sequence, Value = value };
            }
            int versions = r.ReadInt32();
            for (int i = 0; i < versions; i++)
            {
                long time = r.ReadInt64();
                bool deleted = r.ReadBoolean();
                PutVersion(state, time, deleted, serializers!.Right.Read(r));
            }
            if (timer != NoTimer) RegisterSmallestTimer(key, state, timer);
        });
    }
}
