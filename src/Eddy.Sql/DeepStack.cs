using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using Eddy.Sql.Parsing;

namespace Eddy.Sql;

/// <summary>
/// Stack for the recursive walks over SQL trees (binding, printing, planning, code generation). A flat chain of
/// thousands of <c>AND</c> or <c>+</c> terms parses into a tree thousands of levels deep, and a stack overflow ends
/// the process (it cannot be caught in .NET). So every recursive walk checks the stack it has left
/// (<see cref="Ensure"/>), which turns exhaustion into a located error, and the entry points run on a thread with a
/// large stack (<see cref="Run{T}"/>), so that legitimately large scripts still pass.
/// </summary>
public static class DeepStack
{
    /// <summary>The stack of a planning thread: address space only, committed as it is used.</summary>
    public const int StackBytes = 256 * 1024 * 1024;

    [ThreadStatic]
    private static bool onDeepStack;

    /// <summary>Throws <see cref="InsufficientExecutionStackException"/> when the current thread's stack is nearly used up.</summary>
    public static void Ensure() => RuntimeHelpers.EnsureSufficientExecutionStack();

    /// <summary><paramref name="value"/> after <see cref="Ensure"/>; for walks written as a switch expression.</summary>
    public static T Ensure<T>(T value)
    {
        RuntimeHelpers.EnsureSufficientExecutionStack();
        return value;
    }

    /// <summary>The error for a construct nested beyond what the planner's stack holds, located at <paramref name="span"/>.</summary>
    public static SqlParseException TooDeep(SourceSpan span, SqlContext context) =>
        new($"expression or query too deeply nested (limit: the planner's {StackBytes / (1024 * 1024)} MB stack); split it into views or smaller expressions",
            span, context.Text, context.FileName);

    /// <summary>
    /// Runs <paramref name="work"/> on a thread with a <see cref="StackBytes"/> stack (inline when already on one) and
    /// returns its result or rethrows its exception.
    /// </summary>
    public static T Run<T>(Func<T> work)
    {
        if (onDeepStack) return work();
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            onDeepStack = true;
            try
            {
                result = work();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        }, StackBytes)
        {
            Name = "eddy-planner",
            IsBackground = true,
        };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }

    /// <summary><see cref="Run{T}"/> for work without a result.</summary>
    public static void Run(Action work) => Run(() =>
    {
        work();
        return true;
    });
}
