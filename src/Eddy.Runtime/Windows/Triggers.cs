namespace Eddy.Windows;

/// <summary>
/// When a window fires, if not at its end. Time windows fire at their end (Flink's default event- and
/// processing-time triggers); global windows need an explicit trigger.
/// </summary>
public abstract class WindowTrigger
{
    private protected WindowTrigger() { }
}

/// <summary>Fires a key's window every <see cref="Count"/> elements and purges it, as Flink's <c>countWindow(n)</c>.</summary>
public sealed class CountTrigger : WindowTrigger
{
    private CountTrigger(long count) => Count = count;

    public long Count { get; }

    public static CountTrigger Of(long count) =>
        count > 0 ? new(count) : throw new ArgumentOutOfRangeException(nameof(count), "must be positive");

    public override string ToString() => $"CountTrigger({Count})";
}
