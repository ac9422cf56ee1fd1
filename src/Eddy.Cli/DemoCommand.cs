using System.CommandLine;
using Eddy.Connectors;
using Eddy.Runtime;
using Eddy.Windows;

namespace Eddy.Cli;

/// <summary>
/// The main example on embedded defaults: generated web traffic → 1-minute tumbling hit counts per host, with a
/// 15-second watermark and allowed lateness, printed as Flink prints rows. No Kafka, no PostgreSQL.
/// </summary>
internal static class DemoCommand
{
    /// <summary>One result row: the window's start, the host and its hits (the lab's processed_events_aggregated).</summary>
    public sealed record HostHits(DateTime EventMinute, string Host, long NumHits)
    {
        public override string ToString() => $"{EventTime.FormatSql(EventMinute)}, {Host}, {NumHits}";
    }

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var events = new Option<long>("--events") { Description = "Events to generate; 0 runs unbounded until Ctrl-C.", DefaultValueFactory = _ => 200_000 };
        var rate = new Option<double?>("--rate") { Description = "Events per second (processing time); default: as fast as possible when bounded, 1000 when unbounded." };
        var parallelism = new Option<int>("--parallelism", "-p") { Description = "Parallelism of every operator.", DefaultValueFactory = _ => 1 };
        var lateShare = new Option<double>("--late-share") { Description = "Share of events later than the watermark (0..1).", DefaultValueFactory = _ => 0.01 };
        var lateness = new Option<int>("--allowed-lateness") { Description = "Seconds a window accepts late events after it fired (re-fired as -U/+U).", DefaultValueFactory = _ => 30 };
        var seed = new Option<long>("--seed") { Description = "Seed of the generator: the same seed gives the same events.", DefaultValueFactory = _ => 42 };
        var command = new Command("demo", "Run the lab's aggregation on generated web traffic: hits per host per minute, printed.")
        {
            events, rate, parallelism, lateShare, lateness, seed,
        };
        command.SetAction(async (result, cancel) =>
        {
            long count = result.GetValue(events);
            var options = new WebTrafficOptions
            {
                Seed = result.GetValue(seed),
                Count = count > 0 ? count : null,
                RowsPerSecond = result.GetValue(rate) ?? (count > 0 ? null : 1000),
                EventsPerSecond = 100,
                LateShare = result.GetValue(lateShare),
                MaxOutOfOrderness = TimeSpan.FromSeconds(15),
            };
            var late = new OutputTag<WebTrafficEvent>("late-events");
            var env = StreamEnvironment.Create().SetParallelism(result.GetValue(parallelism));
            var windowed = env
                .FromSource(new WebTrafficSource(options),
                    WatermarkStrategy<WebTrafficEvent>.ForBoundedOutOfOrderness(TimeSpan.FromSeconds(15)), "Web traffic")
                .KeyBy(e => e.Host)
                .Window(TumblingEventTimeWindows.Of(TimeSpan.FromMinutes(1)))
                .AllowedLateness(TimeSpan.FromSeconds(result.GetValue(lateness)))
                .SideOutputLateData(late)
                .Aggregate(Aggregates.Count<WebTrafficEvent>(),
                    (string host, TimeWindow w, long n) => new HostHits(EventTime.ToDateTime(w.Start), host, n), "HitsPerHost");
            windowed.SinkTo(new PrintSink<HostHits>(stdout), "Print");
            long lateCount = 0;
            windowed.GetSideOutput(late).ForEach(_ => Interlocked.Increment(ref lateCount), "LateEvents").SetParallelism(1);

            stderr.WriteLine(count > 0
                ? $"eddy demo: {count:N0} generated web-traffic events → hits per host per 1-minute window (watermark 15 s)"
                : "eddy demo: unbounded web traffic → hits per host per 1-minute window (Ctrl-C stops)");
            var job = env.Start("web-traffic-hits-per-host");
            using var registration = cancel.Register(job.Cancel);
            var outcome = await job.Completion;
            long dropped = job.Metrics.Sum(m => m.Snapshot().LateRecordsToSideOutput);
            stderr.WriteLine($"eddy demo: {outcome.Status.ToString().ToLowerInvariant()} in {outcome.Duration.TotalSeconds:F1} s; "
                + $"{Interlocked.Read(ref lateCount):N0} event(s) arrived too late for their window (sent to the late-events side output, {dropped:N0} counted)");
            if (outcome.Failure is not null) stderr.WriteLine($"error: {outcome.Failure.Message}");
            return outcome.ExitCode;
        });
        return command;
    }
}
