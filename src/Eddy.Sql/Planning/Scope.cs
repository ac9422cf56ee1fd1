namespace Eddy.Sql.Planning;

/// <summary>A column visible to expressions: its qualifier (table alias), name, type and position in the input row.</summary>
public sealed record ScopeColumn(string? Qualifier, string Name, DataType Type, int Index);

/// <summary>
/// The columns an expression may name, resolved case-insensitively, qualified or not. A correlated subquery's scope
/// has the enclosing query's as <see cref="Outer"/>: a name not found here is looked up there (SQL's innermost-first
/// rule), at the indexes the outer scope gives its columns.
/// </summary>
public sealed class Scope(IReadOnlyList<ScopeColumn> columns, Scope? outer = null)
{
    public IReadOnlyList<ScopeColumn> Columns { get; } = columns;

    public Scope? Outer { get; } = outer;

    public static Scope Of(Schema schema, string? qualifier) =>
        new(schema.Columns.Select((c, i) => new ScopeColumn(qualifier, c.Name, c.Type, i)).ToArray());

    public IEnumerable<ScopeColumn> Find(string? qualifier, string name)
    {
        var own = Columns.Where(c =>
            string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase)
            && (qualifier is null || string.Equals(c.Qualifier, qualifier, StringComparison.OrdinalIgnoreCase))).ToList();
        return own.Count > 0 || Outer is null ? own : Outer.Find(qualifier, name);
    }

    public bool HasQualifier(string qualifier) =>
        Columns.Any(c => string.Equals(c.Qualifier, qualifier, StringComparison.OrdinalIgnoreCase)) || Outer?.HasQualifier(qualifier) == true;
}
