using System.Collections.Frozen;
using System.Reflection;

namespace Eddy.Sql.Functions.Builtin;

/// <summary>
/// The one answer to "which functions exist": the registry of built-in scalar functions that bind as calls (one group
/// per file), the names of the aggregates, OVER-only and own-syntax functions (CAST, EXTRACT, JSON_OBJECT, ... which the
/// binder binds from their syntax), and Flink's function names Eddy knows but does not implement (refused where
/// written: "function X is not supported yet"). <see cref="FlinkEntries"/> records every entry of Flink's list.
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
            .Concat(WindowFunctions.All())
            .ToFrozenDictionary(f => f.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>Flink's function names that Eddy does not implement, with the group they belong to.</summary>
    private static readonly FrozenDictionary<string, FunctionGroup> NotSupported = new Dictionary<string, FunctionGroup>
    {
        ["GROUP_ID"] = FunctionGroup.Grouping,
        ["GROUPING"] = FunctionGroup.Grouping,
        ["GROUPING_ID"] = FunctionGroup.Grouping,
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    public static bool TryGet(string name, out BuiltinFunction function) => Registry.TryGetValue(name, out function!);

    /// <summary>A Flink function Eddy knows it lacks: the binder refuses it with <see cref="NotSupportedMessage"/>.</summary>
    public static bool IsNotSupported(string name) => NotSupported.ContainsKey(name);

    public static string NotSupportedMessage(string name) => $"function {name.ToUpperInvariant()} is not supported yet";

    /// <summary>The registry's function names, sorted.</summary>
    public static IReadOnlyList<string> Names { get; } = Registry.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>The built-in aggregate functions (planned by the aggregation; STDDEV is Calcite's synonym of STDDEV_SAMP).</summary>
    public static IReadOnlySet<string> Aggregates { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "COUNT", "SUM", "AVG", "MIN", "MAX", "FIRST_VALUE", "LAST_VALUE", "LISTAGG",
        "STDDEV_POP", "STDDEV_SAMP", "STDDEV", "VAR_POP", "VAR_SAMP", "VARIANCE",
        "ARRAY_AGG", "JSON_ARRAYAGG", "JSON_OBJECTAGG", "PERCENTILE", "COLLECT",
    };

    /// <summary>Flink's aggregate functions Eddy lacks: named as unknown where written, before their arguments are bound.</summary>
    public static IReadOnlySet<string> AggregatesNotImplemented { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "COLLECT", "ARRAY_AGG", "JSON_OBJECTAGG", "JSON_ARRAYAGG", "PERCENTILE", "SINGLE_VALUE", "BIT_AND", "BIT_OR", "BIT_XOR",
        "APPROX_COUNT_DISTINCT",
    };

    /// <summary>The ranking functions, which exist only with OVER (see the OVER binding).</summary>
    public static IReadOnlySet<string> OverOnly { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "ROW_NUMBER", "RANK", "DENSE_RANK" };

    /// <summary>The functions with a syntax of their own, which the parser reads and the binder binds.</summary>
    public static IReadOnlySet<string> OwnSyntax { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "CAST", "TRY_CAST", "EXTRACT", "POSITION", "JSON_EXISTS", "JSON_OBJECT", "JSON_ARRAY", "IS_JSON",
    };

    /// <summary>
    /// Every built-in function name Eddy answers, sorted: the registry, the aggregates, the OVER-only and own-syntax
    /// functions and the geo functions (SHOW FUNCTIONS lists these, with the user functions).
    /// </summary>
    public static IReadOnlyList<string> AllNames { get; } = Registry.Keys.Concat(Aggregates).Concat(OverOnly).Concat(OwnSyntax)
        .Concat(global::Eddy.Functions.Geo.GeoFunctions.SqlNames).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal).ToArray();

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
