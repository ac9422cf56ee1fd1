namespace Eddy.Runtime;

/// <summary>
/// Counters a job's functions keep outside the operators (e.g. the geolocation provider's lookups and cache hits),
/// registered while the job is built and read by monitoring (the server's /metrics) while it runs.
/// </summary>
public sealed class JobCounters
{
    private readonly List<(string Name, string Help, Func<long> Read)> counters = [];

    /// <summary>Adds a counter; <paramref name="name"/> is a Prometheus metric name (snake case, ending in _total).</summary>
    public void Register(string name, string help, Func<long> read)
    {
        lock (counters)
        {
            if (counters.Any(c => c.Name == name)) throw new ArgumentException($"job counter {name} is registered twice", nameof(name));
            counters.Add((name, help, read));
        }
    }

    /// <summary>The counters' current values, in registration order.</summary>
    public IReadOnlyList<(string Name, string Help, long Value)> Read()
    {
        lock (counters) return counters.Select(c => (c.Name, c.Help, c.Read())).ToList();
    }
}
