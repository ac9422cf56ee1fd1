namespace Eddy.Server;

/// <summary>The per-subtask series every metrics exporter shows (Prometheus on /metrics, OpenTelemetry by OTLP), by one name each.</summary>
internal static class MetricSeries
{
    public const string Watermark = "eddy_task_watermark_milliseconds";

    public static readonly (string Name, string Type, string Help, Func<SubtaskReading, double> Value)[] Subtask =
    [
        ("eddy_task_records_in_total", "counter", "Records received by the subtask.", s => s.Sample.RecordsIn),
        ("eddy_task_records_out_total", "counter", "Records sent by the subtask.", s => s.Sample.RecordsOut),
        ("eddy_task_bytes_in_total", "counter", "Bytes received by the subtask.", s => s.Sample.BytesIn),
        ("eddy_task_bytes_out_total", "counter", "Bytes sent by the subtask.", s => s.Sample.BytesOut),
        ("eddy_task_busy_ms_per_second", "gauge", "Milliseconds per second the subtask worked.", s => s.Rates.BusyTimeMsPerSecond),
        ("eddy_task_idle_ms_per_second", "gauge", "Milliseconds per second the subtask waited for input.", s => s.Rates.IdleTimeMsPerSecond),
        ("eddy_task_backpressured_ms_per_second", "gauge", "Milliseconds per second the subtask waited for room downstream.", s => s.Rates.BackPressuredTimeMsPerSecond),
        ("eddy_task_input_queue_fill", "gauge", "Queued elements over capacity across the subtask's input channels.", s => s.Sample.QueueFill),
        (Watermark, "gauge", "The subtask's input watermark (event time, epoch ms); absent until set.", s => s.Sample.InputWatermark),
        ("eddy_task_late_records_dropped_total", "counter", "Late records dropped by windows.", s => s.Sample.LateRecordsDropped),
        ("eddy_task_records_dropped_total", "counter",
            "Records a source could not decode and left out: skipped by *.ignore-parse-errors or sent to a dead-letter topic (Flink's numRecordsInErrors).",
            s => s.Sample.RecordsDropped),
        ("eddy_task_late_records_side_output_total", "counter", "Late records sent to a late-data output.", s => s.Sample.LateRecordsToSideOutput),
    ];

    /// <summary>A watermark is shown only once set.</summary>
    public static bool Present(string name, SubtaskReading s) => name != Watermark || s.Sample.InputWatermark > EventTime.MinWatermark;
}
