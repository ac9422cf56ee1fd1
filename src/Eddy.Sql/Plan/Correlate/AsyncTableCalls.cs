using Eddy.Runtime;
using Eddy.Sql.Codegen;
using Eddy.Sql.Planning;

namespace Eddy.Sql.Plan.Correlate;

/// <summary>
/// The calls of a user's async table function in one operator instance: a row's arguments in, its output rows (the
/// row joined with each element, or with NULLs for LEFT when there is none) later. A call that fails after its
/// attempts, or runs out of time, fails the job naming the function, where the SQL calls it and the row.
/// </summary>
internal sealed class AsyncTableCalls<TIn, TElem, TOut>(
    Func<TIn, object?[]> arguments, IAsyncCallFunction function, Func<TIn, TElem, TOut> build, Func<TIn, TOut>? empty,
    string name, string? location, int rowColumns) : IAsyncFunction<TIn, TOut[]>, IAsyncFunctionLifecycle
{
    public void Open(OperatorContext context)
    {
        try
        {
            function.Open(context);
        }
        catch (Exception e)
        {
            var reason = e is System.Reflection.TargetInvocationException { InnerException: { } inner } ? inner : e;
            throw new UserFunctionException($"function {name}{(location is null ? "" : $" ({location})")} failed to open: {reason.GetType().Name}: {reason.Message}", reason);
        }
    }

    public void Close() => function.Close();

    public async Task<TOut[]> InvokeAsync(TIn input, CancellationToken cancellation)
    {
        object? elements;
        try
        {
            elements = await function.InvokeAsync(arguments(input), cancellation).ConfigureAwait(false);
        }
        catch (Exception e) when (!(e is OperationCanceledException && cancellation.IsCancellationRequested))
        {
            throw UserFunctionFailure.Wrap(e, name, location, input, rowColumns);
        }
        var rows = new List<TOut>();
        if (elements is IEnumerable<TElem> sequence)
        {
            try
            {
                foreach (var element in sequence) rows.Add(build(input, element));
            }
            catch (Exception e)
            {
                throw UserFunctionFailure.Wrap(e, name, location, input, rowColumns);
            }
        }
        if (rows.Count == 0 && empty is not null) rows.Add(empty(input));
        return [.. rows];
    }

    public TOut[] Timeout(TIn input)
    {
        try
        {
            function.Timeout(arguments(input));
            throw new TimeoutException("no result in time");
        }
        catch (Exception e)
        {
            throw UserFunctionFailure.Wrap(e, name, location, input, rowColumns);
        }
    }
}

/// <summary>Each array's elements as records of their own, with the array's timestamp and row kind.</summary>
internal sealed class FlattenOperator<T> : StreamOperator<T[], T>
{
    public override void OnBatch(Batch<T[]> batch)
    {
        var output = Out;
        for (int i = 0; i < batch.Count; i++)
        {
            long ts = batch.Timestamps[i];
            var kind = batch.KindAt(i);
            foreach (var row in batch.Values[i]) output.Collect(row, ts, kind);
        }
        BatchPool<T[]>.Return(batch);
    }
}
