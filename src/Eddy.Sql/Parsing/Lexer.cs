using System.Text;

namespace Eddy.Sql.Parsing;

/// <summary>
/// Turns SQL text into tokens. Hand-written, single pass, no regular expressions. Skips whitespace, <c>--</c> line
/// comments and <c>/* */</c> block comments. String literal contents (including <c>${NAME}</c> references) are kept
/// verbatim apart from the <c>''</c> escape.
/// </summary>
public sealed class Lexer
{
    private readonly string text;
    private readonly string? fileName;
    private readonly int end;
    private int pos;
    private int line = 1;
    private int lineStart;

    public Lexer(string text, string? fileName = null)
        : this(text, fileName, 0, text.Length, 1, 0)
    {
    }

    /// <summary>Lexes <c>text[start..end]</c>, where <paramref name="start"/> is on <paramref name="line"/>, which begins at <paramref name="lineStart"/>.</summary>
    internal Lexer(string text, string? fileName, int start, int end, int line, int lineStart)
    {
        this.text = text;
        this.fileName = fileName;
        this.end = end;
        pos = start;
        this.line = line;
        this.lineStart = lineStart;
    }

    public static List<Token> Tokenize(string text, string? fileName = null) => new Lexer(text, fileName).Run();

    public List<Token> Run()
    {
        var tokens = new List<Token>(Math.Max(16, end / 4));
        while (true)
        {
            SkipTrivia();
            if (pos >= end)
            {
                tokens.Add(new Token(TokenKind.EndOfInput, Keyword.None, "", new SourceSpan(pos, 0, line, pos - lineStart + 1)));
                return tokens;
            }
            tokens.Add(Next());
        }
    }

    private void SkipTrivia()
    {
        while (pos < end)
        {
            char c = text[pos];
            if (c == '\n')
            {
                pos++;
                line++;
                lineStart = pos;
            }
            else if (c is ' ' or '\t' or '\r' or '\f' or '\v' || (c > 127 && char.IsWhiteSpace(c)))
            {
                pos++;
            }
            else if (c == '-' && Peek(1) == '-')
            {
                while (pos < end && text[pos] != '\n') pos++;
            }
            else if (c == '/' && Peek(1) == '*' && Peek(2) != '+')
            {
                int start = pos;
                int startLine = line, startCol = pos - lineStart + 1;
                pos += 2;
                while (true)
                {
                    if (pos >= end)
                        throw Error("unterminated comment; expected '*/' before end of input", new SourceSpan(start, 2, startLine, startCol));
                    if (text[pos] == '*' && Peek(1) == '/')
                    {
                        pos += 2;
                        break;
                    }
                    if (text[pos] == '\n')
                    {
                        line++;
                        lineStart = pos + 1;
                    }
                    pos++;
                }
            }
            else
            {
                return;
            }
        }
    }

    private char Peek(int ahead) => pos + ahead < end ? text[pos + ahead] : '\0';

    private SourceSpan SpanFrom(int start, int startLine, int startCol) => new(start, pos - start, startLine, startCol);

    private Token Next()
    {
        int start = pos;
        int startLine = line;
        int startCol = pos - lineStart + 1;
        char c = text[pos];

        if (char.IsAsciiLetter(c) || c == '_' || (c > 127 && char.IsLetter(c)))
        {
            pos++;
            while (pos < end)
            {
                char d = text[pos];
                if (char.IsAsciiLetterOrDigit(d) || d == '_' || d == '$' || (d > 127 && char.IsLetterOrDigit(d))) pos++;
                else break;
            }
            var span = text.AsSpan(start, pos - start);
            return new Token(TokenKind.Word, Keywords.Lookup(span), span.ToString(), SpanFrom(start, startLine, startCol));
        }

        if (char.IsAsciiDigit(c) || (c == '.' && char.IsAsciiDigit(Peek(1))))
            return Number(start, startLine, startCol);

        if (c == '/' && Peek(1) == '*' && Peek(2) == '+') return Hint(start, startLine, startCol);

        switch (c)
        {
            case '\'':
                return StringLiteral(start, startLine, startCol);
            case '`':
                return QuotedIdentifier(start, startLine, startCol);
            case '(' or ')' or ',' or ';' or '+' or '-' or '*' or '/' or '%' or '[' or ']' or '.' or '?':
                pos++;
                return Symbol(SymbolText(c), start, startLine, startCol);
            // Row pattern syntax (MATCH_RECOGNIZE): quantifier braces, alternation, anchors.
            case '{' or '}' or '^' or '$':
                pos++;
                return Symbol(c.ToString(), start, startLine, startCol);
            case '|' when Peek(1) != '|':
                pos++;
                return Symbol("|", start, startLine, startCol);
            case '=':
                pos++;
                if (Peek(0) == '>')
                {
                    pos++;
                    return Symbol("=>", start, startLine, startCol);
                }
                return Symbol("=", start, startLine, startCol);
            case '<':
                pos++;
                if (Peek(0) == '=')
                {
                    pos++;
                    return Symbol("<=", start, startLine, startCol);
                }
                if (Peek(0) == '>')
                {
                    pos++;
                    return Symbol("<>", start, startLine, startCol);
                }
                return Symbol("<", start, startLine, startCol);
            case '>':
                pos++;
                if (Peek(0) == '=')
                {
                    pos++;
                    return Symbol(">=", start, startLine, startCol);
                }
                return Symbol(">", start, startLine, startCol);
            case '!' when Peek(1) == '=':
                pos += 2;
                return Symbol("!=", start, startLine, startCol);
            case '|' when Peek(1) == '|':
                pos += 2;
                return Symbol("||", start, startLine, startCol);
            case '"':
                throw Error("unexpected '\"'; Flink SQL quotes identifiers with back-quotes (`name`) and strings with single quotes ('text')",
                    new SourceSpan(start, 1, startLine, startCol));
            default:
                throw Error($"unexpected character '{c}'", new SourceSpan(start, 1, startLine, startCol));
        }
    }

    private static string SymbolText(char c) => c switch
    {
        '(' => "(",
        ')' => ")",
        ',' => ",",
        ';' => ";",
        '+' => "+",
        '-' => "-",
        '*' => "*",
        '/' => "/",
        '%' => "%",
        '[' => "[",
        ']' => "]",
        '.' => ".",
        _ => "?",
    };

    private Token Symbol(string symbol, int start, int startLine, int startCol) =>
        new(TokenKind.Symbol, Keyword.None, symbol, SpanFrom(start, startLine, startCol));

    private Token Number(int start, int startLine, int startCol)
    {
        var kind = TokenKind.Integer;
        while (pos < end && char.IsAsciiDigit(text[pos])) pos++;
        if (pos < end && text[pos] == '.' && char.IsAsciiDigit(Peek(1)))
        {
            kind = TokenKind.Decimal;
            pos++;
            while (pos < end && char.IsAsciiDigit(text[pos])) pos++;
        }
        if (pos < end && (text[pos] is 'e' or 'E'))
        {
            int save = pos;
            pos++;
            if (pos < end && (text[pos] is '+' or '-')) pos++;
            if (pos < end && char.IsAsciiDigit(text[pos]))
            {
                kind = TokenKind.Approximate;
                while (pos < end && char.IsAsciiDigit(text[pos])) pos++;
            }
            else
            {
                pos = save;
            }
        }
        return new Token(kind, Keyword.None, text.Substring(start, pos - start), SpanFrom(start, startLine, startCol));
    }

    /// <summary><c>/*+ ... */</c>: one token whose text is the inside, parsed later by the parser.</summary>
    private Token Hint(int start, int startLine, int startCol)
    {
        pos += 3;
        int inner = pos;
        while (true)
        {
            if (pos >= end)
                throw Error("unterminated hint; expected '*/' before end of input", new SourceSpan(start, 3, startLine, startCol));
            if (text[pos] == '*' && Peek(1) == '/')
            {
                string body = text.Substring(inner, pos - inner);
                pos += 2;
                return new Token(TokenKind.Hint, Keyword.None, body, SpanFrom(start, startLine, startCol));
            }
            if (text[pos] == '\n')
            {
                line++;
                lineStart = pos + 1;
            }
            pos++;
        }
    }

    private Token StringLiteral(int start, int startLine, int startCol)
    {
        pos++; // opening quote
        int segment = pos;
        StringBuilder? sb = null;
        while (true)
        {
            if (pos >= end)
                throw Error("unterminated string literal; expected a closing ' before end of input", new SourceSpan(start, 1, startLine, startCol));
            char c = text[pos];
            if (c == '\'')
            {
                if (Peek(1) == '\'')
                {
                    sb ??= new StringBuilder();
                    sb.Append(text, segment, pos - segment + 1);
                    pos += 2;
                    segment = pos;
                    continue;
                }
                string value = sb is null
                    ? text.Substring(segment, pos - segment)
                    : sb.Append(text, segment, pos - segment).ToString();
                pos++;
                return new Token(TokenKind.String, Keyword.None, value, SpanFrom(start, startLine, startCol));
            }
            if (c == '\n')
            {
                line++;
                lineStart = pos + 1;
            }
            pos++;
        }
    }

    private Token QuotedIdentifier(int start, int startLine, int startCol)
    {
        pos++;
        int segment = pos;
        StringBuilder? sb = null;
        while (true)
        {
            if (pos >= end || text[pos] == '\n')
                throw Error("unterminated quoted identifier; expected a closing `", new SourceSpan(start, 1, startLine, startCol));
            char c = text[pos];
            if (c == '`')
            {
                if (Peek(1) == '`')
                {
                    sb ??= new StringBuilder();
                    sb.Append(text, segment, pos - segment + 1);
                    pos += 2;
                    segment = pos;
                    continue;
                }
                string value = sb is null
                    ? text.Substring(segment, pos - segment)
                    : sb.Append(text, segment, pos - segment).ToString();
                pos++;
                if (value.Length == 0)
                    throw Error("empty quoted identifier", SpanFrom(start, startLine, startCol));
                return new Token(TokenKind.QuotedIdentifier, Keyword.None, value, SpanFrom(start, startLine, startCol));
            }
            pos++;
        }
    }

    private SqlParseException Error(string message, SourceSpan span) => new(message, span, text, fileName);
}
