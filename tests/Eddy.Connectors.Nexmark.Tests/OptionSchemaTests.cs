using Eddy.Sql;
using Eddy.Sql.Parsing;

namespace Eddy.Connectors.Nexmark.Tests;

/// <summary>
/// nexmark checks its options through its declared schema when a query uses the table: each error names the table and
/// the option and is located at the option in the CREATE TABLE (the option sits on line 2).
/// </summary>
public class OptionSchemaTests
{
    private const string Columns = "event_type INT, "
        + "person ROW<id BIGINT, name VARCHAR, emailAddress VARCHAR, creditCard VARCHAR, city VARCHAR, state VARCHAR, `dateTime` TIMESTAMP(3), extra VARCHAR>, "
        + "auction ROW<id BIGINT, itemName VARCHAR, description VARCHAR, initialBid BIGINT, reserve BIGINT, `dateTime` TIMESTAMP(3), expires TIMESTAMP(3), seller BIGINT, category BIGINT, extra VARCHAR>, "
        + "bid ROW<auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, `dateTime` TIMESTAMP(3), extra VARCHAR>";

    private static SqlParseException Refused(string with)
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        return Assert.Throws<SqlParseException>(() => session.Execute(
            $"CREATE TABLE nx ({Columns}) WITH (\n  'connector' = 'nexmark', {with});\nCREATE TABLE snk (t INT) WITH ('connector' = 'blackhole');\nINSERT INTO snk SELECT event_type FROM nx;"));
    }

    [Fact]
    public void An_unknown_option_is_refused_at_the_option_with_the_nearest_name()
    {
        var e = Refused("'first-event.rat' = '10'");
        Assert.Equal("table 'nx', option 'first-event.rat': unknown option for connector 'nexmark'; did you mean 'first-event.rate'?", e.Reason);
        Assert.Equal((2, 3 + "'connector' = 'nexmark', ".Length), (e.Line, e.Column));
    }

    [Fact]
    public void A_value_of_the_wrong_form_names_the_form()
    {
        Assert.Equal("table 'nx', option 'person.avg-size': unknown size unit 'bytez' in '200 bytez' (b, kb, mb, gb, tb)", Refused("'person.avg-size' = '200 bytez'").Reason);
        Assert.Equal("table 'nx', option 'keep-alive': expected true or false, got 'yes'", Refused("'keep-alive' = 'yes'").Reason);
        Assert.Equal("table 'nx', option 'stop-at': expected an integer of at least -1, got '-2'", Refused("'stop-at' = '-2'").Reason);
    }
}
