using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors.BuiltIn;

namespace Eddy.Sql.Connectors;

/// <summary>
/// The connectors a session knows by name (<c>'connector' = name</c>). Built once by the composition root (the CLI,
/// the server's host, a test project's helper) from the connector projects it references, and handed to every
/// <see cref="SqlSession"/>: Eddy.Sql references no connector project and keeps no process-wide list. Immutable, so
/// one registry serves concurrent sessions. <c>print</c> and <c>blackhole</c> are always present: they are built into
/// Flink's table runtime too, and need nothing but a writer and the runtime's sinks.
/// </summary>
public sealed class ConnectorRegistry
{
    private readonly Dictionary<string, ITableConnector> known;

    /// <summary>The built-in connectors and <paramref name="connectors"/>; two connectors of one name are refused.</summary>
    public ConnectorRegistry(IEnumerable<ITableConnector> connectors)
        : this(new Dictionary<string, ITableConnector>(StringComparer.OrdinalIgnoreCase), [new PrintConnector(), new BlackholeConnector(), .. connectors])
    {
    }

    private ConnectorRegistry(Dictionary<string, ITableConnector> known, IEnumerable<ITableConnector> added)
    {
        this.known = known;
        foreach (var connector in added)
        {
            if (!known.TryAdd(connector.Name, connector))
                throw new ArgumentException($"two connectors are named '{connector.Name}': {known[connector.Name].GetType().FullName} and {connector.GetType().FullName}");
        }
    }

    /// <summary>A registry with <paramref name="connectors"/> added to these (a test's own connectors, say).</summary>
    public ConnectorRegistry With(params IEnumerable<ITableConnector> connectors) =>
        new(new Dictionary<string, ITableConnector>(known, StringComparer.OrdinalIgnoreCase), connectors);

    public IEnumerable<string> Names => known.Keys;

    public IEnumerable<ITableConnector> All => known.Values;

    /// <summary>The table's connector, or null when it names none or an unknown one (<see cref="Find"/> says which).</summary>
    public ITableConnector? TryFind(TableDef table) =>
        table.Options.TryGetValue("connector", out var name) ? known.GetValueOrDefault(name) : null;

    public ITableConnector Find(TableDef table)
    {
        if (!table.Options.TryGetValue("connector", out var name))
            throw new ConnectorOptionException(table.Name, "connector", $"missing; one of {string.Join(", ", Names.Order())}");
        if (known.TryGetValue(name, out var c)) return c;
        throw new ConnectorOptionException(table.Name, "connector",
            $"unknown connector '{name}'{SqlErrors.Suggest(name, Names)}; known: {string.Join(", ", Names.Order())}");
    }

    /// <summary>
    /// docs/CONNECTOR-OPTIONS.md: the declared options of every connector that has a schema (by name), and the names
    /// of those that still check their options themselves.
    /// </summary>
    public string OptionsMarkdown()
    {
        var sb = new System.Text.StringBuilder();
        sb.Append("# Connector options\n\n")
            .Append("Generated from the connectors' option schemas (`OptionSchema`); a test checks that this file is current.\n")
            .Append("Every option a table gives is checked at planning: an unknown option is refused with the nearest name, a value\n")
            .Append("of the wrong form names the option and the form expected, a missing required option is named. Secret values\n")
            .Append("are masked wherever options are shown.\n");
        foreach (var connector in All.Where(c => c.OptionSchema is not null).OrderBy(c => c.Name, StringComparer.Ordinal))
            sb.Append($"\n## `{connector.Name}`\n\n").Append(connector.OptionSchema!.ToMarkdown());
        var undeclared = All.Where(c => c.OptionSchema is null).Select(c => c.Name).Order(StringComparer.Ordinal).Select(n => $"`{n}`").ToList();
        if (undeclared.Count > 0)
            sb.Append("\n## Not yet declared\n\n")
                .Append($"{string.Join(", ", undeclared)} check their options themselves (documented in their project's README).\n");
        return sb.ToString();
    }
}
