using System.Linq.Expressions;

namespace Eddy.Sql.Codegen;

/// <summary>
/// Generated code whose compilation waits for the task that runs it, as Flink compiles its generated classes when a
/// task opens: turning an expression tree into a delegate JIT-compiles it at once, which would otherwise make
/// planning a large job slow. Compiled once and shared by the subtasks.
/// </summary>
public sealed class Compiled<TDelegate> where TDelegate : Delegate
{
    private readonly Lazy<TDelegate> value;

    public Compiled(Expression<TDelegate> lambda) => value = new(lambda.Compile, LazyThreadSafetyMode.ExecutionAndPublication);

    public Compiled(TDelegate ready) => value = new(ready);

    public TDelegate Value => value.Value;
}
