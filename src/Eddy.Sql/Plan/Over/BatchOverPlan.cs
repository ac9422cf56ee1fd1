using Eddy.Sql.Plan.Aggregate;
using Eddy.Sql.Planning;
using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.Over;

/// <summary>An ORDER BY item of a batch OVER window.</summary>
public sealed record BatchOverOrder(BoundExpr Expression, bool Descending, bool NullsFirst)
{
    public override string ToString() => $"{Expression} {(Descending ? "DESC" : "ASC")} NULLS {(NullsFirst ? "FIRST" : "LAST")}";
}

/// <summary>
/// The frame of a batch OVER window's aggregates. ROWS: <see cref="Start"/> and <see cref="End"/> are row offsets from
/// the current row (negative: preceding). RANGE: 0 is the current row's peers (rows with equal ORDER BY values).
/// Null is UNBOUNDED.
/// </summary>
public sealed record BatchOverFrame(bool Rows, long? Start, long? End)
{
    /// <summary>
    /// RANGE n PRECEDING / FOLLOWING: the bound as a distance from the current row's ORDER BY value (negative:
    /// preceding; milliseconds for a time), which then replaces <see cref="Start"/> / <see cref="End"/>.
    /// </summary>
    public decimal? StartValue { get; init; }

    public decimal? EndValue { get; init; }

    public override string ToString()
    {
        static string Bound(long? b, decimal? value, bool start) => value is { } v ? (v < 0 ? $"{-v} PRECEDING" : $"{v} FOLLOWING") : b switch
        {
            null => start ? "UNBOUNDED PRECEDING" : "UNBOUNDED FOLLOWING",
            0 => "CURRENT ROW",
            < 0 => $"{-b} PRECEDING",
            _ => $"{b} FOLLOWING",
        };
        return $"{(Rows ? "ROWS" : "RANGE")} BETWEEN {Bound(Start, StartValue, true)} AND {Bound(End, EndValue, false)}";
    }
}

public enum BatchOverKind
{
    RowNumber,
    Rank,
    DenseRank,
    PercentRank,
    CumeDist,
    Ntile,
    Lag,
    Lead,
    /// <summary>An aggregate over the frame (<see cref="BatchOverCall.Aggregate"/> indexes <see cref="BatchOverPlan.Aggregates"/>).</summary>
    Aggregate,
}

/// <summary>One OVER function of a batch OVER window.</summary>
public sealed record BatchOverCall(BatchOverKind Kind, DataType Type)
{
    /// <summary>LAG/LEAD's value.</summary>
    public BoundExpr? Value { get; init; }

    /// <summary>LAG/LEAD's default (null: NULL).</summary>
    public BoundExpr? Default { get; init; }

    /// <summary>LAG/LEAD's offset, NTILE's number of buckets.</summary>
    public long Offset { get; init; }

    public int Aggregate { get; init; } = -1;

    public override string ToString() => Kind switch
    {
        BatchOverKind.Lag or BatchOverKind.Lead => $"{Kind.ToString().ToUpperInvariant()}({Value}, {Offset}{(Default is null ? "" : $", {Default}")})",
        BatchOverKind.Ntile => $"NTILE({Offset})",
        BatchOverKind.Aggregate => $"agg#{Aggregate}",
        _ => Kind switch
        {
            BatchOverKind.RowNumber => "ROW_NUMBER()",
            BatchOverKind.DenseRank => "DENSE_RANK()",
            BatchOverKind.PercentRank => "PERCENT_RANK()",
            BatchOverKind.CumeDist => "CUME_DIST()",
            _ => "RANK()",
        },
    };
}

/// <summary>
/// OVER in batch mode (Flink's BatchExecOverAggregate): at the end of the input, each partition's rows sorted by the
/// ORDER BY (ties in arrival order), every row once with its OVER functions appended. Output columns: the input's,
/// then one per function.
/// </summary>
public sealed record BatchOverPlan(
    LogicalPlan Input,
    IReadOnlyList<BoundExpr> PartitionKeys,
    IReadOnlyList<BatchOverOrder> Order,
    BatchOverFrame? Frame,
    IReadOnlyList<BatchOverCall> Functions,
    IReadOnlyList<AggregateCall> Aggregates,
    Schema Output) : LogicalPlan(Output)
{
    public override IEnumerable<LogicalPlan> Inputs => [Input];

    public override string Describe() =>
        $"BatchOverAggregate(partitionBy=[{string.Join(", ", PartitionKeys)}], orderBy=[{string.Join(", ", Order)}]"
        + (Frame is null ? "" : $", {Frame}")
        + $", select=[{string.Join(", ", Schema.Columns.Select(c => c.Name))}], functions=[{string.Join(", ", Functions.Select(f => f.Kind == BatchOverKind.Aggregate ? Aggregates[f.Aggregate].ToString() : f.ToString()))}])";

    public override LogicalPlan WithInputs(IReadOnlyList<LogicalPlan> inputs) => this with { Input = inputs[0] };

    internal override object Translate(JobTranslator job) => BatchOverTranslator.Translate(this, job);
}
