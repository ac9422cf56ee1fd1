using Eddy.Sql.Plan.Calc;
using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.Aggregate;

/// <summary>
/// A window aggregation whose result builder also applies the projection right above it (made by the rule
/// <c>WindowProjectionFusion</c>, never by the binder): its rows are the projection's.
/// </summary>
public sealed record ProjectedAggregatePlan(AggregatePlan Aggregate, CalcPlan Projection) : LogicalPlan(Projection.Schema)
{
    public override bool IsUpdating => Projection.IsUpdating;

    public override int? Rowtime => Projection.Rowtime;

    public override int? Proctime => Projection.Proctime;

    public override IEnumerable<LogicalPlan> Inputs => Aggregate.Inputs;

    public override string Describe() => $"{Aggregate.Describe()} projected by {Projection.Describe()}";

    public override LogicalPlan WithInputs(IReadOnlyList<LogicalPlan> inputs) => this with { Aggregate = Aggregate with { Input = inputs[0] } };

    internal override object Translate(JobTranslator job) => AggregateTranslator.Translate(Aggregate, Projection, job);
}
