namespace Eddy.Tests;

/// <summary><c>eddy explain</c> plans without contacting external systems: a PostgreSQL table's check belongs to the run.</summary>
public class ExplainOfflineTests
{
    [Fact]
    public void Explain_plans_PostgreSQL_sink_and_lookup_tables_without_a_server_and_says_they_were_not_checked()
    {
        string dir = Directory.CreateTempSubdirectory("eddy-explain-").FullName;
        try
        {
            // Port 9 (discard) has no PostgreSQL: a connection attempt fails at once.
            string path = Path.Combine(dir, "offline.sql");
            File.WriteAllText(path, """
                CREATE TABLE orders (id BIGINT, customer_id BIGINT, proc_time AS PROCTIME())
                  WITH ('connector' = 'datagen', 'number-of-rows' = '10', 'fields.customer_id.min' = '1', 'fields.customer_id.max' = '5');
                CREATE TABLE customers (id BIGINT, name STRING, PRIMARY KEY (id) NOT ENFORCED)
                  WITH ('connector' = 'jdbc', 'url' = 'jdbc:postgresql://127.0.0.1:9/shop', 'table-name' = 'customers');
                CREATE TABLE enriched (id BIGINT, name STRING)
                  WITH ('connector' = 'jdbc', 'url' = 'jdbc:postgresql://127.0.0.1:9/shop', 'table-name' = 'public.enriched');
                INSERT INTO enriched
                SELECT o.id, c.name FROM orders AS o LEFT JOIN customers FOR SYSTEM_TIME AS OF o.proc_time AS c ON o.customer_id = c.id;
                """);
            var (code, output, err) = CliTests.Run("explain", path);
            Assert.True(code == 0, err);
            Assert.Contains("enriched", output);
            Assert.Contains("sink table enriched: PostgreSQL table 'public.enriched' on 127.0.0.1:9/shop was not checked", err);
            Assert.Contains("lookup table customers: PostgreSQL table 'customers' on 127.0.0.1:9/shop was not checked", err);

            // The run does check, and says where it could not.
            var (runCode, _, runErr) = CliTests.Run("run", path);
            Assert.Equal(1, runCode);
            Assert.Contains("127.0.0.1:9/shop", runErr);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
