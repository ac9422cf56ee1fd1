using System.CommandLine;
using Eddy.Connectors;
using Eddy.Runtime;

namespace Eddy.Cli;

/// <summary><c>eddy generate web-traffic --out events.jsonl</c>: the lab's events as a JSON-lines file, for file-based jobs.</summary>
internal static class GenerateCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var kind = new Argument<string>("kind") { Description = "What to generate: web-traffic." };
        kind.AcceptOnlyFromAmong("web-traffic");
        var output = new Option<FileInfo>("--out", "-o") { Description = "The JSON-lines file to write.", Required = true };
        var count = new Option<long>("--count", "-n") { Description = "Number of events.", DefaultValueFactory = _ => 10_000 };
        var seed = new Option<long>("--seed") { Description = "Seed: the same seed gives the same events.", DefaultValueFactory = _ => 1 };
        var users = new Option<int>("--users") { Description = "Distinct visitors (ip, user agent).", DefaultValueFactory = _ => 200 };
        var rate = new Option<double>("--events-per-second") { Description = "Event-time rate: events per second of event time.", DefaultValueFactory = _ => 2 };
        var lateShare = new Option<double>("--late-share") { Description = "Share of events later than the out-of-orderness bound.", DefaultValueFactory = _ => 0 };
        var command = new Command("generate", "Write generated events (the lab's web traffic) to a JSON-lines file.")
        {
            kind, output, count, seed, users, rate, lateShare,
        };
        command.SetAction(async (result, cancel) =>
        {
            var options = new WebTrafficOptions
            {
                Count = result.GetValue(count),
                Seed = result.GetValue(seed),
                Users = result.GetValue(users),
                EventsPerSecond = result.GetValue(rate),
                LateShare = result.GetValue(lateShare),
            };
            var file = result.GetValue(output)!;
            var env = StreamEnvironment.Create();
            env.FromSource(new WebTrafficSource(options).AsRows(), name: "Web traffic")
                .SinkTo(FileSink.ToFile(new FileConnectorOptions(file.FullName, FileFormat.JsonLines), WebTrafficEvent.Schema));
            var outcome = await env.ExecuteAsync("generate", cancel);
            if (outcome.Failure is not null)
            {
                stderr.WriteLine($"error: {SqlCommands.Describe(outcome.Failure)}");
                return 1;
            }
            stderr.WriteLine($"wrote {options.Count:N0} web-traffic events to {file.FullName}");
            return 0;
        });
        return command;
    }
}
