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
public sealed class NexmarkTableConnector : INestedProjectionConnector
{
    public string Name => "nexmark";

    public Sql.Connectors.Options.OptionSchema OptionSchema => NexmarkOptions.OptionSchema;

    public bool AcceptsUpdates(TableDef table) => false;

    public Source<Row> CreateSource(TableDef table, Schema decoded, ConnectorContext context) =>
        Create(table, decoded, static (ref NexmarkEvent e, ref Row row) =>
            row = new Row(RowKind.Insert, [BoxedTypes[(int)e.Type], PersonRow(ref e), AuctionRow(ref e), BidRow(ref e)]), NexmarkTextFields.All);

    public Source<T>? CreateTypedSource<T>(TableDef table, Schema decoded, ConnectorContext context) =>
        typeof(T).IsValueType ? Create(table, decoded, Writer<T>(Enumerable.Range(0, Layout.Length).Select(c => new ColumnPath(c, null)).ToList()), NexmarkTextFields.All) : null;

    /// <summary>
    /// The source of the columns and ROW fields a query reads: unread ROW values are not made and unread strings not
    /// built (their random draws are still taken, so every value read is the one the whole source gives).
    /// </summary>
    public Source<T>? CreateProjectedSource<T>(TableDef table, Schema physical, IReadOnlyList<ColumnPath> paths, ConnectorContext context) =>
        typeof(T).IsValueType ? Create(table, physical, Writer<T>(paths), TextFieldsRead(paths)) : null;

    public Sink<Row> CreateSink(TableDef table, Schema schema, ConnectorContext context) =>
        throw new ConnectorOptionException(table.Name, "connector", "nexmark is a source only");

    public Sink<T>? CreateTypedSink<T>(TableDef table, Schema schema, ConnectorContext context) =>
        throw new ConnectorOptionException(table.Name, "connector", "nexmark is a source only");

    private static readonly object[] BoxedTypes = [0, 1, 2];

    private static NexmarkSource<T> Create<T>(TableDef table, Schema decoded, NexmarkRowWriter<T> write, NexmarkTextFields built)
    {
        string? layout = LayoutProblem(decoded);
        if (layout is not null)
            throw new ConnectorOptionException(table.Name, "connector", $"a nexmark table has the columns of Flink's Nexmark DDL ({ExpectedLayout}); {layout}");
        return new NexmarkSource<T>(NexmarkOptions.From(table.Name, NexmarkOptions.OptionSchema.Validate(table)), write, built);
    }

    private static DateTime ToDateTime(long ms) => new(DateTime.UnixEpoch.Ticks + ms * TimeSpan.TicksPerMillisecond, DateTimeKind.Utc);

    private static Row? PersonRow(ref NexmarkEvent e) => e.Type != NexmarkEventType.Person ? null
        : new Row(RowKind.Insert, [e.PersonId, e.Name, e.EmailAddress, e.CreditCard, e.City, e.State, ToDateTime(e.DateTime), e.Extra]);

    private static Row? AuctionRow(ref NexmarkEvent e) => e.Type != NexmarkEventType.Auction ? null
        : new Row(RowKind.Insert, [e.AuctionId, e.ItemName, e.Description, e.InitialBid, e.Reserve, ToDateTime(e.DateTime), ToDateTime(e.Expires), e.Seller, e.Category, e.Extra]);

    private static Row? BidRow(ref NexmarkEvent e) => e.Type != NexmarkEventType.Bid ? null
        : new Row(RowKind.Insert, [e.BidAuction, e.Bidder, e.Price, e.Channel, e.Url, ToDateTime(e.DateTime), e.Extra]);

    /// <summary>The event's fields in the order of each ROW column's fields (<see cref="Layout"/>), and the string fields they need built.</summary>
    private static readonly (string Member, NexmarkTextFields Text)[][] Members =
    [
        [],
        [("PersonId", 0), ("Name", 0), ("EmailAddress", NexmarkTextFields.PersonEmailAddress), ("CreditCard", NexmarkTextFields.PersonCreditCard),
            ("City", 0), ("State", 0), ("DateTime", 0), ("Extra", NexmarkTextFields.PersonExtra)],
        [("AuctionId", 0), ("ItemName", NexmarkTextFields.AuctionItemName), ("Description", NexmarkTextFields.AuctionDescription), ("InitialBid", 0),
            ("Reserve", 0), ("DateTime", 0), ("Expires", 0), ("Seller", 0), ("Category", 0), ("Extra", NexmarkTextFields.AuctionExtra)],
        [("BidAuction", 0), ("Bidder", 0), ("Price", 0), ("Channel", 0), ("Url", 0), ("DateTime", 0), ("Extra", NexmarkTextFields.BidExtra)],
    ];

    private static readonly NexmarkTextFields[] RowText =
        [0, NexmarkTextFields.PersonEmailAddress | NexmarkTextFields.PersonCreditCard | NexmarkTextFields.PersonExtra,
            NexmarkTextFields.AuctionItemName | NexmarkTextFields.AuctionDescription | NexmarkTextFields.AuctionExtra, NexmarkTextFields.BidExtra];

    private static NexmarkTextFields TextFieldsRead(IReadOnlyList<ColumnPath> paths) =>
        paths.Aggregate(NexmarkTextFields.None, (text, p) => text | (p.Field is { } f ? Members[p.Column][f].Text : RowText[p.Column]));

    /// <summary>
    /// Writes an event into the row struct <typeparamref name="T"/> whose fields hold <paramref name="paths"/> in order:
    /// <c>event_type</c>, a ROW column (its <see cref="Row"/> for an event of its kind, else NULL), or one field of one
    /// (its value for an event of its kind, else NULL). Compiled once per source: no boxing for the fields.
    /// </summary>
    private static NexmarkRowWriter<T> Writer<T>(IReadOnlyList<ColumnPath> paths)
    {
        var e = Expression.Parameter(typeof(NexmarkEvent).MakeByRefType(), "e");
        var row = Expression.Parameter(typeof(T).MakeByRefType(), "row");
        var type = Expression.Field(e, nameof(NexmarkEvent.Type));
        var body = new List<Expression> { Expression.Assign(row, Expression.Default(typeof(T))) };
        for (int i = 0; i < paths.Count; i++)
        {
            var (column, field) = (paths[i].Column, paths[i].Field);
            var target = Expression.Field(row, RowTypes.FieldOf(typeof(T), i));
            var kind = Expression.Constant((NexmarkEventType)(column - 1));
            Expression value;
            if (column == 0) value = Expression.Convert(Expression.Convert(type, typeof(int)), target.Type);
            else if (field is null)
            {
                string method = column switch { 1 => nameof(PersonRow), 2 => nameof(AuctionRow), _ => nameof(BidRow) };
                value = Expression.Call(typeof(NexmarkTableConnector).GetMethod(method, System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!, e);
            }
            else
            {
                Expression member = Expression.Field(e, Members[column][field.Value].Member);
                if (Layout[column].Fields![field.Value].Kind == TypeKind.Timestamp)
                    member = Expression.Call(typeof(NexmarkTableConnector).GetMethod(nameof(ToDateTime), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!, member);
                value = Expression.Condition(Expression.Equal(type, kind), Expression.Convert(member, target.Type), Expression.Default(target.Type));
            }
            body.Add(Expression.Assign(target, value));
        }
        return Expression.Lambda<NexmarkRowWriter<T>>(Expression.Block(body), e, row).Compile();
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

/// <summary>Writes a generated event into a row of the table (all of it, or the columns and fields a query reads).</summary>
public delegate void NexmarkRowWriter<T>(ref NexmarkEvent e, ref T row);

/// <summary>
/// The Nexmark stream as a source: subtask i of p runs generator i of Nexmark's <c>split(p)</c> (the inter-event delay
/// scaled by p, as Flink sets one generator per subtask), at full speed or, with <c>max-emit-speed</c> false, each
/// event at its due wall-clock time. Its checkpoint is the generator's position, random state, seed and base time.
/// </summary>
public sealed class NexmarkSource<T> : Source<T>
{
    private readonly NexmarkRowWriter<T> write;
    private readonly NexmarkTextFields built;
    private readonly long seed;
    private readonly long? baseTime;
    private NexmarkStrings? strings;

    /// <param name="built">the string fields <paramref name="write"/> reads: the others are not made.</param>
    public NexmarkSource(NexmarkOptions options, NexmarkRowWriter<T> write, NexmarkTextFields built)
    {
        Options = options;
        this.write = write;
        this.built = built;
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
        var generator = new NexmarkGenerator(config, shared, random, eventsSoFar, built) { DeferExtras = true };
        return new Reader(generator, readSeed, Options, write, context.Clock, wallclockBase);
    }

    private sealed class Reader(NexmarkGenerator generator, long seed, NexmarkOptions options, NexmarkRowWriter<T> write,
        TimeProvider clock, long wallclockBase) : SourceReader<T>
    {
        private NexmarkEvent[] events = [];
        private T row = default!;

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
            if (events.Length < room) events = new NexmarkEvent[room];
            int n = 0;
            for (; n < room && generator.HasNext; n++)
            {
                // Not yet due on the wall clock (events at the configured rate, as Nexmark without max-emit-speed).
                if (!options.MaxEmitSpeed && wallclockBase + (generator.NextUnadjustedTimestamp - generator.Config.BaseTime) > now) break;
                generator.Next(ref events[n]);
            }
            generator.BuildDeferredExtras(events.AsSpan(0, n));
            for (int i = 0; i < n; i++)
            {
                write(ref events[i], ref row);
                output.Add(row);
            }
            if (n == 0) return SourceStatus.NothingAvailable;
            return generator.HasNext || options.KeepAlive ? SourceStatus.MoreAvailable : SourceStatus.EndOfInput;
        }
    }
}
