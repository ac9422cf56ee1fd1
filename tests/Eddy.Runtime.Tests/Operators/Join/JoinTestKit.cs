using Eddy.Joins;
using Eddy.Runtime;
using Eddy.Testing;

namespace Eddy.Tests.Operators.Join;

public readonly record struct L(int K, int V)
{
    public override string ToString() => $"L{K}.{V}";
}

public readonly record struct R(int K, int W)
{
    public override string ToString() => $"R{K}.{W}";
}

/// <summary>A joined row: a missing side (outer padding) is null.</summary>
public readonly record struct O(L? Left, R? Right)
{
    public override string ToString() => $"[{Left?.ToString() ?? "null"},{Right?.ToString() ?? "null"}]";
}

/// <summary>Independent computations the join tests compare with: changelog materialization and a nested-loop join.</summary>
public static class JoinTestKit
{
    public static readonly JoinCombiner<L, R, O> Combine = (l, hasL, r, hasR) => new O(hasL ? l : null, hasR ? r : null);

    public static int KeyOf(JoinInput<L, R> v) => v.IsLeft ? v.Left.K : v.Right.K;

    public static (JoinInput<L, R>, long, RowKind) Left(L l, RowKind kind = RowKind.Insert, long ts = 0) => (JoinInput<L, R>.OfLeft(l), ts, kind);

    public static (JoinInput<L, R>, long, RowKind) Right(R r, RowKind kind = RowKind.Insert, long ts = 0) => (JoinInput<L, R>.OfRight(r), ts, kind);

    /// <summary>Each record as "+I[L1.2,null]", in emission order.</summary>
    public static List<string> Changelog(IEnumerable<Emitted<O>> records) => records.Select(r => r.Kind.ShortString() + r.Value).ToList();

    /// <summary>Applies a changelog to a multiset (+I/+U add, -U/-D remove); a retraction of an absent row fails.</summary>
    public static List<string> Materialize<T>(IEnumerable<(T Value, RowKind Kind)> changelog) where T : notnull
    {
        var counts = new Dictionary<T, int>();
        foreach (var (v, kind) in changelog)
        {
            int d = kind is RowKind.Insert or RowKind.UpdateAfter ? 1 : -1;
            counts[v] = counts.GetValueOrDefault(v) + d;
            Assert.True(counts[v] >= 0, $"{kind.ShortString()}{v} retracts a row that is not there");
        }
        return counts.SelectMany(kv => Enumerable.Repeat(kv.Key!.ToString()!, kv.Value)).Order(StringComparer.Ordinal).ToList();
    }

    public static List<string> Materialize(IEnumerable<Emitted<O>> records) => Materialize(records.Select(r => (r.Value, r.Kind)));

    /// <summary>SQL's join of two bags by nested loops: matched pairs, then each unmatched row of an outer side padded.</summary>
    public static List<string> NestedLoopJoin(IReadOnlyList<L> lefts, IReadOnlyList<R> rights, JoinType type, Func<L, R, bool> on)
    {
        var result = new List<string>();
        foreach (var l in lefts)
            foreach (var r in rights)
                if (on(l, r)) result.Add(new O(l, r).ToString());
        if (type.IsLeftOuter())
            foreach (var l in lefts)
                if (!rights.Any(r => on(l, r))) result.Add(new O(l, null).ToString());
        if (type.IsRightOuter())
            foreach (var r in rights)
                if (!lefts.Any(l => on(l, r))) result.Add(new O(null, r).ToString());
        return result.Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The bag a changelog of one input leaves.</summary>
    public static List<T> Bag<T>(IEnumerable<(T Value, RowKind Kind)> changelog) where T : notnull
    {
        var bag = new List<T>();
        foreach (var (v, kind) in changelog)
        {
            if (kind is RowKind.Insert or RowKind.UpdateAfter) bag.Add(v);
            else Assert.True(bag.Remove(v));
        }
        return bag;
    }

    /// <summary>
    /// A random changelog over both inputs with few keys and values (so duplicates and many matches occur): inserts,
    /// deletes of rows present, and updates as -U old, +U new, as an upstream aggregation emits them.
    /// </summary>
    public static List<(JoinInput<L, R> Value, long Timestamp, RowKind Kind)> RandomChangelog(int seed, int steps, bool appendOnly)
    {
        var rnd = new Random(seed);
        var lefts = new List<L>();
        var rights = new List<R>();
        var log = new List<(JoinInput<L, R>, long, RowKind)>();
        for (int i = 0; i < steps; i++)
        {
            bool left = rnd.Next(2) == 0;
            int op = appendOnly ? 0 : rnd.Next(4);
            int k = rnd.Next(8), v = rnd.Next(4);
            if (left)
            {
                if (op == 0 || lefts.Count == 0) { lefts.Add(new L(k, v)); log.Add(Left(new L(k, v), ts: i)); }
                else
                {
                    var old = lefts[rnd.Next(lefts.Count)];
                    lefts.Remove(old);
                    if (op == 1) log.Add(Left(old, RowKind.Delete, i));
                    else
                    {
                        log.Add(Left(old, RowKind.UpdateBefore, i));
                        var updated = new L(old.K, v);
                        lefts.Add(updated);
                        log.Add(Left(updated, RowKind.UpdateAfter, i));
                    }
                }
            }
            else
            {
                if (op == 0 || rights.Count == 0) { rights.Add(new R(k, v)); log.Add(Right(new R(k, v), ts: i)); }
                else
                {
                    var old = rights[rnd.Next(rights.Count)];
                    rights.Remove(old);
                    if (op == 1) log.Add(Right(old, RowKind.Delete, i));
                    else
                    {
                        log.Add(Right(old, RowKind.UpdateBefore, i));
                        var updated = new R(old.K, v);
                        rights.Add(updated);
                        log.Add(Right(updated, RowKind.UpdateAfter, i));
                    }
                }
            }
        }
        return log;
    }

    public static List<L> LeftBag(IEnumerable<(JoinInput<L, R> Value, long Timestamp, RowKind Kind)> log) =>
        Bag(log.Where(e => e.Value.IsLeft).Select(e => (e.Value.Left, e.Kind)));

    public static List<R> RightBag(IEnumerable<(JoinInput<L, R> Value, long Timestamp, RowKind Kind)> log) =>
        Bag(log.Where(e => !e.Value.IsLeft).Select(e => (e.Value.Right, e.Kind)));
}
