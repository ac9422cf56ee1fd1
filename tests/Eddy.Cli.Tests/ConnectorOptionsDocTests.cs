namespace Eddy.Tests;

/// <summary>docs/CONNECTOR-OPTIONS.md is generated from the option schemas of the CLI's connectors, and must be current.</summary>
public class ConnectorOptionsDocTests
{
    [Fact]
    public void The_connector_options_doc_is_generated_from_the_schemas_and_current()
    {
        string dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "Eddy.slnx"))) dir = Path.GetDirectoryName(dir) ?? throw new InvalidOperationException("no Eddy.slnx above the tests");
        string path = Path.Combine(dir, "docs", "CONNECTOR-OPTIONS.md");
        string generated = TestConnectors.Registry.OptionsMarkdown();
        // EDDY_WRITE_DOCS=1 rewrites the file (after a schema changed); the test then checks what it wrote.
        if (Environment.GetEnvironmentVariable("EDDY_WRITE_DOCS") == "1") File.WriteAllText(path, generated);
        Assert.True(File.Exists(path) && File.ReadAllText(path) == generated,
            "docs/CONNECTOR-OPTIONS.md is not what the connectors' option schemas give: run this test with EDDY_WRITE_DOCS=1");
    }
}
