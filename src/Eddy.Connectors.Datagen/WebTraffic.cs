using System.Globalization;
using System.Text;
using Eddy.Runtime;
using Eddy.Sql.Connectors;
using Eddy.Sql.Connectors.Options;

namespace Eddy.Connectors;

/// <summary>
/// One page view, shaped as the events of the Flink lab's web-traffic topic. <see cref="EventTime"/> is ISO-8601 text
/// (<c>yyyy-MM-ddTHH:mm:ss.SSSZ</c>) as in those events; <see cref="Referrer"/> may be null or empty.
/// </summary>
public sealed record WebTrafficEvent(
    string Url,
    string? Referrer,
    string UserAgent,
    string Host,
    string Ip,
    string Headers,
    string EventTime)
{
    public const string EventTimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    /// <summary>The columns of the row form, in the order of <see cref="ToRow"/>.</summary>
    public static Schema Schema { get; } = Eddy.Schema.Of(
        ("url", DataType.String),
        ("referrer", DataType.String),
        ("user_agent", DataType.String),
        ("host", DataType.String),
        ("ip", DataType.String),
        ("headers", DataType.String),
        ("event_time", DataType.String));

    public Row ToRow() => Row.Of(Url, Referrer, UserAgent, Host, Ip, Headers, EventTime);

    public static string FormatEventTime(long millis) =>
        Eddy.EventTime.ToDateTime(millis).ToString(EventTimeFormat, CultureInfo.InvariantCulture);
}

/// <summary>How the web-traffic generator behaves. Every default is deterministic except <see cref="Seed"/> (null: random).</summary>
public sealed record WebTrafficOptions
{
    public static readonly IReadOnlyList<string> Hosts =
        ["zachwilson.techcreator.io", "zachwilson.tech", "lulu.techcreator.io", "bootcamp.techcreator.io"];

    public long? Seed { get; init; }

    /// <summary>The event time of the first event.</summary>
    public DateTimeOffset Start { get; init; } = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>How fast event time advances: events per second of event time, over all subtasks.</summary>
    public double EventsPerSecond { get; init; } = 10;

    /// <summary>On-time events lie up to this far behind the newest event time so far (the watermark bound to use).</summary>
    public TimeSpan MaxOutOfOrderness { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The share of late events (0..1): they lie beyond <see cref="MaxOutOfOrderness"/>.</summary>
    public double LateShare { get; init; } = 0.01;

    /// <summary>How much further than the bound a late event may lie.</summary>
    public TimeSpan MaxLateness { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>The number of distinct visitors (ip, user agent): a bounded pool, so that sessions form.</summary>
    public int Users { get; init; } = 1000;

    /// <summary>The share of visitors with an IPv6 address.</summary>
    public double Ipv6Share { get; init; } = 0.05;

    /// <summary>The number of events (bounded); null: unbounded.</summary>
    public long? Count { get; init; }

    /// <summary>Processing-time rate limit over all subtasks; null: as fast as possible.</summary>
    public double? RowsPerSecond { get; init; }

    private static readonly WebTrafficOptions Defaults = new();

    internal static readonly ConnectorOption<long> SeedOption =
        Option.Long("seed", "the seed of every random draw, so that the same seed and parallelism give the same events (default: a new seed per run)");

    internal static readonly ConnectorOption<DateTimeOffset> StartOption =
        new ConnectorOption<DateTimeOffset>("start", "the event time of the first event", "Timestamp", "an ISO-8601 time such as '2024-01-01T00:00:00Z'",
            text => DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var start) ? (true, start, null) : (false, default, null))
            .WithDefault(Defaults.Start);

    internal static readonly ConnectorOption<double> EventsPerSecondOption =
        Option.Double("events-per-second", "how fast event time advances: events per second of event time, over all subtasks", positive: true).WithDefault(Defaults.EventsPerSecond);

    internal static readonly ConnectorOption<TimeSpan> MaxOutOfOrdernessOption =
        Option.Duration("max-out-of-orderness", "on-time events lie up to this far behind the newest event time so far (the watermark bound to use)").WithDefault(Defaults.MaxOutOfOrderness);

    internal static readonly ConnectorOption<double> LateShareOption =
        Option.DoubleBetween("late-share", "the share of late events, which lie beyond max-out-of-orderness", 0, 1).WithDefault(Defaults.LateShare);

    internal static readonly ConnectorOption<TimeSpan> MaxLatenessOption =
        Option.Duration("max-lateness", "how much further than max-out-of-orderness a late event may lie").WithDefault(Defaults.MaxLateness);

    internal static readonly ConnectorOption<int> UsersOption =
        Option.Int("users", "the number of distinct visitors (ip, user agent), so that sessions form", min: 1).WithDefault(Defaults.Users);

    internal static readonly ConnectorOption<double> Ipv6ShareOption =
        Option.DoubleBetween("ipv6-share", "the share of visitors with an IPv6 address", 0, 1).WithDefault(Defaults.Ipv6Share);

    internal static readonly ConnectorOption<long> NumberOfRowsOption =
        Option.Long("number-of-rows", "the number of events, which makes the source bounded (default: unbounded)", min: 0);

    internal static readonly ConnectorOption<double> RowsPerSecondOption =
        Option.Double("rows-per-second", "a processing-time rate limit over all subtasks (default: as fast as possible)", positive: true);

    /// <summary>
    /// The options of <c>'connector' = 'web-traffic'</c> (an Eddy connector, so every option is Eddy's), declared once;
    /// durations in Flink's syntax.
    /// </summary>
    public static OptionSchema OptionSchema { get; } = new("web-traffic",
        SeedOption, StartOption, EventsPerSecondOption, MaxOutOfOrdernessOption, LateShareOption, MaxLatenessOption, UsersOption, Ipv6ShareOption,
        NumberOfRowsOption, RowsPerSecondOption);

    /// <summary>Reads options validated by <see cref="OptionSchema"/>.</summary>
    public static WebTrafficOptions From(ConnectorOptions options) => new()
    {
        Seed = options.Find(SeedOption),
        Start = options.Get(StartOption),
        EventsPerSecond = options.Get(EventsPerSecondOption),
        MaxOutOfOrderness = options.Get(MaxOutOfOrdernessOption),
        LateShare = options.Get(LateShareOption),
        MaxLateness = options.Get(MaxLatenessOption),
        Users = options.Get(UsersOption),
        Ipv6Share = options.Get(Ipv6ShareOption),
        Count = options.Find(NumberOfRowsOption),
        RowsPerSecond = options.Find(RowsPerSecondOption),
    };

    /// <summary>The options as a SQL <c>WITH (...)</c> clause gives them; a bad one throws a <see cref="ConnectorOptionException"/> naming <paramref name="table"/>.</summary>
    public static WebTrafficOptions Parse(string table, IReadOnlyDictionary<string, string> options) => From(OptionSchema.Validate(table, options));
}

/// <summary>
/// Makes one subtask's web-traffic events. Event <c>i</c> (over all subtasks; this subtask makes every
/// <c>parallelism</c>-th) has the base time <c>start + i / EventsPerSecond</c>. An on-time event lies a random
/// amount up to the bound behind its base time; a late one lies beyond the bound behind the newest event this
/// subtask made, so that a bounded-out-of-orderness watermark with the same bound has already passed it.
/// </summary>
public sealed class WebTrafficGenerator
{
    private static readonly string[] Paths =
    [
        "/", "/", "/", "/blog", "/about", "/contact", "/signup", "/login", "/pricing", "/courses",
        "/courses/data-engineering", "/courses/analytics-engineering", "/lessons/flink-intro",
        "/lessons/kafka-basics", "/lessons/spark-joins", "/lessons/dimensional-modeling",
        "/api/v1/users", "/api/v1/events", "/static/main.css", "/static/app.js", "/favicon.ico", "/robots.txt",
    ];

    private static readonly string?[] Referrers =
    [
        null, null, null, null, "", "", "https://www.google.com/", "https://www.google.com/", "https://www.linkedin.com/",
        "https://www.linkedin.com/feed/", "https://t.co/", "https://www.youtube.com/", "https://www.bing.com/",
        "https://duckduckgo.com/", "https://www.reddit.com/r/dataengineering/", "https://zachwilson.tech/",
        "https://bootcamp.techcreator.io/", "https://github.com/",
    ];

    private static readonly string[] UserAgents =
    [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.43 Mobile Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "curl/8.4.0",
        "python-requests/2.31.0",
    ];

    private static readonly string[] Languages = ["en-US,en;q=0.9", "en-GB,en;q=0.8", "de-DE,de;q=0.9,en;q=0.8", "es-ES,es;q=0.9", "pt-BR,pt;q=0.9"];

    private readonly WebTrafficOptions options;
    private readonly FastRandom random;
    private readonly Visitor[] visitors;
    private readonly int parallelism;
    private readonly long startMs;
    private readonly long boundMs;
    private readonly long latenessMs;
    private readonly StringBuilder headers = new(256);
    private long index;
    private long remaining;
    private long newest = long.MinValue;

    private sealed record Visitor(string Ip, string UserAgent, string Language, int HomeHost);

    public WebTrafficGenerator(WebTrafficOptions options, long seed, int subtask = 0, int parallelism = 1)
    {
        if (options.EventsPerSecond <= 0) throw new ArgumentOutOfRangeException(nameof(options), "EventsPerSecond must be positive");
        if (options.Users <= 0) throw new ArgumentOutOfRangeException(nameof(options), "Users must be positive");
        if (options.LateShare is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(options), "LateShare must be within 0..1");
        if (options.MaxOutOfOrderness < TimeSpan.Zero || options.MaxLateness < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(options), "MaxOutOfOrderness and MaxLateness must not be negative");
        this.options = options;
        this.parallelism = parallelism;
        // The visitor pool comes from the seed alone, so that every subtask shares the same visitors.
        visitors = MakeVisitors(options, new FastRandom(FastRandom.Mix(seed, -1)));
        random = new FastRandom(FastRandom.Mix(seed, subtask));
        index = subtask;
        startMs = options.Start.ToUnixTimeMilliseconds();
        boundMs = EventTime.Millis(options.MaxOutOfOrderness);
        latenessMs = Math.Max(0, EventTime.Millis(options.MaxLateness));
        remaining = options.Count is { } n ? DatagenSource.Share(n, subtask, parallelism) : long.MaxValue;
    }

    public long Remaining => remaining;

    /// <summary>Writes the position (event index, count left, newest time, random state) for a checkpoint.</summary>
    public void Save(BinaryWriter state)
    {
        state.Write(index);
        state.Write(remaining);
        state.Write(newest);
        random.Save(state);
    }

    /// <summary>Continues from a position written by <see cref="Save"/>.</summary>
    public void Load(BinaryReader state)
    {
        index = state.ReadInt64();
        remaining = state.ReadInt64();
        newest = state.ReadInt64();
        random.Load(state);
    }

    private static Visitor[] MakeVisitors(WebTrafficOptions options, FastRandom r)
    {
        var result = new Visitor[options.Users];
        for (int i = 0; i < result.Length; i++)
        {
            string ip = r.NextDouble() < options.Ipv6Share ? Ipv6(r) : Ipv4(r);
            result[i] = new Visitor(ip, r.Pick(UserAgents), r.Pick(Languages), r.NextInt(Hosts.Count));
        }
        return result;
    }

    private static IReadOnlyList<string> Hosts => WebTrafficOptions.Hosts;

    /// <summary>A public-looking IPv4 address: no private, loopback, link-local, CGNAT or multicast ranges.</summary>
    private static string Ipv4(FastRandom r)
    {
        while (true)
        {
            int a = (int)r.NextLong(1, 223), b = r.NextInt(256);
            bool reserved = a is 10 or 127 or 0 || (a == 169 && b == 254) || (a == 172 && b is >= 16 and <= 31)
                || (a == 192 && b == 168) || (a == 100 && b is >= 64 and <= 127);
            if (!reserved) return $"{a}.{b}.{r.NextInt(256)}.{(int)r.NextLong(1, 254)}";
        }
    }

    private static string Ipv6(FastRandom r) =>
        $"2{r.NextInt(2) switch { 0 => "001", _ => "a0" + r.NextInt(16).ToString("x", CultureInfo.InvariantCulture) }}:{r.NextInt(0x10000):x}:{r.NextInt(0x10000):x}:{r.NextInt(0x10000):x}::{r.NextInt(0x10000):x}";

    /// <summary>The next event and its event time in ms, or false when the count is reached.</summary>
    public bool TryNext(out WebTrafficEvent value, out long timestamp)
    {
        if (remaining <= 0)
        {
            value = null!;
            timestamp = EventTime.None;
            return false;
        }
        remaining--;
        long baseMs = startMs + (long)(index * 1000.0 / options.EventsPerSecond);
        index += parallelism;
        bool late = newest != long.MinValue && random.NextDouble() < options.LateShare;
        timestamp = late
            ? newest - boundMs - 1 - random.NextLong(0, latenessMs)
            : baseMs - random.NextLong(0, boundMs);
        newest = Math.Max(newest, timestamp);

        // Skewed towards the first visitors: a few visitors come back often, most rarely.
        double u = random.NextDouble();
        var visitor = visitors[(int)(u * u * visitors.Length)];
        string host = random.NextDouble() < 0.8 ? Hosts[visitor.HomeHost] : random.Pick(Hosts);
        string path = Paths[random.NextInt(Paths.Length)];
        if (random.NextDouble() < 0.1) path += "?utm_source=" + (random.NextBool() ? "newsletter" : "linkedin");
        string? referrer = Referrers[random.NextInt(Referrers.Length)];
        value = new WebTrafficEvent(path, referrer, visitor.UserAgent, host, visitor.Ip,
            Headers(host, visitor, referrer), WebTrafficEvent.FormatEventTime(timestamp));
        return true;
    }

    private string Headers(string host, Visitor visitor, string? referrer)
    {
        // Every value here is from the fixed lists above: none needs JSON escaping.
        var sb = headers.Clear();
        sb.Append("{\"host\":\"").Append(host)
            .Append("\",\"user-agent\":\"").Append(visitor.UserAgent)
            .Append("\",\"accept\":\"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\"")
            .Append(",\"accept-language\":\"").Append(visitor.Language)
            .Append("\",\"x-forwarded-for\":\"").Append(visitor.Ip).Append('"');
        if (!string.IsNullOrEmpty(referrer)) sb.Append(",\"referer\":\"").Append(referrer).Append('"');
        return sb.Append('}').ToString();
    }
}

/// <summary>A source of <see cref="WebTrafficEvent"/>s with their event time as the source timestamp.</summary>
public sealed class WebTrafficSource(WebTrafficOptions? options = null) : Source<WebTrafficEvent>
{
    private readonly long seed = options?.Seed ?? Random.Shared.NextInt64();

    public WebTrafficOptions Options { get; } = options ?? new WebTrafficOptions();

    public override bool IsBounded => Options.Count is not null;

    public override SourceReader<WebTrafficEvent> CreateReader(SourceReaderContext context) =>
        new WebTrafficReader<WebTrafficEvent>(Options, seed, context, e => e);

    /// <summary>The same events as rows of <see cref="WebTrafficEvent.Schema"/>.</summary>
    public Source<Row> AsRows() => new RowSource(this);

    private sealed class RowSource(WebTrafficSource events) : Source<Row>
    {
        public override bool IsBounded => events.IsBounded;

        public override SourceReader<Row> CreateReader(SourceReaderContext context) =>
            new WebTrafficReader<Row>(events.Options, events.seed, context, e => e.ToRow());
    }
}

internal sealed class WebTrafficReader<T>(WebTrafficOptions options, long seed, SourceReaderContext context, Func<WebTrafficEvent, T> convert)
    : SourceReader<T>
{
    private readonly WebTrafficGenerator generator = new(options, seed, context.SubtaskIndex, context.Parallelism);
    private readonly RateLimiter? limiter = options.RowsPerSecond is { } r ? new RateLimiter(context.Clock, r / context.Parallelism) : null;
    private bool restored;

    public override void SnapshotState(long checkpointId, BinaryWriter state)
    {
        EnsureRestored();
        generator.Save(state);
    }

    public override SourceStatus Read(SourceOutput<T> output)
    {
        EnsureRestored();
        if (generator.Remaining <= 0) return SourceStatus.EndOfInput;
        int wanted = (int)Math.Min(output.Room, generator.Remaining);
        int granted = limiter?.Acquire(wanted) ?? wanted;
        if (granted == 0) return SourceStatus.NothingAvailable;
        for (int i = 0; i < granted && generator.TryNext(out var e, out long ts); i++) output.Add(convert(e), ts);
        return generator.Remaining > 0 ? SourceStatus.MoreAvailable : SourceStatus.EndOfInput;
    }

    private void EnsureRestored()
    {
        if (!restored)
        {
            restored = true;
            if (context.Restored is { } from && from.SubtaskStates.Count > context.SubtaskIndex
                && from.SubtaskStates[context.SubtaskIndex].Length > 0)
            {
                // Event i belongs to subtask i mod parallelism: a subtask's position means nothing at another parallelism.
                if (from.OldParallelism != context.Parallelism)
                {
                    throw new InvalidOperationException(
                        $"web-traffic source '{context.OperatorId}': checkpoint {from.CheckpointId} was taken at parallelism "
                        + $"{from.OldParallelism}; it resumes only at the same parallelism (now {context.Parallelism})");
                }
                generator.Load(new BinaryReader(new MemoryStream(from.SubtaskStates[context.SubtaskIndex])));
            }
        }
    }
}

