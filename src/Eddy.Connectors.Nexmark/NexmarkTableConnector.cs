using System.Linq.Expressions;
using Eddy.Runtime;
using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors;

namespace Eddy.Connectors.Nexmark;

/// <summary>
/// <c>'connector' = 'nexmark'</c>: Nexmark's event stream in the nested layout of Flink's Nexmark DDL
/// (<c>event_type INT, person ROW&lt;...&gt;, auction ROW&lt;...&gt;, bid ROW&lt;...&gt;</c>), written straight into the
/// planner's row structs. Options: Flink's (<see cref="NexmarkOptions"/>), plus <c>seed</c> and <c>base-time</c>.
/// </summary>
public sealed class NexmarkTableConnector : ITypedTableConnector
{
    private static int registered;

    /// <summary>Makes the connector known to SQL sessions (once per process).</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref registered, 1) != 0) return;
        TableConnectors.Register(new NexmarkTableConnector());
    }

    public string Name => "nexmark";

    public bool AcceptsUpdates(TableDef table) => false;

    public Source<Row> CreateSource(TableDef table, Schema decoded, ConnectorContext context) =>
        Create(table, decoded, static (type, person, auction, bid) => new Row(RowKind.Insert, [BoxedTypes[type], person, auction, bid]));

    public Source<T>? CreateTypedSource<T>(TableDef table, Schema decoded, ConnectorContext context) =>
        typeof(T).IsValueType ? Create(table, decoded, StructMaker<T>()) : null;

    public Sink<Row> CreateSink(TableDef table, Schema schema, ConnectorContext context) =>
        throw new ConnectorOptionException(table.Name, "connector", "nexmark is a source only");

    public Sink<T>? CreateTypedSink<T>(TableDef table, Schema schema, ConnectorContext context) =>
        throw new ConnectorOptionException(table.Name, "connector", "nexmark is a source only");

    private static readonly object[] BoxedTypes = [0, 1, 2];

    private static NexmarkSource<T> Create<T>(TableDef table, Schema decoded, Func<int, Row?, Row?, Row?, T> make)
    {
        string? layout = LayoutProblem(decoded);
        if (layout is not null)
            throw new ConnectorOptionException(table.Name, "connector", $"a nexmark table has the columns of Flink's Nexmark DDL ({ExpectedLayout}); {layout}");
        NexmarkOptions options;
        try
        {
            options = NexmarkOptions.Parse(table.Options);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            throw new ConnectorOptionException(table.Name, e.Message, e);
        }
        return new NexmarkSource<T>(options, make);
    }

    /// <summary>(type, person, auction, bid) → the decoded row struct: a field per column.</summary>
    private static Func<int, Row?, Row?, Row?, T> StructMaker<T>()
    {
        var type = Expression.Parameter(typeof(int), "type");
        var rows = new[] { Expression.Parameter(typeof(Row), "person"), Expression.Parameter(typeof(Row), "auction"), Expression.Parameter(typeof(Row), "bid") };
        var result = Expression.Variable(typeof(T), "r");
        var c0 = RowTypes.FieldOf(typeof(T), 0);
        var body = new List<Expression>
        {
            Expression.Assign(result, Expression.Default(typeof(T))),
            Expression.Assign(Expression.Field(result, c0), Expression.Convert(type, c0.FieldType)),
        };
        for (int i = 0; i < 3; i++) body.Add(Expression.Assign(Expression.Field(result, RowTypes.FieldOf(typeof(T), i + 1)), rows[i]));
        body.Add(result);
        return Expression.Lambda<Func<int, Row?, Row?, Row?, T>>(Expression.Block([result], body), [type, .. rows]).Compile();
    }

    private static readonly (string Name, TypeKind Kind, (string Name, TypeKind Kind)[]? Fields)[] Layout =
    [
        ("event_type", TypeKind.Int, null),
        ("person", TypeKind.Row, [("id", TypeKind.BigInt), ("name", TypeKind.String), ("emailAddress", TypeKind.String), ("creditCard", TypeKind.String),
            ("city", TypeKind.String), ("state", TypeKind.String), ("dateTime", TypeKind.Timestamp), ("extra", TypeKind.String)]),
        ("auction", TypeKind.Row, [("id", TypeKind.BigInt), ("itemName", TypeKind.String), ("description", TypeKind.String), ("initialBid", TypeKind.BigInt),
            ("reserve", TypeKind.BigInt), ("dateTime", TypeKind.Timestamp), ("expires", TypeKind.Timestamp), ("seller", TypeKind.BigInt),
            ("category", TypeKind.BigInt), ("extra", TypeKind.String)]),
        ("bid", TypeKind.Row, [("auction", TypeKind.BigInt), ("bidder", TypeKind.BigInt), ("price", TypeKind.BigInt), ("channel", TypeKind.String),
            ("url", TypeKind.String), ("dateTime", TypeKind.Timestamp), ("extra", TypeKind.String)]),
    ];

    private static string ExpectedLayout => string.Join(", ", Layout.Select(c => c.Fields is null ? $"{c.Name} {c.Kind}"
        : $"{c.Name} ROW<{string.Join(", ", c.Fields.Select(f => $"{f.Name} {f.Kind}"))}>"));

    private static string? LayoutProblem(Schema decoded)
    {
        if (decoded.Count != Layout.Length) return $"this one has {decoded.Count} physical column(s)";
        for (int i = 0; i < Layout.Length; i++)
        {
            var (name, kind, fields) = Layout[i];
            var column = decoded[i];
            if (!column.Name.Equals(name, StringComparison.OrdinalIgnoreCase) || column.Type.Kind != kind)
                return $"column {i + 1} is {column.Name} {column.Type}";
            if (fields is null) continue;
            var actual = column.Type.Fields!;
            if (actual.Count != fields.Length) return $"{name} has {actual.Count} field(s)";
            for (int f = 0; f < fields.Length; f++)
            {
                if (!actual[f].Name.Equals(fields[f].Name, StringComparison.OrdinalIgnoreCase) || actual[f].Type.Kind != fields[f].Kind)
                    return $"field {f + 1} of {name} is {actual[f].Name} {actual[f].Type}";
            }
        }
        return null;
    }
}

/// <summary>
/// The Nexmark stream as a source: subtask i of p runs generator i of Nexmark's <c>split(p)</c> (the inter-event delay
/// scaled by p, as Flink sets one generator per subtask), at full speed or, with <c>max-emit-speed</c> false, each
/// event at its due wall-clock time. Its checkpoint is the generator's position, random state, seed and base time.
/// </summary>
public sealed class NexmarkSource<T> : Source<T>
{
    private readonly Func<int, Row?, Row?, Row?, T> make;
    private readonly long seed;
    private readonly long? baseTime;
    private NexmarkStrings? strings;

    public NexmarkSource(NexmarkOptions options, Func<int, Row?, Row?, Row?, T> make)
    {
        Options = options;
        this.make = make;
        seed = options.Seed ?? System.Random.Shared.NextInt64();
        baseTime = options.BaseTime;
    }

    public NexmarkOptions Options { get; }

    public override bool IsBounded => Options.IsBounded;

    public override SourceReader<T> CreateReader(SourceReaderContext context)
    {
        long readSeed = seed;
        long readBase = baseTime ?? context.Clock.GetUtcNow().ToUnixTimeMilliseconds();
        long eventsSoFar = 0, wallclockBase = -1;
        long? randomState = null;
        if (context.Restored is { } restored && restored.SubtaskStates.Count > context.SubtaskIndex && restored.SubtaskStates[context.SubtaskIndex].Length > 0)
        {
            // Each subtask owns one split of the event ids, so the parallelism must stay.
            if (restored.OldParallelism != context.Parallelism)
            {
                throw new InvalidOperationException(
                    $"nexmark source '{context.OperatorId}': checkpoint {restored.CheckpointId} was taken at parallelism "
                    + $"{restored.OldParallelism}; nexmark resumes only at the same parallelism (now {context.Parallelism})");
            }
            using var r = new BinaryReader(new MemoryStream(restored.SubtaskStates[context.SubtaskIndex]));
            readSeed = r.ReadInt64();
            readBase = r.ReadInt64();
            eventsSoFar = r.ReadInt64();
            randomState = r.ReadInt64();
            wallclockBase = r.ReadInt64();
        }
        NexmarkStrings shared;
        lock (this)
        {
            // Subtasks share the strings of the source's seed (10,000 channel URLs and 1 MiB of extra text).
            shared = readSeed == seed ? strings ??= new NexmarkStrings(seed) : new NexmarkStrings(readSeed);
        }
        var config = GeneratorConfig.ForTable(Options, context.Parallelism, readBase).Split(context.Parallelism)[context.SubtaskIndex];
        var random = new SplittableRandom(readSeed + context.SubtaskIndex);
        if (randomState is { } state) random.State = state;
        var generator = new NexmarkGenerator(config, shared, random, eventsSoFar);
        return new Reader(generator, readSeed, Options, make, context.Clock, wallclockBase);
    }

    private sealed class Reader(NexmarkGenerator generator, long seed, NexmarkOptions options, Func<int, Row?, Row?, Row?, T> make,
        TimeProvider clock, long wallclockBase) : SourceReader<T>
    {
        private NexmarkEvent e;

        public override void SnapshotState(long checkpointId, BinaryWriter state)
        {
            state.Write(seed);
            state.Write(generator.Config.BaseTime);
            state.Write(generator.EventsSoFar);
            state.Write(generator.Random.State);
            state.Write(wallclockBase);
        }

        public override SourceStatus Read(SourceOutput<T> output)
        {
            if (!generator.HasNext) return options.KeepAlive ? SourceStatus.NothingAvailable : SourceStatus.EndOfInput;
            long now = 0;
            if (!options.MaxEmitSpeed)
            {
                now = clock.GetUtcNow().ToUnixTimeMilliseconds();
                if (wallclockBase < 0) wallclockBase = now;
            }
            int room = output.Room;
            int n = 0;
            for (; n < room && generator.HasNext; n++)
            {
                // Not yet due on the wall clock (events at the configured rate, as Nexmark without max-emit-speed).
                if (!options.MaxEmitSpeed && wallclockBase + (generator.NextUnadjustedTimestamp - generator.Config.BaseTime) > now) break;
                generator.Next(ref e);
                output.Add(Convert(ref e));
            }
            if (n == 0) return SourceStatus.NothingAvailable;
            return generator.HasNext || options.KeepAlive ? SourceStatus.MoreAvailable : SourceStatus.EndOfInput;
        }

        private static DateTime ToDateTime(long ms) => new(DateTime.UnixEpoch.Ticks + ms * TimeSpan.TicksPerMillisecond, DateTimeKind.Utc);

        private T Convert(ref NexmarkEvent e)
        {
            var time = ToDateTime(e.DateTime);
            switch (e.Type)
            {
                case NexmarkEventType.Person:
                    return make(0, new Row(RowKind.Insert, [e.PersonId, e.Name, e.EmailAddress, e.CreditCard, e.City, e.State, time, e.Extra]), null, null);
                case NexmarkEventType.Auction:
                    return make(1, null, new Row(RowKind.Insert,
                        [e.AuctionId, e.ItemName, e.Description, e.InitialBid, e.Reserve, time, ToDateTime(e.Expires), e.Seller, e.Category, e.Extra]), null);
                default:
                    return make(2, null, null, new Row(RowKind.Insert, [e.BidAuction, e.Bidder, e.Price, e.Channel, e.Url, time, e.Extra]));
            }
        }
    }
}
