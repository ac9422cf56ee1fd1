using Eddy.Sql.Parsing;
using Eddy.Sql.Plan.Aggregate;

namespace Eddy.Sql.Planning;

/// <summary>
/// What an expression in the SELECT or HAVING of a grouped query may refer to: group keys (matched by structure),
/// window properties and aggregate calls, each a column of the aggregation's output.
/// </summary>
public sealed class GroupContext
{
    private readonly List<Expr> keyExprs;
    // What each aggregate column was made from: the call as written, or (for the calls a rewrite such as the
    // variance functions' adds) the bound call itself, so that equal calls share a column.
    private readonly List<object> aggregateSources = [];

    public GroupContext(Scope inputScope, List<Expr> keyExprs, List<BoundExpr> keys, WindowSpecification? window,
        WindowSource windowSource, FunctionCall? legacyWindow)
    {
        InputScope = inputScope;
        this.keyExprs = keyExprs;
        Keys = keys;
        Window = window;
        Source = windowSource;
        LegacyWindow = legacyWindow;
    }

    public enum WindowSource
    {
        None,
        TableFunction,
        GroupWindow,
    }

    public Scope InputScope { get; }

    public List<BoundExpr> Keys { get; }

    public WindowSpecification? Window { get; }

    public WindowSource Source { get; }

    public FunctionCall? LegacyWindow { get; }

    public List<AggregateCall> Aggregates { get; } = [];

    /// <summary>
    /// With GROUPING SETS, ROLLUP or CUBE: per set, which key expressions it groups by. The keys are then followed by
    /// the set's number (the last of <see cref="Keys"/>), from which GROUPING() is computed.
    /// </summary>
    public IReadOnlyList<bool[]>? GroupingSets { get; init; }

    private int WindowOffset => Keys.Count;

    private int AggregateOffset => Keys.Count + (Window is null ? 0 : 3);

    public static readonly string[] WindowColumns = ["window_start", "window_end", "window_time"];

    public DataType WindowType(int i) => i == 2 ? DataType.Timestamp3 : DataType.Timestamp3.NotNull();

    /// <summary>The output schema of the aggregation: keys, window columns, aggregates.</summary>
    public Schema OutputSchema()
    {
        var cols = new List<Column>();
        for (int i = 0; i < Keys.Count; i++)
            cols.Add(new Column(Keys[i] is InputRef r ? r.Name : $"$key{i}", Keys[i].Type));
        if (Window is not null)
            for (int i = 0; i < 3; i++) cols.Add(new Column(WindowColumns[i], WindowType(i)));
        for (int i = 0; i < Aggregates.Count; i++) cols.Add(new Column($"$agg{i}", Aggregates[i].Type));
        // Names must be unique in a schema: suffix duplicates.
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < cols.Count; i++)
        {
            var name = cols[i].Name;
            int n = 1;
            while (!seen.Add(name)) name = $"{cols[i].Name}${n++}";
            cols[i] = cols[i] with { Name = name };
        }
        return new Schema(cols);
    }

    public bool TryRewrite(Expr e, Binder binder, out BoundExpr result)
    {
        for (int i = 0; i < keyExprs.Count; i++)
        {
            if (keyExprs[i].Equals(e))
            {
                result = new InputRef(i, OutputName(i), Keys[i].Type);
                return true;
            }
        }
        if (Window is not null && Source == WindowSource.TableFunction && e is Parsing.ColumnRef c)
        {
            int w = Array.FindIndex(WindowColumns, n => string.Equals(n, c.Names[^1].Value, StringComparison.OrdinalIgnoreCase));
            if (w >= 0)
            {
                result = new InputRef(WindowOffset + w, WindowColumns[w], WindowType(w));
                return true;
            }
        }
        if (e is FunctionCall call)
        {
            if (call is { UpperName: "GROUPING" or "GROUPING_ID", Over: null })
            {
                result = Grouping(call, binder);
                return true;
            }
            if (Window is not null && Source == WindowSource.GroupWindow && LegacyProperty(call) is { } prop)
            {
                if (!SameWindow(call)) throw binder.Error(call, $"{call.UpperName} must name the same window as the GROUP BY ({LegacyWindow!.ToSql()})");
                result = new InputRef(WindowOffset + prop, WindowColumns[prop], WindowType(prop));
                return true;
            }
            if (binder.IsAggregate(call))
            {
                if (Binder.IsVarianceFunction(call.UpperName))
                {
                    result = binder.BindVariance(call, InputScope, this);
                    return true;
                }
                int existing = aggregateSources.FindIndex(a => a.Equals(call));
                if (existing < 0)
                {
                    Aggregates.Add(binder.BindAggregate(call, InputScope));
                    aggregateSources.Add(call);
                    existing = Aggregates.Count - 1;
                }
                result = Binder.AggregateValue(Aggregates[existing], new InputRef(AggregateOffset + existing, $"$agg{existing}", Aggregates[existing].Type));
                return true;
            }
        }
        result = null!;
        return false;
    }

    /// <summary>
    /// GROUPING(a, ...) and GROUPING_ID(a, ...): per row, a BIGINT whose bit for each argument (the first argument the
    /// highest bit) is 1 when the row's grouping set leaves that key out, as Flink (Calcite) computes both.
    /// </summary>
    private BoundExpr Grouping(FunctionCall call, Binder binder)
    {
        if (call.Arguments.Count == 0 || call.Star || call.Distinct || call.Filter is not null)
            throw binder.Error(call, $"{call.UpperName} takes one or more GROUP BY expressions");
        var positions = call.Arguments.Select(a =>
        {
            int i = keyExprs.FindIndex(k => k.Equals(a));
            return i >= 0 ? i : throw binder.Error(a, $"the argument of {call.UpperName} must be a GROUP BY expression");
        }).ToList();
        var type = DataType.BigInt.NotNull();
        long ValueIn(bool[] set) => positions.Aggregate(0L, (bits, k) => (bits << 1) | (set[k] ? 0L : 1L));
        if (GroupingSets is null) return new Literal(0L, type);
        var values = GroupingSets.Select(ValueIn).ToList();
        if (values.All(v => v == values[0])) return new Literal(values[0], type);
        var setColumn = new InputRef(keyExprs.Count, OutputName(keyExprs.Count), DataType.Int.NotNull());
        var branches = values.Select((v, i) => ((BoundExpr)new Binary(BinaryOp.Equal, setColumn, new Literal(i, DataType.Int.NotNull()), DataType.Boolean.NotNull()),
            (BoundExpr)new Literal(v, type))).ToList();
        return new CaseWhen(branches, new Literal(values[^1], type), type);
    }

    /// <summary>The column of a bound aggregate call that a rewrite adds (one column per distinct call).</summary>
    internal InputRef AggregateColumn(AggregateCall aggregate)
    {
        int existing = aggregateSources.FindIndex(a => a.Equals(aggregate));
        if (existing < 0)
        {
            Aggregates.Add(aggregate);
            aggregateSources.Add(aggregate);
            existing = Aggregates.Count - 1;
        }
        return new InputRef(AggregateOffset + existing, $"$agg{existing}", Aggregates[existing].Type);
    }

    private string OutputName(int key) => Keys[key] is InputRef r ? r.Name : $"$key{key}";

    private static int? LegacyProperty(FunctionCall call) => call.UpperName switch
    {
        "TUMBLE_START" or "HOP_START" or "SESSION_START" => 0,
        "TUMBLE_END" or "HOP_END" or "SESSION_END" => 1,
        "TUMBLE_ROWTIME" or "HOP_ROWTIME" or "SESSION_ROWTIME" => 2,
        _ => null,
    };

    private bool SameWindow(FunctionCall property) =>
        LegacyWindow is not null
        && property.UpperName.StartsWith(LegacyWindow.UpperName + "_", StringComparison.Ordinal)
        && property.Arguments.SequenceEqual(LegacyWindow.Arguments);
}
