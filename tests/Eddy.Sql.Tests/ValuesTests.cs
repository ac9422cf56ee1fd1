namespace Eddy.Sql.Tests;

public class ValuesTests
{
    [Fact]
    public void Negative_numbers_are_values()
    {
        // Was refused ("VALUES takes literals"): -1 binds as a negation of the literal 1.
        var lines = SessionTests.Run("""
            SET 'parallelism.default' = '1';
            CREATE TABLE out_t (a INT, b DOUBLE, c DECIMAL(5, 2), d BIGINT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT a, b, c, d FROM (VALUES (-1, -2.5E0, -3.25, -5000000000), (2, 1.5E0, -(-1.50), 7)) AS t(a, b, c, d);
            """);
        Assert.Equal(["+I[-1, -2.5, -3.25, -5000000000]", "+I[2, 1.5, 1.50, 7]"], lines);
    }
}
