namespace Eddy.Tests;

public class RowTypesTests
{
    private static readonly Schema Events = Schema.Of(
        ("ip", DataType.String), ("hits", DataType.BigInt), ("ratio", DataType.Double.NotNull()),
        ("at", DataType.Timestamp3));

    [Fact]
    public void A_schema_becomes_a_struct_with_one_field_per_column()
    {
        var type = RowTypes.For(Events);
        Assert.True(type.IsValueType);
        Assert.Equal(typeof(string), RowTypes.FieldOf(type, 0).FieldType);
        Assert.Equal(typeof(long?), RowTypes.FieldOf(type, 1).FieldType);
        Assert.Equal(typeof(double), RowTypes.FieldOf(type, 2).FieldType);
        Assert.Equal(typeof(DateTime?), RowTypes.FieldOf(type, 3).FieldType);
        Assert.Same(type, RowTypes.For(Schema.Of(("ip", DataType.String), ("hits", DataType.BigInt),
            ("ratio", DataType.Double.NotNull()), ("at", DataType.Timestamp3))));
    }

    [Fact]
    public void Rows_convert_both_ways_with_nulls()
    {
        var method = typeof(RowTypesTests).GetMethod(nameof(RoundTrip), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(RowTypes.For(Events));
        var row = Row.Of("1.2.3.4", null, 0.5, new DateTime(2024, 1, 1, 10, 0, 0));
        var back = (Row)method.Invoke(null, [row])!;
        Assert.Equal(row, back.WithKind(RowKind.Insert));
        Assert.Equal(RowKind.UpdateAfter, back.Kind);
    }

    [Fact]
    public void Rows_hash_on_every_field_and_compare_field_by_field()
    {
        // Bids of one auction: the first column equal, the rest not. The runtime's default struct hash would be the
        // first column's alone, so hash tables of such rows (join state) would put them all in one bucket.
        var method = typeof(RowTypesTests).GetMethod(nameof(Hashes), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(RowTypes.For(Bids));
        var hashes = (List<(int Hash, bool EqualsSame, bool EqualsOther)>)method.Invoke(null, [])!;
        Assert.Equal(100, hashes.Select(h => h.Hash).Distinct().Count());
        Assert.All(hashes, h => Assert.True(h.EqualsSame));
        Assert.All(hashes, h => Assert.False(h.EqualsOther));
    }

    private static readonly Schema Bids = Schema.Of(("auction", DataType.BigInt), ("bidder", DataType.BigInt), ("channel", DataType.String));

    private static List<(int, bool, bool)> Hashes<T>()
    {
        var from = RowTypes.FromRow<T>(Bids);
        var result = new List<(int, bool, bool)>();
        for (int i = 0; i < 100; i++)
        {
            var row = from(Row.Of(7L, (long)i, "c" + i));
            var same = from(Row.Of(7L, (long)i, "c" + i));
            var other = from(Row.Of(7L, (long)i, "d" + i));
            Assert.Equal(row!.GetHashCode(), same!.GetHashCode());
            result.Add((row.GetHashCode(), row.Equals(same), row.Equals(other)));
        }
        return result;
    }

    private static Row RoundTrip<T>(Row row)
    {
        var from = RowTypes.FromRow<T>(Events);
        var to = RowTypes.ToRow<T>(Events);
        return to(from(row), RowKind.UpdateAfter);
    }
}
