using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Eddy.Server.Worker;
using Eddy.Sql;

namespace Eddy.Cli;

/// <summary>
/// <c>eddy status JOB --bootstrap-servers ...</c> (or <c>--worker URL</c>): the view of a job run by workers that
/// <see cref="JobStatusView"/> assembles, printed as tables or JSON.
/// </summary>
internal static class WorkerStatus
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>
    /// The whole job found through Kafka (<paramref name="bootstrapServers"/>, with <paramref name="properties"/> as the
    /// Kafka client settings: security, SASL, TLS), or one worker asked directly (<paramref name="worker"/>, no broker).
    /// </summary>
    public static async Task<int> ShowAsync(string job, string? bootstrapServers, IReadOnlyDictionary<string, string> properties, Uri? worker, string? token,
        bool json, TextWriter stdout, TextWriter stderr, CancellationToken cancel)
    {
        JsonObject whole;
        try
        {
            whole = worker is not null
                ? await JobStatusView.AskWorkerAsync(job, worker, token, cancel)
                : await JobStatusView.AssembleAsync(job, bootstrapServers!, properties, w => stderr.WriteLine($"warning: {w}"), token, cancel);
        }
        catch (JobStatusException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            return 1;
        }
        if (json)
        {
            stdout.WriteLine(whole.ToJsonString(Indented));
            return 0;
        }
        Print(whole, stdout);
        return 0;
    }

    /// <summary>
    /// The Kafka client settings of <c>eddy status</c>: a properties file (<c>key=value</c> lines, <c>#</c> comments, as
    /// Kafka's tools take with <c>--command-config</c>), then <c>--set properties.KEY=VALUE</c> (as a table's WITH clause
    /// names them), the later winning. Throws <see cref="FormatException"/> naming the line or option.
    /// </summary>
    public static Dictionary<string, string> ClientProperties(string? file, string[]? sets)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (file is not null)
        {
            string[] lines;
            try
            {
                lines = File.ReadAllLines(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new FormatException($"--properties-file {file}: {e.Message}");
            }
            for (int i = 0; i < lines.Length; i++)
            {
                string line = lines[i].Trim();
                if (line.Length == 0 || line[0] is '#' or '!') continue;
                int eq = line.IndexOfAny(['=', ':']);
                if (eq <= 0) throw new FormatException($"--properties-file {file}:{i + 1}: expected key=value, got '{line}'");
                result[line[..eq].Trim()] = line[(eq + 1)..].Trim();
            }
        }
        foreach (var s in sets ?? [])
        {
            int eq = s.IndexOf('=');
            const string Prefix = "properties.";
            if (eq <= 0 || !s.StartsWith(Prefix, StringComparison.Ordinal) || eq <= Prefix.Length)
                throw new FormatException($"--set takes properties.KEY=VALUE here (the Kafka client settings, as in a table's WITH clause), got '{SecretOptions.RedactText(s)}'");
            result[s[Prefix.Length..eq].Trim()] = s[(eq + 1)..].Trim();
        }
        return result;
    }

    internal static void Print(JsonObject whole, TextWriter stdout)
    {
        string Text(JsonNode? n) => n switch
        {
            null => "-",
            JsonValue v when v.TryGetValue(out string? s) => s ?? "-",
            _ => n.ToJsonString(),
        };
        stdout.WriteLine($"job '{Text(whole["job"])}': {whole["workers"]!.AsArray().Count} worker(s) in '{Text(whole["directory"])}'");
        Table(stdout, ["WORKER", "ADDRESS", "STATE", "STAGE", "PARTITIONS"], [.. whole["workers"]!.AsArray().SelectMany(w =>
        {
            var stages = w!["stages"]!.AsArray();
            string state = w["reachable"]!.GetValue<bool>() ? "up" : "unreachable: " + Text(w["error"]);
            if (stages.Count == 0) return new[] { new[] { Text(w["worker"]), Text(w["address"]), state, "-", "-" } };
            return stages.Select(s => new[]
            {
                Text(w["worker"]), Text(w["address"]), state, Text(s!["stage"]),
                string.Join(",", s["partitions"]!.AsArray().Select(p => p!.GetValue<int>())),
            });
        })]);
        stdout.WriteLine();
        Table(stdout, ["STAGE", "PARTITION", "WORKER", "STATE", "LAG", "LAST CHECKPOINT", "AT", "RECORDS"], [.. whole["partitions"]!.AsArray().Select(p => new[]
        {
            Text(p!["stage"]), Text(p["partition"]), Text(p["worker"]), Text(p["state"]), Text(p["lag"]), Text(p["last-checkpoint"]),
            Text(p["last-checkpoint-at"]), Text(p["records-read"]),
        })]);
        if (whole["worker-address"] is { } only)
            stdout.WriteLine($"(the worker at {Text(only)} alone: partitions of other workers and those nobody owns are not shown)");
        else if (whole["unowned"]!.AsArray().Count > 0)
        {
            stdout.WriteLine("owned by no reachable worker: " + string.Join(", ", whole["unowned"]!.AsArray()
                .Select(u => $"stage {Text(u!["stage"])} partition {Text(u["partition"])}")));
        }
        stdout.WriteLine();
        Table(stdout, ["WORKER", "STAGE", "AT", "KIND", "PARTITIONS", "DURATION MS"], [.. whole["rebalances"]!.AsArray().Select(r => new[]
        {
            Text(r!["worker"]), Text(r["stage"]), Text(r["at"]), Text(r["kind"]),
            string.Join(",", r["partitions"]?.AsArray().Select(p => p!.ToJsonString()) ?? []), Text(r["duration-ms"]),
        })]);
    }

    private static void Table(TextWriter output, string[] header, List<string[]> rows)
    {
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        output.WriteLine(string.Join("  ", header.Select((h, i) => h.PadRight(widths[i]))).TrimEnd());
        foreach (var r in rows) output.WriteLine(string.Join("  ", r.Select((c, i) => c.PadRight(widths[i]))).TrimEnd());
    }
}
