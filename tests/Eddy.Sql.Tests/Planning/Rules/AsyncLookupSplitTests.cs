using Eddy.Runtime;
using Eddy.Sql.Plan.AsyncLookup;
using Eddy.Sql.Plan.Calc;
using Eddy.Sql.Plan.Values;
using Eddy.Sql.Planning;
using Eddy.Sql.Planning.Rules;

namespace Eddy.Sql.Tests.Planning.Rules;

public class AsyncLookupSplitTests
{
    private sealed class Echo : IAsyncCallFunction
    {
        public void Open(OperatorContext context)
        {
        }

        public Task<object?> InvokeAsync(object?[] arguments, CancellationToken cancellation) => Task.FromResult(arguments[0]);

        public object? Timeout(object?[] arguments) => null;

        public void Close()
        {
        }
    }

    private static AsyncCall Call(BoundExpr argument) =>
        new("REMOTE", [argument], new AsyncFunctionSpec("echo", () => new Echo(), new AsyncOptions()), DataType.String);

    [Fact]
    public void A_calc_with_a_remote_call_splits_around_an_async_lookup_and_a_filter_without_one_goes_below()
    {
        var input = new ValuesPlan([], Schema.Of(("n", DataType.Int), ("ip", DataType.String)));
        var ip = new InputRef(1, "ip", DataType.String);
        var filter = new Binary(BinaryOp.Greater, new InputRef(0, "n", DataType.Int), new Literal(1, DataType.Int), DataType.Boolean);
        var call = Call(ip);
        var calc = new CalcPlan(input, [new InputRef(0, "n", DataType.Int), call, call], filter,
            Schema.Of(("n", DataType.Int), ("a", DataType.String), ("b", DataType.String)), null);
        var post = Assert.IsType<CalcPlan>(AsyncLookupSplit.TrySplit(calc));
        var lookup = Assert.IsType<AsyncLookupPlan>(post.Input);
        Assert.Single(lookup.Calls); // the same call twice is looked up once
        var pre = Assert.IsType<CalcPlan>(lookup.Input);
        Assert.Same(filter, pre.Filter);
        Assert.Null(post.Filter);
        Assert.Equal(3, pre.Projections.Count); // n, ip, and the argument
        Assert.Equal(4, lookup.Schema.Count);
        Assert.Equal([3, 3], post.Projections.Skip(1).Select(p => Assert.IsType<InputRef>(p).Index));
        Assert.Null(AsyncLookupSplit.TrySplit(pre));
    }

    [Fact]
    public void A_filter_on_a_remote_result_stays_above_the_lookup()
    {
        var input = new ValuesPlan([], Schema.Of(("ip", DataType.String)));
        var call = Call(new InputRef(0, "ip", DataType.String));
        var filter = new Unary(UnaryOp.IsNotNull, call, DataType.Boolean.NotNull());
        var calc = new CalcPlan(input, [new InputRef(0, "ip", DataType.String)], filter, Schema.Of(("ip", DataType.String)), null);
        var post = Assert.IsType<CalcPlan>(AsyncLookupSplit.TrySplit(calc));
        Assert.NotNull(post.Filter);
        Assert.Null(((CalcPlan)((AsyncLookupPlan)post.Input).Input).Filter);
    }

    [Fact]
    public void In_flight_rows_round_trip_through_the_checkpoint_codec()
    {
        var schema = Schema.Of(("s", DataType.String), ("i", DataType.Int), ("l", DataType.BigInt.NotNull()), ("d", DataType.Double),
            ("t", DataType.Timestamp3), ("z", DataType.TimestampLtz3), ("b", DataType.Boolean),
            ("a", DataType.ArrayOf(DataType.Int)), ("m", DataType.MapOf(DataType.String, DataType.Double)),
            ("r", DataType.RowOf(new Column("x", DataType.Int), new Column("y", DataType.String))));
        var rowType = RowTypes.For(schema);
        var method = typeof(AsyncLookupSplitTests).GetMethod(nameof(RoundTrip), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.MakeGenericMethod(rowType);
        var full = Row.Of("x", 7, 8L, 1.5, new DateTime(2024, 1, 2, 3, 4, 5, 6), new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero), true,
            new object?[] { 1, null, 3 }, new Dictionary<object, object?> { ["k"] = 2.5, ["n"] = null }, Row.Of(4, "four"));
        var empty = Row.Of(null, null, 9L, null, null, null, null, null, null, null);
        Assert.Equal(full.ToString(), method.Invoke(null, [schema, full])!.ToString());
        Assert.Equal(empty.ToString(), method.Invoke(null, [schema, empty])!.ToString());
    }

    private static Row RoundTrip<T>(Schema schema, Row row)
    {
        // The async operator's checkpoint codec for in-flight rows: the runtime's state serializer of the row type.
        var codec = StateSerializers.For<T>();
        var value = RowTypes.FromRow<T>(schema)(row);
        var stream = new MemoryStream();
        codec.Write(new BinaryWriter(stream), value);
        stream.Position = 0;
        return RowTypes.ToRow<T>(schema)(codec.Read(new BinaryReader(stream)), RowKind.Insert);
    }
}
