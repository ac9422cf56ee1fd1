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

    private static string BuildExcerpt(string text, SourceSpan span)
    {
        if (string.IsNullOrEmpty(text)) return "";
        int offset = Math.Clamp(span.Offset, 0, text.Length);
        int start = offset;
        while (start > 0 && text[start - 1] != '\n') start--;
        int end = offset;
        while (end < text.Length && text[end] != '\n') end++;
        string line = text[start..end].TrimEnd('\r').Replace('\t', ' ');
        string gutter = span.Line.ToString(System.Globalization.CultureInfo.InvariantCulture);
        int caretWidth = Math.Max(1, Math.Min(span.Length, line.Length - (offset - start)));
        var sb = new StringBuilder();
        sb.Append(gutter).Append(" | ").Append(line).Append('\n');
        sb.Append(' ', gutter.Length).Append(" | ").Append(' ', offset - start).Append('^', caretWidth);
        return sb.ToString();
    }
}
