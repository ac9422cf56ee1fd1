using System.Runtime.InteropServices;
using Eddy.Runtime;

namespace Eddy.Joins;

/// <summary>
/// The state of a regular or semi/anti join: both inputs' records per join key (<see cref="JoinRecordStore{T}"/>), with
/// Flink's state TTL for the table runtime — a record not written for its side's TTL (processing time) counts as
/// absent and is dropped when next seen (update on create and write, expired state never returned), and a periodic
/// sweep frees the records of keys not touched — and its snapshot by key group.
/// </summary>
internal sealed class JoinSides<TKey, TLeft, TRight> where TKey : notnull where TLeft : notnull where TRight : notnull
{
    private const int None = JoinRecordStore<TLeft>.None;
    private const byte StateVersion = 2;
    private const byte KeySection = 1;

    public readonly Dictionary<TKey, JoinKeyLists> Keys = [];
    public readonly JoinRecordStore<TLeft> Left = new();
    public readonly JoinRecordStore<TRight> Right = new();
    public readonly long LeftTtl;
    public readonly long RightTtl;
    /// <summary>The sweep period: the smaller positive TTL, or 0 without TTL.</summary>
    public readonly long SweepPeriod;
    /// <summary>The processing time of the batch being processed (read only with a TTL).</summary>
    public long Now;

    private readonly List<TKey> emptied = [];
    private bool sweepScheduled;
    private JoinStateSerializers<TKey, TLeft, TRight>? serializers;

    /// <param name="leftTtl">Flink's <c>table.exec.state.ttl</c> for the left side; zero or null keeps state forever.</param>
    /// <param name="rightTtl">The right side's TTL (Flink's <c>STATE_TTL</c> hint can differ per side).</param>
    public JoinSides(TimeSpan? leftTtl, TimeSpan? rightTtl)
    {
        LeftTtl = leftTtl is { } l ? EventTime.Millis(l) : 0;
        RightTtl = rightTtl is { } r ? EventTime.Millis(r) : LeftTtl;
        if (LeftTtl < 0 || RightTtl < 0) throw new ArgumentOutOfRangeException(nameof(leftTtl), "a state TTL cannot be negative");
        SweepPeriod = LeftTtl == 0 ? RightTtl : RightTtl == 0 ? LeftTtl : Math.Min(LeftTtl, RightTtl);
    }

    public bool HasTtl => SweepPeriod > 0;

    public bool Expired(long writtenAt, long ttl) => ttl > 0 && writtenAt + ttl <= Now;

    /// <summary>Drops the expired entries of one list (nothing without a TTL).</summary>
    public void DropExpired<T>(JoinRecordStore<T> store, ref int first, ref int last, long ttl) where T : notnull
    {
        if (ttl == 0) return;
        for (int s = first - 1; s != None;)
        {
            int next = store[s].Next;
            if (Expired(store[s].WrittenAt, ttl)) store.Remove(ref first, ref last, s);
            s = next;
        }
    }

    /// <summary>
    /// Registers the sweep that frees expired records of keys not touched since (once; nothing without a TTL or
    /// without records). Expired records are never returned anyway: access checks them.
    /// </summary>
    public void ScheduleSweep(ProcessingTimers timers)
    {
        if (HasTtl && !sweepScheduled && Keys.Count > 0) RegisterSweep(timers);
    }

    // Apart from ScheduleSweep so that its per-batch call allocates no closure when nothing is registered.
    private void RegisterSweep(ProcessingTimers timers)
    {
        sweepScheduled = true;
        timers.Register(timers.Now + SweepPeriod, _ =>
        {
            sweepScheduled = false;
            Sweep(timers.Now);
            ScheduleSweep(timers);
        });
    }

    private void Sweep(long now)
    {
        Now = now;
        emptied.Clear();
        foreach (var (key, _) in Keys)
        {
            ref var lists = ref CollectionsMarshal.GetValueRefOrNullRef(Keys, key);
            DropExpired(Left, ref lists.LeftFirst, ref lists.LeftLast, LeftTtl);
            DropExpired(Right, ref lists.RightFirst, ref lists.RightLast, RightTtl);
            if (lists.IsEmpty) emptied.Add(key);
        }
        foreach (var key in emptied) Keys.Remove(key);
        emptied.Clear();
    }

    /// <summary>Resolves the serializers when the operator opens, so an unserializable row type fails the job at start.</summary>
    public void ResolveSerializers(string operatorName) =>
        serializers ??= JoinStateSerializers<TKey, TLeft, TRight>.Resolve(operatorName);

    /// <summary>A section per key: the key, then each side's records with count, associations and write time.</summary>
    public void Snapshot(OperatorStateWriter writer, int maxParallelism, string operatorName)
    {
        ResolveSerializers(operatorName);
        var sections = new KeyGroupSectionWriter(writer, maxParallelism);
        foreach (var (key, lists) in Keys)
        {
            var w = sections.Section(KeyGroups.ForKey(key, sections.MaxParallelism), KeySection);
            serializers!.Key.Write(w, key);
            WriteList(w, Left, lists.LeftFirst, serializers.Left);
            WriteList(w, Right, lists.RightFirst, serializers.Right);
        }
        sections.Complete();
        OperatorStateFormat.WriteVersion(writer.OperatorState, StateVersion);
    }

    public void Restore(OperatorStateReader reader, string operatorName)
    {
        ResolveSerializers(operatorName);
        foreach (var r in reader.OperatorStates) OperatorStateFormat.CheckVersion(r, StateVersion, operatorName);
        KeyGroupSections.Read(reader, (_, tag, r) =>
        {
            if (tag != KeySection) throw new InvalidDataException($"operator '{operatorName}': unknown state section {tag}");
            var key = serializers!.Key.Read(r);
            ref var lists = ref JoinKeyIndex.Lists(Keys, key);
            ReadList(r, Left, ref lists.LeftFirst, ref lists.LeftLast, serializers.Left);
            ReadList(r, Right, ref lists.RightFirst, ref lists.RightLast, serializers.Right);
            if (lists.IsEmpty) Keys.Remove(key);
        });
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
            w.Write(e.WrittenAt);
        }
    }

    private static void ReadList<T>(BinaryReader r, JoinRecordStore<T> store, ref int first, ref int last, StateSerializer<T> values) where T : notnull
    {
        int n = r.ReadInt32();
        for (int i = 0; i < n; i++)
        {
            var value = values.Read(r);
            int count = r.ReadInt32();
            int associations = r.ReadInt32();
            long writtenAt = r.ReadInt64();
            store.Append(ref first, ref last, value, count, associations, writtenAt);
        }
    }
}
