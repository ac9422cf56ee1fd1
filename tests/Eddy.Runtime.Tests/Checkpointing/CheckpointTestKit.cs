using Eddy.Runtime;
using Eddy.Testing;

namespace Eddy.Tests.Checkpointing;

/// <summary>One thing a test feeds an operator: a batch of records, a watermark, or a processing-time move.</summary>
internal abstract record Step<T>
{
    public sealed record Records(List<(T Value, long Timestamp)> Items) : Step<T>;

    public sealed record Watermark(long Time) : Step<T>;

    public sealed record ProcessingTime(long Time) : Step<T>;
}

/// <summary>
/// Runs an operator over steps straight through, and again with a snapshot after step k restored into fresh operator
/// instances (at the same or another parallelism); the outputs must be the same multiset.
/// </summary>
internal static class CheckpointTestKit
{
    public static List<string> Straight<TKey, TIn, TOut>(Func<StreamOperator<TIn, TOut>> create, Func<TIn, TKey> keyOf,
        IReadOnlyList<Step<TIn>> steps, int parallelism = 1, Func<OperatorHarness<TIn, TOut>, IEnumerable<string>>? side = null)
        where TKey : notnull
    {
        var h = new KeyedOperatorHarnesses<TKey, TIn, TOut>(create, keyOf, parallelism);
        foreach (var s in steps) Apply(h, s);
        h.EndInput();
        return Collect(h, side, []);
    }

    /// <summary>Runs steps [0, cut) at <paramref name="from"/>, snapshots, restores at <paramref name="to"/>, runs the rest.</summary>
    public static List<string> Restored<TKey, TIn, TOut>(Func<StreamOperator<TIn, TOut>> create, Func<TIn, TKey> keyOf,
        IReadOnlyList<Step<TIn>> steps, int cut, int from = 1, int to = 1,
        Func<OperatorHarness<TIn, TOut>, IEnumerable<string>>? side = null) where TKey : notnull
    {
        var before = new KeyedOperatorHarnesses<TKey, TIn, TOut>(create, keyOf, from);
        long clock = 0;
        for (int i = 0; i < cut; i++)
        {
            Apply(before, steps[i]);
            if (steps[i] is Step<TIn>.ProcessingTime p) clock = p.Time;
        }
        var emittedBefore = Collect(before, side, []);
        var snapshots = before.Snapshot(7);
        var after = new KeyedOperatorHarnesses<TKey, TIn, TOut>(create, keyOf, to, snapshots, startProcessingTime: clock);
        for (int i = cut; i < steps.Count; i++) Apply(after, steps[i]);
        after.EndInput();
        return Collect(after, side, emittedBefore);
    }

    private static void Apply<TKey, TIn, TOut>(KeyedOperatorHarnesses<TKey, TIn, TOut> h, Step<TIn> step) where TKey : notnull
    {
        switch (step)
        {
            case Step<TIn>.Records r: h.Elements(r.Items); break;
            case Step<TIn>.Watermark w: h.Watermark(w.Time); break;
            case Step<TIn>.ProcessingTime p: h.SetProcessingTime(p.Time); break;
        }
    }

    private static List<string> Collect<TKey, TIn, TOut>(KeyedOperatorHarnesses<TKey, TIn, TOut> h,
        Func<OperatorHarness<TIn, TOut>, IEnumerable<string>>? side, List<string> earlier) where TKey : notnull
    {
        var all = new List<string>(earlier);
        all.AddRange(h.Records.Select(r => r.ToString()));
        if (side is not null) all.AddRange(h.Subtasks.SelectMany(side).Select(s => "late " + s));
        all.Sort(StringComparer.Ordinal);
        return all;
    }

    /// <summary>Random keyed events, out of order within a bound, with watermarks in between and some late records.</summary>
    public static List<Step<(string Key, int Value)>> RandomEvents(int seed, int batches = 30, int keys = 12, long outOfOrder = 40)
    {
        var random = new Random(seed);
        var steps = new List<Step<(string Key, int Value)>>();
        long time = 0;
        for (int b = 0; b < batches; b++)
        {
            var items = new List<((string, int), long)>();
            int n = random.Next(1, 12);
            for (int i = 0; i < n; i++)
            {
                time += random.Next(0, 8);
                long ts = time - random.Next(0, (int)outOfOrder);
                // Now and then a record far behind the watermark: late, or within the allowed lateness.
                if (random.Next(20) == 0) ts -= random.Next(50, 200);
                items.Add((($"k{random.Next(keys)}", random.Next(1, 100)), Math.Max(0, ts)));
            }
            steps.Add(new Step<(string, int)>.Records(items));
            if (random.Next(3) > 0) steps.Add(new Step<(string, int)>.Watermark(time - outOfOrder));
        }
        return steps;
    }
}
