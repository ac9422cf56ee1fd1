using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.Rank;

/// <summary>How a rank node runs, chosen as Flink's planner chooses (RankUtil.canConvertToDeduplicate).</summary>
public enum RankStrategy
{
    /// <summary>Top-N over an append-only input (Flink's AppendOnlyTopNFunction).</summary>
    AppendOnlyTopN,
    /// <summary>Top-N over an updating input (Flink's RetractStrategy, RetractableTopNFunction).</summary>
    RetractTopN,
    /// <summary>
    /// Top-N over an updating input with a unique key holding the partition key, whose sort key only moves towards the
    /// top (Flink's UpdateFastStrategy: UpdatableTopNFunction, or FastTop1Function for rank 1).
    /// </summary>
    UpdateFastTopN,
    /// <summary><c>ORDER BY proctime ASC</c>, <c>rn = 1</c>, rn not selected: the first row per key, append-only.</summary>
    KeepFirstProctime,
    /// <summary><c>ORDER BY proctime DESC</c>: the last row per key, +I then -U/+U.</summary>
    KeepLastProctime,
    /// <summary><c>ORDER BY rowtime ASC</c>: the row with the smallest rowtime per key, +I then -U/+U when an earlier one comes.</summary>
    KeepFirstRowtime,
    /// <summary><c>ORDER BY rowtime DESC</c>: the row with the greatest rowtime per key (ties: the later one), +I then -U/+U.</summary>
    KeepLastRowtime,
    /// <summary>Window Top-N over a window aggregation (PARTITION BY window_start, window_end, ...): emitted once per window at the watermark, append-only.</summary>
    WindowTopN,
    /// <summary>Window deduplication over a window TVF (PARTITION BY window_start, window_end, ... ORDER BY rowtime ASC, rn = 1): the first row per window and key, emitted at the watermark, append-only.</summary>
    WindowKeepFirst,
    /// <summary>The same ordered by rowtime DESC: the last row per window and key.</summary>
    WindowKeepLast,
}

/// <summary>
/// <c>ROW_NUMBER() OVER (PARTITION BY keys ORDER BY order) AS rn ... WHERE rn BETWEEN start AND end</c>: Top-N per
/// key, or deduplication when it is Flink's deduplication pattern (see <see cref="RankStrategy"/>). The output is the
/// input's columns, then the row number when the query reads it (<see cref="OutputRank"/>).
/// </summary>
public sealed record RankPlan(
    LogicalPlan Input,
    IReadOnlyList<int> PartitionKeys,
    IReadOnlyList<(int Column, bool Descending, bool NullsFirst)> Order,
    long RankStart,
    long RankEnd,
    bool OutputRank,
    RankStrategy Strategy,
    Schema Output) : LogicalPlan(Output)
{
    /// <summary>In batch mode a Top-N or deduplication emits only the final rows of each key, at the end of input.</summary>
    public bool FinalOnly { get; init; }

    /// <summary>ROW_NUMBER, or RANK/DENSE_RANK (batch mode only, as in Flink).</summary>
    public RankFunction Function { get; init; } = RankFunction.RowNumber;

    /// <summary>Flink's <c>table.exec.state.ttl</c> in ms for a deduplication or a Top-N (0: state is kept forever).</summary>
    public long StateTtlMs { get; init; }

    /// <summary>For <see cref="RankStrategy.UpdateFastTopN"/>: the input columns of the unique key (the GROUP BY keys below).</summary>
    public IReadOnlyList<int> RowKey { get; init; } = [];

    /// <summary>For window Top-N and window deduplication: the input column with the window's end.</summary>
    public int WindowEnd { get; init; } = -1;

    // Deduplication keeping a later row replaces the kept one (-U/+U) and never deletes it.
    public override string ChangelogMode => FinalOnly ? "I" : Strategy is RankStrategy.KeepLastProctime or RankStrategy.KeepFirstRowtime or RankStrategy.KeepLastRowtime
        ? "I,UB,UA" : base.ChangelogMode;

    public override bool IsUpdating => !FinalOnly && Strategy is not (RankStrategy.KeepFirstProctime or RankStrategy.WindowTopN or RankStrategy.WindowKeepFirst or RankStrategy.WindowKeepLast);

    public bool IsDeduplicate => Strategy is not (RankStrategy.AppendOnlyTopN or RankStrategy.RetractTopN or RankStrategy.UpdateFastTopN or RankStrategy.WindowTopN
        or RankStrategy.WindowKeepFirst or RankStrategy.WindowKeepLast);

    /// <summary>
    /// A Top-N of an append-only input ordered by its processing time ascending, which Flink runs with its
    /// AppendOnlyFirstNFunction (the first N rows of each key).
    /// </summary>
    public bool IsFirstN => Strategy == RankStrategy.AppendOnlyTopN && Order.Count == 1 && Order[0].Column == Input.Proctime && !Order[0].Descending;

    public bool IsWindowDeduplicate => Strategy is RankStrategy.WindowKeepFirst or RankStrategy.WindowKeepLast;

    public override IEnumerable<LogicalPlan> Inputs => [Input];

    public override string Describe()
    {
        string keys = string.Join(", ", PartitionKeys.Select(k => Input.Schema[k].Name));
        string order = string.Join(", ", Order.Select(o => Input.Schema[o.Column].Name + (o.Descending ? " DESC" : " ASC")));
        if (FinalOnly)
        {
            string type = Function switch { RankFunction.Rank => "RANK", RankFunction.DenseRank => "DENSE_RANK", _ => "ROW_NUMBER" };
            return $"Rank(rankType=[{type}], rankRange=[rankStart={RankStart}, rankEnd={RankEnd}], partitionBy=[{keys}], orderBy=[{order}], "
                + $"global=[true], select=[{string.Join(", ", Schema.Columns.Select(c => c.Name))}])";
        }
        if (IsDeduplicate)
        {
            string keep = Strategy is RankStrategy.KeepFirstProctime or RankStrategy.KeepFirstRowtime ? "FirstRow" : "LastRow";
            string time = Strategy is RankStrategy.KeepFirstProctime or RankStrategy.KeepLastProctime ? "PROCTIME" : "ROWTIME";
            return $"Deduplicate(keep=[{keep}], key=[{keys}], order=[{time}])";
        }
        if (IsWindowDeduplicate)
        {
            return $"WindowDeduplicate(window=[end=[{Input.Schema[WindowEnd].Name}]], keep=[{(Strategy == RankStrategy.WindowKeepLast ? "LastRow" : "FirstRow")}], "
                + $"partitionKeys=[{keys}], orderKey=[{Input.Schema[Order[0].Column].Name}], order=[ROWTIME])";
        }
        if (Strategy == RankStrategy.WindowTopN)
        {
            return $"WindowRank(window=[end=[{Input.Schema[WindowEnd].Name}]], rankType=[ROW_NUMBER], rankRange=[rankStart={RankStart}, rankEnd={RankEnd}], "
                + $"partitionBy=[{keys}], orderBy=[{order}], select=[{string.Join(", ", Schema.Columns.Select(c => c.Name))}])";
        }
        string strategy = Strategy switch
        {
            RankStrategy.RetractTopN => "RetractStrategy",
            RankStrategy.UpdateFastTopN => $"UpdateFastStrategy[{string.Join(",", RowKey)}]",
            _ => "AppendFastStrategy",
        };
        return $"Rank(strategy=[{strategy}], rankType=[ROW_NUMBER], rankRange=[rankStart={RankStart}, rankEnd={RankEnd}], "
            + $"partitionBy=[{keys}], orderBy=[{order}], select=[{string.Join(", ", Schema.Columns.Select(c => c.Name))}])";
    }

    public override LogicalPlan WithInputs(IReadOnlyList<LogicalPlan> inputs) => this with { Input = inputs[0] };

    internal override object Translate(JobTranslator job) => RankTranslator.Translate(this, job);
}
