using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

public class HintTests
{
    [Fact]
    public void Table_options_hint()
    {
        const string sql = "SELECT * FROM kafka_table /*+ OPTIONS('scan.startup.mode' = 'earliest-offset', 'topic' = '${T}') */ AS k";
        var t = Assert.IsType<NamedTableRef>(P.Select(sql).From);
        var h = Assert.Single(t.Hints);
        Assert.Equal(P.Id("OPTIONS"), h.Name);
        Assert.Equal([new TableOption("scan.startup.mode", "earliest-offset"), new TableOption("topic", "${T}")], h.Options);
        Assert.Empty(h.Arguments);
        Assert.Equal(P.Id("k"), t.Alias);
        Assert.Equal("'scan.startup.mode' = 'earliest-offset'", sql.Substring(h.Options[0].Span.Offset, h.Options[0].Span.Length));
        Assert.Equal(1, h.Span.Line);
        Assert.Equal(31, h.Span.Column);
    }

    [Fact]
    public void Query_hints_after_select()
    {
        var s = P.Select("SELECT /*+ BROADCAST(dim), STATE_TTL('orders' = '1d') */ * FROM orders JOIN dim ON orders.k = dim.k");
        Assert.Equal(2, s.Hints.Count);
        Assert.Equal(new SqlHint(P.Id("BROADCAST"), NodeList<TableOption>.Empty, new[] { "dim" }), s.Hints[0]);
        Assert.Equal(new SqlHint(P.Id("STATE_TTL"), new[] { new TableOption("orders", "1d") }, NodeList<string>.Empty), s.Hints[1]);
    }

    [Fact]
    public void Sink_hints()
    {
        var i = P.Stmt<Insert>("INSERT INTO sink /*+ OPTIONS('sink.parallelism' = '2') */ SELECT * FROM src");
        Assert.Equal([new TableOption("sink.parallelism", "2")], Assert.Single(i.TargetHints).Options);
    }

    [Fact]
    public void Hints_elsewhere_are_ignored_like_comments()
    {
        var s = P.Select("SELECT a /*+ NOT_A_PLACE_FOR_HINTS */ FROM t");
        Assert.Empty(s.Hints);
        Assert.Equal(new SelectExpr(P.Col("a")), s.Items.Single());
    }

    [Fact]
    public void Hints_on_a_later_line_keep_positions()
    {
        var t = Assert.IsType<NamedTableRef>(P.Select("SELECT *\nFROM t\n  /*+ OPTIONS(\n   'a' = 'b') */").From);
        Assert.Equal((4, 4), (t.Hints[0].Options[0].Span.Line, t.Hints[0].Options[0].Span.Column));
    }

    [Fact]
    public void Bad_hint_reports_position_inside_the_hint()
    {
        var e = P.Error("SELECT * FROM t /*+ OPTIONS('a' = 1) */");
        Assert.Equal("expected a hint option value string but found '1'", e.Reason);
        Assert.Equal((1, 35), (e.Line, e.Column));
    }

    [Theory]
    [InlineData("SELECT * FROM t /*+ OPTIONS('a' = 'b', 'c.d' = 'e') */ AS x JOIN u /*+ OPTIONS('f' = 'g') */ ON TRUE")]
    [InlineData("SELECT /*+ BROADCAST(a, b), MY_HINT, STATE_TTL('t' = '1h') */ DISTINCT * FROM a")]
    [InlineData("INSERT INTO s SELECT * FROM t /*+ OPTIONS('x' = 'y') */ FOR SYSTEM_TIME AS OF t.p")]
    [InlineData("INSERT INTO s /*+ OPTIONS('sink.parallelism' = '2') */ PARTITION (p = 1) SELECT * FROM t")]
    public void Round_trip(string sql) => P.RoundTrip(sql);
}
