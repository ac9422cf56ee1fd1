namespace Eddy.Sql.Planning;

/// <summary>A column visible to expressions: its qualifier (table alias), name, type and position in the input row.</summary>
public sealed record ScopeColumn(string? Qualifier, string Name, DataType Type, int Index);

/// <summary>The columns an expression may name, resolved case-insensitively, qualified or not.</summary>
public sealed class Scope(IReadOnlyList<ScopeColumn> columns)
{
    public IReadOnlyList<ScopeColumn> Columns { get; } = columns;

    public static Scope Of(Schema schema, string? qualifier) =>
        new(schema.Columns.Select((c, i) => new ScopeColumn(qualifier, c.Name, c.Type, i)).ToArray());

    public IEnumerable<ScopeColumn> Find(string? qualifier, string name) => Columns.Where(c =>
        string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase)
        && (qualifier is null || string.Equals(c.Qualifier, qualifier, StringComparison.OrdinalIgnoreCase)));

    public bool HasQualifier(string qualifier) =>
        Columns.Any(c => string.Equals(c.Qualifier, qualifier, StringComparison.OrdinalIgnoreCase));
}
