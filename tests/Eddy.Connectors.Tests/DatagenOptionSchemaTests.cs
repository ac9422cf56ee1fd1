using Eddy.Connectors;
using Eddy.Sql;
using Eddy.Sql.Connectors;
using Eddy.Sql.Parsing;

namespace Eddy.Tests;

/// <summary>
/// datagen and web-traffic check their options through their declared schemas when a query uses the table: each error
/// names the table and the option and is located at that option in the CREATE TABLE (line and column of the key).
/// </summary>
public class DatagenOptionSchemaTests
{
    private static readonly ConnectorRegistry Registry = new(DatagenConnectors.All);

    /// <summary>The error of planning a query of a table declared with <paramref name="with"/>; the option sits on line 2.</summary>
    private static SqlParseException Refused(string columns, string with)
    {
        var session = new SqlSession(Registry, TextWriter.Null, TextWriter.Null);
        return Assert.Throws<SqlParseException>(() => session.Execute($"CREATE TABLE src ({columns}) WITH (\n  {with});\nCREATE TABLE snk ({columns}) WITH ('connector' = 'blackhole');\nINSERT INTO snk SELECT * FROM src;"));
    }

    [Fact]
    public void An_unknown_option_is_refused_at_the_option_with_the_nearest_name()
    {
        var e = Refused("a INT", "'connector' = 'datagen', 'rows-per-secnd' = '5'");
        Assert.Equal("table 'src', option 'rows-per-secnd': unknown option for connector 'datagen'; did you mean 'rows-per-second'?", e.Reason);
        Assert.Equal((2, 28), (e.Line, e.Column));

        e = Refused("a INT", "'connector' = 'datagen', 'fields.a.lenght' = '5'");
        Assert.Equal("table 'src', option 'fields.a.lenght': unknown option for connector 'datagen'; did you mean 'fields.a.length'?", e.Reason);

        e = Refused("url STRING", "'connector' = 'web-traffic', 'evnets-per-second' = '5'");
        Assert.Equal("table 'src', option 'evnets-per-second': unknown option for connector 'web-traffic'; did you mean 'events-per-second'?", e.Reason);
    }

    [Fact]
    public void A_value_of_the_wrong_form_names_the_form()
    {
        Assert.Equal("table 'src', option 'number-of-rows': expected a non-negative integer, got 'ten'",
            Refused("a INT", "'connector' = 'datagen', 'number-of-rows' = 'ten'").Reason);
        Assert.Equal("table 'src', option 'fields.a.kind': expected one of random, sequence, got 'sequense'; did you mean 'sequence'?",
            Refused("a INT", "'connector' = 'datagen', 'fields.a.kind' = 'sequense'").Reason);
        Assert.Equal("table 'src', option 'fields.a.max-past': expected a duration such as '5000', '10 s' or '1 min', got 'a while'",
            Refused("a TIMESTAMP(3)", "'connector' = 'datagen', 'fields.a.max-past' = 'a while'").Reason);
        Assert.Equal("table 'src', option 'max-lateness': expected a duration such as '5000', '10 s' or '1 min', got 'late'",
            Refused("url STRING", "'connector' = 'web-traffic', 'max-lateness' = 'late'").Reason);
    }

    [Fact]
    public void A_template_option_for_a_column_the_table_lacks_is_refused_with_the_nearest_column()
    {
        var e = Refused("amount INT", "'connector' = 'datagen', 'fields.amuont.min' = '1'");
        Assert.Equal("table 'src', option 'fields.amuont.min': no column 'amuont' (the columns are amount); did you mean 'amount'?", e.Reason);
        Assert.Equal((2, 28), (e.Line, e.Column));
    }

    [Fact]
    public void A_sequence_without_its_required_bounds_is_refused()
    {
        Assert.Equal("table 'src', option 'fields.a.end': required for a sequence field",
            Refused("a INT", "'connector' = 'datagen', 'fields.a.kind' = 'sequence', 'fields.a.start' = '1'").Reason);
    }

    [Fact]
    public void The_schemas_declare_Flinks_datagen_options_with_Flinks_defaults()
    {
        // Defaults from Flink's datagen connector page: rows-per-second 10000, kind random, max-past 0, var-len false, null-rate 0.
        var markdown = DatagenOptions.OptionSchema.ToMarkdown();
        Assert.Contains("| `rows-per-second` | Long | `10000` |", markdown);
        Assert.Contains("| `fields.<name>.kind` | Enum | `random` |", markdown);
        Assert.Contains("| `fields.<name>.max-past` | Duration | `0 s` |", markdown);
        Assert.Contains("| `fields.<name>.var-len` | Boolean | `false` |", markdown);
        Assert.Contains("| `fields.<name>.null-rate` | Double | `0` |", markdown);
        Assert.Contains("| `start` | Timestamp | `2024-01-01T00:00:00Z` |", WebTrafficOptions.OptionSchema.ToMarkdown());
    }
}
