using Eddy.Sql.Plan;
using Eddy.Sql.Plan.AsyncLookup;
using Eddy.Sql.Plan.Calc;

namespace Eddy.Sql.Planning.Rules;

/// <summary>
/// Splits a Calc whose expressions call remote functions into Calc (input columns + call arguments, and the filter
/// when it does not need a remote result) → AsyncLookup → Calc (the original projections over the results). A call
/// whose arguments hold another async call (<c>f(g(x))</c>) is computed by the lookup below: the pre-Calc keeps the
/// inner call, which the rule splits again when the pass reaches it, as Flink chains one AsyncCalc per level.
/// </summary>
public static class AsyncLookupSplit
{
    public static bool Contains(BoundExpr? e) => e is not null && Find(e).Any();

    public static LogicalPlan? TrySplit(CalcPlan calc)
    {
        var calls = calc.Projections.SelectMany(Find).Concat(calc.Filter is null ? [] : Find(calc.Filter)).Distinct().ToList();
        if (calls.Count == 0) return null;
        // One operator runs calls with the same options (capacity, timeout, order); others (a geolocation lookup beside
        // a user's async function) stay in the Calc above, which the pass splits again.
        var options = calls[0].Function.Options;
        calls = calls.Where(c => c.Function.Options == options).ToList();
        var input = calc.Input;
        int n = input.Schema.Count;
        bool filterFirst = calc.Filter is not null && !Contains(calc.Filter);
        var preProjections = new List<BoundExpr>();
        var preColumns = new List<Column>();
        for (int i = 0; i < n; i++)
        {
            preProjections.Add(new InputRef(i, input.Schema[i].Name, input.Schema[i].Type));
            preColumns.Add(input.Schema[i]);
        }
        var argumentColumns = new List<int[]>();
        for (int i = 0; i < calls.Count; i++)
        {
            var columns = new int[calls[i].Arguments.Count];
            for (int j = 0; j < columns.Length; j++)
            {
                columns[j] = preProjections.Count;
                preProjections.Add(calls[i].Arguments[j]);
                preColumns.Add(new Column($"$arg{i}_{j}", calls[i].Arguments[j].Type with { Nullable = true }));
            }
            argumentColumns.Add(columns);
        }
        int m = preColumns.Count;
        var pre = new CalcPlan(input, preProjections, filterFirst ? calc.Filter : null, new Schema(preColumns.ToArray()), input.Rowtime);
        var outColumns = new List<Column>(preColumns);
        for (int i = 0; i < calls.Count; i++) outColumns.Add(new Column($"$async{i}", calls[i].Type with { Nullable = true }));
        var lookup = new AsyncLookupPlan(pre, calls.Select((c, i) => (argumentColumns[i], c)).ToList(), new Schema(outColumns.ToArray()));
        var results = calls.Select((c, i) => (c, (BoundExpr)new InputRef(m + i, $"{c.Name}(...)", c.Type with { Nullable = true }))).ToDictionary(x => x.c, x => x.Item2);
        var post = new CalcPlan(lookup, calc.Projections.Select(p => Replace(p, results)).ToList(),
            filterFirst || calc.Filter is null ? null : Replace(calc.Filter, results), calc.Schema, calc.RowtimeIndex);
        return post;
    }

    private static IEnumerable<AsyncCall> Find(BoundExpr e) => DeepStack.Ensure(e) switch
    {
        AsyncCall a => [a],
        Binary b => Find(b.Left).Concat(Find(b.Right)),
        Unary u => Find(u.Operand),
        Cast c => Find(c.Operand),
        CaseWhen cw => cw.Branches.SelectMany(b => Find(b.When).Concat(Find(b.Then))).Concat(cw.Else is null ? [] : Find(cw.Else)),
        Call c => c.Args.SelectMany(Find),
        UserCall u => u.Args.SelectMany(Find),
        InList i => Find(i.Value).Concat(i.Items.SelectMany(Find)),
        Coalesce co => co.Args.SelectMany(Find),
        _ => [],
    };

    private static BoundExpr Replace(BoundExpr e, IReadOnlyDictionary<AsyncCall, BoundExpr> results) => DeepStack.Ensure(e) switch
    {
        AsyncCall a => results.TryGetValue(a, out var result) ? result : a,
        Binary b => b with { Left = Replace(b.Left, results), Right = Replace(b.Right, results) },
        Unary u => u with { Operand = Replace(u.Operand, results) },
        Cast c => c with { Operand = Replace(c.Operand, results) },
        CaseWhen cw => cw with
        {
            Branches = cw.Branches.Select(b => (Replace(b.When, results), Replace(b.Then, results))).ToList(),
            Else = cw.Else is null ? null : Replace(cw.Else, results),
        },
        Call c => c with { Args = c.Args.Select(a => Replace(a, results)).ToList() },
        UserCall u => u with { Args = u.Args.Select(a => Replace(a, results)).ToList() },
        InList i => i with { Value = Replace(i.Value, results), Items = i.Items.Select(x => Replace(x, results)).ToList() },
        Coalesce co => co with { Args = co.Args.Select(a => Replace(a, results)).ToList() },
        _ => e,
    };
}
