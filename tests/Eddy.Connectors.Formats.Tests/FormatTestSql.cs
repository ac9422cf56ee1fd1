using Eddy.Connectors.Kafka.Tests;
using Eddy.Sql;

namespace Eddy.Connectors.Formats.Tests;

/// <summary>What the format tests share: the columns of the test <c>Order</c> message, a table's schema from its SQL columns, running jobs.</summary>
internal static class FormatTestSql
{
    /// <summary>The columns of Proto/orders.proto's <c>Order</c> as a table declares them.</summary>
    public const string OrderColumns = """
        id BIGINT, customer STRING, amount DOUBLE, paid BOOLEAN, status STRING, tags ARRAY<STRING>, counts MAP<STRING, INT>,
        address ROW<city STRING, zip STRING>, items ARRAY<ROW<sku STRING, quantity INT>>, payload BYTES, ratio FLOAT,
        delta INT, big BIGINT, f32 INT, sf64 BIGINT, created ROW<seconds BIGINT, nanos INT>, numbers ARRAY<INT>, note STRING,
        code STRING, level INT, u32 INT
        """;

    /// <summary>The physical schema of a table declared with <paramref name="columns"/>.</summary>
    public static Schema Columns(string columns)
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null, _ => null);
        session.Execute($"CREATE TABLE t ({columns}) WITH ('connector' = 'print');").ToList();
        Assert.True(session.Catalog.TryGetTable("t", out var table));
        return table.PhysicalSchema;
    }

    public static void RunJobs(IEnumerable<SqlJob> jobs)
    {
        foreach (var job in jobs)
        {
            var result = job.Environment.ExecuteAsync(job.Name).GetAwaiter().GetResult();
            if (result.Failure is not null) throw result.Failure;
        }
    }

    /// <summary>Runs the statements' jobs to the end; the lines the print sinks wrote.</summary>
    public static List<string> Run(string sql)
    {
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null, _ => null);
        RunJobs(session.Execute(sql));
        return [.. output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r'))];
    }
}
