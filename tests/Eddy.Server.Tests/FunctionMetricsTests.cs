using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Eddy.Functions;

namespace Eddy.Server.Tests;

/// <summary>
/// <c>counted_upper(s)</c>: upper case; counts its rows, records their lengths and shows a constant in its operator's
/// metric group (group <c>udf</c>).
/// </summary>
public sealed class CountedUpper : ScalarFunction
{
    private Counter? rows;
    private Histogram? lengths;

    public override void Open(FunctionContext context)
    {
        var group = context.GetMetricGroup().AddGroup("udf");
        rows = group.Counter("rows_seen");
        lengths = group.Histogram("lengths");
        group.Gauge("answer", () => 42);
    }

    public string? Eval(string? s)
    {
        rows!.Inc();
        lengths!.Update(s?.Length ?? 0);
        return s?.ToUpperInvariant();
    }
}

/// <summary>A function's metric group in the job's metrics: Prometheus and Flink's REST vertex metrics.</summary>
public class FunctionMetricsTests
{
    [Fact]
    public async Task A_functions_counter_gauge_and_histogram_show_under_its_operator_with_the_right_values()
    {
        string events = Path.Combine(Scripts.RepoRoot, "examples/data/web-events.jsonl");
        // Expected values straight from the file: one call per event, the host names' lengths.
        var hosts = File.ReadLines(events).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!["host"]?.GetValue<string>()).ToList();
        await using var s = await RunningServer.Start();
        var id = Assert.Single(await s.Submit($"""
            SET 'pipeline.name' = 'function-metrics';
            CREATE FUNCTION counted_upper AS '{typeof(CountedUpper).FullName}';
            CREATE TABLE events (host STRING) WITH ('connector' = 'filesystem', 'path' = '{events}', 'format' = 'json');
            CREATE TABLE sink_t (h STRING) WITH ('connector' = 'blackhole');
            INSERT INTO sink_t SELECT counted_upper(host) FROM events;
            """));
        await s.WaitForState(id, "FINISHED");

        var text = await (await s.Client.GetAsync("metrics")).Content.ReadAsStringAsync();
        double Series(string name, string extra = "")
        {
            var m = Regex.Match(text, "^" + Regex.Escape(name) + "\\{job_id=\"" + id + "\",job=\"function-metrics\",vertex=\"\\d+\",task=\"[^\"]*Calc[^\"]*\",operator=\"Calc\",subtask=\"0\"" + extra + "\\} (\\S+)$", RegexOptions.Multiline);
            Assert.True(m.Success, $"{name}{extra} in:\n{text}");
            return double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        }
        Assert.Contains("# TYPE eddy_operator_udf_rows_seen counter", text);
        Assert.Equal(hosts.Count, Series("eddy_operator_udf_rows_seen"));
        Assert.Equal(42, Series("eddy_operator_udf_answer"));
        Assert.Contains("# TYPE eddy_operator_udf_lengths summary", text);
        Assert.Equal(hosts.Count, Series("eddy_operator_udf_lengths_count"));
        // The window keeps the last 500 lengths.
        var window = hosts.TakeLast(500).Select(h => h?.Length ?? 0).ToList();
        Assert.Equal(window.Max(), Series("eddy_operator_udf_lengths_max"));
        Assert.Equal(window.Min(), Series("eddy_operator_udf_lengths_min"));
        Assert.Equal(window.Average(), Series("eddy_operator_udf_lengths_mean"), 9);

        // Flink's REST: the vertex of the Calc lists the ids; get= gives the values as strings.
        var job = await s.Get($"jobs/{id}");
        var vertex = job["vertices"]!.AsArray().Single(v => v!["name"]!.GetValue<string>().Contains("Calc", StringComparison.Ordinal))!;
        var ids = (await s.Get($"jobs/{id}/vertices/{vertex["id"]}/metrics")).AsArray().Select(m => m!["id"]!.GetValue<string>()).ToList();
        Assert.Contains("0.Calc.udf.rows_seen", ids);
        Assert.Contains("0.Calc.udf.lengths_p50", ids);
        var values = (await s.Get($"jobs/{id}/vertices/{vertex["id"]}/metrics?get=0.Calc.udf.rows_seen,0.Calc.udf.answer")).AsArray();
        Assert.Equal(
            [("0.Calc.udf.rows_seen", hosts.Count.ToString(CultureInfo.InvariantCulture)), ("0.Calc.udf.answer", "42")],
            values.Select(v => (v!["id"]!.GetValue<string>(), v["value"]!.GetValue<string>())).ToList());
    }
}
