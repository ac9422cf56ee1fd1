using Eddy.Runtime;
using Eddy.Sql.Planning;
using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.AsyncLookup;

/// <summary>
/// Rows of <see cref="Input"/> with one column added per call (its result), filled by an async operator. The
/// arguments are columns of the input (the planner computes them in a Calc below, after the input's own columns).
/// </summary>
public sealed record AsyncLookupPlan(LogicalPlan Input, IReadOnlyList<(int[] ArgumentColumns, AsyncCall Call)> Calls, Schema Output)
    : LogicalPlan(Output)
{
    public override bool IsUpdating => Input.IsUpdating;

    public override int? Rowtime => Input.Rowtime;

    public override IEnumerable<LogicalPlan> Inputs => [Input];

    public override string Describe() =>
        $"AsyncLookup({string.Join(", ", Calls.Select(c => $"{c.Call.Name}({string.Join(", ", c.ArgumentColumns.Select(a => Input.Schema[a].Name))}) via {c.Call.Function.Describe}"))}, " +
        $"capacity={Calls[0].Call.Function.Options.Capacity}, {(Calls[0].Call.Function.Options.Mode == AsyncOutputMode.Ordered ? "ordered" : "unordered")}, " +
        $"timeout={Calls[0].Call.Function.Options.Timeout.TotalMilliseconds} ms)";

    /// <summary>The input's own columns (before the computed arguments): what a failing call reports of its row.</summary>
    public int RowColumns => Calls.SelectMany(c => c.ArgumentColumns).DefaultIfEmpty(Input.Schema.Count).Min();

    public override LogicalPlan WithInputs(IReadOnlyList<LogicalPlan> inputs) => this with { Input = inputs[0] };

    internal override object Translate(JobTranslator job) => AsyncLookupTranslator.Translate(this, job);
}
