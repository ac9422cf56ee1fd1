using Eddy.Sql.Plan.Aggregate;
using Eddy.Sql.Planning;
using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.Over;

/// <summary>
/// An OVER window: <c>PARTITION BY keys ORDER BY time ROWS|RANGE BETWEEN n|UNBOUNDED PRECEDING AND CURRENT ROW</c>.
/// <see cref="Preceding"/> is a row count (ROWS) or milliseconds (RANGE), null for UNBOUNDED.
/// </summary>
public sealed record OverWindow(IReadOnlyList<BoundExpr> PartitionKeys, int OrderColumn, bool ProcessingTime, bool Rows, long? Preceding)
{
    public override string ToString() =>
        $"partitionBy=[{string.Join(", ", PartitionKeys)}], orderBy=[${OrderColumn}{(ProcessingTime ? " (proctime)" : "")}], "
        + $"{(Rows ? "ROWS" : "RANGE")} BETWEEN {(Preceding is { } p ? (Rows ? $"{p}" : $"{p} ms") : "UNBOUNDED")} PRECEDING AND CURRENT ROW";
}

/// <summary>
/// OVER aggregation (Flink's StreamExecOverAggregate): every input row once, with the aggregates over its window
/// appended — append-only output. Output columns: the input's, then the aggregates.
/// </summary>
public sealed record OverPlan(LogicalPlan Input, OverWindow Window, IReadOnlyList<AggregateCall> Aggregates, Schema Output) : LogicalPlan(Output)
{
    /// <summary>Flink's <c>table.exec.state.ttl</c> in ms (0: state is kept forever); see <see cref="OverAggregateFunction{TIn, TKey, TAcc, TOut}"/>.</summary>
    public long StateTtlMs { get; init; }

    public override int? Rowtime => Input.Rowtime;

    public override int? Proctime => Input.Proctime;

    public override IEnumerable<LogicalPlan> Inputs => [Input];

    public override string Describe() =>
        $"OverAggregate({Window}, select=[{string.Join(", ", Schema.Columns.Select(c => c.Name))}], aggs=[{string.Join(", ", Aggregates)}]"
        + (StateTtlMs > 0 ? $", stateTtl=[{StateTtlMs} ms]" : "") + ")";

    public override LogicalPlan WithInputs(IReadOnlyList<LogicalPlan> inputs) => this with { Input = inputs[0] };

    internal override object Translate(JobTranslator job) => OverTranslator.Translate(this, job);
}
