using Eddy.Runtime;
using Eddy.Testing;
using Eddy.Windows;

namespace Eddy.Tests.Windows;

/// <summary>Builds one window operator the way a job would and drives it with the operator harness.</summary>
internal static class WindowTestKit
{
    public static OperatorHarness<T, TOut> Harness<T, TOut>(Func<DataStream<T>, DataStream<TOut>> build, long startProcessingTime = 0)
    {
        var env = StreamEnvironment.Create();
        var stream = build(env.FromCollection(Array.Empty<T>()));
        var op = (StreamOperator<T, TOut>)stream.Node.CreateOperator()!;
        return new OperatorHarness<T, TOut>(op, startProcessingTime);
    }

    /// <summary>A window result as a compact string: kind, key, window, value and timestamp.</summary>
    public static string Show<TKey, TValue>(Emitted<WindowResult<TKey, TimeWindow, TValue>> e) =>
        $"{e.Kind.ShortString()} {e.Value.Key} [{e.Value.Window.Start},{e.Value.Window.End}) {e.Value.Value} @{e.Timestamp}";

    public static List<string> Shown<TKey, TValue>(this CollectingInput<WindowResult<TKey, TimeWindow, TValue>> output) =>
        output.Records.Select(Show).ToList();

    public static List<string> ShownSorted<TKey, TValue>(this CollectingInput<WindowResult<TKey, TimeWindow, TValue>> output) =>
        output.Records.Select(Show).Order(StringComparer.Ordinal).ToList();

    public static IEnumerable<((string Key, int Value), long)> Events(params (string Key, long Ts)[] events) =>
        events.Select(e => ((e.Key, 1), e.Ts));

    /// <summary>Slices, sessions or open global windows the operator still holds.</summary>
    public static int HeldState<TIn, TOut>(OperatorHarness<TIn, TOut> harness) => ((IWindowState)harness.Operator).HeldState;

    public static TimeSpan Ms(long ms) => TimeSpan.FromMilliseconds(ms);
}
