using Eddy.Sql.Plan.Aggregate;
using Eddy.Sql.Planning;
using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.WindowTableFunction;

/// <summary>
/// A window TVF as a relation (Flink's "Windowing TVF": <c>SELECT * FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), ...))</c>):
/// every input row once per window it belongs to (one for TUMBLE, size/slide for HOP, one per step still ahead of it
/// for CUMULATE), followed by <c>window_start</c>, <c>window_end</c> and <c>window_time</c> (<c>window_end - 1 ms</c>,
/// the new time attribute; the input's time column stays as a plain column, as in Flink). Stateless, append-only.
/// Event-time windows only.
/// </summary>
public sealed record WindowTableFunctionPlan(LogicalPlan Input, WindowSpecification Window, Schema Output) : LogicalPlan(Output)
{
    public static Schema OutputOf(Schema input) => new([.. input.Columns,
        .. GroupContext.WindowColumns.Select((n, i) => new Column(n, GroupContext.WindowColumnType(i)))]);

    public WindowTableFunctionPlan(LogicalPlan input, WindowSpecification window) : this(input, window, OutputOf(input.Schema)) { }

    /// <summary>The index of window_start; window_end and window_time follow.</summary>
    public int WindowStart => Input.Schema.Count;

    public override int? Rowtime => Input.Schema.Count + 2;

    public override IEnumerable<LogicalPlan> Inputs => [Input];

    public override string Describe() =>
        $"WindowTableFunction(window=[{Window}], time=[{Input.Schema[Window.TimeColumn].Name}], select=[{string.Join(", ", Schema.Columns.Select(c => c.Name))}])";

    public override LogicalPlan WithInputs(IReadOnlyList<LogicalPlan> inputs) => this with { Input = inputs[0] };

    internal override object Translate(JobTranslator job) => WindowTableFunctionTranslator.Translate(this, job);
}
