using System.Globalization;
using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests.Plan.Match;

/// <summary>
/// Random patterns over random rows against a brute-force matcher written here from Flink's NFA semantics, without
/// the operator's incremental states: every live partial match is an explicit assignment of rows to pattern
/// elements, checked from scratch against the rules (strict contiguity, counts within each quantifier, a row after a
/// greedy variable's rows only where that variable's condition fails, optional variables skippable); a match is
/// complete when its last element has its minimum and everything after it is optional. Completed matches are emitted
/// in order of their first row when no live partial match started earlier, and each emitted match prunes by the skip
/// strategy (PAST LAST ROW: starts up to its last row; TO NEXT ROW: starts up to its first row). The measures depend
/// on the first and last row only, so matches that tie on both are indistinguishable.
/// </summary>
public class MatchBruteForceTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("eddy-match-brute-").FullName;

    public void Dispose()
    {
        Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    private sealed record Element(string Name, int Min, int Max, bool Greedy, Func<int, bool> Condition, string Define);

    private static readonly (string Text, int Min, int Max, bool Reluctant)[] Quantifiers =
    [
        ("", 1, 1, false), ("+", 1, int.MaxValue, false), ("*", 0, int.MaxValue, false), ("?", 0, 1, false), ("{2}", 2, 2, false),
        ("{1,3}", 1, 3, false), ("{2,}", 2, int.MaxValue, false), ("+?", 1, int.MaxValue, true), ("*?", 0, int.MaxValue, true),
        ("{1,3}?", 1, 3, true), ("{0,2}?", 0, 2, true), ("{2,}?", 2, int.MaxValue, true),
    ];

    private static List<Element> RandomPattern(Random random)
    {
        int n = random.Next(2, 5);
        var elements = new List<Element>();
        for (int i = 0; i < n; i++)
        {
            var q = Quantifiers[random.Next(Quantifiers.Length)];
            bool greedy = q.Text.Length > 0 && !q.Reluctant && !(q.Min == 0 && q.Max == 1) && q.Min != q.Max;
            string name = ((char)('A' + i)).ToString();
            int k = random.Next(1, 9);
            (Func<int, bool> condition, string define) = random.Next(4) switch
            {
                0 => ((Func<int, bool>)(_ => true), ""),
                1 => (p => p > k, $"{name} AS {name}.price > {k}"),
                2 => (p => p < k, $"{name} AS {name}.price < {k}"),
                _ => (p => p % 2 == k % 2, $"{name} AS MOD({name}.price, 2) = {k % 2}"),
            };
            elements.Add(new Element(name + q.Text, q.Min, q.Max, greedy, condition, define));
        }
        return elements;
    }

    /// <summary>Whether <paramref name="assignment"/> (element per row, from the match's first row) is a valid partial match.</summary>
    private static bool ValidPrefix(List<Element> pattern, IReadOnlyList<int> prices, int start, List<int> assignment)
    {
        int previous = -1, run = 0;
        for (int i = 0; i < assignment.Count; i++)
        {
            int e = assignment[i];
            if (e < previous) return false;
            bool first = e != previous;
            if (first)
            {
                // Leaving the previous element needs its minimum; skipped elements must be optional.
                if (previous >= 0 && run < pattern[previous].Min) return false;
                for (int j = previous + 1; j < e; j++) if (pattern[j].Min > 0) return false;
                run = 0;
                if (e > 0 && pattern[e - 1].Greedy && pattern[e - 1].Condition(prices[start + i])) return false;
            }
            run++;
            if (run > pattern[e].Max) return false;
            if (!pattern[e].Condition(prices[start + i])) return false;
            previous = e;
        }
        return true;
    }

    private static bool Complete(List<Element> pattern, List<int> assignment)
    {
        int last = assignment[^1];
        int run = assignment.Count - assignment.FindLastIndex(e => e != last) - 1;
        if (run < pattern[last].Min || pattern[last].Greedy) return false;
        for (int j = last + 1; j < pattern.Count; j++) if (pattern[j].Min > 0 || pattern[j].Greedy) return false;
        return true;
    }

    private static bool Retained(List<Element> pattern, List<int> assignment)
    {
        int last = assignment[^1];
        int run = assignment.Count - assignment.FindLastIndex(e => e != last) - 1;
        return !(last == pattern.Count - 1 && run == pattern[last].Max);
    }

    private static List<(int First, int Last)> BruteForce(List<Element> pattern, IReadOnlyList<int> prices, bool pastLastRow)
    {
        var alive = new List<(int Start, List<int> Assignment)>();
        var held = new List<(int Start, int End)>();
        var output = new List<(int, int)>();
        for (int r = 0; r < prices.Count; r++)
        {
            var next = new List<(int Start, List<int> Assignment)>();
            var completed = new List<(int Start, int End)>();
            foreach (var (start, assignment) in alive.Append((r, new List<int>())))
            {
                for (int e = 0; e < pattern.Count; e++)
                {
                    var extended = new List<int>(assignment) { e };
                    if (!ValidPrefix(pattern, prices, start, extended)) continue;
                    if (Retained(pattern, extended)) next.Add((start, extended));
                    if (Complete(pattern, extended)) completed.Add((start, r));
                }
            }
            held.AddRange(completed);
            held = held.OrderBy(m => m.Start).ToList();
            while (held.Count > 0 && (next.Count == 0 || held[0].Start <= next.Min(p => p.Start)))
            {
                var match = held[0];
                held.RemoveAt(0);
                int prune = pastLastRow ? match.End : match.Start;
                next.RemoveAll(p => p.Start <= prune);
                held.RemoveAll(p => p.Start <= prune);
                output.Add((match.Start, match.End));
            }
            alive = next;
        }
        return output;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Random_patterns_match_as_the_brute_force_matcher(int seed)
    {
        var random = new Random(seed);
        int checkedPatterns = 0, matches = 0;
        for (int attempt = 0; attempt < 40 && checkedPatterns < 12; attempt++)
        {
            var pattern = RandomPattern(random);
            var prices = Enumerable.Range(0, 14).Select(_ => random.Next(10)).ToList();
            bool pastLastRow = random.Next(2) == 0;
            string path = Path.Combine(dir, $"rows{seed}-{attempt}.jsonl");
            File.WriteAllLines(path, prices.Select((p, i) => $$"""{"k":"x","t":"2024-01-01 00:00:{{i:00}}","price":{{p}}}"""));
            var defines = pattern.Where(e => e.Define.Length > 0).Select(e => e.Define).ToList();
            string sql = $"""
                CREATE TABLE rows_in (k STRING, t STRING, price INT, rowtime AS TO_TIMESTAMP(t, 'yyyy-MM-dd HH:mm:ss'),
                  WATERMARK FOR rowtime AS rowtime) WITH ('connector' = 'one-row-per-read', 'path' = '{path}');
                CREATE TABLE out (k STRING, f INT, l INT) WITH ('connector' = 'print');
                INSERT INTO out SELECT * FROM rows_in MATCH_RECOGNIZE (PARTITION BY k ORDER BY rowtime
                  MEASURES SECOND(FIRST(rowtime)) AS f, SECOND(LAST(rowtime)) AS l
                  AFTER MATCH SKIP {(pastLastRow ? "PAST LAST ROW" : "TO NEXT ROW")}
                  PATTERN ({string.Join(" ", pattern.Select(e => e.Name))})
                  DEFINE {(defines.Count > 0 ? string.Join(", ", defines) : "A AS TRUE")});
                """;
            List<string> lines;
            try
            {
                lines = SessionTests.Run(sql);
            }
            catch (SqlParseException)
            {
                continue; // a pattern Flink refuses (greedy last, optional after greedy, empty match): the refusal tests cover them
            }
            var expected = BruteForce(pattern, prices, pastLastRow)
                .Select(m => $"+I[x, {m.First.ToString(CultureInfo.InvariantCulture)}, {m.Last.ToString(CultureInfo.InvariantCulture)}]").ToList();
            Assert.True(expected.SequenceEqual(lines),
                $"pattern {string.Join(" ", pattern.Select(e => e.Name))} DEFINE {string.Join(", ", defines)} prices {string.Join(",", prices)} "
                + $"{(pastLastRow ? "PAST LAST ROW" : "TO NEXT ROW")}\nexpected {string.Join(" ", expected)}\nactual   {string.Join(" ", lines)}");
            checkedPatterns++;
            matches += expected.Count;
        }
        Assert.True(checkedPatterns >= 8, $"only {checkedPatterns} patterns were accepted");
        Assert.True(matches >= 10, $"only {matches} matches over {checkedPatterns} patterns");
    }
}
