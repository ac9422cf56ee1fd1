using Eddy.Sql.Parsing;

namespace Eddy.Sql;

/// <summary>
/// A semantic error in a SQL job (unknown name, wrong type, unsupported construct, bad connector option), located
/// like a syntax error: <c>file: line L, column C: reason</c> with the line and a caret.
/// </summary>
public static class SqlErrors
{
    public static SqlParseException At(SqlNode node, string reason, SqlContext context) =>
        new(reason, node.Span, context.Text, context.FileName);

    public static SqlParseException At(SourceSpan span, string reason, SqlContext context) =>
        new(reason, span, context.Text, context.FileName);

    /// <summary>"did you mean 'x'?" for the candidate nearest to <paramref name="name"/>, or an empty string.</summary>
    public static string Suggest(string name, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var c in candidates)
        {
            int d = Distance(name.ToLowerInvariant(), c.ToLowerInvariant());
            if (d < bestDistance)
            {
                bestDistance = d;
                best = c;
            }
        }
        return best is not null && bestDistance <= Math.Max(2, name.Length / 3) ? $"; did you mean '{best}'?" : "";
    }

    private static int Distance(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) prev[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++)
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }
}

/// <summary>The text being compiled, for error messages.</summary>
public sealed record SqlContext(string Text, string? FileName);
