namespace Eddy.Runtime;

/// <summary>
/// Processing-time timers of one task, driven by the job's <see cref="TimeProvider"/>: the task fires those due
/// between batches and sleeps no longer than the next one. Tests drive the same class with a fake clock.
/// </summary>
public sealed class ProcessingTimers(TimeProvider clock)
{
    private readonly PriorityQueue<Action<long>, long> queue = new();

    public TimeProvider Clock { get; } = clock;

    public long Now => Clock.GetUtcNow().ToUnixTimeMilliseconds();

    public int Pending => queue.Count;

    /// <summary>Time of the earliest timer, or <see cref="long.MaxValue"/>.</summary>
    public long Next => queue.TryPeek(out _, out long t) ? t : long.MaxValue;

    public void Register(long time, Action<long> callback) => queue.Enqueue(callback, time);

    /// <summary>Fires every timer due at the current time, in time order (timers a callback adds included).</summary>
    public int FireDue()
    {
        int fired = 0;
        long now = Now;
        while (queue.TryPeek(out var cb, out long t) && t <= now)
        {
            queue.Dequeue();
            cb(t);
            fired++;
        }
        return fired;
    }
}
