using Eddy.Server.Diagnosis;

namespace Eddy.Server.Tests;

/// <summary>The diagnosis on constructed metric snapshots: each finding and the cases that must stay silent.</summary>
public class JobDiagnosisTests
{
    private static readonly long T10_05 = DateTimeOffset.Parse("2024-01-01T10:05:00Z").ToUnixTimeMilliseconds();
    private static readonly long T09_58 = DateTimeOffset.Parse("2024-01-01T09:58:02Z").ToUnixTimeMilliseconds();
    private static readonly long T10_07 = DateTimeOffset.Parse("2024-01-01T10:07:00Z").ToUnixTimeMilliseconds();

    private static VertexInput Source(params SubtaskInput[] subtasks) => new("Source: events -> Calc", true, false, subtasks);

    private static VertexInput Window(params SubtaskInput[] subtasks) => new("WindowAggregate(TUMBLE)", false, true, subtasks);

    private static DiagnosisInput Job(params VertexInput[] vertices) =>
        new(Running: true, Uptime: TimeSpan.FromMinutes(6), SourceIdleTimeout: null, vertices);

    [Fact]
    public void Sources_that_decoded_nothing_say_so_instead_of_no_events_and_count_what_they_left_out()
    {
        var job = Job(
            Source(new SubtaskInput(0, 0, 0, long.MinValue, false, null, RecordsDropped: 30), new SubtaskInput(1, 0, 0, long.MinValue, false, null, RecordsDropped: 12)),
            Window(new SubtaskInput(0, 0, 0, long.MinValue, false, null)));

        var findings = JobDiagnosis.Diagnose(job);

        Assert.DoesNotContain(findings, f => f.Kind == "no-events");
        Assert.Equal("no event could be used yet: the sources read 42 records in 6 min and could decode none of them, so no window can close",
            Assert.Single(findings, f => f.Kind == "no-decodable-events").Message);
        Assert.Equal("Source: events left out 42 records it could not decode (100 % of what it read), skipped by '*.ignore-parse-errors' "
            + "or sent to the dead-letter topic: they are missing from the output",
            Assert.Single(findings, f => f.Kind == "records-dropped").Message);
    }

    [Fact]
    public void No_events_names_the_topics_whose_partitions_had_no_data_or_that_there_are_no_partitions()
    {
        static SubtaskInput Reader(int subtask, params string[] partitions) =>
            new(subtask, 0, 0, long.MinValue, false, null, Splits: partitions.Select(p => new SplitInput(p, long.MinValue, false, null)).ToList());

        var empty = JobDiagnosis.Diagnose(Job(Source(Reader(0, "web-traffic-0", "web-traffic-2"), Reader(1, "web-traffic-1"))));
        Assert.Equal("no events arrived yet: topic 'web-traffic' (3 partitions) has no data in 6 min since the job started",
            Assert.Single(empty, f => f.Kind == "no-events").Message);

        var none = JobDiagnosis.Diagnose(Job(Source(Reader(0), Reader(1))));
        Assert.Equal("no events arrived yet: the sources have no partitions to read (no topic matched, or the topics have no partitions), so nothing can arrive",
            Assert.Single(none, f => f.Kind == "no-events").Message);
    }

    [Fact]
    public void A_quiet_source_subtask_holding_the_watermark_is_named_with_the_idle_timeout_fix()
    {
        var job = Job(
            Source(
                new SubtaskInput(0, 500, 500, T10_07, Idle: false, SinceLastRecord: TimeSpan.FromSeconds(1)),
                new SubtaskInput(1, 20, 20, T09_58, Idle: false, SinceLastRecord: TimeSpan.FromMinutes(4))),
            Window(new SubtaskInput(0, 520, 0, T09_58, false, TimeSpan.FromSeconds(1), PendingWindowEnd: T10_05 + 1000)));

        var findings = JobDiagnosis.Diagnose(job);

        var f = Assert.Single(findings);
        Assert.Equal("watermark-held", f.Kind);
        Assert.Equal(
            "windows close when the watermark passes 2024-01-01 10:05:00; the watermark is 2024-01-01 09:58:02 because "
            + "source subtask 2 of 2 (Source: events) has had no data for 4 min — set 'table.exec.source.idle-timeout' (e.g. '30 s') "
            + "so that an idle source no longer holds the watermark",
            f.Message);
    }

    [Fact]
    public void A_source_subtask_that_never_got_data_holds_an_unset_watermark()
    {
        var job = Job(
            Source(
                new SubtaskInput(0, 500, 500, T10_07, false, TimeSpan.FromMilliseconds(100)),
                new SubtaskInput(1, 0, 0, long.MinValue, false, SinceLastRecord: null)),
            Window(new SubtaskInput(0, 500, 0, long.MinValue, false, TimeSpan.FromSeconds(1), PendingWindowEnd: T10_05)));

        var f = Assert.Single(JobDiagnosis.Diagnose(job));
        Assert.Equal("watermark-held", f.Kind);
        Assert.Contains("the watermark is not set yet because source subtask 2 of 2", f.Message);
        Assert.Contains("has had no data since the job started 6 min ago", f.Message);
    }

    [Fact]
    public void With_an_idle_timeout_set_the_fix_names_its_value()
    {
        var job = Job(
            Source(new SubtaskInput(0, 5, 5, T09_58, false, TimeSpan.FromMinutes(2))),
            Window(new SubtaskInput(0, 5, 0, T09_58, false, TimeSpan.FromMinutes(2), PendingWindowEnd: T10_05))) with
        { SourceIdleTimeout = TimeSpan.FromMinutes(5) };

        var f = Assert.Single(JobDiagnosis.Diagnose(job));
        Assert.Contains("'table.exec.source.idle-timeout' is 5 min", f.Message);
        Assert.Contains("source subtask 1 (Source: events) has had no data for 2 min", f.Message);
    }

    [Fact]
    public void No_events_at_all()
    {
        var job = Job(
            Source(new SubtaskInput(0, 0, 0, long.MinValue, false, null), new SubtaskInput(1, 0, 0, long.MinValue, false, null)),
            Window(new SubtaskInput(0, 0, 0, long.MinValue, false, null)));

        var f = Assert.Single(JobDiagnosis.Diagnose(job));
        Assert.Equal("no-events", f.Kind);
        Assert.Equal("no events arrived yet: the sources have read nothing in 6 min, so no window can close", f.Message);
    }

    [Fact]
    public void Late_events_dropped_are_counted_with_the_latest_lag()
    {
        var job = Job(
            Source(new SubtaskInput(0, 5000, 5000, T10_07, false, TimeSpan.Zero)),
            Window(
                new SubtaskInput(0, 3000, 40, T10_07, false, TimeSpan.Zero, LateDropped: 1000, LastLateLagMs: 360_000),
                new SubtaskInput(1, 2000, 30, T10_07, false, TimeSpan.Zero, LateDropped: 203, LastLateLagMs: 90_000)));

        var f = Assert.Single(JobDiagnosis.Diagnose(job));
        Assert.Equal("late-dropped", f.Kind);
        Assert.Equal("1,203 late events were dropped (the latest was 6 min behind the watermark); consider allowed lateness or a late-data sink", f.Message);
    }

    [Fact]
    public void Late_events_to_a_side_output_are_information()
    {
        var job = Job(
            Source(new SubtaskInput(0, 50, 50, T10_07, false, TimeSpan.Zero)),
            Window(new SubtaskInput(0, 50, 4, T10_07, false, TimeSpan.Zero, LateToSideOutput: 1)));

        var f = Assert.Single(JobDiagnosis.Diagnose(job));
        Assert.Equal(("late-side-output", "info", "1 late event went to the late-data output"), (f.Kind, f.Severity, f.Message));
    }

    [Fact]
    public void A_window_waiting_for_event_time_to_advance_is_not_called_stalled()
    {
        var job = Job(
            Source(new SubtaskInput(0, 50, 50, T09_58, false, TimeSpan.FromMilliseconds(200))),
            Window(new SubtaskInput(0, 50, 0, T09_58, false, TimeSpan.FromMilliseconds(200), PendingWindowEnd: T10_05)));

        var f = Assert.Single(JobDiagnosis.Diagnose(job));
        Assert.Equal("window-waiting", f.Kind);
        Assert.StartsWith("windows close when the watermark passes 2024-01-01 10:04:59; the watermark is 2024-01-01 09:58:02;", f.Message);
    }

    [Fact]
    public void Idle_source_subtasks_do_not_hold_the_watermark()
    {
        var job = Job(
            Source(
                new SubtaskInput(0, 50, 50, T09_58, false, TimeSpan.FromMilliseconds(10)),
                new SubtaskInput(1, 0, 0, long.MinValue, Idle: true, SinceLastRecord: null)),
            Window(new SubtaskInput(0, 50, 0, T09_58, false, TimeSpan.Zero, PendingWindowEnd: T10_05)));

        var f = Assert.Single(JobDiagnosis.Diagnose(job));
        Assert.Equal("window-waiting", f.Kind);
        Assert.Contains("the slowest is source subtask 1 of 2", f.Message);
    }

    [Fact]
    public void A_job_with_output_or_without_windows_or_ended_has_no_stall_finding()
    {
        var producing = Job(
            Source(new SubtaskInput(0, 50, 50, T10_07, false, TimeSpan.FromMinutes(9))),
            Window(new SubtaskInput(0, 50, 3, T10_07, false, TimeSpan.FromMinutes(9), PendingWindowEnd: T10_07 + 60_000)));
        var noWindows = Job(Source(new SubtaskInput(0, 0, 0, long.MinValue, false, null))) ;
        var ended = Job(
            Source(new SubtaskInput(0, 50, 50, T09_58, false, TimeSpan.FromMinutes(9))),
            Window(new SubtaskInput(0, 50, 0, T09_58, false, TimeSpan.FromMinutes(9), PendingWindowEnd: T10_05))) with { Running = false };

        Assert.Empty(JobDiagnosis.Diagnose(producing));
        Assert.Equal("no-events", Assert.Single(JobDiagnosis.Diagnose(noWindows)).Kind);
        Assert.DoesNotContain("no window", Assert.Single(JobDiagnosis.Diagnose(noWindows)).Message);
        Assert.Empty(JobDiagnosis.Diagnose(ended));
    }

    [Fact]
    public void Events_that_never_reach_the_window()
    {
        var job = Job(
            Source(new SubtaskInput(0, 50, 0, T10_07, false, TimeSpan.Zero)),
            Window(new SubtaskInput(0, 0, 0, T10_07, false, null)));

        Assert.Equal("window-no-input", Assert.Single(JobDiagnosis.Diagnose(job)).Kind);
    }

    [Theory]
    [InlineData(0.4, "400 ms")]
    [InlineData(42, "42 s")]
    [InlineData(242, "4 min 2 s")]
    [InlineData(3600 * 2 + 60 * 5, "2 h 5 min")]
    public void Durations_read_plainly(double seconds, string expected) =>
        Assert.Equal(expected, JobDiagnosis.Duration(TimeSpan.FromSeconds(seconds)));
}
