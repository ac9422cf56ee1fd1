using Eddy.Joins;
using Eddy.Runtime.Distributed;
using Eddy.Sql.Catalog;
using Eddy.Sql.Parsing;
using Eddy.Sql.Plan;
using Eddy.Sql.Plan.Aggregate;
using Eddy.Sql.Plan.AsyncLookup;
using Eddy.Sql.Plan.Calc;
using Eddy.Sql.Plan.Correlate;
using Eddy.Sql.Plan.Expand;
using Eddy.Sql.Plan.Join;
using Eddy.Sql.Plan.LookupJoin;
using Eddy.Sql.Plan.Match;
using Eddy.Sql.Plan.Over;
using Eddy.Sql.Plan.Rank;
using Eddy.Sql.Plan.Scan;
using Eddy.Sql.Plan.SemiJoin;
using Eddy.Sql.Plan.TableSink;
using Eddy.Sql.Plan.TemporalJoin;
using Eddy.Sql.Plan.Union;
using Eddy.Sql.Plan.UpsertMaterialize;
using Eddy.Sql.Plan.WindowJoin;
using Eddy.Sql.Plan.WindowTableFunction;

namespace Eddy.Sql.Distributed;

/// <summary>
/// What <c>eddy worker</c> needs to know of a job: the Kafka topics its stage-0 partition tasks read (co-partitioned:
/// partition p of each), the one whose partitions the consumer group divides, the client properties of its sources,
/// and its stages (one when the job has no keyed exchange).
/// </summary>
public sealed record WorkerJobShape(
    string LeadingTopic,
    IReadOnlyList<string> Topics,
    string BootstrapServers,
    IReadOnlyDictionary<string, string> ClientProperties)
{
    /// <summary>The job's stages: what each reads.</summary>
    public IReadOnlyList<WorkerStageShape> Stages { get; init; } = [];
}

/// <summary>
/// What one stage reads: the user's topics (a source stage; several are co-partitioned, partition p of each), or the
/// repartition topics cut from its keyed exchanges (several for a join: co-partitioned by construction). The group of
/// the stage divides the partitions of <see cref="GroupTopic"/>; a partition's task reads that partition number of
/// every topic of the stage. A repartition topic's partition count may still have to be resolved at the broker.
/// </summary>
public sealed record WorkerStageShape(IReadOnlyList<string> SourceTopics, IReadOnlyList<RepartitionTopic> Inputs)
{
    public bool ReadsSources => Inputs.Count == 0;

    public string GroupTopic => ReadsSources ? SourceTopics[0] : Inputs[0].Name;
}

/// <summary>
/// Decides whether a SQL job can run as partition tasks, one pipeline instance per partition number of each stage's
/// input topic, each seeing only its partition's records. The job is split into stages at its keyed exchanges
/// (<see cref="StageSplitter"/>): the keyed operators whose cross-process runs are tested — GROUP BY and window
/// aggregations, event-time OVER, Top-N and deduplication, event-time MATCH_RECOGNIZE — read a repartition topic keyed
/// by their key, so each stage-1 task sees every row of its keys; the regular, event-time interval and semi/anti joins
/// (inner and outer) read one co-partitioned repartition topic per side, so a key's rows of both sides, a padded row
/// and the match that retracts it meet in one task; and after a window table function (whose window records carry
/// their source offsets and ordinals) window Top-N, window deduplication and window joins (inner, LEFT/RIGHT/FULL,
/// semi and anti) run the same way. A changelog source (a 'kafka' table of debezium/canal/maxwell, or 'upsert-kafka')
/// sends its changes with their kinds, each with a position of its own, so a GROUP BY, a retracting Top-N and a
/// regular join (inner or outer) of it run the same way, and so does an event-time temporal join (inner or LEFT)
/// against a versioned table read from one: the probe rows and the table's changes each through a repartition topic
/// keyed by its primary key, the join's task of a partition firing by the minimum of both topics' watermarks. A
/// versioned view is refused (its deduplication is a keyed operator before the join's exchange). A SinkUpsertMaterializer
/// (Flink's, before a PRIMARY KEY sink) runs in the partition task of the keyed operator before it when the primary key
/// implies that operator's key (<see cref="SinkKeyAlignment"/>: every row of one primary key is made by one partition
/// task); otherwise it is refused naming both keys. With no keyed operator before it (a changelog source written into a
/// table keyed otherwise than the source, under projections and filters) it is the job's first keyed operator: its
/// exchange is cut into a repartition topic keyed by the primary key, each change with its own source position, as a
/// GROUP BY's over that source is. The processing-time forms of the keyed operators (arrival order
/// differs between one process and a topic read per partition) and other operators that combine rows of several
/// partitions (ORDER BY) are refused, located at the INSERT, as is what the splitter cannot cut (a keyed
/// exchange after another keyed operator rather than after a source and the operators that relay its records' source
/// positions). Sources other than Kafka have no partitions a group can divide:
/// refused at the table's WITH clause. A bounded source is refused too: how a partition task's end, its final checkpoint
/// and the end of the stages after it play with the group's assignments has no cross-process test.
/// </summary>
public static class WorkerJobCheck
{
    private static readonly HashSet<string> Sinks = new(StringComparer.OrdinalIgnoreCase) { "jdbc", "postgres", "kafka", "print", "blackhole" };

    /// <summary>The job's shape, or a <see cref="SqlParseException"/> located at what cannot run under <c>eddy worker</c>.</summary>
    /// <paramref name="name"/> names the job's repartition topics (<c>&lt;name&gt;-&lt;operator uid&gt;-repartition</c>);
    /// <paramref name="repartitionPartitions"/> is <c>table.exec.repartition.partitions</c>. Takes the job's graph apart
    /// (to split it): the job is for checking only.
    public static WorkerJobShape Check(SqlJob job, string name, int? repartitionPartitions)
    {
        var context = job.Context ?? new SqlContext("", null);
        if (job.Origins.Count == 0) throw new InvalidOperationException("a job without statements");
        if (!job.Environment.Config.CheckpointingEnabled)
        {
            throw SqlErrors.At(job.Origins[0],
                $"eddy worker: job '{job.Name}' takes no checkpoints; a partition's next owner resumes from the partition's checkpoints: "
                + "SET 'execution.checkpointing.interval' (for example '10 s')", context);
        }
        var scans = new List<TableDef>();
        for (int i = 0; i < job.Plans.Count; i++)
        {
            SqlNode origin = job.Origins[Math.Min(i, job.Origins.Count - 1)];
            Walk(job, job.Plans[i], origin, context, scans);
        }
        if (scans.Count == 0)
            throw SqlErrors.At(job.Origins[0], $"eddy worker: job '{job.Name}' reads no Kafka topic: a worker's share of the job is partitions of its input topic", context);
        var topics = new List<string>();
        string? bootstrap = null;
        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var table in scans)
        {
            var options = table.Options;
            foreach (var t in options["topic"].Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                if (!topics.Contains(t)) topics.Add(t);
            string servers = options.TryGetValue("properties.bootstrap.servers", out var b) ? b : "";
            if (bootstrap is null) bootstrap = servers;
            else if (!string.Equals(bootstrap, servers, StringComparison.Ordinal))
            {
                throw At(table, "properties.bootstrap.servers",
                    $"eddy worker: table '{table.Name}' reads from '{servers}' and another source from '{bootstrap}'; the partition tasks of one job read one cluster",
                    context);
            }
            foreach (var (key, value) in options)
            {
                // The sources' client settings (security, timeouts) apply to the group membership; the source's own group does not.
                if (key.StartsWith("properties.", StringComparison.Ordinal) && key is not "properties.bootstrap.servers" and not "properties.group.id")
                    properties.TryAdd(key["properties.".Length..], value);
            }
        }
        var stages = Stages(job, name, repartitionPartitions, context);
        return new WorkerJobShape(stages[0].GroupTopic, topics, bootstrap ?? "", properties) { Stages = stages };
    }

    /// <summary>The job's stages: each reads the user's topics (a source stage) or repartition topics, never both.</summary>
    private static List<WorkerStageShape> Stages(SqlJob job, string name, int? repartitionPartitions, SqlContext context)
    {
        IReadOnlyList<Stage> stages;
        try
        {
            stages = StageSplitter.Split(job.Environment.Graph, name, StageSplitter.PlanOnly, repartitionPartitions, job.Environment.Config.MaxParallelism);
        }
        catch (StageSplitException e)
        {
            throw SqlErrors.At(job.Origins[0], $"eddy worker: job '{job.Name}' cannot be split into stages: {e.Message}; run it with 'eddy run'", context);
        }
        var shapes = new List<WorkerStageShape>();
        foreach (var stage in stages)
        {
            var sources = stage.Graph.Nodes.Where(n => n.IsSource).ToList();
            var topics = sources.Select(n => n.PartitionedSource).Where(s => s is not null).SelectMany(s => s!.Topics()).Distinct().ToList();
            // A stage's tasks follow one partition number: of the user's topics (a source stage), or of the repartition
            // topics it reads, whose readers are all its sources.
            bool fits = stage.Inputs.Count == 0 ? topics.Count > 0 : sources.Count == stage.Inputs.Count;
            if (!fits)
            {
                throw SqlErrors.At(job.Origins[0],
                    $"eddy worker: job '{job.Name}' splits into a stage that reads both the user's topics and repartition topics ({stage}); a stage's partition "
                    + "tasks follow one partition number of co-partitioned topics; run it with 'eddy run'", context);
            }
            shapes.Add(new WorkerStageShape(stage.Inputs.Count == 0 ? topics : [], stage.Inputs));
        }
        return shapes;
    }

    private static void Walk(SqlJob job, LogicalPlan plan, SqlNode origin, SqlContext context, List<TableDef> scans)
    {
        DeepStack.Ensure();
        switch (plan)
        {
            case SinkPlan sink:
                if (!Sinks.Contains(sink.Table.Connector))
                {
                    throw At(sink.Table, "connector",
                        $"eddy worker: sink table '{sink.Table.Name}' uses connector '{sink.Table.Connector}', whose writers are numbered by subtask; "
                        + "partition tasks write exactly-once into 'jdbc'/'postgres' and 'kafka' sinks (and 'print', 'blackhole')", context);
                }
                // The operators below first: their reasons are the more fundamental ones.
                foreach (var input in plan.Inputs) Walk(job, input, origin, context, scans);
                if (sink.Materializer is { } materializer)
                {
                    var alignment = SinkKeyAlignment.Of(sink.Input, materializer);
                    // Straight after the source its exchange is cut as a GROUP BY's over that source is (the splitter says
                    // so, located, when an operator between them does not relay source positions).
                    if (!alignment.Implied && !alignment.StraightAfterSource) throw MaterializerRefused(job, sink, alignment, origin, context);
                }
                return;
            case ScanPlan scan:
                CheckSource(scan.Table, context);
                scans.Add(scan.Table);
                break;
            case FusedScanPlan fused:
                CheckSource(fused.Scan.Table, context);
                scans.Add(fused.Scan.Table);
                break;
            case CalcPlan or UnionPlan or CorrelatePlan or LookupJoinPlan or AsyncLookupPlan or WindowTableFunctionPlan or ExpandPlan:
                break;
            case AggregatePlan or ProjectedAggregatePlan:
                // A keyed exchange: the stage split cuts it into a repartition topic (or refuses, located).
                if ((plan as AggregatePlan ?? ((ProjectedAggregatePlan)plan).Aggregate).LateData is { } late)
                {
                    throw SqlErrors.At(origin,
                        $"eddy worker: job '{job.Name}' sends late rows to table '{late.Table.Name}' ('table.exec.late-data.table'); that side output's "
                        + "writers are numbered by subtask, not by partition, so a partition's next owner could write them again; run it with 'eddy run'", context);
                }
                break;
            case OverPlan over:
                // An OVER window over an updating input is refused at planning, for one process too (as in Flink).
                if (over.Window.ProcessingTime)
                    throw KeyedRefused(job, origin, context, "an OVER window ordered by processing time", "its rows' order is their arrival order at one process");
                break;
            case RankPlan rank:
                if (rank.Strategy is RankStrategy.KeepFirstProctime or RankStrategy.KeepLastProctime || rank.IsFirstN)
                {
                    throw KeyedRefused(job, origin, context, $"a {(rank.IsDeduplicate ? "deduplication" : "Top-N")} ordered by processing time",
                        "its rows' order is their arrival order at one process");
                }
                // A Top-N over an updating input (the retracting Top-N) reads the changes of a changelog source through
                // its repartition topic, each with its own position; over a GROUP BY its exchange follows the aggregation,
                // which the stage split refuses (no source offsets there).
                break;
            case JoinPlan join:
                // Each side is cut into its own repartition topic, co-partitioned: partition p of both holds the same key groups.
                if (join.Interval is { ProcessingTime: true })
                    throw KeyedRefused(job, origin, context, "an interval join on processing time", "its rows' order is their arrival order at one process");
                // An updating side (a changelog source) sends its -U/+U/-D through its repartition topic like any row.
                if ((join.Left.IsUpdating || join.Right.IsUpdating) && join.Interval is not null)
                {
                    throw KeyedRefused(job, origin, context, "an interval join of an updating input",
                        "of the joins of an updating input only regular joins (inner and outer) have a cross-process test");
                }
                break;
            case SemiJoinPlan semi:
                // As a regular join: each side through its own co-partitioned repartition topic.
                if (semi.Left.IsUpdating || semi.Right.IsUpdating)
                    throw KeyedRefused(job, origin, context, $"{(semi.Anti ? "an anti" : "a semi")} join of an updating input", "of the joins of an updating input only regular joins (inner and outer) have a cross-process test");
                break;
            case TemporalJoinPlan temporal:
                // As a regular join: the probe rows and the versioned table's changes (each with its own position) are cut
                // into co-partitioned repartition topics keyed by the versioned table's primary key; the join's task of a
                // partition holds those keys' waiting rows and versions, and fires them by the minimum of both topics'
                // watermarks, as the operator does with its two inputs in one process.
                if (VersionedView(temporal.Right) is { } view)
                {
                    throw KeyedRefused(job, origin, context, "an event-time temporal join (FOR SYSTEM_TIME AS OF) against a versioned view",
                        $"the view keeps the last row per key with a deduplication ({Short(view.Describe())}), a keyed operator before the join's own "
                        + "exchange, and the changes it emits carry no source positions for a repartition topic (a versioned table, one with a PRIMARY "
                        + "KEY and a WATERMARK read from 'upsert-kafka' or a changelog format, runs under eddy worker)");
                }
                break;
            case WindowJoinPlan:
                // Each side (a window table function, whose window records carry their source offsets and ordinals) is cut
                // into its own co-partitioned repartition topic; a side after a window aggregation is refused by the split.
                break;
            case MatchPlan match:
                if (match.ProcessingTime)
                    throw KeyedRefused(job, origin, context, "MATCH_RECOGNIZE ordered by processing time", "its rows' order is their arrival order at one process");
                break;
            default:
                throw SqlErrors.At(origin,
                    $"eddy worker: job '{job.Name}' has {plan.GetType().Name.Replace("Plan", "", StringComparison.Ordinal)} ({Short(plan.Describe())}), "
                    + "which combines rows of several partitions. Under eddy worker a job runs as stages split at keyed exchanges, and the keyed "
                    + "operators that run there are those with one keyed input straight after the source (or after a projection, filter or "
                    + "window table function of it; a changelog source's changes too): GROUP BY and window aggregations, event-time OVER, Top-N "
                    + "and deduplication, window Top-N and window deduplication, MATCH_RECOGNIZE, regular joins (inner, LEFT, RIGHT, FULL OUTER), "
                    + "event-time interval joins (inner and outer), semi/anti joins (IN, EXISTS, NOT IN, NOT EXISTS), event-time temporal joins "
                    + "against a versioned table (inner and LEFT) and window joins (inner, LEFT/RIGHT/FULL, semi and anti), each join side through "
                    + "its own co-partitioned repartition topic; ORDER BY and VALUES have no cross-process test yet; run this one with 'eddy run'", context);
        }
        foreach (var input in plan.Inputs) Walk(job, input, origin, context, scans);
    }

    /// <summary>
    /// A SinkUpsertMaterializer whose key (the sink's primary key) does not imply the key of the operator before it:
    /// the rows of one primary key come out of several partition tasks, and the materializer cannot run in one of them.
    /// </summary>
    private static SqlParseException MaterializerRefused(SqlJob job, SinkPlan sink, SinkKeyAlignment alignment,
        SqlNode origin, SqlContext context)
    {
        string sinkKey = string.Join(", ", sink.Table.PrimaryKey);
        string why = alignment.OperatorKey.Length > 0
            ? $"here {alignment.Why} of {alignment.Operator} ({alignment.OperatorKey}): rows of one primary key can come from several of its keys, made "
                + "in several partition tasks, and a repartition topic keyed by the primary key would carry rows without source positions (to drop "
                + $"a replay). Declare a primary key that holds the key of {alignment.Operator}, or run the job with 'eddy run'"
            : $"here {alignment.Why} ({alignment.Operator}); run the job with 'eddy run'";
        return SqlErrors.At(origin,
            $"eddy worker: job '{job.Name}' writes an updating query into '{sink.Table.Name}' through a SinkUpsertMaterializer keyed by its "
            + $"primary key ({sinkKey}), as Flink does when no upsert key of the query lies within that key. Under eddy worker it runs in the "
            + $"partition task of the keyed operator before it, when the primary key implies that operator's key (or, straight after the "
            + $"source with only projections and filters between, in a stage of its own reading a repartition topic keyed by the primary key); {why}. "
            + $"SET '{UpsertMaterializer.Option}' = 'NONE' writes the changes as they are, which is Flink's result only when no two rows "
            + "of one primary key are alive at once (in general it is not: when one of them is retracted the sink deletes the key, where "
            + "Flink's materializer writes the row still alive)", context);
    }

    /// <summary>The deduplication a versioned view keeps its last rows with (under projections), or null for a versioned table.</summary>
    private static RankPlan? VersionedView(LogicalPlan plan) => plan switch
    {
        RankPlan rank => rank,
        CalcPlan calc => VersionedView(calc.Input),
        _ => null,
    };

    private static SqlParseException KeyedRefused(SqlJob job, SqlNode origin, SqlContext context, string what, string why) =>
        SqlErrors.At(origin, $"eddy worker: job '{job.Name}' has {what}, which is not supported across processes: {why}; "
            + "under eddy worker the keyed operators read their rows from a repartition topic, per partition; run this one with 'eddy run'", context);

    private static string Short(string text) => text.Length <= 120 ? text : text[..117] + "...";

    private static void CheckSource(TableDef table, SqlContext context)
    {
        // upsert-kafka keeps each key's last row in its source reader, per source partition (a key stays in one
        // partition), checkpointed with the partition's offsets: a partition's next owner restores them with it.
        if (!string.Equals(table.Connector, "kafka", StringComparison.OrdinalIgnoreCase) && !string.Equals(table.Connector, "upsert-kafka", StringComparison.OrdinalIgnoreCase))
        {
            throw At(table, "connector",
                $"eddy worker: table '{table.Name}' reads connector '{table.Connector}', which has no partitions a Kafka consumer group can divide "
                + "between workers; only 'kafka' and 'upsert-kafka' sources run under eddy worker (run this job with 'eddy run')", context);
        }
        if (table.Options.ContainsKey("topic-pattern") || !table.Options.ContainsKey("topic"))
        {
            throw At(table, table.Options.ContainsKey("topic-pattern") ? "topic-pattern" : "connector",
                $"eddy worker: table '{table.Name}' names its topics by 'topic-pattern'; the group divides the partitions of topics named by 'topic'", context);
        }
        if (table.Options.TryGetValue("scan.bounded.mode", out var bounded) && !string.Equals(bounded, "unbounded", StringComparison.OrdinalIgnoreCase))
        {
            throw At(table, "scan.bounded.mode",
                $"eddy worker: table '{table.Name}' is bounded ('scan.bounded.mode' = '{bounded}'); the end of a partition's input (its final "
                + "checkpoint, the end of the stages after it, the group's later assignments) has no cross-process test. "
                + "Workers read unbounded topics; run a bounded job with 'eddy run'", context);
        }
    }

    /// <summary>The option's place in the table's WITH clause (the declaration when the option came from LIKE or the catalog).</summary>
    private static SqlParseException At(TableDef table, string option, string reason, SqlContext context)
    {
        var declared = table.Declaration.Options.FirstOrDefault(o => string.Equals(o.Key, option, StringComparison.OrdinalIgnoreCase));
        return SqlErrors.At(declared is null ? table.Declaration : declared, reason, table.Context.Text.Length > 0 ? table.Context : context);
    }
}
