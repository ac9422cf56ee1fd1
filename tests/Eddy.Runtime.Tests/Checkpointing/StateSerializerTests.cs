using Eddy.Runtime;

namespace Eddy.Tests.Checkpointing;

public enum Colour : byte { Red, Green, Blue = 200 }

public enum Wide : long { Low = long.MinValue, High = long.MaxValue }

public sealed record Person(string? Name, int Age, List<string?>? Tags);

public readonly record struct Reading(DateTime At, double? Value, Colour Colour)
{
    public string? Note { get; init; }
}

public sealed class Mutable
{
    public long Count;
    public decimal? Total;
    public Dictionary<string, List<int?>>? ByName { get; set; }
    public byte[]? Blob;
}

public sealed class Immutable(Guid id, TimeSpan span, IReadOnlyList<int> ignored)
{
    public Guid Id { get; } = id;
    public TimeSpan Span { get; } = span;
    public int Computed => ignored.Count;

    public Immutable(Guid id, TimeSpan span) : this(id, span, []) { }
}

public struct Everything
{
    public bool B;
    public sbyte Sb;
    public byte By;
    public short S;
    public ushort Us;
    public int I;
    public uint Ui;
    public long L;
    public ulong Ul;
    public float F;
    public double D;
    public decimal M;
    public char C;
    public string? Str;
    public DateTimeOffset Dto;
    public DateOnly Date;
    public TimeOnly Time;
    public Wide W;
    public Colour? MaybeColour;
    public int[]? Ints;
    public (string?, long)[]? Pairs;
    public HashSet<long>? Set;
    public Tuple<int, string?>? OldTuple;
    public (int A, (string? B, double C) Inner) Nested;
    public KeyValuePair<string, int> Kv;
    public Mutable? Child;
    public Immutable? Frozen;
    public object? Anything;
}

public sealed class Node
{
    public int Value;
    public Node? Next;
}

public class Animal
{
    public string? Name;
}

public sealed class Dog : Animal
{
    public int Barks;
}

public sealed class WithCallback
{
    public Action? Callback;
}

public sealed class WithInterface
{
    public IEnumerable<int>? Items;
}

public sealed class WithHiddenState
{
    private int hidden;

    public int Visible { get; set; }

    public int Bump() => ++hidden;
}

public sealed class Opaque2
{
    private int hidden;

    public int Visible { get; set; }

    public int Bump() => ++hidden;
}

public class StateSerializerTests
{
    private static T RoundTrip<T>(T value, out byte[] bytes)
    {
        var serializer = StateSerializers.For<T>();
        bytes = Write(serializer, value);
        using var reader = new BinaryReader(new MemoryStream(bytes));
        var back = serializer.Read(reader);
        Assert.Equal(bytes.Length, reader.BaseStream.Position);
        return back;
    }

    private static byte[] Write<T>(StateSerializer<T> serializer, T value)
    {
        var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream)) serializer.Write(writer, value);
        return stream.ToArray();
    }

    /// <summary>The value comes back equal, and writing it again gives the same bytes.</summary>
    private static void AssertRoundTrips<T>(T value)
    {
        var back = RoundTrip(value, out var bytes);
        Assert.Equivalent(value, back, strict: true);
        Assert.Equal(bytes, Write(StateSerializers.For<T>(), back));
    }

    private static string? RandomString(Random r) => r.Next(6) switch
    {
        0 => null,
        1 => "",
        2 => new string('x', r.Next(300, 900)),
        // Non-ASCII, and a lone surrogate that UTF-8 cannot carry: char-by-char it must come back as a char.
        3 => "naïve ✓ 日本",
        _ => $"s{r.Next(1000)}",
    };

    private static Mutable RandomMutable(Random r) => new()
    {
        Count = r.NextInt64(),
        Total = r.Next(3) == 0 ? null : (decimal)r.NextDouble() * 1e6m,
        ByName = r.Next(3) == 0 ? null : Enumerable.Range(0, r.Next(4)).ToDictionary(i => $"k{i}", i => Enumerable.Range(0, i).Select(j => j % 2 == 0 ? (int?)j : null).ToList()),
        Blob = r.Next(3) == 0 ? null : Enumerable.Range(0, r.Next(40)).Select(i => (byte)r.Next(256)).ToArray(),
    };

    private static object? RandomObject(Random r) => r.Next(12) switch
    {
        0 => null,
        1 => r.Next(),
        2 => r.NextInt64(),
        3 => r.NextDouble(),
        4 => RandomString(r),
        5 => new DateTime(r.NextInt64(DateTime.MinValue.Ticks, DateTime.MaxValue.Ticks), DateTimeKind.Utc),
        6 => new object?[] { 1, "two", null, 3.5m },
        7 => Row.OfKind(RowKind.UpdateAfter, "a", 1L, null, new object?[] { true }),
        8 => new Dictionary<object, object?> { ["k"] = 1, [2] = null },
        9 => RandomMutable(r),
        10 => (short)r.Next(short.MinValue, short.MaxValue),
        _ => new Person("p", 3, null),
    };

    private static Everything RandomEverything(Random r) => new()
    {
        B = r.Next(2) == 0,
        Sb = (sbyte)r.Next(-128, 128),
        By = (byte)r.Next(256),
        S = (short)r.Next(short.MinValue, short.MaxValue),
        Us = (ushort)r.Next(ushort.MaxValue),
        I = r.Next(int.MinValue, int.MaxValue),
        Ui = (uint)r.NextInt64(uint.MaxValue),
        L = r.NextInt64(long.MinValue, long.MaxValue),
        Ul = (ulong)r.NextInt64(),
        F = (float)r.NextDouble(),
        D = r.Next(10) == 0 ? double.NaN : r.NextDouble() * 1e300,
        M = new decimal(r.Next(), r.Next(), r.Next(), r.Next(2) == 0, (byte)r.Next(29)),
        C = r.Next(4) == 0 ? '\ud800' : (char)r.Next(32, 0xd000),
        Str = RandomString(r),
        Dto = new DateTimeOffset(r.NextInt64(DateTime.MinValue.Ticks + TimeSpan.TicksPerDay, DateTime.MaxValue.Ticks - TimeSpan.TicksPerDay), TimeSpan.FromMinutes(r.Next(-600, 600))),
        Date = DateOnly.FromDayNumber(r.Next(0, 3_000_000)),
        Time = new TimeOnly(r.NextInt64(TimeOnly.MaxValue.Ticks)),
        W = r.Next(2) == 0 ? Wide.Low : Wide.High,
        MaybeColour = r.Next(3) switch { 0 => null, 1 => Colour.Blue, _ => Colour.Green },
        Ints = r.Next(3) == 0 ? null : Enumerable.Range(0, r.Next(20)).Select(_ => r.Next()).ToArray(),
        Pairs = r.Next(3) == 0 ? null : [(RandomString(r), r.NextInt64()), (null, 0)],
        Set = r.Next(3) == 0 ? null : [.. Enumerable.Range(0, r.Next(10)).Select(i => (long)i * 7)],
        OldTuple = r.Next(2) == 0 ? null : Tuple.Create(r.Next(), RandomString(r)),
        Nested = (r.Next(), (RandomString(r), r.NextDouble())),
        Kv = new(RandomString(r) ?? "k", r.Next()),
        Child = r.Next(3) == 0 ? null : RandomMutable(r),
        Frozen = r.Next(3) == 0 ? null : new Immutable(Guid.NewGuid(), TimeSpan.FromTicks(r.NextInt64())),
        Anything = RandomObject(r),
    };

    [Fact]
    public void Random_values_of_many_shapes_round_trip()
    {
        var r = new Random(42);
        for (int i = 0; i < 300; i++)
        {
            AssertRoundTrips(RandomEverything(r));
            AssertRoundTrips(new Person(RandomString(r), r.Next(), r.Next(3) == 0 ? null : [RandomString(r), null]));
            AssertRoundTrips(new Reading(DateTime.UnixEpoch.AddTicks(r.NextInt64(1L << 50)), r.Next(3) == 0 ? null : r.NextDouble(), (Colour)r.Next(3)) { Note = RandomString(r) });
            AssertRoundTrips(RandomMutable(r));
            AssertRoundTrips(RandomObject(r));
            AssertRoundTrips<(string?, int?, List<Reading>)>((RandomString(r), r.Next(2) == 0 ? null : r.Next(), [new Reading(DateTime.MinValue, 1, Colour.Red)]));
        }
    }

    [Fact]
    public void Lone_surrogates_and_local_times_keep_their_identity()
    {
        var e = new Everything { C = '\udfff', Str = "a\ud800b" };
        var back = RoundTrip(e, out _);
        Assert.Equal('\udfff', back.C);
        Assert.Equal("a\ud800b", back.Str);
        Assert.Equal("naïve ✓ 日本", RoundTrip("naïve ✓ 日本", out var utf8));
        Assert.Equal(1 + 17, utf8.Length);
        var local = new DateTime(2024, 3, 1, 12, 0, 0, DateTimeKind.Local);
        Assert.Equal(DateTimeKind.Local, RoundTrip(local, out _).Kind);
        Assert.Equal(DateTimeKind.Utc, RoundTrip(DateTime.UnixEpoch, out _).Kind);
    }

    [Fact]
    public void Recursive_types_and_null_references_round_trip()
    {
        var list = new Node { Value = 1, Next = new Node { Value = 2, Next = new Node { Value = 3 } } };
        var back = RoundTrip(list, out _);
        Assert.Equal([1, 2, 3], new[] { back, back.Next!, back.Next!.Next! }.Select(n => n.Value));
        Assert.Null(back.Next!.Next!.Next);
        Assert.Null(RoundTrip<Node?>(null, out _));
    }

    [Fact]
    public void Generated_row_and_accumulator_structs_round_trip()
    {
        var type = RowTypes.ForFields([typeof(string), typeof(long?), typeof(double?), typeof(HashSet<string>), typeof(object), typeof(DateTime?)]);
        var (write, read) = StateSerializers.BoxedFor(type);
        var value = Activator.CreateInstance(type)!;
        type.GetField("c0")!.SetValue(value, "key");
        type.GetField("c1")!.SetValue(value, 42L);
        type.GetField("c3")!.SetValue(value, new HashSet<string> { "a", "b" });
        type.GetField("c4")!.SetValue(value, new Mutable { Count = 5 });
        type.GetField("c5")!.SetValue(value, new DateTime(2025, 1, 2, 3, 4, 5, DateTimeKind.Unspecified));
        var stream = new MemoryStream();
        write(new BinaryWriter(stream), value);
        stream.Position = 0;
        var back = read(new BinaryReader(stream));
        Assert.Equal("key", type.GetField("c0")!.GetValue(back));
        Assert.Equal(42L, type.GetField("c1")!.GetValue(back));
        Assert.Null(type.GetField("c2")!.GetValue(back));
        Assert.Equal(["a", "b"], ((HashSet<string>)type.GetField("c3")!.GetValue(back)!).Order());
        Assert.Equal(5, ((Mutable)type.GetField("c4")!.GetValue(back)!).Count);
        Assert.Equal(new DateTime(2025, 1, 2, 3, 4, 5), type.GetField("c5")!.GetValue(back));

        var row = Row.OfKind(RowKind.Delete, "x", 1, 2L, 3.0, 4m, true, null, new byte[] { 1, 2 }, DateOnly.MinValue,
            new TimeOnly(1, 2, 3), DateTimeOffset.UnixEpoch, new object?[] { Row.Of(1) }, new Dictionary<object, object?> { ["a"] = null });
        var rowBack = RoundTrip(row, out _);
        Assert.Equal(RowKind.Delete, rowBack.Kind);
        Assert.Equal(row.ToString(), rowBack.ToString());
    }

    [Fact]
    public void Unsupported_types_are_refused_with_the_member_path()
    {
        var e = Assert.Throws<StateSerializationException>(() => StateSerializers.For<WithCallback>());
        Assert.Contains("WithCallback.Callback", e.Message, StringComparison.Ordinal);
        Assert.Contains("Action", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<StateSerializationException>(() => StateSerializers.For<List<WithInterface>>());
        Assert.Contains("WithInterface.Items", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<StateSerializationException>(() => StateSerializers.For<WithHiddenState>());
        Assert.Contains("'hidden'", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<StateSerializationException>(() => StateSerializers.Validate("operator 'Agg'", typeof(Dictionary<string, WithCallback>)));
        Assert.StartsWith("operator 'Agg' cannot checkpoint its state", e.Message, StringComparison.Ordinal);

        // A failed type is not half-registered: asking again fails the same way.
        Assert.Throws<StateSerializationException>(() => StateSerializers.For<WithCallback>());
    }

    [Fact]
    public void A_subclass_held_where_a_base_class_is_declared_is_refused_at_write()
    {
        var serializer = StateSerializers.For<Animal>();
        Assert.Equal("rex", RoundTrip(new Animal { Name = "rex" }, out _).Name);
        var e = Assert.Throws<StateSerializationException>(() => Write(serializer, new Dog { Name = "rex", Barks = 2 }));
        Assert.Contains("Dog", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Custom_comparers_are_refused_rather_than_lost()
    {
        var set = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "a" };
        Assert.Throws<StateSerializationException>(() => Write(StateSerializers.For<HashSet<string>>(), set));
        Assert.Single(RoundTrip(new HashSet<string> { "a" }, out _));
    }

    [Fact]
    public void A_registered_serializer_replaces_the_rules()
    {
        StateSerializers.Register<Opaque2>((w, v) => w.Write(v.Visible), r => new Opaque2 { Visible = r.ReadInt32() + 1 });
        Assert.Equal(8, RoundTrip(new Opaque2 { Visible = 7 }, out _).Visible);
    }
}
