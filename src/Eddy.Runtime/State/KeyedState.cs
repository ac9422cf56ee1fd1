namespace Eddy.Runtime;

/// <summary>
/// Keyed state of one operator subtask: named value, list and map states, each scoped to the key being processed.
/// State lives in hash tables in memory; the key group of each entry is derivable from its key, so that a snapshot
/// can be split by key group when a job is restored at another parallelism.
/// </summary>
public sealed class KeyedStateBackend<TKey> where TKey : notnull
{
    private readonly Dictionary<string, IKeyedState> states = [];
    // Restored entries of states not registered yet (a function may register a state on first use).
    private readonly Dictionary<string, List<byte[]>> pending = [];
    private MemoryStream?[] scratch = [];

    public TKey CurrentKey { get; set; } = default!;

    public IEnumerable<IKeyedState> States => states.Values;

    public ValueState<TKey, T> GetValueState<T>(string name) => Get(name, () => new ValueState<TKey, T>(this));

    public ListState<TKey, T> GetListState<T>(string name) => Get(name, () => new ListState<TKey, T>(this));

    public MapState<TKey, TMapKey, TValue> GetMapState<TMapKey, TValue>(string name) where TMapKey : notnull =>
        Get(name, () => new MapState<TKey, TMapKey, TValue>(this));

    private TState Get<TState>(string name, Func<TState> create) where TState : class, IKeyedState
    {
        if (states.TryGetValue(name, out var existing))
        {
            return existing as TState ?? throw new InvalidOperationException(
                $"state '{name}' was registered as {existing.GetType().Name}, not {typeof(TState).Name}");
        }
        var made = create();
        states[name] = made;
        if (pending.Remove(name, out var restored))
        {
            foreach (var bytes in restored) ((ICheckpointedKeyedState)made).ReadEntries(new BinaryReader(new MemoryStream(bytes, writable: false)));
        }
        return made;
    }

    /// <summary>Resolves the serializers of every registered state (fails at job start, not at the first checkpoint).</summary>
    public void ValidateSerializers()
    {
        foreach (var s in states.Values) ((ICheckpointedKeyedState)s).ValidateSerializers();
    }

    /// <summary>
    /// Writes every state into the key groups of its keys: per key group and state, a section with the state's name
    /// and its entries (length-prefixed, so that a state not yet registered at restore can keep its bytes aside).
    /// </summary>
    public void Snapshot(KeyGroupSectionWriter writer, byte tag)
    {
        int maxParallelism = writer.MaxParallelism;
        if (scratch.Length < maxParallelism) scratch = new MemoryStream?[maxParallelism];
        foreach (var (name, state) in states.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            foreach (var m in scratch) m?.SetLength(0);
            ((ICheckpointedKeyedState)state).WriteEntries(kg => new BinaryWriter(scratch[kg] ??= new MemoryStream(), System.Text.Encoding.UTF8, leaveOpen: true), maxParallelism);
            for (int kg = 0; kg < maxParallelism; kg++)
            {
                if (scratch[kg] is not { Length: > 0 } m) continue;
                var w = writer.Section(kg, tag);
                w.Write(name);
                w.Write((int)m.Length);
                w.Write(m.GetBuffer(), 0, (int)m.Length);
            }
        }
        foreach (var m in scratch) m?.SetLength(0);
    }

    /// <summary>Reads one section written by <see cref="Snapshot"/>.</summary>
    public void RestoreSection(BinaryReader reader)
    {
        string name = reader.ReadString();
        int length = reader.ReadInt32();
        var bytes = reader.ReadBytes(length);
        if (bytes.Length != length) throw new EndOfStreamException($"keyed state '{name}' ends early");
        if (states.TryGetValue(name, out var state)) ((ICheckpointedKeyedState)state).ReadEntries(new BinaryReader(new MemoryStream(bytes, writable: false)));
        else
        {
            if (!pending.TryGetValue(name, out var list)) pending[name] = list = [];
            list.Add(bytes);
        }
    }
}

/// <summary>How a keyed state goes into a checkpoint: entries (key, value) into the stream of the key's group.</summary>
internal interface ICheckpointedKeyedState
{
    void ValidateSerializers();

    void WriteEntries(Func<int, BinaryWriter> keyGroupStream, int maxParallelism);

    /// <summary>Reads entries until the end of <paramref name="reader"/>'s stream.</summary>
    void ReadEntries(BinaryReader reader);
}

/// <summary>Entry writing shared by the keyed states: one BinaryWriter per key group touched, flushed at the end.</summary>
internal static class KeyedEntries
{
    public static void Write<TKey, TValue>(IEnumerable<KeyValuePair<TKey, TValue>> entries, Func<int, BinaryWriter> keyGroupStream,
        int maxParallelism, StateSerializer<TKey> keys, StateSerializer<TValue> values) where TKey : notnull
    {
        var writers = new BinaryWriter?[maxParallelism];
        foreach (var (key, value) in entries)
        {
            int kg = KeyGroups.ForKey(key, maxParallelism);
            var w = writers[kg] ??= keyGroupStream(kg);
            keys.Write(w, key);
            values.Write(w, value);
        }
        foreach (var w in writers) w?.Dispose();
    }

    public static void Read<TKey, TValue>(BinaryReader reader, StateSerializer<TKey> keys, StateSerializer<TValue> values,
        Action<TKey, TValue> add)
    {
        var stream = reader.BaseStream;
        while (stream.Position < stream.Length)
        {
            var key = keys.Read(reader);
            add(key, values.Read(reader));
        }
    }
}

public interface IKeyedState
{
    /// <summary>Number of keys holding a value.</summary>
    int KeyCount { get; }
}

public sealed class ValueState<TKey, T>(KeyedStateBackend<TKey> backend) : IKeyedState, ICheckpointedKeyedState where TKey : notnull
{
    private readonly Dictionary<TKey, T> values = [];

    void ICheckpointedKeyedState.ValidateSerializers() => StateSerializers.Validate($"value state of {typeof(T).Name}", typeof(TKey), typeof(T));

    void ICheckpointedKeyedState.WriteEntries(Func<int, BinaryWriter> keyGroupStream, int maxParallelism) =>
        KeyedEntries.Write(values, keyGroupStream, maxParallelism, StateSerializers.For<TKey>(), StateSerializers.For<T>());

    void ICheckpointedKeyedState.ReadEntries(BinaryReader reader) =>
        KeyedEntries.Read(reader, StateSerializers.For<TKey>(), StateSerializers.For<T>(), (k, v) => values[k] = v);

    public int KeyCount => values.Count;

    /// <summary>The value for the current key, or default when none.</summary>
    public T? Value
    {
        get => values.TryGetValue(backend.CurrentKey, out var v) ? v : default;
        set
        {
            if (value is null) values.Remove(backend.CurrentKey);
            else values[backend.CurrentKey] = value;
        }
    }

    public bool HasValue => values.ContainsKey(backend.CurrentKey);

    public void Clear() => values.Remove(backend.CurrentKey);

    /// <summary>The keys holding a value.</summary>
    public IEnumerable<TKey> Keys => values.Keys;
}

public sealed class ListState<TKey, T>(KeyedStateBackend<TKey> backend) : IKeyedState, ICheckpointedKeyedState where TKey : notnull
{
    private readonly Dictionary<TKey, List<T>> lists = [];

    void ICheckpointedKeyedState.ValidateSerializers() => StateSerializers.Validate($"list state of {typeof(T).Name}", typeof(TKey), typeof(List<T>));

    void ICheckpointedKeyedState.WriteEntries(Func<int, BinaryWriter> keyGroupStream, int maxParallelism) =>
        KeyedEntries.Write(lists, keyGroupStream, maxParallelism, StateSerializers.For<TKey>(), StateSerializers.For<List<T>>());

    void ICheckpointedKeyedState.ReadEntries(BinaryReader reader) =>
        KeyedEntries.Read(reader, StateSerializers.For<TKey>(), StateSerializers.For<List<T>>(), (k, v) => lists[k] = v);

    public int KeyCount => lists.Count;

    public IReadOnlyList<T> Get() => lists.TryGetValue(backend.CurrentKey, out var l) ? l : [];

    public void Add(T value)
    {
        if (!lists.TryGetValue(backend.CurrentKey, out var l)) lists[backend.CurrentKey] = l = [];
        l.Add(value);
    }

    public void Update(IEnumerable<T> values) => lists[backend.CurrentKey] = [.. values];

    public void Clear() => lists.Remove(backend.CurrentKey);
}

public sealed class MapState<TKey, TMapKey, TValue>(KeyedStateBackend<TKey> backend) : IKeyedState, ICheckpointedKeyedState
    where TKey : notnull where TMapKey : notnull
{
    private readonly Dictionary<TKey, Dictionary<TMapKey, TValue>> maps = [];

    void ICheckpointedKeyedState.ValidateSerializers() =>
        StateSerializers.Validate($"map state of {typeof(TMapKey).Name} to {typeof(TValue).Name}", typeof(TKey), typeof(Dictionary<TMapKey, TValue>));

    void ICheckpointedKeyedState.WriteEntries(Func<int, BinaryWriter> keyGroupStream, int maxParallelism) =>
        KeyedEntries.Write(maps, keyGroupStream, maxParallelism, StateSerializers.For<TKey>(), StateSerializers.For<Dictionary<TMapKey, TValue>>());

    void ICheckpointedKeyedState.ReadEntries(BinaryReader reader) =>
        KeyedEntries.Read(reader, StateSerializers.For<TKey>(), StateSerializers.For<Dictionary<TMapKey, TValue>>(), (k, v) => maps[k] = v);

    public int KeyCount => maps.Count;

    private Dictionary<TMapKey, TValue>? Current => maps.TryGetValue(backend.CurrentKey, out var m) ? m : null;

    public bool TryGet(TMapKey key, out TValue value)
    {
        if (Current is { } m && m.TryGetValue(key, out value!)) return true;
        value = default!;
        return false;
    }

    public TValue? Get(TMapKey key) => TryGet(key, out var v) ? v : default;

    public void Put(TMapKey key, TValue value)
    {
        if (!maps.TryGetValue(backend.CurrentKey, out var m)) maps[backend.CurrentKey] = m = [];
        m[key] = value;
    }

    public bool Contains(TMapKey key) => Current?.ContainsKey(key) ?? false;

    public void Remove(TMapKey key)
    {
        if (Current is { } m && m.Remove(key) && m.Count == 0) maps.Remove(backend.CurrentKey);
    }

    public IEnumerable<KeyValuePair<TMapKey, TValue>> Entries() => Current ?? Enumerable.Empty<KeyValuePair<TMapKey, TValue>>();

    public void Clear() => maps.Remove(backend.CurrentKey);
}
