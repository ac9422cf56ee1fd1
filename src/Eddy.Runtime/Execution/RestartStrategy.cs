using System.Globalization;

namespace Eddy.Runtime;

/// <summary>
/// What a job does when a task fails: give up (<c>none</c>), or restart every task from the latest completed
/// checkpoint after a delay, a bounded number of times (<c>fixed-delay</c>, <c>exponential-delay</c>). Flink's option
/// names (<c>restart-strategy.*</c>).
/// </summary>
public sealed record RestartStrategy(string Type, int MaxAttempts, TimeSpan Delay, TimeSpan MaxDelay, double Multiplier)
{
    public static RestartStrategy None { get; } = new("none", 0, TimeSpan.Zero, TimeSpan.Zero, 1);

    public static RestartStrategy FixedDelay(int attempts, TimeSpan delay) => new("fixed-delay", attempts, delay, delay, 1);

    public static RestartStrategy ExponentialDelay(TimeSpan initial, TimeSpan max, double multiplier = 2, int attempts = int.MaxValue) =>
        new("exponential-delay", attempts, initial, max, multiplier);

    /// <summary>
    /// Eddy's default when checkpointing is on: fixed-delay, 10 attempts, 1 s apart. Flink retries forever
    /// (Integer.MAX_VALUE attempts); a bounded count lets a deterministic failure (a bad record, a wrong password)
    /// surface as a failed job instead of a loop.
    /// </summary>
    public static RestartStrategy DefaultWithCheckpointing { get; } = FixedDelay(10, TimeSpan.FromSeconds(1));

    /// <summary>The delay before restart number <paramref name="attempt"/> (1-based), or null when no attempt is left.</summary>
    public TimeSpan? DelayBefore(int attempt)
    {
        if (Type == "none" || attempt > MaxAttempts) return null;
        if (Type == "fixed-delay") return Delay;
        double ms = Delay.TotalMilliseconds * Math.Pow(Multiplier, attempt - 1);
        return TimeSpan.FromMilliseconds(Math.Min(ms, MaxDelay.TotalMilliseconds));
    }

    /// <summary>
    /// Reads <c>restart-strategy.type</c> and its options (durations already parsed by <paramref name="duration"/>);
    /// null when the type is not set.
    /// </summary>
    public static RestartStrategy? FromOptions(IReadOnlyDictionary<string, string> options, Func<string, string, TimeSpan> duration)
    {
        if (!options.TryGetValue("restart-strategy.type", out var type)) return null;
        int Int(string key, int fallback)
        {
            if (!options.TryGetValue(key, out var v)) return fallback;
            if (!int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) || n < 0)
                throw new FormatException($"'{key}' takes a whole number ≥ 0, got '{v}'");
            return n;
        }
        TimeSpan Dur(string key, TimeSpan fallback) => options.TryGetValue(key, out var v) ? duration(key, v) : fallback;
        switch (type.ToLowerInvariant())
        {
            case "none" or "off" or "disable":
                return None;
            case "fixed-delay" or "fixeddelay":
                return FixedDelay(Int("restart-strategy.fixed-delay.attempts", 1), Dur("restart-strategy.fixed-delay.delay", TimeSpan.FromSeconds(1)));
            case "exponential-delay" or "exponentialdelay":
                double mult = 2;
                if (options.TryGetValue("restart-strategy.exponential-delay.backoff-multiplier", out var m)
                    && (!double.TryParse(m, NumberStyles.Float, CultureInfo.InvariantCulture, out mult) || mult < 1))
                    throw new FormatException($"'restart-strategy.exponential-delay.backoff-multiplier' takes a number ≥ 1, got '{m}'");
                return ExponentialDelay(
                    Dur("restart-strategy.exponential-delay.initial-backoff", TimeSpan.FromSeconds(1)),
                    Dur("restart-strategy.exponential-delay.max-backoff", TimeSpan.FromMinutes(1)),
                    mult,
                    Int("restart-strategy.exponential-delay.attempts-before-reset-backoff", int.MaxValue));
            default:
                throw new FormatException($"'restart-strategy.type' is 'none', 'fixed-delay' or 'exponential-delay', got '{type}'");
        }
    }
}
