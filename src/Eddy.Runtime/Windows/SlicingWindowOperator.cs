using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Eddy.Runtime;

namespace Eddy.Windows;

/// <summary>
/// Tumbling, sliding and cumulating windows over slices (Flink SQL's slicing window aggregation): each element
/// updates the accumulator of its key in exactly one slice; when a window fires, its slices are merged per key.
/// Slices live in a short list ordered by end; their tables are pooled and reused. In event time windows fire on
/// watermarks; in processing time on the task's timers, and elements take the current processing time.
/// </summary>
internal sealed class SlicingWindowOperator<T, TKey, TAcc, TResult, TOut, TAgg, TEmit> : WindowOperatorBase<T, TOut>
    where TKey : notnull
    where TAgg : IAggregateFunction<T, TAcc, TResult>
    where TEmit : IWindowEmitter<TKey, TResult, TOut>
{
    private readonly Func<T, TKey> keyOf;
    private readonly SliceGrid grid;
    private readonly bool eventTime;
    private TAgg aggregate;
    private TEmit emitter;

    private readonly List<Slice> slices = [];
    private readonly Stack<KeyedAccumulators<TKey, TAcc>> freeTables = new();

    // Windows of several slices merge per key slot: accumulators, the firing that last touched each slot, the slots touched.
    private readonly KeySlots<TKey>? keySlots;
    private WindowSlot[] windowSlots = [];
    private int[] touchedSlots = [];
    private int touchedCount;
    private int windowStamp;

    // Cumulating windows of one group build on each other, as in Flink: the merged state of the last window fired
    // (its start, and the end of the last slice merged) takes just the new slices for the next one.
    private long runningStart = long.MinValue;
    private long runningThrough;

    /// <summary>A key's accumulator for the window being merged; the stamp and the accumulator share a cache line.</summary>
    private struct WindowSlot
    {
        public int Stamp;
        public TAcc Accumulator;
    }

    /// <summary>Every window whose max timestamp is at or before this has fired (the watermark, or the last timer).</summary>
    private long firedThrough = long.MinValue;

    // The slice the last element went to, while none of its windows has fired: the fast path of in-order input.
    private KeyedAccumulators<TKey, TAcc>? current;
    private long currentStart = long.MaxValue;
    private long currentEnd = long.MinValue;

    // With allowed lateness: what each window emitted per key, to retract when late data updates it.
    private readonly Dictionary<long, Dictionary<TKey, EmittedResult<TOut>[]>> emitted = [];
    private readonly PriorityQueue<long, long> emittedByEnd = new();

    private long timerAt = long.MaxValue;

    private readonly record struct Slice(long End, KeyedAccumulators<TKey, TAcc> Table);

    public SlicingWindowOperator(Func<T, TKey> keyOf, SlicingWindowAssigner assigner, TAgg aggregate, TEmit emitter,
        long allowedLateness, OutputTag<T>? lateTag) : base(assigner.IsEventTime ? allowedLateness : 0, lateTag, aggregate as IFunctionLifecycle)
    {
        this.keyOf = keyOf;
        grid = new SliceGrid(assigner);
        eventTime = assigner.IsEventTime;
        this.aggregate = aggregate;
        this.emitter = emitter;
        if (assigner.Kind != SliceKind.Tumbling) keySlots = new KeySlots<TKey>();
    }

    public override int HeldState => slices.Count;

    /// <summary>Processing time: fire the windows still open when the input ends (see <c>WindowedStream.FireAtEndOfInput</c>).</summary>
    public bool FireAtEndOfInput { get; init; }

    protected override void Finish()
    {
        // Event time: the final watermark fired every window already.
        if (!eventTime && FireAtEndOfInput) FireUpTo(long.MaxValue - 1);
    }

    public override void OnBatch(Batch<T> batch)
    {
        var values = batch.Values;
        int n = batch.Count;
        if (eventTime)
        {
            var times = batch.Timestamps;
            for (int i = 0; i < n; i++) Add(values[i], times[i]);
        }
        else
        {
            // An element that arrives after its processing-time window fired goes to the next one.
            long now = Context.ProcessingTimers.Now;
            if (firedThrough != long.MinValue && now <= firedThrough) now = firedThrough + 1;
            for (int i = 0; i < n; i++) Add(values[i], now);
        }
        BatchPool<T>.Return(batch);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Add(T value, long timestamp)
    {
        if (timestamp >= currentStart && timestamp < currentEnd)
        {
            var table = current!;
            TKey key = keyOf(value);
            ref TAcc acc = ref table.GetOrAdd(key, out bool added);
            if (added)
            {
                acc = aggregate.CreateAccumulator();
                if (keySlots is not null) table.SetSlotOfLast(keySlots.Acquire(key));
            }
            acc = aggregate.Add(value, acc);
        }
        else
        {
            AddOutsideCurrentSlice(value, timestamp);
        }
    }

    private void AddOutsideCurrentSlice(T value, long timestamp)
    {
        if (timestamp == EventTime.None) ThrowNoTimestamp();
        long sliceEnd = grid.SliceEndOf(timestamp);
        long firstEnd = grid.FirstWindowEnd(sliceEnd);
        long lastEnd = grid.LastWindowEnd(sliceEnd);
        // Sliding windows with a slide larger than their size leave gaps: an element there belongs to no window. As in
        // Flink, it counts as late only when it is behind the watermark by more than the lateness.
        if (firstEnd > lastEnd)
        {
            if (eventTime && CleanupTime(timestamp) <= firedThrough) OnLateRecord(value, timestamp);
            return;
        }
        if (CleanupTime(lastEnd - 1) <= firedThrough)
        {
            OnLateRecord(value, timestamp);
            return;
        }
        var table = SliceTable(sliceEnd, out bool created);
        TKey key = keyOf(value);
        ref TAcc acc = ref table.GetOrAdd(key, out bool added);
        if (added)
        {
            acc = aggregate.CreateAccumulator();
            if (keySlots is not null) table.SetSlotOfLast(keySlots.Acquire(key));
        }
        acc = aggregate.Add(value, acc);

        if (firstEnd - 1 > firedThrough)
        {
            current = table;
            currentStart = sliceEnd - grid.SliceSize;
            currentEnd = sliceEnd;
            if (created && !eventTime) ScheduleTimer();
            return;
        }
        // Late, but within the allowed lateness: the windows of this slice that already fired fire again for this key.
        // The running state of cumulating windows may have taken this slice already: it is rebuilt.
        runningStart = long.MinValue;
        for (long end = firstEnd; end <= lastEnd && end - 1 <= firedThrough; end += grid.Step)
        {
            if (CleanupTime(end - 1) > firedThrough) FireKey(key, end);
        }
    }

    private KeyedAccumulators<TKey, TAcc> SliceTable(long sliceEnd, out bool created)
    {
        int i = slices.Count - 1;
        while (i >= 0 && slices[i].End > sliceEnd) i--;
        if (i >= 0 && slices[i].End == sliceEnd)
        {
            created = false;
            var existing = slices[i].Table;
            if (existing.IsShared)
            {
                // Copy-on-write: a deferred snapshot still reads this table as it was at the barrier.
                existing = existing.Copy();
                slices[i] = new Slice(sliceEnd, existing);
            }
            return existing;
        }
        var table = freeTables.Count > 0 ? freeTables.Pop() : new KeyedAccumulators<TKey, TAcc>(withSlots: keySlots is not null);
        slices.Insert(i + 1, new Slice(sliceEnd, table));
        created = true;
        if (eventTime) PublishPendingWindowEnd();
        return table;
    }

    protected override void ProcessWatermark(long watermark)
    {
        if (eventTime) FireUpTo(watermark);
    }

    private void FireUpTo(long time)
    {
        while (NextWindowEnd(out long end) && end - 1 <= time)
        {
            FireWindow(end);
            firedThrough = end - 1;
        }
        if (time > firedThrough) firedThrough = time;
        PublishPendingWindowEnd();
        // The cached slice may have windows that fired now: the next element looks again.
        current = null;
        currentStart = long.MaxValue;
        currentEnd = long.MinValue;
        Cleanup(time);
    }

    protected override bool IsEventTime => eventTime;

    /// <summary>Shows monitoring when the next window fires (on slice creation and firing only, not per record).</summary>
    private void PublishPendingWindowEnd() =>
        Volatile.Write(ref Context.Metrics.PendingWindowEnd, NextWindowEnd(out long end) ? end : long.MaxValue);

    /// <summary>The end of the earliest window that holds data and has not fired.</summary>
    private bool NextWindowEnd(out long end)
    {
        if (firedThrough != long.MaxValue)
        {
            foreach (var slice in slices)
            {
                if (grid.LastWindowEnd(slice.End) - 1 <= firedThrough) continue;
                long first = grid.FirstWindowEnd(slice.End);
                end = firedThrough == long.MinValue ? first : Math.Max(first, grid.FirstWindowEndFiringAfter(firedThrough));
                return true;
            }
        }
        end = 0;
        return false;
    }

    /// <summary>Fires the window ending at <paramref name="end"/> for every key that has data in it.</summary>
    private void FireWindow(long end)
    {
        long start = grid.WindowStart(end);
        int first = 0;
        while (first < slices.Count && slices[first].End <= start) first++;
        int last = first;
        while (last < slices.Count && slices[last].End <= end) last++;
        if (last == first) return;
        var window = new TimeWindow(start, end);
        if (last - first == 1)
        {
            EmitAll(slices[first].Table, window);
            return;
        }
        MergeAndEmit(first, last, window);
    }

    /// <summary>Merges the slices [first, last) per key slot, then emits each key's window.</summary>
    private void MergeAndEmit(int first, int last, TimeWindow timeWindow)
    {
        var ks = keySlots!;
        if (windowSlots.Length < ks.Capacity)
        {
            // Resized, not replaced: a cumulating group's running state lives there.
            Array.Resize(ref windowSlots, ks.Capacity);
            Array.Resize(ref touchedSlots, ks.Capacity);
        }
        if (grid.IsCumulative && runningStart == timeWindow.Start)
        {
            while (first < last && slices[first].End <= runningThrough) first++;
        }
        else
        {
            ReleaseWindowState();
            if (++windowStamp == int.MaxValue)
            {
                Array.Clear(windowSlots);
                windowStamp = 1;
            }
        }
        int stamp = windowStamp;
        var window = windowSlots;
        var touched = touchedSlots;
        int count = touchedCount;
        for (int s = first; s < last; s++)
        {
            var table = slices[s].Table;
            for (int e = 0; e < table.Count; e++)
            {
                int slot = table.SlotAt(e);
                ref TAcc acc = ref table.AccumulatorAt(e);
                ref var w = ref window[slot];
                if (w.Stamp != stamp)
                {
                    w.Stamp = stamp;
                    touched[count++] = slot;
                    // A plain struct accumulator is copied by value; one holding objects (a DISTINCT set, a user
                    // aggregate's accumulator) must not share them with its slice, which later merges would change:
                    // the slice must stay as it is for late firings and checkpoints.
                    w.Accumulator = RuntimeHelpers.IsReferenceOrContainsReferences<TAcc>()
                        ? aggregate.Merge(aggregate.CreateAccumulator(), acc) : acc;
                }
                else
                {
                    w.Accumulator = aggregate.Merge(w.Accumulator, acc);
                }
            }
        }
        touchedCount = count;
        if (AllowedLateness == 0)
        {
            var o = BeginWindow(timeWindow.MaxTimestamp, null);
            for (int i = 0; i < count; i++)
            {
                int slot = touched[i];
                emitter.Emit(ks.KeyOf(slot), timeWindow, aggregate.GetResult(window[slot].Accumulator), o);
            }
        }
        else
        {
            for (int i = 0; i < count; i++)
                EmitRetractable(ks.KeyOf(touched[i]), timeWindow, window[touched[i]].Accumulator);
        }
        if (grid.IsCumulative && timeWindow.End - timeWindow.Start < grid.Size)
        {
            runningStart = timeWindow.Start;
            runningThrough = timeWindow.End;
        }
        else
        {
            ReleaseWindowState();
        }
    }

    /// <summary>Forgets the merged state of the last window (and the objects it holds).</summary>
    private void ReleaseWindowState()
    {
        runningStart = long.MinValue;
        if (RuntimeHelpers.IsReferenceOrContainsReferences<TAcc>())
        {
            for (int i = 0; i < touchedCount; i++) windowSlots[touchedSlots[i]].Accumulator = default!;
        }
        touchedCount = 0;
    }

    private void EmitAll(KeyedAccumulators<TKey, TAcc> table, TimeWindow window)
    {
        if (AllowedLateness == 0)
        {
            var o = BeginWindow(window.MaxTimestamp, null);
            for (int e = 0; e < table.Count; e++)
                emitter.Emit(table.KeyAt(e), window, aggregate.GetResult(table.AccumulatorAt(e)), o);
            return;
        }
        for (int e = 0; e < table.Count; e++) EmitRetractable(table.KeyAt(e), window, table.AccumulatorAt(e));
    }

    /// <summary>Fires one window again for one key after late data changed it.</summary>
    private void FireKey(TKey key, long end)
    {
        long start = grid.WindowStart(end);
        bool found = false;
        TAcc acc = default!;
        foreach (var slice in slices)
        {
            if (slice.End <= start) continue;
            if (slice.End > end) break;
            ref TAcc a = ref slice.Table.Find(key);
            if (Unsafe.IsNullRef(ref a)) continue;
            acc = aggregate.Merge(found ? acc : aggregate.CreateAccumulator(), a);
            found = true;
        }
        if (found) EmitRetractable(key, new TimeWindow(start, end), acc);
    }

    private void EmitRetractable(TKey key, TimeWindow window, TAcc acc)
    {
        if (!emitted.TryGetValue(window.End, out var byKey))
        {
            emitted[window.End] = byKey = [];
            emittedByEnd.Enqueue(window.End, window.End);
        }
        ref EmittedResult<TOut>[]? previous = ref CollectionsMarshal.GetValueRefOrAddDefault(byKey, key, out _);
        var o = BeginWindow(window.MaxTimestamp, previous);
        emitter.Emit(key, window, aggregate.GetResult(acc), o);
        previous = EndWindow();
    }

    private void Cleanup(long time)
    {
        int gone = 0;
        while (gone < slices.Count && CleanupTime(grid.LastWindowEnd(slices[gone].End) - 1) <= time)
        {
            var table = slices[gone].Table;
            if (keySlots is not null)
            {
                for (int e = 0; e < table.Count; e++) keySlots.Release(table.SlotAt(e));
            }
            // A table a deferred snapshot still reads is left to it (and to the collector) instead of being reused.
            if (!table.IsShared)
            {
                table.Clear();
                freeTables.Push(table);
            }
            gone++;
        }
        if (gone > 0) slices.RemoveRange(0, gone);
        while (emittedByEnd.TryPeek(out long end, out _) && CleanupTime(end - 1) <= time)
        {
            emittedByEnd.Dequeue();
            emitted.Remove(end);
        }
    }

    // ---- checkpoints ----

    private const byte SliceSection = 1;
    private const byte EmittedSection = 2;
    private StateSerializer<TKey>? keySerializer;
    private StateSerializer<TAcc>? accSerializer;
    private StateSerializer<EmittedResult<TOut>[]>? emittedSerializer;

    protected override void ResolveStateSerializers()
    {
        keySerializer ??= StateSerializers.For<TKey>();
        accSerializer ??= StateSerializers.For<TAcc>();
        if (AllowedLateness > 0) emittedSerializer ??= StateSerializers.For<EmittedResult<TOut>[]>();
    }

    /// <summary>
    /// The synchronous phase at a barrier: the slice tables as they are now, marked copy-on-write (the next write to
    /// one goes to a copy, see <see cref="SliceTable"/>), and the retraction state's entries. Cost: a few words per
    /// slice (and per emitted result with allowed lateness), whatever the number of keys. Accumulators that hold
    /// objects can change in place, out of reach of a table copy: those operators snapshot synchronously.
    /// </summary>
    public override DeferredSnapshot? SnapshotStateDeferred(long checkpointId)
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<TAcc>()) return null;
        ResolveSerializers();
        var view = Capture(share: true);
        // The fast path of Add writes to the cached table without looking: the next element goes through SliceTable.
        current = null;
        currentStart = long.MaxValue;
        currentEnd = long.MinValue;
        return view;
    }

    protected override void SnapshotKeyed(KeyGroupSectionWriter sections) => Capture(share: false).WriteKeyed(sections);

    protected override void SnapshotOperator(BinaryWriter w) => SliceState.WriteSliceCounts(w, firedThrough, slices);

    private SliceState Capture(bool share)
    {
        var emittedNow = new List<(long End, TKey Key, EmittedResult<TOut>[] Results)>();
        foreach (var (end, byKey) in emitted)
            foreach (var (key, results) in byKey) emittedNow.Add((end, key, results));
        var held = new List<Slice>(slices);
        if (share) foreach (var slice in held) slice.Table.Share();
        return new SliceState(this, held, emittedNow, CurrentWatermark, firedThrough, share);
    }

    /// <summary>
    /// The state as of a barrier: the slice tables (shared with the operator until released) and the retraction
    /// entries. Writes the same bytes as a synchronous snapshot taken at the barrier, with its own scratch arrays, so
    /// that it can run on a pool thread while the operator goes on.
    /// </summary>
    private sealed class SliceState(SlicingWindowOperator<T, TKey, TAcc, TResult, TOut, TAgg, TEmit> op, List<Slice> slices,
        List<(long End, TKey Key, EmittedResult<TOut>[] Results)> emitted, long watermark, long firedThrough, bool shared)
        : DeferredSnapshot
    {
        private int[] keyGroupScratch = [];
        private int[] order = [];
        private int[] starts = [];
        private byte[] fixedBuffer = [];
        private bool released;

        public override void Write(OperatorStateWriter writer)
        {
            var sections = new KeyGroupSectionWriter(writer, op.Context.MaxParallelism);
            WriteKeyed(sections);
            sections.Complete();
            var w = writer.OperatorState;
            WriteHeader(w, watermark);
            WriteSliceCounts(w, firedThrough, slices);
        }

        public override void Release()
        {
            if (!shared || released) return;
            released = true;
            foreach (var slice in slices) slice.Table.Unshare();
        }

        /// <summary>Then the entry count of each slice: a restore sizes each table once instead of growing it.</summary>
        public static void WriteSliceCounts(BinaryWriter w, long firedThrough, List<Slice> slices)
        {
            w.Write(firedThrough);
            w.Write(slices.Count);
            foreach (var slice in slices)
            {
                w.Write(slice.End);
                w.Write(slice.Table.Count);
            }
        }

        /// <summary>Per slice and key group: the slice's end, the entry count, then (key, accumulator) pairs.</summary>
        public void WriteKeyed(KeyGroupSectionWriter sections)
        {
            int maxParallelism = sections.MaxParallelism;
            var keys = op.keySerializer!;
            var accs = op.accSerializer!;
            foreach (var slice in slices)
            {
                var table = slice.Table;
                int n = table.Count;
                if (n == 0) continue;
                if (keyGroupScratch.Length < n) keyGroupScratch = new int[Math.Max(n, keyGroupScratch.Length * 2)];
                for (int e = 0; e < n; e++) keyGroupScratch[e] = KeyGroups.ForKey(table.KeyAt(e), maxParallelism);
                KeyGroupSections.GroupByKeyGroup(keyGroupScratch.AsSpan(0, n), maxParallelism, ref order, ref starts);
                for (int g = 0; g < maxParallelism; g++)
                {
                    int from = starts[g], to = starts[g + 1];
                    if (from == to) continue;
                    var w = sections.Section(g, SliceSection);
                    w.Write(slice.End);
                    w.Write(to - from);
                    if (keys.FixedSize > 0 && accs.FixedSize > 0)
                    {
                        WriteFixed(w, table, from, to, keys.FixedSize, accs.FixedSize);
                        continue;
                    }
                    for (int i = from; i < to; i++)
                    {
                        int e = order[i];
                        keys.Write(w, table.KeyAt(e));
                        accs.Write(w, table.AccumulatorAt(e));
                    }
                }
            }
            foreach (var (end, key, results) in emitted)
            {
                var w = sections.Section(KeyGroups.ForKey(key, maxParallelism), EmittedSection);
                w.Write(end);
                keys.Write(w, key);
                op.emittedSerializer!.Write(w, results);
            }
        }

        /// <summary>Primitive keys and accumulators: their memory images into a buffer, written in blocks (same bytes as one by one).</summary>
        private void WriteFixed(BinaryWriter w, KeyedAccumulators<TKey, TAcc> table, int from, int to, int keySize, int accSize)
        {
            int entrySize = keySize + accSize;
            int perBlock = Math.Max(1, 65536 / entrySize);
            if (fixedBuffer.Length < perBlock * entrySize) fixedBuffer = new byte[perBlock * entrySize];
            var buffer = fixedBuffer.AsSpan();
            for (int i = from; i < to;)
            {
                int n = Math.Min(perBlock, to - i);
                int at = 0;
                for (int j = 0; j < n; j++, i++)
                {
                    if (i + 16 < to) table.PrefetchEntry(order[i + 16]);
                    int e = order[i];
                    TKey key = table.KeyAt(e);
                    // FixedSize > 0 only for primitives, whose memory image is their encoding.
                    Unsafe.WriteUnaligned(ref buffer[at], key);
                    Unsafe.WriteUnaligned(ref buffer[at + keySize], table.AccumulatorAt(e));
                    at += entrySize;
                }
                w.Write(buffer[..at]);
            }
        }
    }

    private byte[] fixedBuffer = [];

    private void ReadFixed(BinaryReader r, KeyedAccumulators<TKey, TAcc> table, int count)
    {
        int entrySize = keySerializer!.FixedSize + accSerializer!.FixedSize;
        int perBlock = Math.Max(1, 65536 / entrySize);
        if (fixedBuffer.Length < perBlock * entrySize) fixedBuffer = new byte[perBlock * entrySize];
        var buffer = fixedBuffer.AsSpan();
        for (int i = 0; i < count;)
        {
            int n = Math.Min(perBlock, count - i);
            var block = buffer[..(n * entrySize)];
            r.BaseStream.ReadExactly(block);
            InsertFixed(block, table, n);
            i += n;
        }
    }

    /// <summary>
    /// Appends <paramref name="n"/> (key, accumulator) memory images of one slice's section to its table, unindexed:
    /// the tables are indexed once at the end of the restore (<see cref="IndexRestoredTables"/>).
    /// </summary>
    private void InsertFixed(ReadOnlySpan<byte> block, KeyedAccumulators<TKey, TAcc> table, int n)
    {
        int keySize = keySerializer!.FixedSize;
        int entrySize = keySize + accSerializer!.FixedSize;
        for (int j = 0, at = 0; j < n; j++, at += entrySize)
        {
            TKey key = Unsafe.ReadUnaligned<TKey>(in block[at]);
            // The keys of a slice were distinct when written (and each key group is in one old subtask's state).
            table.AppendUnindexed(key) = Unsafe.ReadUnaligned<TAcc>(in block[at + keySize]);
            if (keySlots is not null) table.SetSlotOfLast(keySlots.Acquire(key));
        }
    }

    // From this many restored entries the slice tables are indexed on two cores (a table by one thread only).
    private const long ParallelIndexEntries = 1_000_000;

    private void IndexRestoredTables()
    {
        var tables = slices.Select(s => s.Table).ToList();
        if (Environment.ProcessorCount > 1 && tables.Count > 1 && tables.Sum(t => (long)t.Count) >= ParallelIndexEntries)
            Parallel.ForEach(tables, new ParallelOptions { MaxDegreeOfParallelism = 2 }, t => t.IndexAll());
        else
            foreach (var t in tables) t.IndexAll();
    }

    private Dictionary<long, long>? sliceSizeHints;

    protected override void RestoreOperator(IReadOnlyList<BinaryReader> oldSubtasks)
    {
        if (oldSubtasks.Count == 0) return;
        long through = long.MaxValue;
        var totals = new Dictionary<long, long>();
        foreach (var r in oldSubtasks)
        {
            through = Math.Min(through, r.ReadInt64());
            int n = r.ReadInt32();
            for (int i = 0; i < n; i++)
            {
                long end = r.ReadInt64();
                totals[end] = totals.GetValueOrDefault(end) + r.ReadInt32();
            }
        }
        firedThrough = through;
        // This subtask takes its share of the key groups; keys spread about evenly over them.
        var (start, stop) = KeyGroups.RangeOf(Context.SubtaskIndex, Context.MaxParallelism, Context.Parallelism);
        double share = (double)(stop - start) / Context.MaxParallelism;
        sliceSizeHints = totals.ToDictionary(e => e.Key, e => share >= 1 ? e.Value : (long)(e.Value * share * 1.2) + 16);
    }

    protected override void RestoreSection(int keyGroup, byte tag, BinaryReader r)
    {
        var keys = keySerializer!;
        switch (tag)
        {
            case SliceSection:
            {
                long end = r.ReadInt64();
                int count = r.ReadInt32();
                var table = SliceTable(end, out bool created);
                if (created && sliceSizeHints is not null && sliceSizeHints.TryGetValue(end, out long hint))
                    table.EnsureCapacity((int)Math.Min(hint, Array.MaxLength / 4));
                table.EnsureCapacity(table.Count + count);
                var accs = accSerializer!;
                if (keys.FixedSize > 0 && accs.FixedSize > 0)
                {
                    ReadFixed(r, table, count);
                    break;
                }
                for (int i = 0; i < count; i++)
                {
                    TKey key = keys.Read(r);
                    ref TAcc acc = ref table.GetOrAdd(key, out bool added);
                    if (!added) throw new InvalidDataException($"operator '{Context.OperatorName}': key {key} twice in slice {end}");
                    acc = accs.Read(r);
                    if (keySlots is not null) table.SetSlotOfLast(keySlots.Acquire(key));
                }
                break;
            }
            case EmittedSection:
            {
                long end = r.ReadInt64();
                TKey key = keys.Read(r);
                var results = emittedSerializer!.Read(r);
                if (!emitted.TryGetValue(end, out var byKey))
                {
                    emitted[end] = byKey = [];
                    emittedByEnd.Enqueue(end, end);
                }
                byKey[key] = results;
                break;
            }
            default:
                throw UnknownSection(tag);
        }
    }

    protected override void AfterRestore()
    {
        IndexRestoredTables();
        sliceSizeHints = null;
        current = null;
        currentStart = long.MaxValue;
        currentEnd = long.MinValue;
        runningStart = long.MinValue;
        if (!eventTime) ScheduleTimer();
    }

    private void ScheduleTimer()
    {
        if (!NextWindowEnd(out long end) || end - 1 >= timerAt) return;
        timerAt = end - 1;
        Context.ProcessingTimers.Register(timerAt, OnProcessingTime);
    }

    private void OnProcessingTime(long time)
    {
        if (time == timerAt) timerAt = long.MaxValue;
        if (time > firedThrough) FireUpTo(time);
        ScheduleTimer();
    }
}
