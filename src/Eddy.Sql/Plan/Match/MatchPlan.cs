using Eddy.Sql.Parsing;
using Eddy.Sql.Plan.Aggregate;
using Eddy.Sql.Planning;
using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.Match;

/// <summary>
/// One variable of the pattern, in order: <see cref="Min"/>..<see cref="Max"/> rows (<see cref="int.MaxValue"/>:
/// unbounded). <see cref="Greedy"/> as Flink's translation sets it: a greedy quantifier other than <c>?</c> and
/// <c>{n}</c>; the variable after a greedy one takes a row only if the greedy one's condition rejects it.
/// </summary>
public sealed record MatchElement(int Min, int Max, bool Greedy);

public enum MatchNavKind
{
    /// <summary>The <see cref="MatchNav.Offset"/>-th row from the last of the variable's rows (<c>A.col</c>, <c>LAST(A.col, n)</c>).</summary>
    Last,
    /// <summary>The <see cref="MatchNav.Offset"/>-th row from the first (<c>FIRST(A.col, n)</c>).</summary>
    First,
    /// <summary>An aggregate over the variable's rows (<c>SUM(A.price)</c>).</summary>
    Aggregate,
    /// <summary><c>MATCH_ROWTIME()</c>: the time the match is emitted at (the row or watermark being processed), as Flink's context timestamp.</summary>
    EmitTime,
}

/// <summary>
/// One navigation of a DEFINE condition or of the MEASURES: which rows (<see cref="Variable"/>, -1 for all rows of
/// the match, Flink's default variable <c>*</c>) and what of them: <see cref="Value"/> over the input row of the row
/// navigated to, or <see cref="Aggregate"/> over all of them. It is column i of the navigation row the condition or
/// measure is bound over.
/// </summary>
public sealed record MatchNav(MatchNavKind Kind, int Variable, int Offset, BoundExpr? Value, AggregateCall? Aggregate, DataType Type);

/// <summary>A DEFINE condition: bound over the navigation row of its <see cref="Navs"/>.</summary>
public sealed record MatchCondition(IReadOnlyList<MatchNav> Navs, BoundExpr Condition);

/// <summary>
/// MATCH_RECOGNIZE (Flink's StreamExecMatch over its CEP operator): per partition, rows in time order (then
/// <see cref="SecondaryOrder"/>) run through the pattern's automaton; every match gives one row — the partition
/// columns, then the measures (<see cref="Outputs"/>, bound over the navigation row of <see cref="MeasureNavs"/>).
/// Append-only.
/// </summary>
public sealed record MatchPlan(
    LogicalPlan Input,
    IReadOnlyList<InputRef> PartitionKeys,
    int TimeColumn,
    bool ProcessingTime,
    IReadOnlyList<(int Column, bool Descending, bool NullsFirst)> SecondaryOrder,
    IReadOnlyList<MatchElement> Elements,
    IReadOnlyList<string> Variables,
    IReadOnlyList<MatchCondition?> Defines,
    AfterMatchSkipKind Skip,
    int SkipTo,
    long? WithinMs,
    IReadOnlyList<MatchNav> MeasureNavs,
    IReadOnlyList<BoundExpr> Outputs,
    int? RowtimeColumn,
    int? ProctimeColumn,
    Schema Output) : LogicalPlan(Output)
{
    public override int? Rowtime => RowtimeColumn;

    public override int? Proctime => ProctimeColumn;

    public override IEnumerable<LogicalPlan> Inputs => [Input];

    public override string Describe()
    {
        string pattern = string.Join(" ", Elements.Select((e, i) => Variables[i] + Quantifier(e)));
        string skip = Skip switch
        {
            AfterMatchSkipKind.PastLastRow => "SKIP PAST LAST ROW",
            AfterMatchSkipKind.ToNextRow => "SKIP TO NEXT ROW",
            AfterMatchSkipKind.ToFirst => $"SKIP TO FIRST {Variables[SkipTo]}",
            _ => $"SKIP TO LAST {Variables[SkipTo]}",
        };
        return $"Match(partitionBy=[{string.Join(", ", PartitionKeys)}], orderBy=[${TimeColumn}{(ProcessingTime ? " (proctime)" : "")}"
            + $"{string.Concat(SecondaryOrder.Select(o => $", ${o.Column}{(o.Descending ? " DESC" : "")}"))}], pattern=[{pattern}]"
            + (WithinMs is { } w ? $", within=[{w} ms]" : "") + $", after=[{skip}], measures=[{string.Join(", ", Schema.Columns.Select(c => c.Name))}])";

        static string Quantifier(MatchElement e) =>
            e.Min == 1 && e.Max == 1 ? "" : $"{{{e.Min},{(e.Max == int.MaxValue ? "" : e.Max)}}}{(e.Greedy || e.Min == e.Max || (e.Min == 0 && e.Max == 1) ? "" : "?")}";
    }

    public override LogicalPlan WithInputs(IReadOnlyList<LogicalPlan> inputs) => this with { Input = inputs[0] };

    internal override object Translate(JobTranslator job) => MatchTranslator.Translate(this, job);
}
