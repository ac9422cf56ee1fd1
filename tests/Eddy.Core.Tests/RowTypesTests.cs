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

    private static Row RoundTrip<T>(Row row)
    {
        var from = RowTypes.FromRow<T>(Events);
        var to = RowTypes.ToRow<T>(Events);
        return to(from(row), RowKind.UpdateAfter);
    }
}
