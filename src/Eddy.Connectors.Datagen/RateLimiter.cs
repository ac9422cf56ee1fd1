namespace Eddy.Connectors;

/// <summary>
/// Lets through at most <c>rate</c> records per second of the given clock, counted from the first call: after
/// <c>t</c> ms, <c>floor(rate·t/1000)</c> records in all. A reader that was held up may catch up in a burst.
/// </summary>
public sealed class RateLimiter
{
    private readonly TimeProvider clock;
    private readonly double perMs;
    private long startMs = long.MinValue;
    private long granted;

    public RateLimiter(TimeProvider clock, double rowsPerSecond)
    {
        if (rowsPerSecond <= 0) throw new ArgumentOutOfRangeException(nameof(rowsPerSecond));
        this.clock = clock;
        perMs = rowsPerSecond / 1000.0;
    }

    /// <summary>How many records may go out now (0 or more), at most <paramref name="wanted"/>; they count as sent.</summary>
    public int Acquire(int wanted)
    {
        long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        if (startMs == long.MinValue) startMs = now;
        long allowed = (long)Math.Floor((now - startMs) * perMs);
        long take = Math.Clamp(allowed - granted, 0, wanted);
        granted += take;
        return (int)take;
    }
}
