using Eddy.Runtime;

namespace Eddy.Sql.Plan;

/// <summary>
/// Flink's idle state retention for a keyed SQL function (<c>table.exec.state.ttl</c>, applied by Flink's table runtime
/// as <c>StateTtlConfig</c> with update type OnCreateAndWrite, visibility NeverReturnExpired, processing time): a key's
/// state written at <c>t</c> is gone from <c>t + ttl</c> on (Flink: expired when write time + TTL &lt;= now); reading
/// does not refresh it. The function asks <see cref="Expired"/> before it reads its state and reports every write;
/// a processing-time timer per key frees the memory of keys that are never seen again (not observable otherwise).
/// With a TTL of 0 every method does nothing.
/// </summary>
internal sealed class StateRetention<TKey>(long ttlMs) where TKey : notnull
{
    private ValueState<TKey, long>? writtenAt;

    public bool Enabled => ttlMs > 0;

    public void Open(KeyedContext<TKey> context)
    {
        if (ttlMs > 0) writtenAt = context.GetValueState<long>("state-ttl-written-at");
    }

    /// <summary>Whether the current key's state has expired: the function then treats it as absent and clears it.</summary>
    public bool Expired(KeyedContext<TKey> context) =>
        ttlMs > 0 && writtenAt!.HasValue && writtenAt.Value + ttlMs <= context.CurrentProcessingTime;

    /// <summary>The current key's state was created or written now.</summary>
    public void Written(KeyedContext<TKey> context)
    {
        if (ttlMs <= 0) return;
        long now = context.CurrentProcessingTime;
        bool created = !writtenAt!.HasValue;
        writtenAt.Value = now;
        if (created) context.RegisterProcessingTimeTimer(now + ttlMs);
    }

    /// <summary>The current key's state was cleared.</summary>
    public void Cleared()
    {
        if (ttlMs > 0) writtenAt!.Clear();
    }

    /// <summary>
    /// On a processing-time timer: true when the current key's state has expired (the function clears it), otherwise
    /// the timer is set again for the time the state will expire if not written before.
    /// </summary>
    public bool OnTimer(KeyedContext<TKey> context)
    {
        if (ttlMs <= 0 || context.TimeDomain != TimeDomain.ProcessingTime || !writtenAt!.HasValue) return false;
        long expiresAt = writtenAt.Value + ttlMs;
        if (expiresAt <= context.CurrentProcessingTime)
        {
            writtenAt.Clear();
            return true;
        }
        context.RegisterProcessingTimeTimer(expiresAt);
        return false;
    }
}
