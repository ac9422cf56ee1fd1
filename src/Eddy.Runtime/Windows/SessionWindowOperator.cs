using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Eddy.Runtime;

namespace Eddy.Windows;

/// <summary>
/// Event-time session windows with a static or per-element gap, as Flink's merging window operator: an element opens
/// [t, t + gap) and merges with every session of its key that it overlaps or touches. Sessions live in a pooled array
/// linked per key; timers are a queue with lazy deletion: a session owns one current entry (by generation), and an
/// entry that comes due early for a session that grew is simply re-queued at the session's new time.
/// </summary>
internal sealed class SessionWindowOperator<T, TKey, TAcc, TResult, TOut, TAgg, TEmit> : WindowOperatorBase<T, TOut>
    where TKey : notnull
    where TAgg : IAggregateFunction<T, TAcc, TResult>
    where TEmit : IWindowEmitter<TKey, TResult, TOut>
{
    private const int None = -1;

    private readonly Func<T, TKey> keyOf;
    private readonly long gap;
    private readonly Func<T, TimeSpan>? gapOf;
    private TAgg aggregate;
    private TEmit emitter;

    private Session[] sessions = new Session[64];
    private int used;
    private int free = None;
    private int live;
    private readonly Dictionary<TKey, int> firstSessionOf = [];
    private readonly TimerQueue<(int Session, int Generation)> timers = new();
    private readonly List<int> merging = [];
    private readonly Comparison<int> byStart;

    private struct Session
    {
        public long Start;
        public long End;
        public TAcc Accumulator;
        public TKey Key;
        /// <summary>What earlier firings of this session (or of sessions merged into it) emitted.</summary>
        public EmittedResult<TOut>[]? Emitted;
        /// <summary>Whether the current contents have been emitted (the session then waits for its cleanup).</summary>
        public bool Fired;
        public long QueuedAt;
        public int Generation;
        public int Next;
    }

    public SessionWindowOperator(Func<T, TKey> keyOf, long gap, Func<T, TimeSpan>? gapOf, TAgg aggregate, TEmit emitter,
        long allowedLateness, OutputTag<T>? lateTag) : base(allowedLateness, lateTag, aggregate as IFunctionLifecycle)
    {
        this.keyOf = keyOf;
        this.gap = gap;
        this.gapOf = gapOf;
        this.aggregate = aggregate;
        this.emitter = emitter;
        byStart = (x, y) => sessions[x].Start.CompareTo(sessions[y].Start);
    }

    public override int HeldState => live;

    private const byte KeySection = 1;
    private StateSerializer<TKey>? keySerializer;
    private StateSerializer<TAcc>? accSerializer;
    private StateSerializer<EmittedResult<TOut>[]?>? emittedSerializer;

    protected override void ResolveStateSerializers()
    {
        keySerializer ??= StateSerializers.For<TKey>();
        accSerializer ??= StateSerializers.For<TAcc>();
        emittedSerializer ??= StateSerializers.For<EmittedResult<TOut>[]?>();
    }

    /// <summary>A section per key: the key, its session count, then each session's bounds, accumulator, state, emissions.</summary>
    protected override void SnapshotKeyed(KeyGroupSectionWriter sections)
    {
        foreach (var (key, first) in firstSessionOf)
        {
            var w = sections.Section(KeyGroups.ForKey(key, sections.MaxParallelism), KeySection);
            keySerializer!.Write(w, key);
            int n = 0;
            for (int s = first; s != None; s = sessions[s].Next) n++;
            w.Write(n);
            for (int s = first; s != None; s = sessions[s].Next)
            {
                ref var session = ref sessions[s];
                w.Write(session.Start);
                w.Write(session.End);
                accSerializer!.Write(w, session.Accumulator);
                w.Write(session.Fired);
                emittedSerializer!.Write(w, session.Emitted);
            }
        }
    }

    protected override void RestoreSection(int keyGroup, byte tag, BinaryReader r)
    {
        if (tag != KeySection) throw UnknownSection(tag);
        TKey key = keySerializer!.Read(r);
        int n = r.ReadInt32();
        int first = None;
        for (int i = 0; i < n; i++)
        {
            long start = r.ReadInt64();
            long end = r.ReadInt64();
            int s = Allocate(key, start, end);
            ref var session = ref sessions[s];
            session.Accumulator = accSerializer!.Read(r);
            session.Fired = r.ReadBoolean();
            session.Emitted = emittedSerializer!.Read(r);
            // A session waits for its firing, or (fired) for its cleanup, as after the timer that fired it.
            Schedule(s, session.Fired ? CleanupTime(end - 1) : end - 1);
            if (first == None) first = s;
            else
            {
                int last = first;
                while (sessions[last].Next != None) last = sessions[last].Next;
                sessions[last].Next = s;
            }
        }
        if (first != None) firstSessionOf[key] = first;
    }

    public override void OnBatch(Batch<T> batch)
    {
        var values = batch.Values;
        var times = batch.Timestamps;
        for (int i = 0; i < batch.Count; i++)
        {
            long ts = times[i];
            if (ts == EventTime.None) ThrowNoTimestamp();
            T value = values[i];
            long g = gap;
            if (gapOf is not null)
            {
                g = EventTime.Millis(gapOf(value));
                if (g <= 0) throw new InvalidOperationException($"a session gap must be positive, got {g} ms");
            }
            Add(value, ts, g);
        }
        BatchPool<T>.Return(batch);
    }

    private void Add(T value, long ts, long g)
    {
        long watermark = CurrentWatermark;
        long start = ts;
        long end = ts + g;
        TKey key = keyOf(value);
        ref int first = ref CollectionsMarshal.GetValueRefOrAddDefault(firstSessionOf, key, out bool exists);
        if (!exists)
        {
            if (CleanupTime(end - 1) <= watermark)
            {
                firstSessionOf.Remove(key);
                OnLateRecord(value, ts);
                return;
            }
            int s = Allocate(key, start, end);
            sessions[s].Accumulator = aggregate.Add(value, aggregate.CreateAccumulator());
            first = s;
            Schedule(s, end - 1);
            if (end - 1 <= watermark) Fire(s);
            return;
        }

        // The common case: the key's only session absorbs the element.
        ref var only = ref sessions[first];
        if (only.Next == None && only.Start <= end && only.End >= start)
        {
            if (start < only.Start) only.Start = start;
            if (end > only.End) only.End = end;
            only.Accumulator = aggregate.Add(value, only.Accumulator);
            Updated(first, watermark);
            return;
        }

        // Unlink the sessions the new window overlaps or touches; the rest stay linked.
        merging.Clear();
        int rest = None;
        for (int s = first; s != None;)
        {
            ref var session = ref sessions[s];
            int next = session.Next;
            if (session.Start <= end && session.End >= start) merging.Add(s);
            else
            {
                session.Next = rest;
                rest = s;
            }
            s = next;
        }

        int target;
        if (merging.Count == 0)
        {
            if (CleanupTime(end - 1) <= watermark)
            {
                first = rest;
                OnLateRecord(value, ts);
                return;
            }
            target = Allocate(key, start, end);
            sessions[target].Accumulator = aggregate.CreateAccumulator();
            sessions[target].QueuedAt = long.MaxValue;
        }
        else
        {
            // Earliest first, so that retractions come in window order.
            if (merging.Count > 1) merging.Sort(byStart);
            target = merging[0];
            ref var t = ref sessions[target];
            t.Start = Math.Min(t.Start, start);
            t.End = Math.Max(t.End, end);
            for (int i = 1; i < merging.Count; i++)
            {
                ref var other = ref sessions[merging[i]];
                t.Start = Math.Min(t.Start, other.Start);
                t.End = Math.Max(t.End, other.End);
                t.Accumulator = aggregate.Merge(t.Accumulator, other.Accumulator);
                if (other.Emitted is not null) t.Emitted = t.Emitted is null ? other.Emitted : [.. t.Emitted, .. other.Emitted];
                Release(merging[i]);
            }
        }
        ref var merged = ref sessions[target];
        merged.Accumulator = aggregate.Add(value, merged.Accumulator);
        merged.Next = rest;
        first = target;
        Updated(target, watermark);
    }

    /// <summary>A session got an element: it has unemitted contents and may have to fire earlier or at once.</summary>
    private void Updated(int s, long watermark)
    {
        ref var session = ref sessions[s];
        session.Fired = false;
        // Its timer entry may be later than the session's new firing time (a fired session waiting for cleanup), or
        // earlier: then it is re-queued when it comes due, unless a fresh entry is cheap (appended in time order),
        // which spares the heap on in-order input.
        long due = session.End - 1;
        if (due < session.QueuedAt || (due > session.QueuedAt && timers.AppendsAt(due)))
        {
            session.Generation++;
            Schedule(s, session.End - 1);
        }
        // A session that is complete by the watermark fires at once, as Flink's event-time trigger does on an element.
        if (session.End - 1 <= watermark) Fire(s);
    }

    protected override void ProcessWatermark(long watermark)
    {
        while (timers.TryPeek(out var entry, out long time) && time <= watermark)
        {
            timers.Dequeue();
            int s = entry.Session;
            if (sessions[s].Generation != entry.Generation) continue;
            if (!sessions[s].Fired)
            {
                if (sessions[s].End - 1 > watermark)
                {
                    Schedule(s, sessions[s].End - 1);
                    continue;
                }
                Fire(s);
            }
            long cleanup = CleanupTime(sessions[s].End - 1);
            if (cleanup > watermark) Schedule(s, cleanup);
            else Remove(s);
        }
        PublishPendingWindowEnd();
    }

    /// <summary>Shows monitoring the next timer (a session's end or cleanup), after each watermark and new timer.</summary>
    private void PublishPendingWindowEnd() =>
        Volatile.Write(ref Context.Metrics.PendingWindowEnd, timers.TryPeek(out _, out long time) ? time + 1 : long.MaxValue);

    private void Fire(int s)
    {
        ref var session = ref sessions[s];
        var window = new TimeWindow(session.Start, session.End);
        var o = BeginWindow(window.MaxTimestamp, session.Emitted);
        emitter.Emit(session.Key, window, aggregate.GetResult(session.Accumulator), o);
        // The emitter ran user code, but nothing it can reach resizes the session array.
        session.Emitted = EndWindow();
        session.Fired = true;
    }

    private void Schedule(int s, long time)
    {
        sessions[s].QueuedAt = time;
        timers.Enqueue((s, sessions[s].Generation), time);
        if (time + 1 < Context.Metrics.PendingWindowEnd) Volatile.Write(ref Context.Metrics.PendingWindowEnd, time + 1);
    }

    private int Allocate(TKey key, long start, long end)
    {
        int s;
        if (free != None)
        {
            s = free;
            free = sessions[s].Next;
        }
        else
        {
            if (used == sessions.Length) Array.Resize(ref sessions, used * 2);
            s = used++;
        }
        live++;
        ref var session = ref sessions[s];
        session.Start = start;
        session.End = end;
        session.Key = key;
        session.Emitted = null;
        session.Fired = false;
        session.Next = None;
        return s;
    }

    /// <summary>Unlinks a session from its key and frees it; the key goes when it has no session left.</summary>
    private void Remove(int s)
    {
        TKey key = sessions[s].Key;
        ref int first = ref CollectionsMarshal.GetValueRefOrNullRef(firstSessionOf, key);
        if (first == s)
        {
            first = sessions[s].Next;
            if (first == None) firstSessionOf.Remove(key);
        }
        else
        {
            int p = first;
            while (sessions[p].Next != s) p = sessions[p].Next;
            sessions[p].Next = sessions[s].Next;
        }
        Release(s);
    }

    private void Release(int s)
    {
        ref var session = ref sessions[s];
        // The generation invalidates the session's queued timer entry.
        session.Generation++;
        if (RuntimeHelpers.IsReferenceOrContainsReferences<TAcc>()) session.Accumulator = default!;
        if (RuntimeHelpers.IsReferenceOrContainsReferences<TKey>()) session.Key = default!;
        session.Emitted = null;
        session.Next = free;
        free = s;
        live--;
    }
}
