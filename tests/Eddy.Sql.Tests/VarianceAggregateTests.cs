using System.Globalization;
using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

/// <summary>
/// STDDEV_POP, STDDEV_SAMP, VAR_POP, VAR_SAMP, STDDEV and VARIANCE, rewritten as Flink rewrites them (Welford's M2 and
/// COUNT, then a CAST to the argument's type), checked against PostgreSQL on the same rows: DOUBLE to a relative
/// 1e-9, DECIMAL to its 6 places, integer types truncated (Flink's CAST of the DOUBLE result). NULLs are ignored; a
/// group without values gives NULL, a group of one value 0 for the population forms and NULL for the sample forms.
/// </summary>
public class VarianceAggregateTests
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private sealed record Input(int Id, string K, int? I, double? D, decimal? M);

    private static List<Input> Rows(int seed)
    {
        var random = new Random(seed);
        var rows = new List<Input>();
        int id = 0;
        foreach (var k in new[] { "a", "b", "c", "d" })
        {
            int n = k switch { "a" => 40, "b" => 1, "c" => 3, _ => 3 };
            for (int j = 0; j < n; j++)
            {
                bool allNull = k == "c";
                bool someNull = !allNull && k == "a" && random.Next(6) == 0;
                rows.Add(new Input(id++, k,
                    allNull || someNull ? null : random.Next(-500, 900),
                    allNull || someNull ? null : 1_000_000 + random.Next(-40000, 40000) / 16.0,
                    allNull || someNull ? null : random.Next(-99999, 99999) / 100m));
            }
        }
        return rows;
    }

    // Eddy's VALUES takes literals: the numbers travel as strings and are CAST above (exactly, in both engines).
    private static string Row(Input r) => $"({r.Id}, '{r.K}', {Lit(r.I)}, {Lit(r.D)}, {Lit(r.M)})";

    private static string Typed(IEnumerable<Input> rows, string doubleType, string decimalType) => $"""
        (SELECT id, k, CAST(i AS INT) AS i, CAST(d AS {doubleType}) AS d, CAST(m AS {decimalType}) AS m
         FROM (VALUES {string.Join(", ", rows.Select(Row))}) AS r(id, k, i, d, m)) AS t
        """;

    private static string Lit(object? v) => v switch
    {
        null => "CAST(NULL AS VARCHAR)",
        double d => $"'{d.ToString("R", Inv)}'",
        IFormattable f => $"'{f.ToString(null, Inv)}'",
        _ => $"'{v}'",
    };

    private const string Aggregates =
        "VAR_POP(d), VAR_SAMP(d), STDDEV_POP(d), STDDEV_SAMP(d), VARIANCE(d), STDDEV(d), "
        + "VAR_POP(i), VAR_SAMP(i), STDDEV_POP(i), STDDEV_SAMP(i), VAR_POP(m), STDDEV_SAMP(m)";

    // Which columns are DOUBLE, INT (truncated) and DECIMAL(38, 6), after the key.
    private static readonly char[] Kinds = ['d', 'd', 'd', 'd', 'd', 'd', 'i', 'i', 'i', 'i', 'm', 'm'];

    private static List<string> RunPrint(string sql) => SessionTests.Run("SET 'parallelism.default' = '1';\n" + sql);

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    public void The_variance_family_matches_PostgreSQL_per_group(int seed)
    {
        var rows = Rows(seed);
        var lines = RunPrint($"""
            CREATE TABLE out_t (k STRING, vp DOUBLE, vs DOUBLE, sp DOUBLE, ss DOUBLE, v DOUBLE, s DOUBLE,
              ivp INT, ivs INT, isp INT, iss INT, mvp DECIMAL(38, 6), mss DECIMAL(38, 6)) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT k, {Aggregates}
            FROM {Typed(rows, "DOUBLE", "DECIMAL(8, 2)")} GROUP BY k;
            """);
        var expected = PgReference.Query($"""
            SELECT k, {Aggregates} FROM {Typed(rows, "DOUBLE PRECISION", "NUMERIC(8, 2)")} GROUP BY k ORDER BY k
            """);
        AssertRows(expected, RetractingAggregateTests.Materialize(lines));
    }

    [Fact]
    public void Variances_over_a_changelog_retract_and_match_PostgreSQL_on_the_final_rows()
    {
        // The inner maximum per id changes as rows come: every change retracts the old maximum from the variances.
        var random = new Random(3);
        var rows = Enumerable.Range(0, 150)
            .Select(_ => (Id: random.Next(14), V: random.Next(7) == 0 ? (double?)null : random.Next(-3000, 3000) / 8.0)).ToList();
        string Values(string doubleType) =>
            $"(SELECT id, CAST(v AS {doubleType}) AS v FROM (VALUES {string.Join(", ", rows.Select(r => $"({r.Id}, {Lit(r.V)})"))}) AS r(id, v)) AS t";
        const string Outer = "VAR_POP(m), VAR_SAMP(m), STDDEV_POP(m), STDDEV_SAMP(m)";
        var lines = RunPrint($"""
            CREATE TABLE out_t (g INT, vp DOUBLE, vs DOUBLE, sp DOUBLE, ss DOUBLE) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT g, {Outer}
            FROM (SELECT id, MOD(id, 3) AS g, MAX(v) AS m FROM {Values("DOUBLE")} GROUP BY id)
            GROUP BY g;
            """);
        Assert.Contains(lines, l => l.StartsWith("-U", StringComparison.Ordinal));
        var expected = PgReference.Query($"""
            SELECT g, {Outer}
            FROM (SELECT id, MOD(id, 3) AS g, MAX(v) AS m FROM {Values("DOUBLE PRECISION")} GROUP BY id) AS inner_t
            GROUP BY g ORDER BY g
            """);
        AssertRows(expected, RetractingAggregateTests.Materialize(lines), ['d', 'd', 'd', 'd']);
    }

    [Fact]
    public void Nulls_only_give_null_and_one_value_gives_zero_or_null()
    {
        var lines = RunPrint("""
            CREATE TABLE out_t (k STRING, vp DOUBLE, vs DOUBLE, sp DOUBLE, ss DOUBLE) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT k, VAR_POP(d), VAR_SAMP(d), STDDEV_POP(d), STDDEV_SAMP(d)
            FROM (SELECT k, CAST(d AS DOUBLE) AS d FROM (VALUES ('n', CAST(NULL AS VARCHAR)), ('n', CAST(NULL AS VARCHAR)), ('one', '2.5')) AS r(k, d)) AS t
            GROUP BY k;
            """);
        var expected = PgReference.Query("""
            SELECT k, VAR_POP(d), VAR_SAMP(d), STDDEV_POP(d), STDDEV_SAMP(d)
            FROM (VALUES ('n', CAST(NULL AS DOUBLE PRECISION)), ('n', NULL), ('one', 2.5)) AS t(k, d) GROUP BY k ORDER BY k
            """);
        AssertRows(expected, RetractingAggregateTests.Materialize(lines), ['d', 'd', 'd', 'd']);
    }

    [Fact]
    public void A_filter_applies_to_the_rewritten_aggregates()
    {
        var lines = RunPrint("""
            CREATE TABLE out_t (vp DOUBLE, n BIGINT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT VAR_POP(d) FILTER (WHERE d > 1), COUNT(*)
            FROM (SELECT CAST(d AS DOUBLE) AS d FROM (VALUES (1), (2), (4), (9)) AS r(d)) AS t;
            """);
        var expected = PgReference.Query("""
            SELECT VAR_POP(d) FILTER (WHERE d > 1), COUNT(*) FROM (VALUES (1.0::float8), (2.0), (4.0), (9.0)) AS t(d)
            """);
        Assert.Equal(expected[0][0] is double e ? e : double.NaN, double.Parse(Columns(RetractingAggregateTests.Materialize(lines)[0])[0], Inv), 9);
    }

    [Fact]
    public void Hopping_windows_merge_their_slices_accumulators_as_PostgreSQL_computes_each_window()
    {
        // HOP(10 s, 30 s): each window merges three slices' M2 accumulators (Chan's combination, as Flink's merge).
        var random = new Random(11);
        var rows = Enumerable.Range(0, 140).Select(i => (Second: i * 2 + random.Next(2), P: random.Next(8) == 0 ? (double?)null : random.Next(-4000, 4000) / 4.0)).ToList();
        string dir = Directory.CreateTempSubdirectory("eddy-variance-").FullName;
        try
        {
            File.WriteAllLines(Path.Combine(dir, "rows.jsonl"), rows.Select(r =>
                "{\"p\":" + (r.P is { } p ? p.ToString("R", Inv) : "null") + ",\"sec\":" + r.Second.ToString(Inv) + "}"));
            var lines = RunPrint($$"""
                CREATE TABLE t (p DOUBLE, sec BIGINT, ts AS TO_TIMESTAMP_LTZ(sec * 1000, 3), WATERMARK FOR ts AS ts)
                  WITH ('connector' = 'filesystem', 'path' = '{{dir}}', 'format' = 'json');
                CREATE TABLE out_t (ws TIMESTAMP(3), vp DOUBLE, vs DOUBLE, sp DOUBLE, ss DOUBLE) WITH ('connector' = 'print');
                INSERT INTO out_t
                SELECT window_start, VAR_POP(p), VAR_SAMP(p), STDDEV_POP(p), STDDEV_SAMP(p)
                FROM TABLE(HOP(TABLE t, DESCRIPTOR(ts), INTERVAL '10' SECOND, INTERVAL '30' SECOND))
                GROUP BY window_start, window_end;
                """);
            string values = string.Join(", ", rows.Select(r => $"({r.Second}, CAST({(r.P is { } p ? p.ToString("R", Inv) : "NULL")} AS DOUBLE PRECISION))"));
            var expected = PgReference.Query($"""
                SELECT to_char(to_timestamp(w) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS'),
                       VAR_POP(p), VAR_SAMP(p), STDDEV_POP(p), STDDEV_SAMP(p)
                FROM (VALUES {values}) AS r(sec, p) JOIN generate_series(-20, 400, 10) AS w ON r.sec >= w AND r.sec < w + 30
                GROUP BY w ORDER BY w
                """);
            AssertRows(expected, RetractingAggregateTests.Materialize(lines), ['d', 'd', 'd', 'd']);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("SELECT VAR_POP(DISTINCT d) FROM t", "VAR_POP(DISTINCT ...) is not supported", 1, 8)]
    [InlineData("SELECT STDDEV_SAMP(s) FROM t", "STDDEV_SAMP takes a numeric argument", 1, 20)]
    [InlineData("SELECT VARIANCE(d, d) FROM t", "VARIANCE takes one argument", 1, 8)]
    [InlineData("SELECT STDDEV_POP(d) OVER (ORDER BY ts) FROM t", "STDDEV_POP in an OVER window is not supported", 1, 8)]
    [InlineData("SELECT k FROM t WHERE VAR_POP(d) > 1", "aggregate function VAR_POP is not allowed here", 1, 23)]
    public void Unsupported_forms_are_refused_where_written(string query, string message, int line, int column)
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        session.Execute("""
            CREATE TABLE t (k STRING, d DOUBLE, s STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts)
              WITH ('connector' = 'datagen', 'number-of-rows' = '1');
            """);
        var e = Assert.Throws<SqlParseException>(() => session.Execute(query));
        Assert.Contains(message, e.Message);
        Assert.Contains($"line {line}, column {column}", e.Message);
    }

    private static void AssertRows(List<object?[]> expected, List<string> actual, char[]? kinds = null)
    {
        kinds ??= Kinds;
        Assert.Equal(expected.Count, actual.Count);
        for (int r = 0; r < expected.Count; r++)
        {
            var cells = Columns(actual[r]);
            Assert.Equal(Convert.ToString(expected[r][0], Inv), cells[0]);
            for (int c = 0; c < kinds.Length; c++)
            {
                object? want = expected[r][c + 1];
                string got = cells[c + 1];
                string where = $"row {actual[r]}, column {c + 1}";
                if (want is null)
                {
                    Assert.True(got == "null", $"{where}: expected null");
                    continue;
                }
                double exact = Convert.ToDouble(want, Inv);
                switch (kinds[c])
                {
                    case 'd':
                        Assert.True(Math.Abs(double.Parse(got, Inv) - exact) <= 1e-9 * Math.Max(1, Math.Abs(exact)), $"{where}: {got} vs {exact}");
                        break;
                    case 'i':
                        // Flink casts the DOUBLE result to INT: truncation. A value next to an integer would make the
                        // truncation depend on the last bits, so the data must not produce one.
                        // (A single value's variance is exactly 0 in both.)
                        Assert.True(exact == 0 || Math.Abs(exact - Math.Round(exact)) > 1e-6, $"{where}: {exact} is too close to an integer for this check");
                        Assert.Equal(((long)Math.Truncate(exact)).ToString(Inv), got);
                        break;
                    default:
                        Assert.True(Math.Abs(decimal.Parse(got, Inv) - Math.Round(Convert.ToDecimal(want, Inv), 6)) <= 0.000001m, $"{where}: {got} vs {want}");
                        Assert.Equal(6, got.Length - got.IndexOf('.') - 1);
                        break;
                }
            }
        }
    }

    private static string[] Columns(string row) => row.Trim('[', ']').Split(", ");
}
