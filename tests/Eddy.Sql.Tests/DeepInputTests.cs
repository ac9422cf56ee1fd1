using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

/// <summary>
/// Input shapes that make deep trees: a stack overflow ends the process, so each must plan or fail with a located error.
/// Expected values are computed here from the shape of the input, not taken from Eddy's output.
/// </summary>
public class DeepInputTests
{
    private const int Terms = 3000;

    private static string Chain(string op, Func<int, string> term) => string.Join($" {op} ", Enumerable.Range(0, Terms).Select(term));

    [Fact]
    public void A_chain_of_3000_ANDs_plans_and_filters()
    {
        // k <> 0 AND k <> 1 AND ... AND k <> 2999: only values outside 0..2999 pass.
        var lines = SessionTests.Run($"""
            CREATE TABLE out_t (k INT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT k FROM (VALUES (5), (3000), (2999), (4000)) AS t(k) WHERE {Chain("AND", i => $"k <> {i}")};
            """);
        Assert.Equal(["+I[3000]", "+I[4000]"], lines);
    }

    [Fact]
    public void A_chain_of_3000_ORs_plans_and_filters()
    {
        var lines = SessionTests.Run($"""
            CREATE TABLE out_t (k INT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT k FROM (VALUES (5), (3000), (2999), (4000)) AS t(k) WHERE {Chain("OR", i => $"k = {i}")};
            """);
        Assert.Equal(["+I[5]", "+I[2999]"], lines);
    }

    [Fact]
    public void A_chain_of_3000_additions_plans_and_computes()
    {
        var lines = SessionTests.Run($"""
            CREATE TABLE out_t (x INT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT {Chain("+", _ => "k")} FROM (VALUES (7)) AS t(k);
            """);
        Assert.Equal([$"+I[{7 * Terms}]"], lines);
    }

    [Fact]
    public void A_chain_of_3000_concatenations_plans_and_computes()
    {
        var lines = SessionTests.Run($"""
            CREATE TABLE out_t (n INT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT CHAR_LENGTH({Chain("||", _ => "s")}) FROM (VALUES ('abc')) AS t(s);
            """);
        Assert.Equal([$"+I[{3 * Terms}]"], lines);
    }

    [Fact]
    public void Deep_case_long_in_list_and_wide_select_plan()
    {
        // CASE nested as deep as the parser allows: k = 7 falls through 7 levels.
        int depth = 200;
        string nested = "";
        for (int i = 0; i < depth; i++) nested += $"CASE WHEN k = {i} THEN {i * 10} ELSE ";
        nested += "-1" + string.Concat(Enumerable.Repeat(" END", depth));
        string inList = string.Join(", ", Enumerable.Range(0, 20_000).Select(i => (i * 2).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var lines = SessionTests.Run($"""
            CREATE TABLE out_t (c INT, even BOOLEAN) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT {nested}, k IN ({inList}) FROM (VALUES (7), (8), (500)) AS t(k);
            """);
        Assert.Equal(["+I[70, false]", "+I[80, true]", "+I[-1, true]"], lines);

        string wide = string.Join(", ", Enumerable.Range(0, Terms).Select(i => $"k + {i} AS c{i}"));
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        var jobs = session.Execute($"""
            CREATE TABLE out_t ({string.Join(", ", Enumerable.Range(0, Terms).Select(i => $"c{i} INT"))}) WITH ('connector' = 'blackhole');
            INSERT INTO out_t SELECT {wide} FROM (VALUES (1)) AS t(k);
            """);
        Assert.Single(jobs);
    }

    [Fact]
    public void A_long_union_chain_plans()
    {
        int branches = 300;
        string union = string.Join(" UNION ALL ", Enumerable.Range(0, branches).Select(i => $"SELECT k + {i} FROM t"));
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        var jobs = session.Execute($"""
            CREATE TABLE t (k INT) WITH ('connector' = 'datagen', 'number-of-rows' = '1');
            CREATE TABLE out_t (k INT) WITH ('connector' = 'blackhole');
            INSERT INTO out_t {union};
            """);
        Assert.Contains("Union", SqlSession.Describe(jobs.Single()), StringComparison.Ordinal);
    }

    [Fact]
    public void A_chain_beyond_the_planners_stack_fails_located_instead_of_ending_the_process()
    {
        // Parsing is iterative; binding recurses once per term and runs out of even the planner's large stack here.
        string chain = string.Join(" + ", Enumerable.Repeat("k", 2_000_000));
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        var e = Assert.Throws<SqlParseException>(() => session.Execute(
            "CREATE TABLE out_t (x INT) WITH ('connector' = 'blackhole');\nINSERT INTO out_t\nSELECT " + chain + " FROM (VALUES (1)) AS t(k);",
            "deep.sql"));
        Assert.Contains("too deeply nested", e.Reason, StringComparison.Ordinal);
        Assert.Equal((3, 8), (e.Line, e.Column));
        Assert.StartsWith("deep.sql: line 3, column 8: ", e.Message, StringComparison.Ordinal);
        // The excerpt quotes a bounded window of the 4 MB line.
        Assert.True(e.Message.Length < 1000, $"message of {e.Message.Length} characters");
    }
}

public class OptionLocationTests
{
    private static SqlParseException Fails(string sql) =>
        Assert.Throws<SqlParseException>(() => new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null, _ => null).Execute(sql, "job.sql"));

    [Fact]
    public void A_malformed_environment_reference_is_refused_at_its_option()
    {
        var e = Fails("""
            CREATE TABLE events (host STRING) WITH ('connector' = 'datagen',
              'number-of-rows' = '${A:-');
            """);
        Assert.Equal((2, 3), (e.Line, e.Column));
        Assert.Contains("malformed environment reference", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_path_and_a_bad_option_value_are_located_at_their_option()
    {
        var e = Fails($"""
            CREATE TABLE events (host STRING) WITH ('connector' = 'filesystem', 'format' = 'json',
              'path' = '{Path.Combine(Path.GetTempPath(), "eddy-no-such-" + Guid.NewGuid().ToString("N"))}');
            CREATE TABLE out_t (host STRING) WITH ('connector' = 'blackhole');
            INSERT INTO out_t SELECT host FROM events;
            """);
        Assert.Equal((2, 3), (e.Line, e.Column));
        Assert.StartsWith("table 'events', option 'path': ", e.Reason, StringComparison.Ordinal);

        var bad = Fails("""
            CREATE TABLE events (host STRING) WITH ('connector' = 'datagen', 'number-of-rows' = 'many');
            CREATE TABLE out_t (host STRING) WITH ('connector' = 'blackhole');
            INSERT INTO out_t SELECT host FROM events;
            """);
        Assert.Equal((1, 66), (bad.Line, bad.Column));
        Assert.Contains("'number-of-rows'", bad.Reason, StringComparison.Ordinal);
    }
}

public class MaskedExcerptTests
{
    [Fact]
    public void The_excerpt_of_an_unset_variable_masks_the_secrets_on_its_line()
    {
        var e = Assert.Throws<SqlParseException>(() => new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null, _ => null).Execute("""
            CREATE TABLE k (a INT) WITH ('connector' = 'datagen', 'fields.a.kind' = 'x password="hunter2" y', 'rows-per-second' = '${NOT_SET}');
            """));
        Assert.Contains("NOT_SET", e.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);
        Assert.Contains("password=\"******\"", e.Excerpt, StringComparison.Ordinal);
        // The caret still marks the option that failed.
        var lines = e.Excerpt.Split('\n');
        Assert.Equal(lines[0].IndexOf("'rows-per-second'", StringComparison.Ordinal), lines[1].IndexOf('^'));
    }

    [Fact]
    public void Url_credentials_are_masked_in_option_maps_and_text()
    {
        var options = SecretOptions.Redact(new Dictionary<string, string>
        {
            ["url"] = "jdbc:postgresql://u:p4ss@h/db?user=u&password=p4ss&sslpassword=p4ss&ssl=true",
        });
        Assert.Equal("jdbc:postgresql://u:******@h/db?user=u&password=******&sslpassword=******&ssl=true", options["url"]);
        Assert.Equal("connecting to postgresql://u:******@h/db failed",
            SecretOptions.RedactText("connecting to postgresql://u:p4ss@h/db failed"));
    }
}
