using Eddy.Joins;
using Eddy.Sql.Parsing;
using Eddy.Sql.Plan;
using Eddy.Sql.Plan.Aggregate;
using Eddy.Sql.Plan.Calc;
using Eddy.Sql.Plan.WindowJoin;
using Eddy.Sql.Plan.WindowTableFunction;

namespace Eddy.Sql.Planning;

public sealed partial class Binder
{
    /// <summary>
    /// A window TVF used as a relation (selected from, joined, ranked): its rows with window_start, window_end and
    /// window_time. Event-time TUMBLE, HOP and CUMULATE over an append-only input; the rest is refused at the call.
    /// </summary>
    private WindowTableFunctionPlan WindowedRelation(WindowedInput windowed, SqlNode at)
    {
        if (windowed.Window.Kind == WindowKind.Session)
            throw Error(at, "a SESSION window table function is supported by Eddy in a window aggregation only (GROUP BY window_start, window_end)");
        if (windowed.Window.ProcessingTime)
            throw Error(at, "a window table function on processing time is supported by Eddy in a window aggregation only (GROUP BY window_start, window_end)");
        if (windowed.Input.IsUpdating)
            throw Error(at, "a window table function over an updating input (a non-windowed GROUP BY, an outer join, or a changelog source) is not supported by Eddy yet");
        return new WindowTableFunctionPlan(windowed.Input, windowed.Window);
    }

    /// <summary>
    /// Flink's window join: when both inputs carry window properties (a window TVF or window aggregation, through
    /// projections) and <paramref name="conjuncts"/> equate a window property of one with the same of the other, the
    /// join must equate both window_start and window_end, on the same windows; it then joins per window. Null when
    /// no conjunct equates window properties (a regular join, as in Flink).
    /// </summary>
    private WindowJoinPlan? TryMakeWindowJoin(LogicalPlan left, LogicalPlan right, WindowJoinType type, List<BoundExpr> conjuncts, SqlNode at)
    {
        int n = left.Schema.Count, m = right.Schema.Count;
        var leftKeys = new List<BoundExpr>();
        var rightKeys = new List<BoundExpr>();
        var residual = new List<BoundExpr>();
        (WindowSpecification Window, int Column)? leftStart = null, leftEnd = null, rightStart = null, rightEnd = null;
        foreach (var c in conjuncts)
        {
            if (AsJoinKey(c, n, m, left.Schema, right.Schema) is not { } key)
            {
                residual.Add(c);
                continue;
            }
            leftKeys.Add(key.Left);
            rightKeys.Add(key.Right);
            if (key.Left is InputRef l && key.Right is InputRef r
                && WindowProperty(left, l.Index) is { } lp && WindowProperty(right, r.Index) is { } rp && lp.Property == rp.Property)
            {
                if (lp.Property == 0)
                {
                    leftStart = (lp.Window, l.Index);
                    rightStart = (rp.Window, r.Index);
                }
                else if (lp.Property == 1)
                {
                    leftEnd = (lp.Window, l.Index);
                    rightEnd = (rp.Window, r.Index);
                }
            }
        }
        if (leftStart is null && leftEnd is null) return null;
        if (leftStart is null || leftEnd is null)
        {
            throw Error(at, "a window join must equate both window_start and window_end of its inputs (e.g. ON L.window_start = R.window_start "
                + "AND L.window_end = R.window_end AND L.k = R.k); Flink requires both");
        }
        var lw = leftEnd.Value.Window;
        var rw = rightEnd!.Value.Window;
        if (!SameWindow(lw, rw) || !SameWindow(leftStart.Value.Window, lw) || !SameWindow(rightStart!.Value.Window, rw))
            throw Error(at, $"a window join needs the same windows on both sides, but the left input has {Describe(lw)} and the right {Describe(rw)}");
        if (lw.ProcessingTime || rw.ProcessingTime) throw Error(at, "a window join on processing-time windows is not supported by Eddy yet");
        if (left.IsUpdating || right.IsUpdating)
            throw Error(at, "a window join takes append-only inputs, but an input is updating (a window aggregation with "
                + "'table.exec.emit.allow-lateness', a non-windowed GROUP BY or a changelog source)");
        if (batchMode) throw Error(at, "a window join in batch mode is not supported by Eddy yet: run it in streaming mode");
        if (leftKeys.Count > 7) throw Error(at, "Eddy joins on at most 7 key equalities (window_start and window_end included)");
        var cond = residual.Count == 0 ? null : residual.Aggregate((a, b) => new Binary(BinaryOp.And, a, b, DataType.Boolean));
        var joinType = type switch
        {
            WindowJoinType.Left => JoinType.Left,
            WindowJoinType.Right => JoinType.Right,
            WindowJoinType.Full => JoinType.Full,
            _ => JoinType.Inner,
        };
        // The residual is bound over both sides' columns, nullable on a side that can be padded (as the output's).
        bool semiOrAnti = type is WindowJoinType.Semi or WindowJoinType.Anti;
        var joined = JoinOutput(left.Schema, right.Schema, joinType);
        var output = semiOrAnti ? left.Schema : joined;
        return new WindowJoinPlan(left, right, type, leftKeys, rightKeys, cond, lw, leftEnd.Value.Column, rightEnd.Value.Column, joined, output);
    }

    private static bool SameWindow(WindowSpecification a, WindowSpecification b) =>
        a.Kind == b.Kind && a.Size == b.Size && a.Slide == b.Slide && a.Offset == b.Offset && a.Gap == b.Gap && a.ProcessingTime == b.ProcessingTime;

    private static string Describe(WindowSpecification w) => w.ToString();

    private static WindowJoinType ToWindowJoinType(JoinType type) => type switch
    {
        JoinType.Left => WindowJoinType.Left,
        JoinType.Right => WindowJoinType.Right,
        JoinType.Full => WindowJoinType.Full,
        _ => WindowJoinType.Inner,
    };

    /// <summary>Whether a column is the time column a window TVF was applied on (through the projections above it).</summary>
    private static bool IsWindowTableFunctionTime(LogicalPlan plan, int column) => DeepStack.Ensure(plan) switch
    {
        CalcPlan c => c.Projections[column] is InputRef r && IsWindowTableFunctionTime(c.Input, r.Index),
        WindowTableFunctionPlan w => column == w.Window.TimeColumn,
        _ => false,
    };
}
