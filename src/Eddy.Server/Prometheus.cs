using System.Globalization;
using System.Text;

namespace Eddy.Server;

/// <summary>The server's and every job's metrics in the Prometheus text exposition format (version 0.0.4).</summary>
internal static class Prometheus
{
    /// <summary>Rendered at most every 250 ms: the readings behind it change every sampling (500 ms), and a large
    /// server's text (a line per subtask and series) is the API's most expensive answer.</summary>
    public static string Cached(JobManager manager)
    {
        long now = Environment.TickCount64;
        var cache = manager.PrometheusCache;
        if (cache is { } c && now - c.At < 250) return c.Text;
        var text = Render(manager);
        manager.PrometheusCache = (now, text);
        return text;
    }

    public static string Render(JobManager manager)
    {
        var sb = new StringBuilder();
        Header(sb, "eddy_slots_total", "gauge", "Task slots of the server.");
        sb.Append("eddy_slots_total ").Append(manager.TotalSlots).Append('\n');
        Header(sb, "eddy_slots_available", "gauge", "Task slots not held by a running job.");
        sb.Append("eddy_slots_available ").Append(manager.FreeSlots).Append('\n');
        Header(sb, "eddy_uptime_seconds", "gauge", "Seconds since the server started.");
        sb.Append("eddy_uptime_seconds ").Append(Number((DateTimeOffset.UtcNow - manager.StartedAt).TotalSeconds)).Append('\n');

        var jobs = manager.Jobs;
        Header(sb, "eddy_jobs", "gauge", "Jobs by state.");
        foreach (var state in new[] { JobStates.Created, JobStates.Running, JobStates.Cancelling, JobStates.Finished, JobStates.Failed, JobStates.Canceled })
            sb.Append("eddy_jobs{state=\"").Append(state).Append("\"} ").Append(jobs.Count(j => j.State == state)).Append('\n');

        var live = jobs.Where(j => j.Execution is not null).Select(j => (Job: j, Reading: j.Reading)).ToList();
        foreach (var (name, type, help, value) in MetricSeries.Subtask)
        {
            Header(sb, name, type, help);
            foreach (var (job, reading) in live)
            {
                foreach (var v in reading.Vertices)
                {
                    foreach (var s in v.Subtasks)
                    {
                        if (!MetricSeries.Present(name, s)) continue;
                        sb.Append(name).Append("{job_id=\"").Append(job.Id).Append("\",job=\"").Append(Escape(job.Name))
                            .Append("\",vertex=\"").Append(v.Vertex.Id).Append("\",task=\"").Append(Escape(v.Vertex.Name))
                            .Append("\",subtask=\"").Append(s.Subtask).Append("\"} ").Append(Number(value(s))).Append('\n');
                    }
                }
            }
        }
        OperatorMetrics(sb, live);
        // Counters of the jobs' functions (geolocation, ...), one series per job.
        var counters = live.SelectMany(l => l.Job.Execution!.Counters.Read().Select(c => (l.Job, c.Name, c.Help, c.Value))).ToList();
        foreach (var group in counters.GroupBy(c => c.Name))
        {
            Header(sb, "eddy_job_" + group.Key, "counter", group.First().Help);
            foreach (var (job, name, _, value) in group)
                sb.Append("eddy_job_").Append(name).Append("{job_id=\"").Append(job.Id).Append("\",job=\"").Append(Escape(job.Name))
                    .Append("\"} ").Append(value).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>
    /// The metrics user functions registered in their operator's metric group, as Flink's Prometheus reporter scopes
    /// them: <c>eddy_operator_&lt;groups&gt;_&lt;name&gt;</c> with the job, task, operator and subtask as labels; a
    /// histogram as a summary (quantiles and <c>_count</c>) with <c>_min</c>, <c>_max</c> and <c>_mean</c> gauges.
    /// </summary>
    private static void OperatorMetrics(StringBuilder sb, List<(ManagedJob Job, JobReading Reading)> live)
    {
        var series = new List<(string Family, string Type, string Line)>();
        foreach (var (job, reading) in live)
        {
            foreach (var v in reading.Vertices)
            {
                foreach (var s in v.Subtasks)
                {
                    foreach (var m in s.Sample.OperatorMetrics)
                    {
                        string name = "eddy_operator_" + string.Join('_', [.. m.Scope, m.Name]);
                        bool summaryCount = m.Kind == "summary" && m.Quantile is null;
                        string family = summaryCount && name.EndsWith("_count", StringComparison.Ordinal) ? name[..^"_count".Length] : name;
                        var line = new StringBuilder(name).Append("{job_id=\"").Append(job.Id).Append("\",job=\"").Append(Escape(job.Name))
                            .Append("\",vertex=\"").Append(v.Vertex.Id).Append("\",task=\"").Append(Escape(v.Vertex.Name))
                            .Append("\",operator=\"").Append(Escape(m.Operator)).Append("\",subtask=\"").Append(s.Subtask).Append('"');
                        if (m.Quantile is { } q) line.Append(",quantile=\"").Append(Number(q)).Append('"');
                        line.Append("} ").Append(Number(m.Value)).Append('\n');
                        series.Add((family, m.Kind, line.ToString()));
                    }
                }
            }
        }
        foreach (var group in series.GroupBy(x => x.Family, StringComparer.Ordinal))
        {
            Header(sb, group.Key, group.First().Type, "A user function's metric (its operator's metric group).");
            foreach (var x in group) sb.Append(x.Line);
        }
    }

    private static void Header(StringBuilder sb, string name, string type, string help) =>
        sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
          .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static string Number(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Label values escape backslash, double quote and line feed.</summary>
    private static string Escape(string s) => s.Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
