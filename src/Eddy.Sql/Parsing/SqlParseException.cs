using System.Text;

namespace Eddy.Sql.Parsing;

/// <summary>
/// A syntax error in SQL text. <see cref="Exception.Message"/> reads
/// <c>[file: ]line L, column C: reason</c> followed by the offending line and a caret under the error position.
/// </summary>
public sealed class SqlParseException : Exception
{
    public SqlParseException(string reason, SourceSpan span, string sourceText, string? fileName = null, string? suggestion = null)
        : base(Format(reason, span, sourceText, fileName, out string excerpt))
    {
        Reason = reason;
        Span = span;
        FileName = fileName;
        Suggestion = suggestion;
        Excerpt = excerpt;
    }

    /// <summary>What was expected and what was found, with the keyword suggestion if any; no position.</summary>
    public string Reason { get; }

    public SourceSpan Span { get; }

    public int Line => Span.Line;

    public int Column => Span.Column;

    public string? FileName { get; }

    /// <summary>The nearest keyword when the offending word looks like a misspelling, e.g. <c>SELECT</c> for <c>SELEC</c>.</summary>
    public string? Suggestion { get; }

    /// <summary>The offending source line and a caret line under the error column.</summary>
    public string Excerpt { get; }

    private static string Format(string reason, SourceSpan span, string text, string? fileName, out string excerpt)
    {
        excerpt = BuildExcerpt(text, span);
        var sb = new StringBuilder();
        if (fileName is not null) sb.Append(fileName).Append(": ");
        sb.Append("line ").Append(span.Line).Append(", column ").Append(span.Column).Append(": ").Append(reason);
        if (excerpt.Length > 0) sb.Append('\n').Append(excerpt);
        return sb.ToString();
    }

    /// <summary>How many characters of the offending line an excerpt shows on each side of the error position.</summary>
    public const int ExcerptReach = 80;

    private static string BuildExcerpt(string text, SourceSpan span)
    {
        if (string.IsNullOrEmpty(text)) return "";
        int offset = Math.Clamp(span.Offset, 0, text.Length);
        // Only a window of the line around the error: a script may be one line of megabytes.
        int windowStart = Math.Max(0, offset - ExcerptReach);
        int start = offset;
        while (start > windowStart && text[start - 1] != '\n') start--;
        bool cutBefore = start > 0 && text[start - 1] != '\n';
        int windowEnd = (int)Math.Min(text.Length, (long)offset + Math.Clamp(span.Length, 1, ExcerptReach) + ExcerptReach);
        int end = offset;
        while (end < windowEnd && text[end] != '\n') end++;
        bool cutAfter = end < text.Length && text[end] != '\n' && !(text[end] == '\r' && end + 1 < text.Length && text[end + 1] == '\n');
        string line = text[start..end].TrimEnd('\r').Replace('\t', ' ');
        int column = offset - start;
        int caretWidth = Math.Max(1, Math.Min(span.Length, line.Length - column));
        // Secret option values never leave in an error message (the server and the CLI show these excerpts).
        line = SecretOptions.RedactLine(line, ref column, ref caretWidth);
        caretWidth = Math.Max(1, Math.Min(caretWidth, line.Length - column));
        if (cutBefore)
        {
            line = "…" + line;
            column++;
        }
        if (cutAfter) line += "…";
        string gutter = span.Line.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var sb = new StringBuilder();
        sb.Append(gutter).Append(" | ").Append(line).Append('\n');
        sb.Append(' ', gutter.Length).Append(" | ").Append(' ', column).Append('^', caretWidth);
        return sb.ToString();
    }
}
