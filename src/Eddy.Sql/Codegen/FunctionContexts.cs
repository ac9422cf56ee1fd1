using System.Runtime.CompilerServices;
using Eddy.Functions;
using Eddy.Runtime;

namespace Eddy.Sql.Codegen;

/// <summary>
/// The <see cref="FunctionContext"/> of user functions in one operator instance: the job's parameters, the instance's
/// place, and one <see cref="MetricGroup"/> per operator instance (shared by its functions, as Flink's operator metric
/// group), reported with the subtask's metrics.
/// </summary>
public static class FunctionContexts
{
    private static readonly ConditionalWeakTable<OperatorContext, MetricGroup> Groups = [];

    public static FunctionContext For(OperatorContext context, IReadOnlyDictionary<string, string> jobParameters) =>
        new(jobParameters, context.OperatorName, context.SubtaskIndex, context.Parallelism, Groups.GetValue(context, Register));

    private static MetricGroup Register(OperatorContext context)
    {
        var group = new MetricGroup();
        string op = context.OperatorName;
        context.Metrics.AddOperatorMetrics(() => Read(op, group));
        return group;
    }

    private static IEnumerable<OperatorMetricReading> Read(string op, MetricGroup group)
    {
        foreach (var m in group.Registered)
        {
            switch (m.Metric)
            {
                case Counter c:
                    yield return new OperatorMetricReading(op, m.Scope, m.Name, "counter", c.Count);
                    break;
                case Gauge g:
                    double value;
                    try
                    {
                        value = g.Value;
                    }
                    catch (Exception)
                    {
                        // A gauge that throws is left out of this reading (Flink's reporters skip it and log).
                        continue;
                    }
                    yield return new OperatorMetricReading(op, m.Scope, m.Name, "gauge", value);
                    break;
                case Histogram h:
                    var s = h.Statistics();
                    foreach (var (q, v) in s.Quantiles) yield return new OperatorMetricReading(op, m.Scope, m.Name, "summary", v, q);
                    yield return new OperatorMetricReading(op, m.Scope, m.Name + "_count", "summary", s.Count);
                    yield return new OperatorMetricReading(op, m.Scope, m.Name + "_min", "gauge", s.Min);
                    yield return new OperatorMetricReading(op, m.Scope, m.Name + "_max", "gauge", s.Max);
                    yield return new OperatorMetricReading(op, m.Scope, m.Name + "_mean", "gauge", s.Mean);
                    break;
            }
        }
    }
}
