using System.Collections;
using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests.Parsing;

/// <summary>Every node carries a span that lies inside its parent's span and points at the right text.</summary>
public class SpanTests
{
    private static IEnumerable<(SqlNode Parent, SqlNode Child)> Children(SqlNode node)
    {
        foreach (var prop in node.GetType().GetProperties())
        {
            if (prop.GetIndexParameters().Length > 0 || prop.Name == "EqualityContract") continue;
            object? value = prop.GetValue(node);
            foreach (var child in Flatten(value)) yield return (node, child);
        }
    }

    private static IEnumerable<SqlNode> Flatten(object? value)
    {
        switch (value)
        {
            case SqlNode n:
                yield return n;
                break;
            case string:
                break;
            case IEnumerable e:
                foreach (var item in e)
                {
                    foreach (var n in Flatten(item)) yield return n;
                }
                break;
        }
    }

    private static int CheckTree(SqlNode root, string text)
    {
        int count = 0;
        var stack = new Stack<SqlNode>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            count++;
            var s = node.Span;
            Assert.True(s.Line >= 1 && s.Column >= 1, $"{node.GetType().Name} has no position");
            Assert.True(s.Length > 0, $"{node.GetType().Name} at {s} has an empty span");
            Assert.True(s.End <= text.Length, $"{node.GetType().Name} span {s} runs past the text");
            // line and column agree with the offset
            int line = 1 + text.AsSpan(0, s.Offset).Count('\n');
            int col = s.Offset - (text.LastIndexOf('\n', Math.Max(0, s.Offset - 1)) + 1) + 1;
            if (s.Offset > 0 && text[s.Offset - 1] == '\n') col = 1;
            Assert.Equal((line, col), (s.Line, s.Column));
            foreach (var (parent, child) in Children(node))
            {
                if (child is not (ObjectName or Identifier) || parent is not TypeSpec)
                {
                    Assert.True(child.Span.Offset >= parent.Span.Offset && child.Span.End <= parent.Span.End,
                        $"{child.GetType().Name} {child.Span} '{Text(text, child.Span)}' lies outside its parent {parent.GetType().Name} {parent.Span} '{Text(text, parent.Span)}'");
                }
                stack.Push(child);
            }
        }
        return count;
    }

    private static string Text(string text, SourceSpan s) => text.Substring(s.Offset, Math.Min(s.Length, text.Length - s.Offset));

    [Fact]
    public void Lab_script_nodes_all_have_nested_spans()
    {
        var script = SqlParser.ParseScript(LabTests.Script);
        Assert.True(CheckTree(script, LabTests.Script) > 100);
    }

    [Fact]
    public void Generated_script_nodes_all_have_nested_spans()
    {
        var text = PerformanceTests.GenerateScript(60);
        Assert.True(CheckTree(SqlParser.ParseScript(text), text) > 300);
    }

    [Fact]
    public void Round_trip_inputs_all_have_nested_spans()
    {
        foreach (var row in RoundTripCorpus.Methods()
                     .SelectMany(m => m.GetCustomAttributes(typeof(InlineDataAttribute), false).Cast<InlineDataAttribute>()))
        {
            var sql = (string)row.GetData(null!).Single()[0];
            CheckTree(SqlParser.ParseScript(sql), sql);
        }
    }

    [Fact]
    public void Spans_point_at_the_written_text()
    {
        const string sql = "SELECT `my col` AS c, COUNT(DISTINCT x) FILTER (WHERE y > 0) FROM cat.db.t AS a WHERE a.z IS NOT NULL";
        var s = P.Select(sql);
        Assert.Equal("`my col` AS c", Text(sql, s.Items[0].Span));
        Assert.Equal("`my col`", Text(sql, ((SelectExpr)s.Items[0]).Expression.Span));
        Assert.Equal("COUNT(DISTINCT x) FILTER (WHERE y > 0)", Text(sql, s.Items[1].Span));
        Assert.Equal("cat.db.t AS a", Text(sql, s.From!.Span));
        Assert.Equal("cat.db.t", Text(sql, ((NamedTableRef)s.From).Name.Span));
        Assert.Equal("a.z IS NOT NULL", Text(sql, s.Where!.Span));
        Assert.Equal(sql, Text(sql, s.Span));
    }
}
