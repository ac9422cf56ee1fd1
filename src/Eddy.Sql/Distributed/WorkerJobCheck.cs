using Eddy.Sql.Catalog;
using Eddy.Sql.Parsing;
using Eddy.Sql.Plan;
using Eddy.Sql.Plan.AsyncLookup;
using Eddy.Sql.Plan.Calc;
using Eddy.Sql.Plan.Correlate;
using Eddy.Sql.Plan.LookupJoin;
using Eddy.Sql.Plan.Scan;
using Eddy.Sql.Plan.TableSink;
using Eddy.Sql.Plan.Union;

namespace Eddy.Sql.Distributed;

/// <summary>
/// What <c>eddy worker</c> needs to know of a job: the Kafka topics its partition tasks read (co-partitioned: partition
/// p of each), the one whose partitions the consumer group divides, and the client properties of its sources.
/// </summary>
public sealed record WorkerJobShape(
    string LeadingTopic,
    IReadOnlyList<string> Topics,
    string BootstrapServers,
    IReadOnlyDictionary<string, string> ClientProperties);

/// <summary>
/// Decides whether a SQL job can run as partition tasks, one pipeline instance per partition number of its Kafka
/// input, each seeing only its partition's records. That gives the single-process answer only when every operator
/// works on one record at a time; a job whose rows must meet across partitions (GROUP BY, windows, joins, OVER,
/// ORDER BY, deduplication) would silently answer per partition, so it is refused, located at its INSERT, until the
/// job is split into stages at its keyed exchanges. Sources other than Kafka have no partitions a group can divide:
/// refused at the table's WITH clause. A bounded source would commit its last rows outside any checkpoint, which a
/// later owner of the partition could repeat: refused too.
/// </summary>
public static class WorkerJobCheck
{
    private static readonly HashSet<string> Sinks = new(StringComparer.OrdinalIgnoreCase) { "jdbc", "postgres", "kafka", "print", "blackhole" };

    /// <summary>The job's shape, or a <see cref="SqlParseException"/> located at what cannot run under <c>eddy worker</c>.</summary>
    public static WorkerJobShape Check(SqlJob job)
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
        return new WorkerJobShape(topics[0], topics, bootstrap ?? "", properties);
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
                break;
            case ScanPlan scan:
                CheckSource(scan.Table, context);
                scans.Add(scan.Table);
                break;
            case FusedScanPlan fused:
                CheckSource(fused.Scan.Table, context);
                scans.Add(fused.Scan.Table);
                break;
            case CalcPlan or UnionPlan or CorrelatePlan or LookupJoinPlan or AsyncLookupPlan:
                break;
            default:
                throw SqlErrors.At(origin,
                    $"eddy worker: job '{job.Name}' has {plan.GetType().Name.Replace("Plan", "", StringComparison.Ordinal)} ({Short(plan.Describe())}), "
                    + "which combines rows of several partitions; run per partition it would answer per partition. Partition tasks run jobs whose "
                    + "operators take one row at a time (projections, filters, unions, table functions, lookup joins) until the job is split into stages "
                    + "at its keyed exchanges; run this one with 'eddy run'", context);
        }
        foreach (var input in plan.Inputs) Walk(job, input, origin, context, scans);
    }

    private static string Short(string text) => text.Length <= 120 ? text : text[..117] + "...";

    private static void CheckSource(TableDef table, SqlContext context)
    {
        if (!string.Equals(table.Connector, "kafka", StringComparison.OrdinalIgnoreCase))
        {
            throw At(table, "connector",
                $"eddy worker: table '{table.Name}' reads connector '{table.Connector}', which has no partitions a Kafka consumer group can divide "
                + "between workers; only 'kafka' sources run under eddy worker (run this job with 'eddy run')", context);
        }
        if (table.Options.ContainsKey("topic-pattern") || !table.Options.ContainsKey("topic"))
        {
            throw At(table, table.Options.ContainsKey("topic-pattern") ? "topic-pattern" : "connector",
                $"eddy worker: table '{table.Name}' names its topics by 'topic-pattern'; the group divides the partitions of topics named by 'topic'", context);
        }
        if (table.Options.TryGetValue("scan.bounded.mode", out var bounded) && !string.Equals(bounded, "unbounded", StringComparison.OrdinalIgnoreCase))
        {
            throw At(table, "scan.bounded.mode",
                $"eddy worker: table '{table.Name}' is bounded ('scan.bounded.mode' = '{bounded}'); a partition task's rows after its last checkpoint "
                + "would be committed at its end outside any checkpoint, and a later owner of the partition could write them again. "
                + "Workers read unbounded topics", context);
        }
    }

    /// <summary>The option's place in the table's WITH clause (the declaration when the option came from LIKE or the catalog).</summary>
    private static SqlParseException At(TableDef table, string option, string reason, SqlContext context)
    {
        var declared = table.Declaration.Options.FirstOrDefault(o => string.Equals(o.Key, option, StringComparison.OrdinalIgnoreCase));
        return SqlErrors.At(declared is null ? table.Declaration : declared, reason, table.Context.Text.Length > 0 ? table.Context : context);
    }
}
