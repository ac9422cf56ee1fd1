namespace Eddy.Sql.Tests;

/// <summary>
/// Values print as Flink prints them: the print connector as Java's Row.toString (Arrays.deepToString, Map.toString,
/// nested rows with their kind, BYTES as signed bytes), the SQL client as Flink's cast-to-string rules
/// (<c>[1, 2]</c>, <c>{a=1}</c>, <c>(1, x)</c>, <c>TRUE</c>, <c>&lt;NULL&gt;</c>); never .NET type names.
/// </summary>
public class ValuePrintingTests
{
    private static Row Sample() => Row.Of(
        new object?[] { 1, 2, null },
        new Dictionary<object, object?> { ["a"] = 1, ["b"] = null },
        Row.Of(1, "x"),
        new byte[] { 104, 255 },
        true,
        null);

    [Fact]
    public void Print_connector_formats_collections_as_javas_row_to_string() =>
        Assert.Equal("+I[[1, 2, null], {a=1, b=null}, +I[1, x], [104, -1], true, null]", Sample().ToString());

    [Fact]
    public void Sql_client_formats_collections_as_flinks_cast_rules()
    {
        var row = Sample();
        Assert.Equal(["[1, 2, NULL]", "{a=1, b=NULL}", "(1, x)", "TRUE", "<NULL>"],
            new[] { 0, 1, 2, 4, 5 }.Select(i => Row.FormatForClient(row.Fields[i])));
    }
}
