using System.Diagnostics;
using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

/// <summary>Mangled input must fail with a SqlParseException (never another exception or a hang).</summary>
public class FuzzTests
{
    private static IEnumerable<string> Corpus()
    {
        yield return LabTests.Script;
        foreach (var row in typeof(RoundTripTests).GetMethods()
                     .SelectMany(m => m.GetCustomAttributes(typeof(InlineDataAttribute), false).Cast<InlineDataAttribute>()))
            yield return (string)row.GetData(null!).Single()[0];
    }

    [Fact]
    public void Mutated_scripts_fail_cleanly()
    {
        var rnd = new Random(12345);
        var corpus = Corpus().ToArray();
        string[] fragments = ["(", ")", ",", ";", "'", "`", "SELECT", "FROM", "WHERE", "TABLE", "(SELECT", "OVER", "INTERVAL", "/*+", "*/",
            "--", "AS", "NOT", "CASE", "END", "[", "]", ".", "=>", "ROW<", ">", "'${X}'", "BEGIN", "STATEMENT SET", "PARTITION BY"];
        int failures = 0, successes = 0;
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < 10000; i++)
        {
            string sql = corpus[rnd.Next(corpus.Length)];
            int edits = 1 + rnd.Next(3);
            for (int e = 0; e < edits && sql.Length > 0; e++)
            {
                int pos = rnd.Next(sql.Length);
                switch (rnd.Next(3))
                {
                    case 0: sql = sql.Remove(pos, Math.Min(sql.Length - pos, 1 + rnd.Next(8))); break;
                    case 1: sql = sql.Insert(pos, " " + fragments[rnd.Next(fragments.Length)] + " "); break;
                    default: sql = sql[..pos]; break;
                }
            }
            var one = Stopwatch.StartNew();
            try
            {
                var script = SqlParser.ParseScript(sql);
                // Whatever parses must also print and re-parse to the same tree.
                var again = SqlParser.ParseScript(script.ToSql());
                Assert.Equal(script.Statements, again.Statements);
                successes++;
            }
            catch (SqlParseException)
            {
                failures++;
            }
            catch (Exception ex)
            {
                throw new Xunit.Sdk.XunitException($"iteration {i}: {ex.GetType().Name}: {ex.Message}\n{sql}");
            }
            Assert.True(one.ElapsedMilliseconds < 2000, $"iteration {i} took {one.ElapsedMilliseconds} ms:\n{sql}");
        }
        Assert.True(failures > 2000, $"{failures} failures, {successes} successes");
        Assert.True(sw.Elapsed < TimeSpan.FromMinutes(1));
    }
}
