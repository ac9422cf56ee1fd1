using Eddy;
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

        var series = new (string Name, string Type, string Help, Func<SubtaskReading, double> Value)[]
        {
            ("eddy_task_records_in_total", "counter", "Records received by the subtask.", s => s.Sample.RecordsIn),
            ("eddy_task_records_out_total", "counter", "Records sent by the subtask.", s => s.Sample.RecordsOut),
            ("eddy_task_bytes_in_total", "counter", "Bytes received by the subtask.", s => s.Sample.BytesIn),
            ("eddy_task_bytes_out_total", "counter", "Bytes sent by the subtask.", s => s.Sample.BytesOut),
            ("eddy_task_busy_ms_per_second", "gauge", "Milliseconds per second the subtask worked.", s => s.Rates.BusyTimeMsPerSecond),
            ("eddy_task_idle_ms_per_second", "gauge", "Milliseconds per second the subtask waited for input.", s => s.Rates.IdleTimeMsPerSecond),
            ("eddy_task_backpressured_ms_per_second", "gauge", "Milliseconds per second the subtask waited for room downstream.", s => s.Rates.BackPressuredTimeMsPerSecond),
            ("eddy_task_input_queue_fill", "gauge", "Queued elements over capacity across the subtask's input channels.", s => s.Sample.QueueFill),
            ("eddy_task_watermark_milliseconds", "gauge", "The subtask's input watermark (event time, epoch ms); absent until set.", s => s.Sample.InputWatermark),
            ("eddy_task_late_records_dropped_total", "counter", "Late records dropped by windows.", s => s.Sample.LateRecordsDropped),
            ("eddy_task_records_dropped_total", "counter",
                "Records a source could not decode and left out: skipped by *.ignore-parse-errors or sent to a dead-letter topic (Flink's numRecordsInErrors).",
                s => s.Sample.RecordsDropped),
            ("eddy_task_late_records_side_output_total", "counter", "Late records sent to a late-data output.", s => s.Sample.LateRecordsToSideOutput),
        };
        var live = jobs.Where(j => j.Execution is not null).Select(j => (Job: j, Reading: j.Reading)).ToList();
        foreach (var (name, type, help, value) in series)
        {
            Header(sb, name, type, help);
            foreach (var (job, reading) in live)
            {
                foreach (var v in reading.Vertices)
                {
                    foreach (var s in v.Subtasks)
                    {
                        if (name == "eddy_task_watermark_milliseconds" && s.Sample.InputWatermark <= EventTime.MinWatermark) continue;
                        sb.Append(name).Append("{job_id=\"").Append(job.Id).Append("\",job=\"").Append(Escape(job.Name))
                            .Append("\",vertex=\"").Append(v.Vertex.Id).Append("\",task=\"").Append(Escape(v.Vertex.Name))
                            .Append("\",subtask=\"").Append(s.Subtask).Append("\"} ").Append(Number(value(s))).Append('\n');
                    }
                }
            }
        }
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

    private static void Header(StringBuilder sb, string name, string type, string help) =>
        sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
          .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static string Number(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Label values escape backslash, double quote and line feed.</summary>
    private static string Escape(string s) => s.Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
