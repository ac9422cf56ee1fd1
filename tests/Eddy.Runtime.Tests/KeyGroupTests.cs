namespace Eddy.Tests;

public class KeyGroupTests
{
    [Fact]
    public void Stable_hashes_do_not_change_between_processes()
    {
        // Fixed values: a change here moves every key to another key group and breaks restored state.
        Assert.Equal(StableHash.Of("zachwilson.tech"), StableHash.OfKey("zachwilson.tech"));
        Assert.Equal(StableHash.OfKey(("a", 1)), StableHash.OfKey(("a", 1)));
        Assert.NotEqual(StableHash.OfKey(("a", 1)), StableHash.OfKey(("a", 2)));
        Assert.Equal(-653060868, StableHash.Of("zachwilson.tech"));
        Assert.Equal(142593372, StableHash.Of(42));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(128)]
    public void Every_key_group_belongs_to_exactly_the_subtask_whose_range_holds_it(int parallelism)
    {
        for (int s = 0; s < parallelism; s++)
        {
            var (start, end) = KeyGroups.RangeOf(s, 128, parallelism);
            for (int kg = start; kg < end; kg++) Assert.Equal(s, KeyGroups.SubtaskFor(kg, 128, parallelism));
        }
        Assert.Equal(128, Enumerable.Range(0, parallelism).Sum(s => KeyGroups.RangeOf(s, 128, parallelism) is var (a, b) ? b - a : 0));
    }

    [Fact]
    public void Keys_spread_over_key_groups()
    {
        var groups = Enumerable.Range(0, 10_000).Select(i => KeyGroups.ForKey($"user-{i}", 128)).GroupBy(g => g).ToList();
        Assert.Equal(128, groups.Count);
        Assert.All(groups, g => Assert.InRange(g.Count(), 40, 120));
    }
}
