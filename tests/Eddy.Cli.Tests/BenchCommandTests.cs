namespace Eddy.Tests;

public class BenchCommandTests
{
    [Fact]
    public void Bench_nexmark_prints_figures_for_a_query_that_plans_and_the_refusal_for_one_that_does_not()
    {
        var (code, output, _) = CliTests.Run("bench", "nexmark", "--events", "5k", "--warmup", "0", "--queries", "q2,q6,q14");
        Assert.Equal(0, code);
        var lines = output.Split('\n', StringSplitOptions.TrimEntries);
        Assert.Contains("5,000 events per query, parallelism 1", lines[0]);
        var q2 = Assert.Single(lines, l => l.StartsWith("q2 ", StringComparison.Ordinal));
        Assert.Matches(@"^q2\s+[\d,]+\s+\d\.\d\dE[-+]\d+\s+[\d,]+\s+175 K\s+[\d.]+x$", q2);
        // q6 feeds an updating Top-1 into an OVER window, which Flink cannot run either.
        var q6 = Assert.Single(lines, l => l.StartsWith("q6 ", StringComparison.Ordinal));
        Assert.Contains("refused at planning: q6.sql: line ", q6);
        // q14's count_char comes from the C# stand-in for Nexmark's UDF jar, which the runner loads.
        var q14 = Assert.Single(lines, l => l.StartsWith("q14 ", StringComparison.Ordinal));
        Assert.Matches(@"^q14\s+[\d,]+\s+\d\.\d\dE[-+]\d+\s+[\d,]+\s+161 K\s+[\d.]+x$", q14);
    }

    [Fact]
    public void Bench_nexmark_refuses_an_unknown_query_and_a_bad_count()
    {
        var (code, _, err) = CliTests.Run("bench", "nexmark", "--queries", "q0,q99");
        Assert.Equal(1, code);
        Assert.Contains("unknown query 'q99'", err);
        (code, _, err) = CliTests.Run("bench", "nexmark", "--events", "ten");
        Assert.Equal(1, code);
        Assert.Contains("--events: expected a count", err);
    }
}
