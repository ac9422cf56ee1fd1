using System.Globalization;
using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

/// <summary>
/// ARRAY_AGG, JSON_ARRAYAGG, JSON_OBJECTAGG and PERCENTILE, as Flink's ArrayAggFunction, JsonArrayAggFunction,
/// JsonObjectAggFunction and PercentileAggFunction. Expected values: PostgreSQL's array_agg (ordered by arrival) and
/// percentile_cont (the same continuous percentile) on the same rows, Flink's documented examples for the JSON
/// aggregates, and LINQ; over a changelog, changelogs worked by hand from Flink's retract methods.
/// </summary>
public class CollectingAggregateTests
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private static List<string> Run(string query, string sinkColumns) => SessionTests.Run($"""
        SET 'parallelism.default' = '1';
        CREATE TABLE out_t ({sinkColumns}) WITH ('connector' = 'print');
        INSERT INTO out_t {query};
        """);

    private static List<(int Id, string K, int? V)> Rows(int seed)
    {
        var random = new Random(seed);
        var rows = new List<(int, string, int?)>();
        for (int i = 0; i < 60; i++)
        {
            string k = "abcd"[random.Next(4)].ToString();
            // Group d never has a value: ARRAY_AGG IGNORE NULLS and PERCENTILE give NULL there.
            int? v = k == "d" || random.Next(5) == 0 ? null : random.Next(-20, 40);
            rows.Add((i, k, v));
        }
        return rows;
    }

    private static string Values(IEnumerable<(int Id, string K, int? V)> rows) =>
        "(VALUES " + string.Join(", ", rows.Select(r => $"({r.Id}, '{r.K}', {(r.V is null ? "CAST(NULL AS INT)" : r.V.Value.ToString(Inv))})")) + ") AS t(id, k, v)";

    private static string Array(object? value) => value switch
    {
        null => "null",
        int[] ints => "[" + string.Join(", ", ints.Select(i => i.ToString(Inv))) + "]",
        int?[] ints => "[" + string.Join(", ", ints.Select(i => i?.ToString(Inv) ?? "null")) + "]",
        double[] doubles => "[" + string.Join(", ", doubles.Select(Row.FormatDouble)) + "]",
        double?[] doubles => "[" + string.Join(", ", doubles.Select(d => d is null ? "null" : Row.FormatDouble(d.Value))) + "]",
        double d => Row.FormatDouble(d),
        _ => throw new InvalidOperationException(value.GetType().Name),
    };

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void Array_agg_matches_PostgreSQL_array_agg_in_arrival_order(int seed)
    {
        var rows = Rows(seed);
        var lines = Run($"SELECT k, ARRAY_AGG(v), ARRAY_AGG(v IGNORE NULLS), ARRAY_AGG(v RESPECT NULLS) FROM {Values(rows)} GROUP BY k",
            "k STRING, a ARRAY<INT>, b ARRAY<INT>, c ARRAY<INT>");
        var expected = PgReference.Query($"""
            SELECT k, '[' || array_to_string(array_agg(v ORDER BY id), ', ', 'null') || ']',
              '[' || array_to_string(array_agg(v ORDER BY id) FILTER (WHERE v IS NOT NULL), ', ', 'null') || ']'
            FROM {Values(rows)} GROUP BY k ORDER BY k
            """).Select(r => $"[{r[0]}, {r[1] ?? "null"}, {r[2] ?? "null"}, {r[1] ?? "null"}]").ToList();
        Assert.Equal(expected, RetractingAggregateTests.Materialize(lines));
    }

    [Fact]
    public void Array_agg_distinct_keeps_each_value_once_in_first_arrival_order()
    {
        var rows = Rows(3);
        var lines = Run($"SELECT k, ARRAY_AGG(DISTINCT v IGNORE NULLS), ARRAY_AGG(DISTINCT MOD(id, 3) IGNORE NULLS) FILTER (WHERE v > 0) FROM {Values(rows)} GROUP BY k",
            "k STRING, a ARRAY<INT>, b ARRAY<INT>");
        string A(IEnumerable<int> xs) => xs.Any() ? "[" + string.Join(", ", xs) + "]" : "null";
        var expected = rows.GroupBy(r => r.K).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"[{g.Key}, {A(g.Where(r => r.V is not null).Select(r => r.V!.Value).Distinct())}, "
                + $"{A(g.Where(r => r.V > 0).Select(r => r.Id % 3).Distinct())}]")
            .ToList();
        Assert.Equal(expected, RetractingAggregateTests.Materialize(lines));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(9)]
    public void Percentile_matches_PostgreSQL_percentile_cont(int seed)
    {
        var rows = Rows(seed);
        var lines = Run($"""
            SELECT k, PERCENTILE(v, 0.5), PERCENTILE(v, 0), PERCENTILE(v, 1.0), PERCENTILE(CAST(v AS DOUBLE) / 4, ARRAY[0.3, 0.75, 0.1]),
              PERCENTILE(CAST(v AS DECIMAL(10, 2)), 0.37)
            FROM {Values(rows)} GROUP BY k
            """, "k STRING, m DOUBLE, lo DOUBLE, hi DOUBLE, a ARRAY<DOUBLE>, d DOUBLE");
        var expected = PgReference.Query($"""
            SELECT k, percentile_cont(0.5) WITHIN GROUP (ORDER BY v), percentile_cont(0) WITHIN GROUP (ORDER BY v),
              percentile_cont(1.0) WITHIN GROUP (ORDER BY v), percentile_cont(ARRAY[0.3, 0.75, 0.1]) WITHIN GROUP (ORDER BY v / 4.0),
              percentile_cont(0.37) WITHIN GROUP (ORDER BY v)
            FROM {Values(rows)} GROUP BY k ORDER BY k
            """);
        var actual = RetractingAggregateTests.Materialize(lines);
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            // Both interpolate (higher - p) * lo + (p - lower) * hi in doubles; the last bits may differ: compare to 1e-9.
            var fields = Split(actual[i]);
            var want = expected[i];
            Assert.Equal(want[0], fields[0]);
            AssertClose(want[1] as double?, fields[1]);
            AssertClose(want[2] as double?, fields[2]);
            AssertClose(want[3] as double?, fields[3]);
            if (want[4] is null) Assert.Equal("null", fields[4]);
            else
            {
                var parts = fields[4].Trim('[', ']').Split(", ");
                var wantParts = (double[])want[4]!;
                Assert.Equal(wantParts.Length, parts.Length);
                for (int j = 0; j < parts.Length; j++) AssertClose(wantParts[j], parts[j]);
            }
            AssertClose(want[5] as double?, fields[5]);
        }
    }

    private static void AssertClose(double? expected, string actual)
    {
        if (expected is null)
        {
            Assert.Equal("null", actual);
            return;
        }
        double a = double.Parse(actual, Inv);
        Assert.True(Math.Abs(a - expected.Value) <= 1e-9 * Math.Max(1, Math.Abs(expected.Value)), $"expected {expected}, got {actual}");
    }

    /// <summary>The fields of a printed row "[a, [1, 2], 3]", keeping bracketed arrays whole.</summary>
    private static List<string> Split(string row)
    {
        var fields = new List<string>();
        int depth = 0, start = 1;
        for (int i = 1; i < row.Length - 1; i++)
        {
            if (row[i] == '[') depth++;
            else if (row[i] == ']') depth--;
            else if (depth == 0 && row[i] == ',' && row[i + 1] == ' ')
            {
                fields.Add(row[start..i]);
                start = i + 2;
            }
        }
        fields.Add(row[start..^1]);
        return fields;
    }

    [Fact]
    public void Percentile_with_a_frequency_counts_each_value_that_many_times()
    {
        // Flink: a NULL or non-positive frequency skips the row. PostgreSQL on the rows repeated freq times.
        var lines = Run("""
            SELECT PERCENTILE(v, ARRAY[0.2, 0.5, 0.9], f), PERCENTILE(v, 0.5, f) FROM (VALUES (1, 3), (4, 1), (10, 2), (7, 0), (8, -1), (9, CAST(NULL AS INT)))
              AS t(v, f)
            """, "a ARRAY<DOUBLE>, m DOUBLE");
        var pg = PgReference.Query("""
            SELECT percentile_cont(ARRAY[0.2, 0.5, 0.9]) WITHIN GROUP (ORDER BY v), percentile_cont(0.5) WITHIN GROUP (ORDER BY v)
            FROM (VALUES (1, 3), (4, 1), (10, 2)) AS t(v, f), generate_series(1, f)
            """).Single();
        Assert.Equal($"[{Array(pg[0])}, {Array(pg[1])}]", RetractingAggregateTests.Materialize(lines).Single());
    }

    [Fact]
    public void Json_aggregates_give_Flinks_documented_examples()
    {
        // Flink's docs: JSON_OBJECTAGG(KEY product VALUE cnt) → {"Apple":2,"Banana":17,"Orange":0};
        // JSON_ARRAYAGG(product) → ["Apple","Banana","Orange"].
        var lines = Run("""
            SELECT JSON_OBJECTAGG(KEY product VALUE cnt), JSON_ARRAYAGG(product)
            FROM (VALUES ('Apple', 2), ('Banana', 17), ('Orange', 0)) AS orders(product, cnt)
            """, "o STRING, a STRING");
        Assert.Equal(["{\"Apple\":2,\"Banana\":17,\"Orange\":0}", "[\"Apple\",\"Banana\",\"Orange\"]"],
            Split(RetractingAggregateTests.Materialize(lines).Single()));
    }

    [Fact]
    public void Json_aggregates_write_values_as_json_string_does_and_treat_nulls_as_told()
    {
        // Keys sorted by UTF-16 code unit (Flink's serializer sorts map entries by key); values as Jackson writes them:
        // strings escaped, DOUBLE as Java prints it (1.0E7), DECIMAL as BigDecimal.toString (its scale kept).
        var lines = Run("""
            SELECT
              JSON_OBJECTAGG(KEY k VALUE s), JSON_OBJECTAGG(k VALUE s ABSENT ON NULL), JSON_OBJECTAGG(KEY k VALUE d NULL ON NULL),
              JSON_ARRAYAGG(s), JSON_ARRAYAGG(s NULL ON NULL), JSON_ARRAYAGG(b ABSENT ON NULL), JSON_ARRAYAGG(m), JSON_ARRAYAGG(d)
            FROM (SELECT k, s, CAST(d AS DOUBLE) AS d, CAST(b AS BOOLEAN) AS b, CAST(m AS DECIMAL(5, 2)) AS m
              FROM (VALUES ('b', 'x"y', '1.5', 'true', '1.50'),
                           ('a', CAST(NULL AS STRING), '1.0E7', 'false', '0.05'),
                           ('Z', 'tab	and\back', '0.001', CAST(NULL AS STRING), '-3'))
                AS r(k, s, d, b, m)) AS t
            """, "o1 STRING, o2 STRING, o3 STRING, a1 STRING, a2 STRING, a3 STRING, a4 STRING, a5 STRING");
        Assert.Equal([
            "{\"Z\":\"tab\\tand\\\\back\",\"a\":null,\"b\":\"x\\\"y\"}",
            "{\"Z\":\"tab\\tand\\\\back\",\"b\":\"x\\\"y\"}",
            "{\"Z\":0.001,\"a\":1.0E7,\"b\":1.5}",
            "[\"x\\\"y\",\"tab\\tand\\\\back\"]",
            "[\"x\\\"y\",null,\"tab\\tand\\\\back\"]",
            "[true,false]",
            "[1.50,0.05,-3.00]",
            "[1.5,1.0E7,0.001]",
        ], Split(RetractingAggregateTests.Materialize(lines).Single()));
    }

    [Fact]
    public void Json_objectagg_fails_the_job_on_a_repeated_key_with_Flinks_message()
    {
        var e = Assert.ThrowsAny<Exception>(() => Run("SELECT JSON_OBJECTAGG(KEY k VALUE v) FROM (VALUES ('a', 1), ('a', 2)) AS t(k, v)", "o STRING"));
        Assert.Contains("Key 'a' is already present. Duplicate keys are not allowed in JSON_OBJECTAGG.", e.ToString());
    }

    [Fact]
    public void Collecting_aggregates_retract_over_a_changelog_as_Flink()
    {
        // Inner minimums per id: +I(1,5) +I(2,3) -U(1,5) +U(1,1). ARRAY_AGG and JSON_ARRAYAGG take out the first equal
        // value; JSON_OBJECTAGG the entry of the key; PERCENTILE decrements the value's count.
        var lines = Run("""
            SELECT ARRAY_AGG(s), JSON_ARRAYAGG(s), JSON_OBJECTAGG(KEY CAST(id AS STRING) VALUE s), PERCENTILE(s, 0.5) FROM (
              SELECT id, MIN(v) AS s FROM (VALUES (1, 5), (2, 3), (1, 1)) AS t(id, v) GROUP BY id)
            """, "a ARRAY<INT>, j STRING, o STRING, p DOUBLE");
        Assert.Equal([
            "+I[[5], [5], {\"1\":5}, 5.0]",
            "-U[[5], [5], {\"1\":5}, 5.0]", "+U[[5, 3], [5,3], {\"1\":5,\"2\":3}, 4.0]",
            "-U[[5, 3], [5,3], {\"1\":5,\"2\":3}, 4.0]", "+U[[3], [3], {\"2\":3}, 3.0]",
            "-U[[3], [3], {\"2\":3}, 3.0]", "+U[[3, 1], [3,1], {\"1\":1,\"2\":3}, 2.0]",
        ], lines);
    }

    [Fact]
    public void Collecting_aggregates_work_in_window_aggregations_with_merged_slices()
    {
        // CUMULATE merges its slices' accumulators: the windows [0, 2) and [0, 4) of each key.
        var lines = SessionTests.Run("""
            SET 'parallelism.default' = '1';
            CREATE TABLE events (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ('connector' = 'filesystem', 'path' = '__PATH__', 'format' = 'json');
            """.Replace("__PATH__", WriteEvents(), StringComparison.Ordinal) + """
            CREATE TABLE out_t (k STRING, we TIMESTAMP(3), a ARRAY<INT>, j STRING, p DOUBLE) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT k, window_end, ARRAY_AGG(v), JSON_ARRAYAGG(v), PERCENTILE(v, 0.25)
            FROM TABLE(CUMULATE(TABLE events, DESCRIPTOR(ts), INTERVAL '2' SECOND, INTERVAL '4' SECOND))
            GROUP BY k, window_start, window_end;
            """);
        lines.Sort(StringComparer.Ordinal);
        // a: 1 @0s, 2 @1s, 3 @2s, 4 @3s; b: 10 @1s, NULL @3s. PERCENTILE(0.25) of 1, 2: 1.25; of 1..4: 1.75.
        Assert.Equal([
            "+I[a, 1970-01-01 00:00:02.000, [1, 2], [1,2], 1.25]",
            "+I[a, 1970-01-01 00:00:04.000, [1, 2, 3, 4], [1,2,3,4], 1.75]",
            "+I[b, 1970-01-01 00:00:02.000, [10], [10], 10.0]",
            "+I[b, 1970-01-01 00:00:04.000, [10, null], [10], 10.0]",
        ], lines);
    }

    private static string WriteEvents()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("eddy-collect-").FullName, "events.json");
        File.WriteAllLines(path, [
            """{"k": "a", "v": 1, "ts": "1970-01-01 00:00:00"}""",
            """{"k": "a", "v": 2, "ts": "1970-01-01 00:00:01"}""",
            """{"k": "b", "v": 10, "ts": "1970-01-01 00:00:01"}""",
            """{"k": "a", "v": 3, "ts": "1970-01-01 00:00:02"}""",
            """{"k": "a", "v": 4, "ts": "1970-01-01 00:00:03"}""",
            """{"k": "b", "v": null, "ts": "1970-01-01 00:00:03"}""",
        ]);
        return path;
    }

    private static SqlParseException Refused(string query)
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        session.Execute("""
            CREATE TABLE events (k STRING, v INT, s STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
              WITH ('connector' = 'datagen');
            CREATE TABLE sink (k STRING, x STRING) WITH ('connector' = 'blackhole');
            """);
        return Assert.Throws<SqlParseException>(() => session.Execute("INSERT INTO sink " + query).ToList());
    }

    [Theory]
    [InlineData("SELECT k, CAST(COLLECT(v) AS STRING) FROM events GROUP BY k", "MULTISET", "COLLECT(v)")]
    [InlineData("SELECT k, CAST(ARRAY_AGG(DISTINCT v) AS STRING) FROM events GROUP BY k", "IGNORE NULLS", "ARRAY_AGG(DISTINCT")]
    [InlineData("SELECT k, CAST(PERCENTILE(v, 1.5) AS STRING) FROM events GROUP BY k", "between [0.0, 1.0]", "1.5)")]
    [InlineData("SELECT k, CAST(PERCENTILE(v, v) AS STRING) FROM events GROUP BY k", "numeric literal", "v) AS")]
    [InlineData("SELECT k, JSON_ARRAYAGG(v) FROM TABLE(HOP(TABLE events, DESCRIPTOR(ts), INTERVAL '1' SECOND, INTERVAL '2' SECOND)) GROUP BY k, window_start, window_end",
        "not supported in OVER windows, unbounded session windows, or hop windows", "JSON_ARRAYAGG(v)")]
    [InlineData("SELECT k, JSON_OBJECTAGG(KEY s VALUE v) OVER (PARTITION BY k ORDER BY ts) FROM events",
        "not supported in OVER windows", "JSON_OBJECTAGG(KEY")]
    [InlineData("SELECT k, JSON_ARRAYAGG(ts) FROM events GROUP BY k", "TIMESTAMP", "ts) FROM")]
    [InlineData("SELECT k, JSON_OBJECTAGG(KEY v VALUE s) FROM events GROUP BY k", "character string", "v VALUE")]
    public void Unsupported_forms_are_refused_where_they_are_written(string query, string reason, string at)
    {
        var e = Refused(query);
        Assert.Contains(reason, e.Reason);
        Assert.Equal("INSERT INTO sink ".Length + query.IndexOf(at, StringComparison.Ordinal) + 1, e.Column);
    }
}
