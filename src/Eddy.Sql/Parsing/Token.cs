namespace Eddy.Sql.Parsing;

public enum TokenKind
{
    EndOfInput,
    /// <summary>An unquoted word: identifier or keyword (see <see cref="Token.Keyword"/>).</summary>
    Word,
    /// <summary>A back-quoted identifier; <see cref="Token.Text"/> is the unescaped name.</summary>
    QuotedIdentifier,
    /// <summary>A string literal; <see cref="Token.Text"/> is the unescaped value.</summary>
    String,
    Integer,
    Decimal,
    /// <summary>A number with an exponent, e.g. <c>1.5E3</c>.</summary>
    Approximate,
    /// <summary>Punctuation or an operator; <see cref="Token.Text"/> is the symbol.</summary>
    Symbol,
    /// <summary>A <c>/*+ ... */</c> hint comment; <see cref="Token.Text"/> is the text between the markers.</summary>
    Hint,
}

/// <summary>One lexical token. <see cref="Keyword"/> is set for unquoted words that spell a keyword.</summary>
public readonly record struct Token(TokenKind Kind, Keyword Keyword, string Text, SourceSpan Span)
{
    public bool IsSymbol(string symbol) => Kind == TokenKind.Symbol && Text == symbol;

    public bool Is(Keyword keyword) => Keyword == keyword && Kind == TokenKind.Word;

    public bool IsWord => Kind == TokenKind.Word;

    /// <summary>How the token is shown in error messages.</summary>
    public string Describe() => Kind switch
    {
        TokenKind.EndOfInput => "end of input",
        TokenKind.String => $"string literal '{Text.Replace("'", "''", StringComparison.Ordinal)}'",
        TokenKind.QuotedIdentifier => $"'`{Text}`'",
        _ => $"'{Text}'",
    };
}
