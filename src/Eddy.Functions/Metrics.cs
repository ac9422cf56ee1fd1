using System.Globalization;

namespace Eddy.Functions;

/// <summary>
/// Flink's <c>MetricGroup</c> as a function sees it (<see cref="FunctionContext.GetMetricGroup"/>): the metrics of one
/// parallel operator instance, reported with the job's metrics (the server's Prometheus endpoint and REST API) under the
/// operator and subtask. Every function of an operator instance gets the same group, as in Flink.
/// </summary>
/// <remarks>
/// Register in <see cref="UserFunction.Open"/> and keep the metric in a field: a name is registered once per group
/// (registering it again returns the counter already there, as Flink warns and keeps the first). Names and group names
/// are letters, digits and underscores, so that they read the same in every reporter.
/// </remarks>
public sealed class MetricGroup
{
    private readonly MetricRegistry registry;

    /// <summary>A group of its own, for the host that runs functions (Eddy makes one per operator instance).</summary>
    public MetricGroup() : this(new MetricRegistry(), [])
    {
    }

    private MetricGroup(MetricRegistry registry, IReadOnlyList<string> scope)
    {
        this.registry = registry;
        Scope = scope;
    }

    /// <summary>The names of the groups this one is nested in (<see cref="AddGroup"/>), outermost first; empty for the operator's group.</summary>
    public IReadOnlyList<string> Scope { get; }

    /// <summary>Flink's <c>counter(name)</c>: a count the function moves up (or down).</summary>
    public Counter Counter(string name) => (Counter)registry.Add(Scope, name, static () => new Counter(), "counter");

    /// <summary>Flink's <c>gauge(name, gauge)</c>: a value read when the metrics are reported (on another thread: keep it cheap and safe to call concurrently).</summary>
    public void Gauge(string name, Func<double> value)
    {
        ArgumentNullException.ThrowIfNull(value);
        registry.Add(Scope, name, () => new Gauge(value), "gauge");
    }

    /// <summary>
    /// Flink's <c>histogram(name, new DescriptiveStatisticsHistogram(windowSize))</c>: the distribution of the last
    /// <paramref name="windowSize"/> values, reported as count, min, max, mean and quantiles 0.5, 0.75, 0.95, 0.98,
    /// 0.99, 0.999.
    /// </summary>
    public Histogram Histogram(string name, int windowSize = 500) =>
        (Histogram)registry.Add(Scope, name, () => new Histogram(windowSize), "histogram");

    /// <summary>Flink's <c>addGroup(name)</c>: a nested group whose name becomes part of its metrics' names.</summary>
    public MetricGroup AddGroup(string name) => new(registry, [.. Scope, MetricRegistry.CheckName(name, "group")]);

    /// <summary>Every metric registered in this group's tree, for reporting: scope, name and the metric.</summary>
    public IReadOnlyList<RegisteredMetric> Registered => registry.All();
}

/// <summary>One metric of a <see cref="MetricGroup"/>: its scope (nested group names), name and the metric itself.</summary>
public sealed record RegisteredMetric(IReadOnlyList<string> Scope, string Name, object Metric);

/// <summary>Flink's <c>Counter</c>: thread-safe, so that a function may count from its async continuations.</summary>
public sealed class Counter
{
    private long count;

    public void Inc() => Interlocked.Increment(ref count);

    public void Inc(long n) => Interlocked.Add(ref count, n);

    public void Dec() => Interlocked.Decrement(ref count);

    public void Dec(long n) => Interlocked.Add(ref count, -n);

    public long Count => Volatile.Read(ref count);
}

/// <summary>Flink's <c>Gauge</c>: a value the function computes when the metrics are read.</summary>
public sealed class Gauge(Func<double> value)
{
    public double Value => value();
}

/// <summary>
/// A histogram over the last values (Flink's <c>DescriptiveStatisticsHistogram</c>): <see cref="Update"/> is a lock and a
/// store; the statistics are computed when read.
/// </summary>
public sealed class Histogram
{
    private readonly long[] window;
    private long count;

    public Histogram(int windowSize)
    {
        if (windowSize < 1) throw new ArgumentOutOfRangeException(nameof(windowSize), windowSize, "a histogram keeps at least one value");
        window = new long[windowSize];
    }

    public void Update(long value)
    {
        lock (window)
        {
            window[count % window.Length] = value;
            count++;
        }
    }

    /// <summary>Values recorded in all (not only those in the window).</summary>
    public long Count
    {
        get
        {
            lock (window) return count;
        }
    }

    /// <summary>The window's statistics: count (all values), min, max, mean and the quantiles Flink reports.</summary>
    public HistogramStatistics Statistics()
    {
        long[] values;
        long total;
        lock (window)
        {
            total = count;
            values = window.AsSpan(0, (int)Math.Min(count, window.Length)).ToArray();
        }
        Array.Sort(values);
        double Quantile(double q)
        {
            if (values.Length == 0) return 0;
            // Linear interpolation between the closest ranks, as the commons-math percentile Flink uses (estimation R_6).
            double position = q * (values.Length + 1);
            if (position < 1) return values[0];
            if (position >= values.Length) return values[^1];
            int lower = (int)Math.Floor(position);
            return values[lower - 1] + (position - lower) * (values[lower] - values[lower - 1]);
        }
        return new HistogramStatistics(total, values.Length == 0 ? 0 : values[0], values.Length == 0 ? 0 : values[^1],
            values.Length == 0 ? 0 : values.Average(v => (double)v),
            [(0.5, Quantile(0.5)), (0.75, Quantile(0.75)), (0.95, Quantile(0.95)), (0.98, Quantile(0.98)), (0.99, Quantile(0.99)), (0.999, Quantile(0.999))]);
    }
}

/// <summary>A histogram's statistics at one reading.</summary>
public sealed record HistogramStatistics(long Count, long Min, long Max, double Mean, IReadOnlyList<(double Quantile, double Value)> Quantiles);

/// <summary>The metrics of one operator instance's group tree, in registration order.</summary>
internal sealed class MetricRegistry
{
    private readonly List<RegisteredMetric> metrics = [];

    public object Add(IReadOnlyList<string> scope, string name, Func<object> create, string kind)
    {
        CheckName(name, kind);
        lock (metrics)
        {
            foreach (var m in metrics)
            {
                if (m.Name != name || !m.Scope.SequenceEqual(scope)) continue;
                if (m.Metric.GetType() != create().GetType())
                    throw new ArgumentException($"metric '{string.Join(".", [.. scope, name])}' is registered already as a {m.Metric.GetType().Name.ToLowerInvariant()}");
                return m.Metric;
            }
            var metric = create();
            metrics.Add(new RegisteredMetric(scope, name, metric));
            return metric;
        }
    }

    public IReadOnlyList<RegisteredMetric> All()
    {
        lock (metrics) return [.. metrics];
    }

    public static string CheckName(string name, string what)
    {
        if (string.IsNullOrEmpty(name) || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') || char.IsAsciiDigit(name[0]))
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{what} name '{name}' must be letters, digits and underscores, not starting with a digit"), nameof(name));
        return name;
    }
}
