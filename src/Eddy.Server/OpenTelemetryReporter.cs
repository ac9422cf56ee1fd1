using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Eddy.Server;

/// <summary>
/// An OpenTelemetry metric reporter, configured with Flink's keys (<c>metrics.reporters</c>,
/// <c>metrics.reporter.&lt;name&gt;.exporter.endpoint|protocol|timeout</c>, <c>.interval</c>,
/// <c>.scope.variables.additional</c>). Off unless configured.
/// </summary>
public sealed record OpenTelemetryReporterOptions(
    string Name, Uri Endpoint, OtlpExportProtocol Protocol, TimeSpan Interval, TimeSpan Timeout,
    IReadOnlyList<KeyValuePair<string, object>> Attributes)
{
    /// <summary>Flink's factory for this reporter; naming another factory is refused (Prometheus is served on /metrics).</summary>
    public const string FlinkFactory = "org.apache.flink.metrics.otel.OpenTelemetryMetricReporterFactory";

    private static readonly string[] ReporterKeys =
        ["factory.class", "exporter.endpoint", "exporter.protocol", "exporter.timeout", "interval", "scope.variables.additional"];

    /// <summary>
    /// The reporters <paramref name="config"/> enables (none without <c>metrics.reporters</c>). Throws
    /// <see cref="ArgumentException"/> naming the key for a missing endpoint, an unknown key, protocol or factory.
    /// </summary>
    public static IReadOnlyList<OpenTelemetryReporterOptions> Parse(IReadOnlyDictionary<string, string> config)
    {
        var names = config.TryGetValue("metrics.reporters", out var list)
            ? list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) : [];
        foreach (var key in config.Keys.Where(k => k.StartsWith("metrics.reporter.", StringComparison.Ordinal)))
        {
            string rest = key["metrics.reporter.".Length..];
            string? name = names.FirstOrDefault(n => rest.StartsWith(n + ".", StringComparison.Ordinal));
            if (name is null)
                throw new ArgumentException($"{key}: reporter not listed in metrics.reporters (listed: {(names.Length == 0 ? "none" : string.Join(", ", names))})");
            string option = rest[(name.Length + 1)..];
            if (!ReporterKeys.Contains(option))
                throw new ArgumentException($"{key}: unknown reporter option{Sql.SqlErrors.Suggest(option, ReporterKeys)} (known: {string.Join(", ", ReporterKeys)})");
        }
        return names.Select(name => One(name, config)).ToList();
    }

    private static OpenTelemetryReporterOptions One(string name, IReadOnlyDictionary<string, string> config)
    {
        string prefix = $"metrics.reporter.{name}.";
        string? Get(string option) => config.TryGetValue(prefix + option, out var v) ? v.Trim() : null;
        if (Get("factory.class") is { } factory && factory != FlinkFactory)
            throw new ArgumentException($"{prefix}factory.class: '{factory}' is not available; Eddy reports metrics by OpenTelemetry ({FlinkFactory}) and serves Prometheus text on /metrics");
        var endpointText = Get("exporter.endpoint")
            ?? throw new ArgumentException($"{prefix}exporter.endpoint is required: the OTLP collector's URL, e.g. http://127.0.0.1:4317 (gRPC) or http://127.0.0.1:4318/v1/metrics (HTTP)");
        if (!Uri.TryCreate(endpointText, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
            throw new ArgumentException($"{prefix}exporter.endpoint: '{endpointText}' is not an http(s) URL");
        var protocol = Get("exporter.protocol") switch
        {
            null => OtlpExportProtocol.Grpc,
            var p when p.Equals("gRPC", StringComparison.OrdinalIgnoreCase) => OtlpExportProtocol.Grpc,
            var p when p.Equals("HTTP", StringComparison.OrdinalIgnoreCase) => OtlpExportProtocol.HttpProtobuf,
            var p => throw new ArgumentException($"{prefix}exporter.protocol: '{p}' is neither gRPC nor HTTP"),
        };
        var attributes = new List<KeyValuePair<string, object>>();
        foreach (var pair in (Get("scope.variables.additional") ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int colon = pair.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0) throw new ArgumentException($"{prefix}scope.variables.additional: '{pair}' is not key:value");
            attributes.Add(new(pair[..colon].Trim(), pair[(colon + 1)..].Trim()));
        }
        return new OpenTelemetryReporterOptions(name, endpoint, protocol,
            Duration(prefix + "interval", Get("interval"), TimeSpan.FromSeconds(10)),
            Duration(prefix + "exporter.timeout", Get("exporter.timeout"), TimeSpan.FromSeconds(10)),
            attributes);
    }

    private static TimeSpan Duration(string key, string? text, TimeSpan fallback)
    {
        if (text is null) return fallback;
        try
        {
            var value = Sql.SqlSession.ParseDuration(key, text);
            if (value > TimeSpan.Zero) return value;
        }
        catch (FormatException)
        {
        }
        throw new ArgumentException($"{key}: '{text}' is not a positive duration (e.g. 10 s, 500 ms)");
    }
}

/// <summary>
/// Exports the server's and its jobs' metrics (the series <c>/metrics</c> shows, by the same names) to an OTLP
/// collector every interval; readings are taken when the exporter asks, from the job manager's last sampling.
/// </summary>
internal sealed class OpenTelemetryReporter : IDisposable
{
    private readonly Meter meter = new("Eddy.Server");
    private readonly MeterProvider provider;

    public OpenTelemetryReporter(JobManager manager, OpenTelemetryReporterOptions options)
    {
        meter.CreateObservableGauge("eddy_slots_total", () => manager.TotalSlots, description: "Task slots of the server.");
        meter.CreateObservableGauge("eddy_slots_available", () => manager.FreeSlots, description: "Task slots not held by a running job.");
        meter.CreateObservableGauge("eddy_jobs", () => manager.Jobs.GroupBy(j => j.State)
            .Select(g => new Measurement<int>(g.Count(), new KeyValuePair<string, object?>("state", g.Key))), description: "Jobs by state.");
        foreach (var (name, type, help, value) in MetricSeries.Subtask)
        {
            IEnumerable<Measurement<double>> Observe() => Subtasks(manager, name, value);
            if (type == "counter") meter.CreateObservableCounter(name, Observe, description: help);
            else meter.CreateObservableGauge(name, Observe, description: help);
        }
        provider = Sdk.CreateMeterProviderBuilder()
            .ConfigureResource(r => r.AddService("eddy-server").AddAttributes(options.Attributes))
            .AddMeter(meter.Name)
            .AddOtlpExporter((exporter, reader) =>
            {
                exporter.Endpoint = options.Endpoint;
                exporter.Protocol = options.Protocol;
                exporter.TimeoutMilliseconds = (int)options.Timeout.TotalMilliseconds;
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)options.Interval.TotalMilliseconds;
                reader.TemporalityPreference = MetricReaderTemporalityPreference.Cumulative;
            })
            .Build();
    }

    private static IEnumerable<Measurement<double>> Subtasks(JobManager manager, string name, Func<SubtaskReading, double> value)
    {
        foreach (var job in manager.Jobs)
        {
            if (job.Execution is null) continue;
            foreach (var v in job.Reading.Vertices)
            {
                foreach (var s in v.Subtasks)
                {
                    if (!MetricSeries.Present(name, s)) continue;
                    yield return new Measurement<double>(value(s), new TagList
                    {
                        { "job_id", job.Id }, { "job", job.Name }, { "vertex", v.Vertex.Id }, { "task", v.Vertex.Name },
                        { "subtask", s.Subtask.ToString(CultureInfo.InvariantCulture) },
                    });
                }
            }
        }
    }

    public void Dispose()
    {
        provider.Dispose();
        meter.Dispose();
    }
}
