using Eddy.Sql.Parsing;
using Eddy.Sql.Plan;
using Eddy.Sql.Plan.Expand;

namespace Eddy.Sql.Planning;

/// <summary>
/// The grouping sets of a GROUP BY: every distinct key expression once (<see cref="KeyExprs"/>) and, per set, which
/// of them it groups by (<see cref="Membership"/>, in the order Flink lists the sets).
/// </summary>
public sealed record GroupingSetList(List<Expr> KeyExprs, List<bool[]> Membership);

public sealed partial class Binder
{
    // More sets than this is almost surely a mistake (CUBE of 11 columns); each set is one copy of every row.
    private const int MaxGroupingSets = 1024;

    /// <summary>GROUPING SETS (...), ROLLUP(...) or CUBE(...) in a GROUP BY.</summary>
    private static bool IsGroupingSetsElement(Expr g) =>
        g is GroupingSetsExpr || g is FunctionCall { UpperName: "ROLLUP" or "CUBE", Over: null } || g is RowConstructor { Fields.Count: 0 };

    /// <summary>
    /// The grouping sets of a GROUP BY list, as SQL defines them: a plain expression is a set of one, GROUPING SETS
    /// lists sets, ROLLUP(a, b) is (a, b), (a), (), CUBE(a, b) every subset; several elements combine by their cross
    /// product (<c>GROUP BY a, ROLLUP(b)</c> is (a, b), (a)).
    /// </summary>
    private GroupingSetList ExpandGroupingSets(SelectQuery s, List<Expr> elements, WindowedInput? windowed, FunctionCall? legacy)
    {
        var first = elements.First(IsGroupingSetsElement);
        if (legacy is not null)
            throw Error(first, "GROUPING SETS, ROLLUP and CUBE with a legacy group window (GROUP BY TUMBLE(...)) are not supported by Eddy yet; "
                + "use a window TVF: GROUP BY window_start, window_end, GROUPING SETS (...)");
        var sets = new List<List<Expr>> { new() };
        foreach (var element in elements)
        {
            var alternatives = SetsOf(element);
            var product = new List<List<Expr>>();
            foreach (var prefix in sets)
                foreach (var alternative in alternatives)
                    product.Add([.. prefix, .. alternative]);
            if (product.Count > MaxGroupingSets)
                throw Error(element, $"the GROUP BY makes more than {MaxGroupingSets} grouping sets");
            sets = product;
        }
        var keyExprs = new List<Expr>();
        foreach (var set in sets)
            foreach (var e in set)
                if (!keyExprs.Contains(e)) keyExprs.Add(e);
        var membership = sets.Select(set => keyExprs.Select(k => set.Contains(k)).ToArray()).ToList();
        return new GroupingSetList(keyExprs, membership);
    }

    /// <summary>A window aggregation groups by window_start and window_end outside its grouping sets, as Flink requires.</summary>
    private void RefuseWindowColumnsIn(Expr element)
    {
        foreach (var e in SetsOf(element).SelectMany(set => set))
        {
            if (e is Parsing.ColumnRef c && c.Names[^1].Value.ToLowerInvariant() is "window_start" or "window_end" or "window_time")
                throw Error(e, $"{c.Names[^1].Value} must be grouped outside the grouping sets (GROUP BY window_start, window_end, GROUPING SETS (...)), as Flink requires");
        }
    }

    /// <summary>The sets one GROUP BY element stands for, each a list of key expressions.</summary>
    private List<List<Expr>> SetsOf(Expr element)
    {
        DeepStack.Ensure();
        switch (element)
        {
            case GroupingSetsExpr g:
                return g.Sets.SelectMany(SetsOf).ToList();
            case RowConstructor row:
                return [row.Fields.ToList()];
            case FunctionCall { UpperName: "ROLLUP", Over: null } rollup:
            {
                RequirePlainGroupingCall(rollup);
                var units = rollup.Arguments.Select(Unit).ToList();
                var result = new List<List<Expr>>();
                for (int n = units.Count; n >= 0; n--) result.Add(units.Take(n).SelectMany(u => u).ToList());
                return result;
            }
            case FunctionCall { UpperName: "CUBE", Over: null } cube:
            {
                RequirePlainGroupingCall(cube);
                var units = cube.Arguments.Select(Unit).ToList();
                if (units.Count > 10) throw Error(cube, $"CUBE of {units.Count} elements makes {1L << units.Count} grouping sets; at most 10 elements");
                var result = new List<List<Expr>>();
                // Every subset, the full set first and the empty set last (bit i set: unit i left out).
                for (int mask = 0; mask < 1 << units.Count; mask++)
                    result.Add(units.Where((_, i) => (mask & (1 << (units.Count - 1 - i))) == 0).SelectMany(u => u).ToList());
                return result;
            }
            default:
                return [[element]];
        }
    }

    private void RequirePlainGroupingCall(FunctionCall call)
    {
        if (call.Distinct || call.Star || call.Filter is not null || call.Arguments.Count == 0)
            throw Error(call, $"{call.UpperName} takes a list of expressions");
    }

    // An element of ROLLUP/CUBE: (a, b) counts as one unit.
    private static List<Expr> Unit(Expr e) => e is RowConstructor row ? row.Fields.ToList() : [e];

    /// <summary>
    /// The Expand under an aggregation with grouping sets: the input's columns, then each key (NULL where the set
    /// leaves it out), then the set's number. The aggregation groups by those keys and the number (so that two
    /// sets that give equal keys, such as a NULL key value and a rolled-up key, stay apart); its aggregates read the
    /// input's columns, which keep their values in every copy.
    /// </summary>
    private (LogicalPlan Input, List<Expr> KeyExprs, List<BoundExpr> Keys) BindExpand(LogicalPlan input, Scope scope, GroupingSetList sets)
    {
        var bound = sets.KeyExprs.Select(e =>
        {
            var b = Bind(e, scope);
            if (b is IntervalExpr) throw Error(e, "cannot group by an INTERVAL");
            return b;
        }).ToList();
        int width = input.Schema.Count;
        var columns = input.Schema.Columns.ToList();
        var keyTypes = bound.Select(b => (b.Type.Kind == TypeKind.Null ? DataType.String : b.Type) with { Nullable = true }).ToList();
        var used = new HashSet<string>(columns.Select(c => c.Name), StringComparer.OrdinalIgnoreCase);
        string Unique(string name)
        {
            string candidate = name;
            for (int n = 1; !used.Add(candidate); n++) candidate = $"{name}${n}";
            return candidate;
        }
        var keyNames = bound.Select((b, i) => Unique(b is InputRef r ? r.Name : $"$key{i}")).ToList();
        for (int i = 0; i < bound.Count; i++) columns.Add(new Column(keyNames[i], keyTypes[i]));
        string setName = Unique("$e");
        columns.Add(new Column(setName, DataType.Int.NotNull()));
        var projections = new List<IReadOnlyList<BoundExpr>>();
        for (int set = 0; set < sets.Membership.Count; set++)
        {
            var row = new List<BoundExpr>(width + bound.Count + 1);
            for (int c = 0; c < width; c++) row.Add(new InputRef(c, input.Schema[c].Name, input.Schema[c].Type));
            for (int k = 0; k < bound.Count; k++)
                row.Add(sets.Membership[set][k] ? CastIfNeeded(bound[k], keyTypes[k]) : new Literal(null, keyTypes[k]));
            row.Add(new Literal(set, DataType.Int.NotNull()));
            projections.Add(row);
        }
        var expand = new ExpandPlan(input, projections, new Schema(columns));
        var keys = new List<BoundExpr>();
        for (int k = 0; k < bound.Count; k++) keys.Add(new InputRef(width + k, keyNames[k], keyTypes[k]));
        keys.Add(new InputRef(width + bound.Count, setName, DataType.Int.NotNull()));
        return (expand, sets.KeyExprs, keys);
    }
}
