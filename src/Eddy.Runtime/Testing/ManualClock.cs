namespace Eddy.Testing;

/// <summary>A processing-time clock that moves only when told: tests of timers without sleeps.</summary>
public sealed class ManualClock : TimeProvider
{
    private long nowMs;

    public ManualClock(long startMs = 0) => nowMs = startMs;

    public long NowMs => Interlocked.Read(ref nowMs);

    public override DateTimeOffset GetUtcNow() => DateTimeOffset.FromUnixTimeMilliseconds(NowMs);

    public override long TimestampFrequency => 1000;

    public override long GetTimestamp() => NowMs;

    public void Advance(TimeSpan by) => Interlocked.Add(ref nowMs, EventTime.Millis(by));

    public void SetTo(long ms) => Interlocked.Exchange(ref nowMs, ms);
}
