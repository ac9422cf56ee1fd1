using Eddy.Runtime;
using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors;
using Eddy.Sql.Plan;
using Eddy.Sql.Plan.TableSink;
using Eddy.Sql.Planning.Rules;

namespace Eddy.Sql.Translation;

/// <summary>
/// Turns logical plans into a job on the typed runtime. First the rules (<see cref="PlanRules"/>) rewrite each plan;
/// then this walker asks every node to translate itself (<see cref="LogicalPlan.Translate"/>, in the node's folder
/// under <c>Plan/</c>): every relation becomes a <see cref="DataStream{T}"/> of a row struct made for its schema,
/// every expression a compiled delegate. Scans of one table within a job are read once and shared.
/// </summary>
public sealed class JobTranslator(StreamEnvironment env, ConnectorContext connectors, ConnectorRegistry registry)
{
    private readonly Dictionary<TableDef, object> scans = new(ReferenceEqualityComparer.Instance);

    private PlanRules rules = new([], registry);

    private LookupCounters? lookupCounters;

    public StreamEnvironment Environment => env;

    internal ConnectorContext Connectors => connectors;

    /// <summary>The session's connectors, by the names its tables give.</summary>
    internal ConnectorRegistry Registry => registry;

    /// <summary>
    /// Batch mode (<c>execution.runtime-mode</c> = 'batch'): as in Flink, watermarks are ignored: rows keep their event
    /// times, no row is late, and every window fires at the end of the input.
    /// </summary>
    public bool BatchMode { get; init; }

    /// <summary>
    /// Tells the translator every plan of the job before any is added, so that a scan read by only one query can
    /// take that query's filter and projection into its conversion loop (a shared scan cannot).
    /// </summary>
    public void Prepare(IEnumerable<LogicalPlan> plans) => rules = new PlanRules(plans, registry);

    /// <summary>Adds a sink plan (and everything it reads) to the job.</summary>
    public void AddSink(SinkPlan sink) => Translate(rules.Apply(sink));

    /// <summary>Adds a query whose rows go to <paramref name="sink"/> as generic rows (queries run from the CLI or tests).</summary>
    public void AddQuery(LogicalPlan plan, Sink<Row> sink, string name)
    {
        var input = Translate(rules.Apply(plan));
        SinkTranslator.ToRowSink(input, plan.Schema, sink, name);
    }

    /// <summary>The output of a (rewritten) plan: a <see cref="DataStream{T}"/> of its rows.</summary>
    internal object Translate(LogicalPlan plan)
    {
        DeepStack.Ensure();
        return plan.Translate(this);
    }

    /// <summary>The one stream of a table's rows that every reader of the table in this job shares.</summary>
    internal object SharedScan(TableDef table, Func<object> read)
    {
        if (!scans.TryGetValue(table, out var stream))
        {
            stream = read();
            scans[table] = stream;
        }
        return stream;
    }

    /// <summary>The lookup joins' cache counters, registered with the job once.</summary>
    internal LookupCounters LookupCounters
    {
        get
        {
            if (lookupCounters is null)
            {
                lookupCounters = new LookupCounters();
                lookupCounters.RegisterWith(env.Counters);
            }
            return lookupCounters;
        }
    }
}
