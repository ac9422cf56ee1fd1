using Eddy.Sql.Catalog;

namespace Eddy.Sql.Planning;

/// <summary>
/// A relational operator with its output schema. The binder builds these from the syntax tree; the translator turns
/// them into runtime operators. Updating (changelog) output is tracked so that append-only sinks can refuse it.
/// </summary>
public abstract record LogicalPlan(Schema Schema)
{
    /// <summary>True when the output has updates or deletes (-U/+U/-D), not only inserts.</summary>
    public virtual bool IsUpdating => false;

    /// <summary>The index of the event-time attribute (rowtime) column, if the output has one.</summary>
    public virtual int? Rowtime => null;

    /// <summary>The index of a processing-time attribute (a <c>PROCTIME()</c> column), if the output has one.</summary>
    public virtual int? Proctime => null;

    public abstract IEnumerable<LogicalPlan> Inputs { get; }

    public abstract string Describe();
}

/// <summary>
/// Reads a table: the connector decodes <see cref="Decoded"/> (physical and metadata columns); <see cref="Projections"/>
/// make the table's columns from them (computed columns evaluated); the watermark follows the rowtime column.
/// </summary>
public sealed record ScanPlan(TableDef Table, Schema Decoded, IReadOnlyList<BoundExpr> Projections, int? RowtimeIndex, long? WatermarkDelayMs)
    : LogicalPlan(Table.Schema)
{
    /// <summary>The connector reads a changelog (<see cref="Connectors.ITableConnector.ProducesUpdates"/>).</summary>
    public bool Updating { get; init; }

    public override bool IsUpdating => Updating;

    public override int? Rowtime => RowtimeIndex;

    public override int? Proctime
    {
        get
        {
            for (int i = 0; i < Table.Columns.Count; i++)
                if (Table.Columns[i].Computed is Parsing.FunctionCall { UpperName: "PROCTIME", Arguments.Count: 0 }) return i;
            return null;
        }
    }

    public override IEnumerable<LogicalPlan> Inputs => [];

    public override string Describe() =>
        $"Scan(table=[{Table.Name}], connector=[{Table.Connector}], fields=[{string.Join(", ", Schema.Columns.Select(c => c.Name))}]"
        + (RowtimeIndex is { } r ? $", watermark=[{Schema[r].Name} - {WatermarkDelayMs} ms]" : "") + ")";
}

/// <summary>Projection and filter: <c>SELECT exprs ... WHERE filter</c>.</summary>
public sealed record CalcPlan(LogicalPlan Input, IReadOnlyList<BoundExpr> Projections, BoundExpr? Filter, Schema Output, int? RowtimeIndex)
    : LogicalPlan(Output)
{
    public override bool IsUpdating => Input.IsUpdating;

    public override int? Rowtime => RowtimeIndex;

    public override int? Proctime
    {
        get
        {
            if (Input.Proctime is not { } p) return null;
            for (int i = 0; i < Projections.Count; i++)
                if (Projections[i] is InputRef r && r.Index == p) return i;
            return null;
        }
    }

    public override IEnumerable<LogicalPlan> Inputs => [Input];

    public override string Describe() =>
        $"Calc(select=[{string.Join(", ", Projections.Select((p, i) => p is InputRef r && r.Name == Schema[i].Name ? r.Name : $"{p} AS {Schema[i].Name}"))}]"
        + (Filter is null ? "" : $", where=[{Filter}]") + ")";
}

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
}

/// <summary>One aggregate call: its kind, argument (none for COUNT(*)), DISTINCT, FILTER and result type.</summary>
public sealed record AggregateCall(AggregateKind Kind, BoundExpr? Argument, bool Distinct, BoundExpr? Filter, DataType Type, string Name,
    string Separator = ",")
{
    /// <summary>For <see cref="AggregateKind.User"/>: the function and all its arguments.</summary>
    public Catalog.UserAggregate? User { get; init; }

    public IReadOnlyList<BoundExpr> Arguments { get; init; } = [];

    public override string ToString() => Kind == AggregateKind.User ? Name :
        $"{Kind.ToString().ToUpperInvariant()}({(Distinct ? "DISTINCT " : "")}{(Argument is null ? "*" : Argument.ToString())})"
        + (Filter is null ? "" : $" FILTER (WHERE {Filter})");
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

    /// <summary>
    /// How long after an event-time window fired a late row still updates it (<c>table.exec.emit.allow-lateness</c>):
    /// the window re-fires as a -U/+U pair, so the aggregation's result is updating.
    /// </summary>
    public long AllowedLatenessMs { get; init; }

    /// <summary>Where rows too late for every window go (<c>table.exec.late-data.table</c>); null: dropped and counted.</summary>
    public LateDataSink? LateData { get; init; }

    private bool LateFires => Window is { ProcessingTime: false } && AllowedLatenessMs > 0;

    /// <summary>
    /// Non-windowed aggregation updates its results as rows arrive (unless it only removes duplicates); a window
    /// aggregation does when late rows re-fire its windows.
    /// </summary>
    public override bool IsUpdating => (Window is null && Aggregates.Count > 0 && !FinalOnly) || LateFires;

    public override int? Rowtime => Window is null ? null : Keys.Count + 2;

    public override IEnumerable<LogicalPlan> Inputs => [Input];

    public override string Describe() =>
        (Window is null ? "GroupAggregate(" : $"WindowAggregate(window=[{Window}], ")
        + $"groupBy=[{string.Join(", ", Keys)}], select=[{string.Join(", ", Schema.Columns.Select(c => c.Name))}], "
        + $"aggs=[{string.Join(", ", Aggregates)}]"
        + (LateFires ? $", allowedLateness=[{AllowedLatenessMs} ms]" : "")
        + (LateData is { } late ? $", lateData=[{late.Table.Name}]" : "") + ")";
}

/// <summary>
/// The table that receives a window aggregation's late rows: <paramref name="Projections"/> over the aggregation's
/// input give the table's columns (matched by name).
/// </summary>
public sealed record LateDataSink(TableDef Table, IReadOnlyList<BoundExpr> Projections);

/// <summary>Each input row joined with the rows a table function returns for it (LATERAL TABLE); LEFT keeps rows without any.</summary>
public sealed record CorrelatePlan(LogicalPlan Input, UserCall Function, Schema Output, bool LeftOuter) : LogicalPlan(Output)
{
    public override bool IsUpdating => Input.IsUpdating;

    public override int? Rowtime => Input.Rowtime;

    public override IEnumerable<LogicalPlan> Inputs => [Input];

    public override string Describe() =>
        $"Correlate(function=[{Function.Name}({string.Join(", ", Function.Args)})], joinType=[{(LeftOuter ? "LEFT" : "INNER")}], "
        + $"fields=[{string.Join(", ", Schema.Columns.Select(c => c.Name))}])";
}

public sealed record UnionPlan(IReadOnlyList<LogicalPlan> Parts, Schema Output) : LogicalPlan(Output)
{
    public override bool IsUpdating => Parts.Any(p => p.IsUpdating);

    public override int? Rowtime => Parts.All(p => p.Rowtime is not null && p.Rowtime == Parts[0].Rowtime) ? Parts[0].Rowtime : null;

    public override IEnumerable<LogicalPlan> Inputs => Parts;

    public override string Describe() => $"Union(all=[true], union=[{string.Join(", ", Schema.Columns.Select(c => c.Name))}])";
}

/// <summary><c>ORDER BY ... LIMIT n</c> (batch mode): sorts everything, then keeps the first rows.</summary>
public sealed record SortLimitPlan(LogicalPlan Input, IReadOnlyList<(int Column, bool Descending, bool NullsFirst)> Order, long? Limit, long Offset)
    : LogicalPlan(Input.Schema)
{
    public override IEnumerable<LogicalPlan> Inputs => [Input];

    public override string Describe() =>
        $"SortLimit(orderBy=[{string.Join(", ", Order.Select(o => Schema[o.Column].Name + (o.Descending ? " DESC" : " ASC")))}]"
        + (Limit is { } l ? $", limit=[{l}]" : "") + (Offset > 0 ? $", offset=[{Offset}]" : "") + ")";
}

/// <summary>Writes into a table: the query's columns in the sink's column order.</summary>
public sealed record SinkPlan(TableDef Table, LogicalPlan Input) : LogicalPlan(Input.Schema)
{
    public override IEnumerable<LogicalPlan> Inputs => [Input];

    public override string Describe() =>
        $"Sink(table=[{Table.Name}], connector=[{Table.Connector}], fields=[{string.Join(", ", Schema.Columns.Select(c => c.Name))}])";
}

public static class PlanPrinter
{
    public static string Print(LogicalPlan plan)
    {
        var sb = new System.Text.StringBuilder();
        void Walk(LogicalPlan p, int depth)
        {
            DeepStack.Ensure();
            sb.Append(' ', depth * 2).Append(depth == 0 ? "" : "+- ").AppendLine(p.Describe());
            foreach (var i in p.Inputs) Walk(i, depth + 1);
        }
        Walk(plan, 0);
        return sb.ToString();
    }
}

/// <summary>
/// A processing-time lookup join (<c>JOIN t FOR SYSTEM_TIME AS OF o.proc_time ON o.k = t.k</c>): each input row joined
/// with the rows of <see cref="Table"/> whose <see cref="Keys"/> columns equal the row's key values, read when the row
/// arrives. Output: the input's columns, then the lookup table's (nullable for LEFT). <see cref="Condition"/> is the
/// rest of the ON clause over the output row; LEFT keeps a row none of whose matches meets it, padded with NULLs.
/// </summary>
/// <param name="Keys">(column of the lookup table, its value computed from the input row, already of the column's type).</param>
public sealed record LookupJoinPlan(
    LogicalPlan Input,
    TableDef Table,
    Schema LookupColumns,
    IReadOnlyList<(int Column, BoundExpr Value)> Keys,
    BoundExpr? Condition,
    bool LeftOuter,
    Schema Output) : LogicalPlan(Output)
{
    public override bool IsUpdating => Input.IsUpdating;

    public override int? Rowtime => Input.Rowtime;

    public override int? Proctime => Input.Proctime;

    public override IEnumerable<LogicalPlan> Inputs => [Input];

    public override string Describe() =>
        $"LookupJoin(table=[{Table.Name}], connector=[{Table.Connector}], joinType=[{(LeftOuter ? "LEFT" : "INNER")}], "
        + $"lookup=[{string.Join(", ", Keys.Select(k => $"{LookupColumns[k.Column].Name}={Explain.Expr(k.Value)}"))}]"
        + (Condition is null ? "" : $", where=[{Explain.Expr(Condition)}]")
        + $", select=[{string.Join(", ", Schema.Columns.Select(c => c.Name))}])";
}
