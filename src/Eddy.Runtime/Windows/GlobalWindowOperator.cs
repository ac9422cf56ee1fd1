using System.Runtime.InteropServices;
using Eddy.Runtime;

namespace Eddy.Windows;

/// <summary>
/// Global windows with a count trigger: each key's window fires every <c>count</c> elements and is purged, as Flink's
/// <c>countWindow(n)</c>. A window that never reaches the count never fires (Flink's global window has no end).
/// </summary>
internal sealed class GlobalWindowOperator<T, TKey, TAcc, TResult, TOut, TAgg, TEmit> : WindowOperatorBase<T, TOut>
    where TKey : notnull
    where TAgg : IAggregateFunction<T, TAcc, TResult>
    where TEmit : IWindowEmitter<TKey, TResult, TOut>
{
    protected override bool IsEventTime => false;

    private readonly Func<T, TKey> keyOf;
    private readonly long count;
    private TAgg aggregate;
    private TEmit emitter;
    private readonly Dictionary<TKey, (long Count, TAcc Accumulator)> windows = [];

    public GlobalWindowOperator(Func<T, TKey> keyOf, CountTrigger trigger, TAgg aggregate, TEmit emitter)
        : base(0, null, aggregate as IFunctionLifecycle)
    {
        this.keyOf = keyOf;
        count = trigger.Count;
        this.aggregate = aggregate;
        this.emitter = emitter;
    }

    public override int HeldState => windows.Count;

    private const byte WindowSection = 1;
    private StateSerializer<TKey>? keySerializer;
    private StateSerializer<TAcc>? accSerializer;

    protected override void ResolveStateSerializers()
    {
        keySerializer ??= StateSerializers.For<TKey>();
        accSerializer ??= StateSerializers.For<TAcc>();
    }

    /// <summary>A section per open window: key, element count, accumulator.</summary>
    protected override void SnapshotKeyed(KeyGroupSectionWriter sections)
    {
        foreach (var (key, (n, acc)) in windows)
        {
            var w = sections.Section(KeyGroups.ForKey(key, sections.MaxParallelism), WindowSection);
            keySerializer!.Write(w, key);
            w.Write(n);
            accSerializer!.Write(w, acc);
        }
    }

    protected override void RestoreSection(int keyGroup, byte tag, BinaryReader r)
    {
        if (tag != WindowSection) throw UnknownSection(tag);
        TKey key = keySerializer!.Read(r);
        long n = r.ReadInt64();
        windows[key] = (n, accSerializer!.Read(r));
    }

    public override void OnBatch(Batch<T> batch)
    {
        var values = batch.Values;
        for (int i = 0; i < batch.Count; i++)
        {
            T value = values[i];
            TKey key = keyOf(value);
            ref var window = ref CollectionsMarshal.GetValueRefOrAddDefault(windows, key, out bool exists);
            if (!exists) window.Accumulator = aggregate.CreateAccumulator();
            window.Accumulator = aggregate.Add(value, window.Accumulator);
            if (++window.Count < count) continue;
            var result = aggregate.GetResult(window.Accumulator);
            windows.Remove(key);
            var o = BeginWindow(GlobalWindow.Instance.MaxTimestamp, null);
            emitter.Emit(key, GlobalWindow.Instance, result, o);
        }
        BatchPool<T>.Return(batch);
    }
}
