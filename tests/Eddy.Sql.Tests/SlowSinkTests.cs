using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

/// <summary>'sink.rows-per-second' (Eddy's slow print/blackhole sink): the operators feeding it are backpressured.</summary>
public class SlowSinkTests
{
    [Fact]
    public async Task A_throttled_sink_backpressures_the_task_that_feeds_it()
    {
        const int rows = 40_000;
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        var job = Assert.Single(session.Execute($"""
            SET 'pipeline.operator-chaining' = 'false';
            CREATE TABLE events (host STRING, url STRING) WITH ('connector' = 'web-traffic', 'number-of-rows' = '{rows}', 'seed' = '1');
            CREATE TABLE slow (host STRING, url STRING) WITH ('connector' = 'blackhole', 'sink.rows-per-second' = '20000');
            INSERT INTO slow SELECT host, url FROM events;
            """));
        var execution = job.Environment.Start(job.Name);
        var result = await execution.Completion;
        Assert.Null(result.Failure);
        var metrics = execution.Metrics;
        var sink = Assert.Single(metrics, m => m.TaskName.Contains("Sink: slow", StringComparison.Ordinal));
        Assert.Equal(rows, sink.RecordsIn);
        // The sink's task takes 2 s for what the source reads in a fraction of that: the channel of 8 batches between
        // them fills and the upstream task waits for room, which is its backpressured time.
        var upstream = metrics.Where(m => !m.TaskName.Contains("Sink", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(upstream);
        Assert.Contains(upstream, m => m.BackPressuredTicks > 0);
        Assert.Equal(0, sink.BackPressuredTicks);
    }

    [Fact]
    public void A_bad_rate_names_the_table_and_option()
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        var e = Assert.Throws<SqlParseException>(() => session.Execute("""
            CREATE TABLE slow (a INT) WITH ('connector' = 'print', 'sink.rows-per-second' = 'slowly');
            INSERT INTO slow VALUES (1);
            """));
        Assert.Contains("table 'slow', option 'sink.rows-per-second': expected a positive number", e.Message);
        // Located at the option itself, where the value is written.
        Assert.StartsWith("line 1, column 56: ", e.Message);
    }
}
