using Eddy.Sql.Catalog;
using Eddy.Sql.Planning;
using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.Aggregate;

public enum WindowKind
{
    Tumble,
    Hop,
    Cumulate,
    Session,
}

/// <summary>A window TVF or legacy group window: kind, time attribute and sizes in ms.</summary>
public sealed record WindowSpecification(WindowKind Kind, int TimeColumn, long Size, long Slide, long Offset, long Gap, bool ProcessingTime = false)
{
    public override string ToString() => (ProcessingTime ? "processing-time " : "") + Kind switch
    {
        WindowKind.Tumble => $"TUMBLE(size=[{Size} ms]{(Offset != 0 ? $", offset=[{Offset} ms]" : "")})",
        WindowKind.Hop => $"HOP(slide=[{Slide} ms], size=[{Size} ms])",
        WindowKind.Cumulate => $"CUMULATE(step=[{Slide} ms], max size=[{Size} ms])",
        _ => $"SESSION(gap=[{Gap} ms])",
    };
}

public enum AggregateKind
{
    Count,
    CountStar,
    Sum,
    Avg,
    Min,
    Max,
    FirstValue,
    LastValue,
    ListAgg,
    /// <summary>A user aggregate function (<see cref="AggregateCall.User"/>).</summary>
    User,
    /// <summary>
    /// Flink's internal WELFORD_M2 (sum of squared deviations, DOUBLE): what the variance functions are rewritten
    /// into, with a COUNT, by the binder (<c>Binder.Variance.cs</c>); never written in SQL.
    /// </summary>
    WelfordM2,
    /// <summary>ROW_NUMBER() as an OVER aggregate (Flink's RowNumberAggFunction): the row's position in its partition.</summary>
    RowNumber,
    /// <summary>RANK() as an OVER aggregate (Flink's RankAggFunction over the order key, here the time attribute).</summary>
    Rank,
    /// <summary>DENSE_RANK() as an OVER aggregate (Flink's DenseRankAggFunction).</summary>
    DenseRank,
    /// <summary>ARRAY_AGG (Flink's ArrayAggFunction): the values in arrival order, NULL for none.</summary>
    ArrayAgg,
    /// <summary>JSON_ARRAYAGG (Flink's JsonArrayAggFunction): the values as JSON, in arrival order.</summary>
    JsonArrayAgg,
    /// <summary>JSON_OBJECTAGG (Flink's JsonObjectAggFunction): key → JSON value, keys sorted; a repeated key fails.</summary>
    JsonObjectAgg,
    /// <summary>PERCENTILE (Flink's PercentileAggFunction): continuous percentiles over a count per value.</summary>
    Percentile,
    /// <summary>LAG(x [, offset [, default]]) as an OVER aggregate (Flink's LagAggFunction): the value offset rows back.</summary>
    Lag,
}

/// <summary>One aggregate call: its kind, argument (none for COUNT(*)), DISTINCT, FILTER and result type.</summary>
public sealed record AggregateCall(AggregateKind Kind, BoundExpr? Argument, bool Distinct, BoundExpr? Filter, DataType Type, string Name,
    string Separator = ",")
{
    /// <summary>For <see cref="AggregateKind.User"/>: the function and all its arguments.</summary>
    public Catalog.UserAggregate? User { get; init; }

    /// <summary>For <see cref="AggregateKind.User"/>: where the SQL calls it (<c>file: line, column</c>), for its runtime errors.</summary>
    public string? Location { get; init; }

    public IReadOnlyList<BoundExpr> Arguments { get; init; } = [];

    /// <summary>
    /// ARRAY_AGG's IGNORE NULLS, the JSON aggregates' ABSENT ON NULL: a NULL value is skipped instead of kept.
    /// </summary>
    public bool SkipNulls { get; init; }

    /// <summary>
    /// The second argument: JSON_OBJECTAGG's value (<see cref="Argument"/> is the key), PERCENTILE's frequency (or
    /// null), LAG's default (or null).
    /// </summary>
    public BoundExpr? Second { get; init; }

    /// <summary>PERCENTILE's percentages (literals, checked in [0, 1]); <see cref="PercentileArray"/> when written as an ARRAY.</summary>
    public IReadOnlyList<double> Percentages { get; init; } = [];

    public bool PercentileArray { get; init; }

    /// <summary>LAG's offset (a literal, 1 when not written).</summary>
    public int Offset { get; init; } = 1;

    /// <summary>
    /// The SQL type of the call when its accumulator is wider: SUM of TINYINT/SMALLINT sums in INT, and the binder
    /// wraps the column to this type where the call is read (<c>Binder.AggregateValue</c>), as Flink's byte/short sums.
    /// </summary>
    public DataType? NarrowTo { get; init; }

    // The calls whose arguments do not fit KIND(arg) read as written.
    public override string ToString() => Kind is AggregateKind.User or AggregateKind.ArrayAgg or AggregateKind.JsonArrayAgg or AggregateKind.JsonObjectAgg
        or AggregateKind.Percentile or AggregateKind.Lag ? Name :
        $"{SqlName(Kind)}({(Distinct ? "DISTINCT " : "")}{(Argument is null ? "*" : Argument.ToString())})"
        + (Filter is null ? "" : $" FILTER (WHERE {Filter})");

    /// <summary>The function's name as SQL (and Flink's EXPLAIN) writes it.</summary>
    private static string SqlName(AggregateKind kind) => kind switch
    {
        AggregateKind.CountStar => "COUNT",
        AggregateKind.FirstValue => "FIRST_VALUE",
        AggregateKind.LastValue => "LAST_VALUE",
        AggregateKind.WelfordM2 => "$WELFORD_M2",
        AggregateKind.RowNumber => "ROW_NUMBER",
        AggregateKind.DenseRank => "DENSE_RANK",
        _ => kind.ToString().ToUpperInvariant(),
    };
}

/// <summary>
/// Group aggregation by keys, in windows or not. Output columns: the keys, then (windowed) window_start,
/// window_end and window_time, then the aggregates.
/// </summary>
public sealed record AggregatePlan(
    LogicalPlan Input,
    IReadOnlyList<BoundExpr> Keys,
    IReadOnlyList<AggregateCall> Aggregates,
    WindowSpecification? Window,
    Schema Output) : LogicalPlan(Output)
{
    /// <summary>In batch mode a group aggregation emits only final results, once per key.</summary>
    public bool FinalOnly { get; init; }

    /// <summary>Flink's <c>table.exec.state.ttl</c> in ms for a non-windowed aggregation (0: state is kept forever).</summary>
    public long StateTtlMs { get; init; }

    /// <summary>
    /// A legacy group window (<c>GROUP BY TUMBLE(ts, ...)</c>): its start and end are plain columns for Flink, not the
    /// window properties a Window Top-N partitions by (as a window TVF's are).
    /// </summary>
    public bool LegacyGroupWindow { get; init; }

    /// <summary>
    /// How long after an event-time window fired a late row still updates it (<c>table.exec.emit.allow-lateness</c>):
    /// the window re-fires as a -U/+U pair, so the aggregation's result is updating.
    /// </summary>
    public long AllowedLatenessMs { get; init; }

    /// <summary>Where rows too late for every window go (<c>table.exec.late-data.table</c>); null: dropped and counted.</summary>
    public LateDataSink? LateData { get; init; }

    private bool LateFires => Window is { ProcessingTime: false } && AllowedLatenessMs > 0;

    /// <summary>
    /// Non-windowed aggregation updates its results as rows arrive (unless it only removes duplicates of an append-only
    /// input: over a changelog a value whose rows are all retracted is deleted); a window
    /// aggregation does when late rows re-fire its windows.
    /// </summary>
    public override bool IsUpdating => (Window is null && (Aggregates.Count > 0 || Input.IsUpdating) && !FinalOnly) || LateFires;

    public override int? Rowtime => Window is null ? null : Keys.Count + 2;

    public override IEnumerable<LogicalPlan> Inputs => [Input];

    // An append-only input never retracts a whole group: the aggregation emits +I, -U and +U, never -D (Flink: [I,UB,UA]).
    public override string ChangelogMode => IsUpdating && !Input.IsUpdating ? "I,UB,UA" : base.ChangelogMode;

    public override string Describe() =>
        (Window is null ? "GroupAggregate(" : $"WindowAggregate(window=[{Window}], ")
        + $"groupBy=[{string.Join(", ", Keys)}], select=[{string.Join(", ", Schema.Columns.Select(c => c.Name))}], "
        + $"aggs=[{string.Join(", ", Aggregates)}]"
        + (LateFires ? $", allowedLateness=[{AllowedLatenessMs} ms]" : "")
        + (LateData is { } late ? $", lateData=[{late.Table.Name}]" : "") + ")";

    public override LogicalPlan WithInputs(IReadOnlyList<LogicalPlan> inputs) => this with { Input = inputs[0] };

    internal override object Translate(JobTranslator job) => AggregateTranslator.Translate(this, null, job);
}

/// <summary>
/// The table that receives a window aggregation's late rows: <paramref name="Projections"/> over the aggregation's
/// input give the table's columns (matched by name).
/// </summary>
public sealed record LateDataSink(TableDef Table, IReadOnlyList<BoundExpr> Projections);
