using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests.Parsing;

public class LexerTests
{
    private static List<Token> Lex(string sql) => Lexer.Tokenize(sql);

    [Fact]
    public void Token_kinds_and_keywords()
    {
        var t = Lex("SELECT `my col`, 'it''s', 42, 3.5, 1e3, x <> y != z <= >= || => ;");
        Assert.Equal(
            [TokenKind.Word, TokenKind.QuotedIdentifier, TokenKind.Symbol, TokenKind.String, TokenKind.Symbol, TokenKind.Integer,
             TokenKind.Symbol, TokenKind.Decimal, TokenKind.Symbol, TokenKind.Approximate, TokenKind.Symbol,
             TokenKind.Word, TokenKind.Symbol, TokenKind.Word, TokenKind.Symbol, TokenKind.Word, TokenKind.Symbol, TokenKind.Symbol,
             TokenKind.Symbol, TokenKind.Symbol, TokenKind.Symbol, TokenKind.EndOfInput],
            t.Select(x => x.Kind));
        Assert.Equal(Keyword.SELECT, t[0].Keyword);
        Assert.Equal("my col", t[1].Text);
        Assert.Equal("it's", t[3].Text);
        Assert.Equal(["<>", "!=", "<=", ">=", "||", "=>", ";"], t.Skip(12).Where(x => x.Kind == TokenKind.Symbol).Select(x => x.Text).Skip(0).Take(7));
    }

    [Fact]
    public void Keywords_are_case_insensitive_but_text_is_preserved()
    {
        var t = Lex("select Select sElEcT");
        Assert.All(t.Take(3), x => Assert.Equal(Keyword.SELECT, x.Keyword));
        Assert.Equal(["select", "Select", "sElEcT"], t.Take(3).Select(x => x.Text));
        Assert.Equal(Keyword.None, Lex("`select`")[0].Keyword);
    }

    [Fact]
    public void Positions_count_lines_and_columns()
    {
        var t = Lex("a\n  bc -- comment\n/* x\ny */ 'd\ne' f");
        Assert.Equal(new SourceSpan(0, 1, 1, 1), t[0].Span);
        Assert.Equal(new SourceSpan(4, 2, 2, 3), t[1].Span);
        Assert.Equal(new SourceSpan(28, 5, 4, 6), t[2].Span);
        Assert.Equal("d\ne", t[2].Text);
        Assert.Equal(new SourceSpan(34, 1, 5, 4), t[3].Span);
        Assert.Equal(TokenKind.EndOfInput, t[4].Kind);
        Assert.Equal(5, t[4].Span.Line);
    }

    [Fact]
    public void Strings_keep_environment_references_verbatim()
    {
        var t = Lex("'${KAFKA_URL}' '${A}:${B}' 'x''${Y}'''");
        Assert.Equal(["${KAFKA_URL}", "${A}:${B}", "x'${Y}'"], t.Take(3).Select(x => x.Text));
    }

    [Fact]
    public void Numbers()
    {
        Assert.Equal(("123", TokenKind.Integer), (Lex("123")[0].Text, Lex("123")[0].Kind));
        Assert.Equal(("1.25", TokenKind.Decimal), (Lex("1.25")[0].Text, Lex("1.25")[0].Kind));
        Assert.Equal((".25", TokenKind.Decimal), (Lex(".25")[0].Text, Lex(".25")[0].Kind));
        Assert.Equal(("1.5e+10", TokenKind.Approximate), (Lex("1.5e+10")[0].Text, Lex("1.5e+10")[0].Kind));
        Assert.Equal(("2E3", TokenKind.Approximate), (Lex("2E3")[0].Text, Lex("2E3")[0].Kind));
        // "t.1" style access and "1." followed by a word are not numbers with exponents
        var t = Lex("1e x");
        Assert.Equal(["1", "e", "x"], t.Take(3).Select(x => x.Text));
    }

    [Fact]
    public void Minus_minus_is_a_comment_but_minus_space_minus_is_not()
    {
        Assert.Equal(2, Lex("a --b").Count);
        Assert.Equal(4, Lex("a - -b").Count + 0 - 1);
    }

    [Fact]
    public void Hints_are_single_tokens()
    {
        var t = Lex("t /*+ OPTIONS('a'='b') */ x /* plain */ y");
        Assert.Equal([TokenKind.Word, TokenKind.Hint, TokenKind.Word, TokenKind.Word, TokenKind.EndOfInput], t.Select(x => x.Kind));
        Assert.Equal(" OPTIONS('a'='b') ", t[1].Text);
        Assert.Equal(new SourceSpan(2, 23, 1, 3), t[1].Span);
    }
}
