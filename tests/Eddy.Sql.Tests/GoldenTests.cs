using System.Text.RegularExpressions;
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

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(Folder, "*.sql").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal))
            if (f != "prelude") data.Add(f!);
        return data;
    }

    [GeneratedRegex(@"^(?:(\w+):)?\d+> ")]
    private static partial Regex SubtaskPrefix();

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Golden(string name)
    {
        var sql = File.ReadAllText(Path.Combine(Folder, name + ".sql"));
        var output = new StringWriter();
        var session = new SqlSession(output, TextWriter.Null, v => v == "DATA" ? Path.Combine(Folder, "data") : null);
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
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => SubtaskPrefix().Replace(l.TrimEnd('\r'), m => m.Groups[1].Success ? m.Groups[1].Value + "> " : "")).ToList();
        var expected = File.ReadAllLines(Path.Combine(Folder, name + ".out")).Where(l => l.Length > 0).ToList();
        if (!sql.Contains("-- ordered", StringComparison.Ordinal))
        {
            lines.Sort(StringComparer.Ordinal);
            expected.Sort(StringComparer.Ordinal);
        }
        Assert.Equal(expected, lines);
    }
}
