using System.Collections.Frozen;
using System.Reflection;

namespace Eddy.Sql.Functions.Builtin;

/// <summary>
/// The registry of Flink's built-in scalar functions that bind as plain calls, one group per file, and the list of
/// Flink's function names Eddy knows but does not implement (refused where written: "function X is not supported yet").
/// Functions with their own syntax (CAST, CASE, EXTRACT, TRIM, JSON_VALUE, ...) and those that predate the registry
/// (COALESCE, ROUND, SUBSTRING, ...) are bound by the binder; <see cref="FlinkEntries"/> records every entry of Flink's list.
/// </summary>
public static class BuiltinFunctions
{
    private static readonly FrozenDictionary<string, BuiltinFunction> Registry =
        ArithmeticFunctions.All()
            .Concat(StringFunctions.All())
            .Concat(TemporalFunctions.All())
            .Concat(ConditionalFunctions.All())
            .Concat(CollectionFunctions.All())
            .Concat(HashFunctions.All())
            .Concat(JsonFunctions.All())
            .Concat(CatalogFunctions.All())
            .ToFrozenDictionary(f => f.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>Flink's function names that Eddy does not implement, with the group they belong to.</summary>
    private static readonly FrozenDictionary<string, FunctionGroup> NotSupported = new Dictionary<string, FunctionGroup>
    {
        ["CURRENT_WATERMARK"] = FunctionGroup.Temporal,
        ["GROUP_ID"] = FunctionGroup.Grouping,
        ["GROUPING"] = FunctionGroup.Grouping,
        ["GROUPING_ID"] = FunctionGroup.Grouping,
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    public static bool TryGet(string name, out BuiltinFunction function) => Registry.TryGetValue(name, out function!);

    /// <summary>A Flink function Eddy knows it lacks: the binder refuses it with <see cref="NotSupportedMessage"/>.</summary>
    public static bool IsNotSupported(string name) => NotSupported.ContainsKey(name);

    public static string NotSupportedMessage(string name) => $"function {name.ToUpperInvariant()} is not supported yet";

    /// <summary>The registry's function names, sorted (for SHOW FUNCTIONS and suggestions).</summary>
    public static IReadOnlyList<string> Names { get; } = Registry.Keys.Order(StringComparer.Ordinal).ToArray();

    public static IEnumerable<BuiltinFunction> Functions => Registry.Values.OrderBy(f => f.Group).ThenBy(f => f.Name, StringComparer.Ordinal);

    /// <summary>The function list of Flink's documentation (embedded resource): (group, entry) per SQL form.</summary>
    public static IReadOnlyList<(string Group, string Entry)> FlinkList { get; } = ReadFlinkList();

    private static (string, string)[] ReadFlinkList()
    {
        using var stream = typeof(BuiltinFunctions).Assembly.GetManifestResourceStream("Eddy.Sql.FlinkFunctionList.txt")
            ?? throw new InvalidOperationException("FlinkFunctionList.txt is not embedded");
        using var reader = new StreamReader(stream);
        var list = new List<(string, string)>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line.StartsWith('#')) continue;
            int tab = line.IndexOf('\t');
            list.Add((line[..tab], line[(tab + 1)..]));
        }
        return list.ToArray();
    }
}
