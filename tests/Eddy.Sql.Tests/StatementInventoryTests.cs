using System.Text.RegularExpressions;
using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

/// <summary>
/// Keeps <c>docs/sql-statement-forms.md</c> honest: every form's example runs after the document's prelude in a fresh
/// session. A "works" example must plan and its jobs run to the end; a "refused" one must fail at planning with an
/// error located inside the example.
/// </summary>
public class StatementInventoryTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("eddy-forms-").FullName;

    public StatementInventoryTests()
    {
        File.WriteAllLines(Path.Combine(dir, "orders.csv"),
        [
            "1,a,10,2024-01-01 00:00:01.000",
            "2,b,20,2024-01-01 00:00:02.000",
            "1,b,30,2024-01-01 00:00:12.000",
        ]);
        File.WriteAllLines(Path.Combine(dir, "rates.csv"), ["1,100,2024-01-01 00:00:00.000", "3,300,2024-01-01 00:00:00.000"]);
    }

    public void Dispose()
    {
        Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    public sealed record Form(int Number, string Name, string Status, string Example);

    private static string Document => File.ReadAllText(Path.Combine(LabExampleTests.Root, "docs", "sql-statement-forms.md"));

    private static string Prelude => Regex.Match(Document, "```sql prelude\n(.*?)```", RegexOptions.Singleline).Groups[1].Value;

    public static IReadOnlyList<Form> Forms()
    {
        string doc = Document;
        int begin = doc.IndexOf("<!-- forms:begin -->", StringComparison.Ordinal);
        int end = doc.IndexOf("<!-- forms:end -->", StringComparison.Ordinal);
        var forms = new List<Form>();
        foreach (var line in doc[begin..end].Split('\n'))
        {
            var m = Regex.Match(line, @"^\| (\d+) \| (.+?) \| (works|refused) \| `(.+?)` \| (.*) \|$");
            if (m.Success) forms.Add(new Form(int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), m.Groups[2].Value, m.Groups[3].Value, m.Groups[4].Value));
        }
        return forms;
    }

    public static TheoryData<int> FormNumbers()
    {
        var data = new TheoryData<int>();
        foreach (var f in Forms()) data.Add(f.Number);
        return data;
    }

    [Fact]
    public void The_inventory_is_numbered_and_every_row_is_read()
    {
        var forms = Forms();
        string doc = Document;
        int rows = doc[doc.IndexOf("<!-- forms:begin -->", StringComparison.Ordinal)..doc.IndexOf("<!-- forms:end -->", StringComparison.Ordinal)]
            .Split('\n').Count(l => Regex.IsMatch(l, @"^\| \d+ \|"));
        Assert.Equal(rows, forms.Count);
        Assert.Equal(Enumerable.Range(1, forms.Count), forms.Select(f => f.Number));
        Assert.True(forms.Count(f => f.Status == "works") >= 85, $"{forms.Count(f => f.Status == "works")} forms work");
    }

    [Theory]
    [MemberData(nameof(FormNumbers))]
    public async Task Each_form_does_what_the_inventory_says(int number)
    {
        var form = Forms().Single(f => f.Number == number);
        string prelude = Prelude;
        // ${JAR} is a path in the text (jar paths are not option values, so the session does not substitute them).
        string sql = prelude + form.Example.Replace("${JAR}", Path.Combine(AppContext.BaseDirectory, "user-jar", "Nexmark.Udf.dll"), StringComparison.Ordinal) + ";\n";
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null, name => name == "DIR" ? dir : null);
        if (form.Status == "works")
        {
            foreach (var job in session.Execute(sql, "forms.sql"))
            {
                var result = await job.Environment.ExecuteAsync(job.Name);
                if (result.Failure is not null) throw new InvalidOperationException($"form {number} ({form.Name}) failed at run time", result.Failure);
            }
            return;
        }
        var e = Assert.Throws<SqlParseException>(() => session.Execute(sql, "forms.sql"));
        int exampleLine = prelude.Count(c => c == '\n') + 1;
        Assert.True(e.Line == exampleLine, $"form {number} ({form.Name}) was refused at line {e.Line}, not in its example: {e.Reason}");
    }
}
