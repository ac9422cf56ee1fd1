using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

internal static class P
{
    public static T Stmt<T>(string sql) where T : Statement => Assert.IsType<T>(SqlParser.ParseStatement(sql));

    public static Expr Expr(string sql) => SqlParser.ParseExpression(sql);

    public static T Expr<T>(string sql) where T : Expr => Assert.IsType<T>(SqlParser.ParseExpression(sql));

    public static T Query<T>(string sql) where T : QueryExpr => Assert.IsType<T>(SqlParser.ParseQuery(sql));

    public static SelectQuery Select(string sql) => Query<SelectQuery>(sql);

    public static ColumnRef Col(params string[] names) => new(names.Select(n => new Identifier(n)).ToArray());

    public static NumericLiteral Int(int n) => new(n.ToString(System.Globalization.CultureInfo.InvariantCulture), NumericKind.Integer);

    public static ObjectName Name(params string[] parts) => new(parts.Select(n => new Identifier(n)).ToArray());

    public static Identifier Id(string name) => new(name);

    public static SqlParseException Error(string sql, string? fileName = null) =>
        Assert.Throws<SqlParseException>(() => SqlParser.ParseScript(sql, fileName));

    /// <summary>Parses, prints, re-parses, and checks the trees are equal; returns the printed text.</summary>
    public static string RoundTrip(string sql)
    {
        var first = SqlParser.ParseScript(sql);
        string printed = first.ToSql();
        SqlScript second;
        try
        {
            second = SqlParser.ParseScript(printed);
        }
        catch (SqlParseException e)
        {
            throw new Xunit.Sdk.XunitException($"printed SQL does not parse:\n{printed}\n{e.Message}");
        }
        Assert.Equal(first.Statements.Count, second.Statements.Count);
        for (int i = 0; i < first.Statements.Count; i++)
        {
            if (!first.Statements[i].Equals(second.Statements[i]))
                throw new Xunit.Sdk.XunitException($"round trip changed statement {i}:\n{sql}\n--- printed ---\n{printed}\n--- first ---\n{first.Statements[i]}\n--- second ---\n{second.Statements[i]}");
        }
        // Printing is a fixed point after one round.
        Assert.Equal(printed, second.ToSql());
        return printed;
    }
}
