using System.Globalization;
using Eddy.Runtime;

namespace Eddy.Sql.Functions;

/// <summary>Flink's retry strategies of an async scalar function (<c>table.exec.async-scalar.retry-strategy</c>).</summary>
public enum AsyncRetryStrategy
{
    NoRetry,
    FixedDelay,
}

/// <summary>
/// Flink's <c>table.exec.async-scalar.*</c> options with Flink's defaults: buffer-capacity 10 (also under Flink 2's
/// name max-concurrent-operations), timeout 3 min (for all attempts of a call together), retry-strategy FIXED_DELAY,
/// retry-delay 100 ms, max-attempts 3. The output is always in input order, as Flink's async scalar operator.
/// </summary>
/// <remarks>
/// The same options exist for async table functions under <c>table.exec.async-table.*</c> (Flink 2.1's
/// ExecutionConfigOptions, same defaults): <see cref="From"/> with <see cref="TablePrefix"/>.
/// </remarks>
public sealed record AsyncScalarOptions(int Capacity, TimeSpan Timeout, AsyncRetryStrategy RetryStrategy, TimeSpan RetryDelay, int MaxAttempts)
{
    public const string ScalarPrefix = "table.exec.async-scalar";
    public const string TablePrefix = "table.exec.async-table";

    /// <summary>The option family these were read from (what the timeout error names).</summary>
    public string Prefix { get; init; } = ScalarPrefix;

    public string OptionTimeoutKey => Prefix + ".timeout";

    public const string CapacityKey = "table.exec.async-scalar.buffer-capacity";
    public const string ConcurrentOperationsKey = "table.exec.async-scalar.max-concurrent-operations";
    public const string TimeoutKey = "table.exec.async-scalar.timeout";
    public const string RetryStrategyKey = "table.exec.async-scalar.retry-strategy";
    public const string RetryDelayKey = "table.exec.async-scalar.retry-delay";
    public const string MaxAttemptsKey = "table.exec.async-scalar.max-attempts";

    public static readonly string[] OptionNames = [CapacityKey, ConcurrentOperationsKey, TimeoutKey, RetryStrategyKey, RetryDelayKey, MaxAttemptsKey,
        .. new[] { CapacityKey, ConcurrentOperationsKey, TimeoutKey, RetryStrategyKey, RetryDelayKey, MaxAttemptsKey }.Select(k => TablePrefix + k[ScalarPrefix.Length..])];

    public static AsyncScalarOptions Defaults { get; } = new(10, TimeSpan.FromMinutes(3), AsyncRetryStrategy.FixedDelay, TimeSpan.FromMilliseconds(100), 3);

    /// <summary>How many attempts a call gets: one without retries.</summary>
    public int Attempts => RetryStrategy == AsyncRetryStrategy.NoRetry ? 1 : MaxAttempts;

    /// <summary>The operator's options: capacity and the timeout of a call with all its attempts; ordered, as Flink.</summary>
    public AsyncOptions Operator => new() { Capacity = Capacity, Timeout = Timeout, Mode = AsyncOutputMode.Ordered };

    /// <summary>The options as the job's SET options give them; throws <see cref="FormatException"/> naming a bad one.</summary>
    public static AsyncScalarOptions From(IReadOnlyDictionary<string, string> options, Func<string, string, TimeSpan> parseDuration, string prefix = ScalarPrefix)
    {
        if (prefix != ScalarPrefix)
        {
            // The same suffixes under the other family: read them as the scalar names.
            var renamed = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (k, v) in options)
            {
                if (k.StartsWith(prefix + ".", StringComparison.Ordinal)) renamed[ScalarPrefix + k[prefix.Length..]] = v;
            }
            try
            {
                return From(renamed, (key, value) => parseDuration(prefix + key[ScalarPrefix.Length..], value)) with { Prefix = prefix };
            }
            catch (FormatException e)
            {
                throw new FormatException(e.Message.Replace(ScalarPrefix + ".", prefix + ".", StringComparison.Ordinal), e);
            }
        }
        var o = Defaults;
        string? capacity = options.TryGetValue(ConcurrentOperationsKey, out var c2) ? c2 : options.TryGetValue(CapacityKey, out var c1) ? c1 : null;
        string capacityKey = options.ContainsKey(ConcurrentOperationsKey) ? ConcurrentOperationsKey : CapacityKey;
        if (capacity is not null) o = o with { Capacity = Positive(capacityKey, capacity) };
        if (options.TryGetValue(TimeoutKey, out var t))
        {
            var timeout = parseDuration(TimeoutKey, t);
            if (timeout <= TimeSpan.Zero) throw new FormatException($"'{TimeoutKey}' must be positive, got '{t}'");
            o = o with { Timeout = timeout };
        }
        if (options.TryGetValue(RetryStrategyKey, out var s))
        {
            o = o with
            {
                RetryStrategy = s.Trim().ToUpperInvariant() switch
                {
                    "NO_RETRY" => AsyncRetryStrategy.NoRetry,
                    "FIXED_DELAY" => AsyncRetryStrategy.FixedDelay,
                    _ => throw new FormatException($"'{RetryStrategyKey}' is NO_RETRY or FIXED_DELAY, got '{s}'"),
                },
            };
        }
        if (options.TryGetValue(RetryDelayKey, out var d)) o = o with { RetryDelay = parseDuration(RetryDelayKey, d) };
        if (options.TryGetValue(MaxAttemptsKey, out var a)) o = o with { MaxAttempts = Positive(MaxAttemptsKey, a) };
        return o;
    }

    private static int Positive(string key, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1 ? n
            : throw new FormatException($"'{key}' takes a positive whole number, got '{value}'");

    public string Describe() =>
        $"capacity={Capacity}, ordered, timeout={Timeout.TotalMilliseconds} ms, "
        + (RetryStrategy == AsyncRetryStrategy.NoRetry ? "no retry" : $"retry every {RetryDelay.TotalMilliseconds} ms, {MaxAttempts} attempts");
}
