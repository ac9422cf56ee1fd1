using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Exporter;

namespace Eddy.Server.Tests;

/// <summary>The OpenTelemetry reporter: Flink's option keys, and OTLP/HTTP exports a collector on loopback receives.</summary>
public class OpenTelemetryReporterTests
{
    private static IReadOnlyList<OpenTelemetryReporterOptions> Parse(params (string Key, string Value)[] entries) =>
        OpenTelemetryReporterOptions.Parse(entries.ToDictionary(e => e.Key, e => e.Value));

    [Fact]
    public void Flinks_keys_configure_the_reporter_and_nothing_is_reported_without_them()
    {
        Assert.Empty(Parse());
        var r = Assert.Single(Parse(
            ("metrics.reporters", "otel"),
            ("metrics.reporter.otel.factory.class", OpenTelemetryReporterOptions.FlinkFactory),
            ("metrics.reporter.otel.exporter.endpoint", "http://127.0.0.1:4318/v1/metrics"),
            ("metrics.reporter.otel.exporter.protocol", "HTTP"),
            ("metrics.reporter.otel.exporter.timeout", "3 s"),
            ("metrics.reporter.otel.interval", "500 ms"),
            ("metrics.reporter.otel.scope.variables.additional", "region:eu-west-1,env:test")));
        Assert.Equal(("otel", OtlpExportProtocol.HttpProtobuf, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(3)), (r.Name, r.Protocol, r.Interval, r.Timeout));
        Assert.Equal(new Uri("http://127.0.0.1:4318/v1/metrics"), r.Endpoint);
        Assert.Equal(["region=eu-west-1", "env=test"], r.Attributes.Select(a => $"{a.Key}={a.Value}"));
        // Flink's defaults: gRPC, every 10 s.
        var d = Assert.Single(Parse(("metrics.reporters", "otel"), ("metrics.reporter.otel.exporter.endpoint", "http://collector:4317")));
        Assert.Equal((OtlpExportProtocol.Grpc, TimeSpan.FromSeconds(10)), (d.Protocol, d.Interval));
    }

    [Theory]
    [InlineData("metrics.reporter.otel.exporter.endpoint", "", "exporter.endpoint is required")]
    [InlineData("metrics.reporter.otel.exporter.protocol", "kafka", "metrics.reporter.otel.exporter.protocol: 'kafka' is neither gRPC nor HTTP")]
    [InlineData("metrics.reporter.otel.exporter.endpont", "x", "metrics.reporter.otel.exporter.endpont: unknown reporter option; did you mean 'exporter.endpoint'?")]
    [InlineData("metrics.reporter.otel.factory.class", "org.apache.flink.metrics.jmx.JMXReporterFactory", "is not available")]
    [InlineData("metrics.reporter.otel.interval", "soon", "metrics.reporter.otel.interval: 'soon' is not a positive duration")]
    [InlineData("metrics.reporter.prom.interval", "1 s", "metrics.reporter.prom.interval: reporter not listed in metrics.reporters (listed: otel)")]
    public void A_wrong_entry_is_refused_naming_its_key(string key, string value, string message)
    {
        var entries = new Dictionary<string, string> { ["metrics.reporters"] = "otel" };
        if (!key.EndsWith("exporter.endpoint", StringComparison.Ordinal)) entries["metrics.reporter.otel.exporter.endpoint"] = "http://127.0.0.1:4317";
        if (value.Length > 0) entries[key] = value;
        var e = Assert.Throws<ArgumentException>(() => OpenTelemetryReporterOptions.Parse(entries));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public async Task A_running_job_s_metrics_reach_an_otlp_http_collector()
    {
        var bodies = new ConcurrentQueue<(string? ContentType, byte[] Body)>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var collector = builder.Build();
        collector.MapPost("/v1/metrics", async (HttpContext context) =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            bodies.Enqueue((context.Request.ContentType, buffer.ToArray()));
            return Results.Ok();
        });
        await collector.StartAsync();
        var endpoint = new Uri(new Uri(collector.Urls.First()), "/v1/metrics");

        var reporter = Assert.Single(OpenTelemetryReporterOptions.Parse(new Dictionary<string, string>
        {
            ["metrics.reporters"] = "otel",
            ["metrics.reporter.otel.exporter.endpoint"] = endpoint.ToString(),
            ["metrics.reporter.otel.exporter.protocol"] = "HTTP",
            ["metrics.reporter.otel.interval"] = "200 ms",
            ["metrics.reporter.otel.scope.variables.additional"] = "region:test-region",
        }));
        await using var s = await RunningServer.Start(slots: 2, reporters: [reporter]);
        var id = Assert.Single(await s.Submit(Scripts.Windowed($"otel-{Guid.NewGuid():N}", parallelism: 1)));
        await s.WaitForState(id, "RUNNING");

        // OTLP/HTTP bodies are protobuf, where names, attribute keys and string values are UTF-8 as written.
        string[] wanted = ["eddy_task_records_in_total", "eddy_slots_total", "eddy_jobs", id, "region", "test-region", "eddy-server"];
        var deadline = DateTime.UtcNow.AddSeconds(60);
        string? missing = null;
        while (DateTime.UtcNow < deadline)
        {
            var text = string.Join("\n", bodies.Select(b => Encoding.UTF8.GetString(b.Body)));
            missing = wanted.FirstOrDefault(w => !text.Contains(w, StringComparison.Ordinal));
            if (missing is null) break;
            await Task.Delay(100);
        }
        Assert.True(missing is null, $"no export carried '{missing}' ({bodies.Count} exports received)");
        Assert.All(bodies, b => Assert.Equal("application/x-protobuf", b.ContentType));
        await collector.StopAsync();
    }
}
