namespace Eddy.Runtime;

/// <summary>
/// Keyed state of one operator subtask: named value, list and map states, each scoped to the key being processed.
/// State lives in hash tables in memory; the key group of each entry is derivable from its key, so that a snapshot
/// can be split by key group when a job is restored at another parallelism.
/// </summary>
public sealed class KeyedStateBackend<TKey> where TKey : notnull
{
    private readonly Dictionary<string, IKeyedState> states = [];

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
        return made;
    }
}

public interface IKeyedState
{
    /// <summary>Number of keys holding a value.</summary>
    int KeyCount { get; }
}

public sealed class ValueState<TKey, T>(KeyedStateBackend<TKey> backend) : IKeyedState where TKey : notnull
{
    private readonly Dictionary<TKey, T> values = [];

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
}

public sealed class ListState<TKey, T>(KeyedStateBackend<TKey> backend) : IKeyedState where TKey : notnull
{
    private readonly Dictionary<TKey, List<T>> lists = [];

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

public sealed class MapState<TKey, TMapKey, TValue>(KeyedStateBackend<TKey> backend) : IKeyedState
    where TKey : notnull where TMapKey : notnull
{
    private readonly Dictionary<TKey, Dictionary<TMapKey, TValue>> maps = [];

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
