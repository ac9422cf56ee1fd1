using System.Text.RegularExpressions;
using Eddy.Runtime;
using Eddy.Sql.Connectors;
using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

/// <summary>A scalar function for CREATE FUNCTION tests.</summary>
public sealed class ShoutFunction
{
    public string? Eval(string? s) => s is null ? null : s.ToUpperInvariant() + "!";
}

/// <summary>An aggregate function: the weighted average of (value, weight) pairs, as Flink's documentation's example.</summary>
public sealed class WeightedAvg
{
    public sealed class Accumulator
    {
        public long Sum;
        public long Weight;
    }

    public Accumulator CreateAccumulator() => new();

    public void Accumulate(Accumulator acc, int? value, int? weight)
    {
        if (value is null || weight is null) return;
        acc.Sum += (long)value.Value * weight.Value;
        acc.Weight += weight.Value;
    }

    public void Merge(Accumulator acc, Accumulator other)
    {
        acc.Sum += other.Sum;
        acc.Weight += other.Weight;
    }

    public long? GetValue(Accumulator acc) => acc.Weight == 0 ? null : acc.Sum / acc.Weight;
}

/// <summary>A table function: the non-empty parts of a path.</summary>
public sealed class SplitPath
{
    public IEnumerable<string> Eval(string? path) => path?.Split('/', StringSplitOptions.RemoveEmptyEntries) ?? [];
}

/// <summary>A table function of two columns: the path, n times, numbered.</summary>
public sealed class PathParts
{
    public IEnumerable<(string Path, int N)> Eval(string? path, int? times)
    {
        for (int i = 1; i <= (times ?? 0); i++) yield return (path ?? "", i);
    }
}

/// <summary>
/// The SQL files under tests/sql: each runs after prelude.sql and must print what its .out file says (sorted unless the
/// file has a '-- ordered' line), or, when its first line is '--fail=text', fail with a message containing the text.
/// Print prefixes of parallel subtasks ("2> ") are removed so that results do not depend on which subtask made them.
/// </summary>
public partial class GoldenTests
{
    private static readonly string Folder = Path.Combine(LabExampleTests.Root, "tests", "sql");

    private static IEnumerable<string> Names() =>
        Directory.GetFiles(Folder, "*.sql").Select(f => Path.GetFileNameWithoutExtension(f)).Where(f => f != "prelude").Order(StringComparer.Ordinal);

    public static TheoryData<string> Cases() => new(Names());

    [GeneratedRegex(@"^(?:(\w+):)?\d+> ")]
    private static partial Regex SubtaskPrefix();

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Golden(string name)
    {
        var sql = File.ReadAllText(Path.Combine(Folder, name + ".sql"));
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null, v => v == "DATA" ? Path.Combine(Folder, "data") : null);
        session.Execute(File.ReadAllText(Path.Combine(Folder, "prelude.sql")), "prelude.sql");
        string? expectedFailure = sql.StartsWith("--fail=", StringComparison.Ordinal) ? sql[7..sql.IndexOf('\n')].Trim() : null;
        try
        {
            foreach (var job in session.Execute(sql, name + ".sql"))
            {
                var result = await job.Environment.ExecuteAsync(job.Name);
                if (result.Failure is not null) throw result.Failure;
            }
        }
        catch (Exception e) when (expectedFailure is not null && e is SqlParseException or ConnectorOptionException or Runtime.TaskFailedException)
        {
            Assert.Contains(expectedFailure, e.Message);
            return;
        }
        Assert.Null(expectedFailure);
        AssertOutput(name, sql, output.ToString());
    }

    private static void AssertOutput(string name, string sql, string output)
    {
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => SubtaskPrefix().Replace(l.TrimEnd('\r'), m => m.Groups[1].Success ? m.Groups[1].Value + "> " : "")).ToList();
        var expected = File.ReadAllLines(Path.Combine(Folder, name + ".out")).Where(l => l.Length > 0).ToList();
        if (!sql.Contains("-- ordered", StringComparison.Ordinal))
        {
            lines.Sort(StringComparer.Ordinal);
            expected.Sort(StringComparer.Ordinal);
        }
        Assert.Equal(expected, lines);
    }

    /// <summary>The golden queries that run (not the '--fail=' ones), each with a point to stop at.</summary>
    public static TheoryData<string, int> RestoreCases()
    {
        var data = new TheoryData<string, int>();
        foreach (var name in Names())
        {
            if (File.ReadAllText(Path.Combine(Folder, name + ".sql")).StartsWith("--fail=", StringComparison.Ordinal)) continue;
            data.Add(name, 2);
            data.Add(name, 4);
        }
        return data;
    }

    /// <summary>
    /// Each golden query run as checkpoint → stop → restore → finish: every source is held after 1/<paramref name="part"/>
    /// of the records it reads in a straight run, a checkpoint is taken, the job is stopped, and a new job restored
    /// from the checkpoint's folder finishes. Print sinks write into a <see cref="CommittedOutput"/>, where lines
    /// appear only when their checkpoint completes, so lines of the stopped job after its checkpoint are lost and
    /// the output is the same as the straight run's only if the restore neither repeats nor skips anything.
    /// </summary>
    [Theory]
    [MemberData(nameof(RestoreCases))]
    public async Task GoldenRestored(string name, int part)
    {
        var sql = File.ReadAllText(Path.Combine(Folder, name + ".sql"));
        var timeout = TimeSpan.FromMinutes(2);

        // A straight run that only counts what each source reader reads, job by job.
        var counts = new List<IReadOnlyDictionary<(string StateId, int Subtask), long>>();
        foreach (var job in NewSession(TextWriter.Null, name, sql))
        {
            var hold = new SourceHold();
            job.Environment.Configure(c => c with { SourceHold = hold });
            var result = await job.Environment.Start(job.Name).Completion.WaitAsync(timeout);
            if (result.Failure is not null) throw result.Failure;
            counts.Add(hold.RecordsRead);
        }

        var output = new CommittedOutput();
        var folder = Directory.CreateTempSubdirectory("eddy-golden-restore-");
        try
        {
            int index = 0;
            foreach (var job in NewSession(output, name, sql))
            {
                var read = counts[index];
                string jobName = $"{name}-{index++}";
                var hold = new SourceHold((id, subtask) => read.GetValueOrDefault((id, subtask)) / part);
                var checkpoints = Path.Combine(folder.FullName, jobName);
                job.Environment.Configure(c => c with
                {
                    JobName = jobName,
                    CheckpointInterval = TimeSpan.FromDays(1),
                    CheckpointDirectory = checkpoints,
                    RestartStrategy = RestartStrategy.None,
                    SourceHold = hold,
                });
                var first = job.Environment.Start(job.Name);
                int sourceSubtasks = first.Plan.Chains.Where(c => c.Nodes[0].IsSource).Sum(c => c.Parallelism);
                await hold.WaitAllHeldAsync(sourceSubtasks, timeout);
                var stats = await first.TriggerCheckpoint().WaitAsync(timeout);
                Assert.True(stats.Status == CheckpointStatus.Completed, $"checkpoint {stats.Id}: {stats}");
                first.Cancel();
                var stopped = await first.Completion.WaitAsync(timeout);
                Assert.Equal(JobStatus.Cancelled, stopped.Status);

                var readFirst = hold.RecordsRead;
                var rest = new SourceHold();
                job.Environment.Configure(c => c with { SourceHold = rest, RestorePath = stats.Path });
                var second = job.Environment.Start(job.Name);
                var result = await second.Completion.WaitAsync(timeout);
                if (result.Failure is not null) throw result.Failure;
                Assert.Equal(stats.Id, second.RestoredFrom?.Id);
                // The restored sources go on where the checkpoint left them: together the two runs read the input once.
                foreach (var (source, total) in read)
                    Assert.Equal(total, readFirst.GetValueOrDefault(source) + rest.RecordsRead.GetValueOrDefault(source));
            }
        }
        finally
        {
            folder.Delete(recursive: true);
        }
        AssertOutput(name, sql, output.ToString());
    }

    private static IReadOnlyList<SqlJob> NewSession(TextWriter output, string name, string sql)
    {
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null, v => v == "DATA" ? Path.Combine(Folder, "data") : null);
        session.Execute(File.ReadAllText(Path.Combine(Folder, "prelude.sql")), "prelude.sql");
        return session.Execute(sql, name + ".sql").ToList();
    }
}
