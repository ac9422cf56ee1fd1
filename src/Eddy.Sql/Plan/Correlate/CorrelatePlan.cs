using Eddy.Sql.Planning;
using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.Correlate;

/// <summary>Each input row joined with the rows a table function returns for it (LATERAL TABLE); LEFT keeps rows without any.</summary>
/// <remarks>
/// With <see cref="Async"/> the function is a user's async table function: its calls run in an async operator (ordered,
/// <c>table.exec.async-table.*</c>), as Flink's AsyncCorrelate.
/// </remarks>
public sealed record CorrelatePlan(LogicalPlan Input, UserCall Function, Schema Output, bool LeftOuter) : LogicalPlan(Output)
{
    /// <summary>For an async table function: the calls' factory and options; null for a synchronous one.</summary>
    public AsyncFunctionSpec? Async { get; init; }

    public override bool IsUpdating => Input.IsUpdating;

    public override int? Rowtime => Input.Rowtime;

    public override IEnumerable<LogicalPlan> Inputs => [Input];

    public override string Describe() =>
        $"{(Async is null ? "Correlate" : "AsyncCorrelate")}(function=[{Function.Name}({string.Join(", ", Function.Args)})], joinType=[{(LeftOuter ? "LEFT" : "INNER")}], "
        + $"fields=[{string.Join(", ", Schema.Columns.Select(c => c.Name))}]"
        + (Async is { } a ? $", {a.Describe}" : "") + ")";

    public override LogicalPlan WithInputs(IReadOnlyList<LogicalPlan> inputs) => this with { Input = inputs[0] };

    internal override object Translate(JobTranslator job) => CorrelateTranslator.Translate(this, job);
}
