using Eddy.Sql.Parsing;
using Eddy.Sql.Tests.Parsing;

namespace Eddy.Sql.Tests;

/// <summary>Mangled input must fail with a SqlParseException (never another exception or a hang).</summary>
public class FuzzTests
{
    private static IEnumerable<string> Corpus()
    {
        yield return LabTests.Script;
        foreach (var row in RoundTripCorpus.Methods()
                     .SelectMany(m => m.GetCustomAttributes(typeof(InlineDataAttribute), false).Cast<InlineDataAttribute>()))
            yield return (string)row.GetData(null!).Single()[0];
    }

    [Fact]
    public void Deep_nesting_is_an_error_not_a_stack_overflow()
    {
        var e = P.Error("SELECT " + new string('(', 100_000) + "1" + new string(')', 100_000));
        Assert.Equal("expressions or queries are nested more than 256 levels deep", e.Reason);
        var q = P.Error("SELECT * FROM " + string.Concat(Enumerable.Repeat("(SELECT * FROM ", 5000)) + "t");
        Assert.Contains("nested more than", q.Reason, StringComparison.Ordinal);
        var minus = P.Error("SELECT " + string.Concat(Enumerable.Repeat("- ", 100_000)) + "1");
        Assert.Contains("nested more than", minus.Reason, StringComparison.Ordinal);
        Assert.Contains("nested more than", P.Error("CREATE TABLE t (a " + string.Concat(Enumerable.Repeat("ARRAY<", 100_000)) + "INT)").Reason, StringComparison.Ordinal);
        Assert.Contains("nested more than", P.Error("SELECT * FROM " + new string('(', 100_000) + "t").Reason, StringComparison.Ordinal);
        Assert.Contains("nested more than", P.Error("SELECT 1 FROM t GROUP BY " + string.Concat(Enumerable.Repeat("GROUPING SETS (", 100_000))).Reason, StringComparison.Ordinal);
        // Reasonable depth is fine.
        Assert.IsType<BinaryExpr>(P.Expr(new string('(', 100) + "1 + 2" + new string(')', 100)));
    }

    [Fact]
    public void Mutated_scripts_fail_cleanly()
    {
        var rnd = new Random(12345);
        var corpus = Corpus().ToArray();
        string[] fragments = ["(", ")", ",", ";", "'", "`", "SELECT", "FROM", "WHERE", "TABLE", "(SELECT", "OVER", "INTERVAL", "/*+", "*/",
            "--", "AS", "NOT", "CASE", "END", "[", "]", ".", "=>", "ROW<", ">", "'${X}'", "BEGIN", "STATEMENT SET", "PARTITION BY"];
        int failures = 0, successes = 0;
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
        }
        Assert.True(failures > 2000, $"{failures} failures, {successes} successes");
    }
}
