using Eddy.Sql.Planning;

namespace Eddy.Sql.Functions.Builtin;

/// <summary>
/// The time-attribute and windowing functions (Flink documents them with windows, not in its function list): PROCTIME()
/// makes a processing-time attribute; the windows and their auxiliary functions are planned with the query that groups
/// by them, so a call anywhere else is refused here with where it belongs.
/// </summary>
public static class WindowFunctions
{
    private static BuiltinFunction Auxiliary(string name) => new(name, FunctionGroup.Window, c =>
        throw c.Fail($"{name} is only allowed in the SELECT of a query grouped by the matching {name[..name.IndexOf('_')]}(...) window"));

    private static BuiltinFunction Window(string name) => new(name, FunctionGroup.Window, c =>
        throw c.Fail($"{name}(...) is a window: use it in FROM TABLE({name}(TABLE t, DESCRIPTOR(col), ...)) or in GROUP BY"));

    internal static IEnumerable<BuiltinFunction> All() =>
    [
        new("PROCTIME", FunctionGroup.Window, c => { c.Arity(0, 0); return new CurrentTime(DataType.TimestampLtz3) { IsProctime = true }; }),
        Window("TUMBLE"), Window("HOP"), Window("SESSION"), Window("CUMULATE"),
        Auxiliary("TUMBLE_START"), Auxiliary("TUMBLE_END"), Auxiliary("TUMBLE_ROWTIME"),
        Auxiliary("HOP_START"), Auxiliary("HOP_END"), Auxiliary("HOP_ROWTIME"),
        Auxiliary("SESSION_START"), Auxiliary("SESSION_END"), Auxiliary("SESSION_ROWTIME"),
    ];
}
