using System.Text.RegularExpressions;

namespace Eddy.Sql.Tests;

/// <summary>
/// The two small tables <c>l</c> and <c>r</c> that the join and subquery tests read (as JSON files in a temporary
/// folder), and the materializing of a printed changelog those tests compare with their LINQ results.
/// </summary>
public abstract partial class LeftRightTables(string folderPrefix) : IDisposable
{
    /// <summary>The temporary folder of the test (deleted on dispose).</summary>
    protected string Folder { get; } = Directory.CreateTempSubdirectory(folderPrefix).FullName;

    public void Dispose()
    {
        Directory.Delete(Folder, recursive: true);
        GC.SuppressFinalize(this);
    }

    protected sealed record L(int? K, string V, int N);

    protected sealed record R(int? K, int W);

    // Keys 1..4 and NULL on both sides, duplicates on both sides, keys present on one side only (5 left, 6 right).
    protected static readonly L[] LeftRows =
    [
        new(1, "a", 1), new(2, "b", 2), new(1, "c", 3), new(null, "d", 4), new(3, "e", 5), new(5, "f", 6), new(2, "b", 2), new(4, "g", 7),
    ];

    protected static readonly R[] RightRows =
    [
        new(1, 10), new(2, 1), new(2, 20), new(null, 30), new(3, 2), new(6, 40), new(1, 10), new(4, 3),
    ];

    /// <summary>Writes the rows above and returns the statements that declare <c>l</c> and <c>r</c> over them.</summary>
    protected string LeftAndRight(string parallelism)
    {
        string l = Path.Combine(Folder, "l.jsonl"), r = Path.Combine(Folder, "r.jsonl");
        File.WriteAllLines(l, LeftRows.Select(x => $$"""{"k":{{Json(x.K)}},"v":"{{x.V}}","n":{{x.N}}}"""));
        File.WriteAllLines(r, RightRows.Select(x => $$"""{"k":{{Json(x.K)}},"w":{{x.W}}}"""));
        // The join and subquery tests read the changelog of the join itself, as Flink writes it with the materializer off:
        // under AUTO Flink puts a SinkUpsertMaterializer before their primary-key sinks (the joins have no upsert key
        // within those keys), which SinkUpsertMaterializerTests cover.
        return $"""
            SET 'parallelism.default' = '{parallelism}'; SET 'table.exec.sink.upsert-materialize' = 'NONE';
            CREATE TABLE l (k INT, v STRING, n INT) WITH ('connector' = 'filesystem', 'path' = '{l}', 'format' = 'json');
            CREATE TABLE r (k INT, w INT) WITH ('connector' = 'filesystem', 'path' = '{r}', 'format' = 'json');

            """;
    }

    private static string Json(int? k) => k is { } v ? v.ToString(System.Globalization.CultureInfo.InvariantCulture) : "null";

    [GeneratedRegex(@"^(?:\d+> )?([+-][IUD])\[(.*)\]$")]
    private static partial Regex ChangeLine();

    /// <summary>The rows left after applying the printed changelog, sorted; a retraction of a row not there fails.</summary>
    protected static List<string> Materialize(IEnumerable<string> lines)
    {
        var rows = new List<string>();
        foreach (var line in lines)
        {
            var m = ChangeLine().Match(line);
            Assert.True(m.Success, $"not a changelog line: {line}");
            string kind = m.Groups[1].Value, row = m.Groups[2].Value;
            if (kind is "+I" or "+U") rows.Add(row);
            else Assert.True(rows.Remove(row), $"{kind}[{row}] retracts a row that is not there");
        }
        rows.Sort(StringComparer.Ordinal);
        return rows;
    }
}
