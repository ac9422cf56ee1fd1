using System.Globalization;
using System.Runtime.Intrinsics.X86;
using System.Text;

namespace Eddy.Connectors.Nexmark;

/// <summary>Nexmark's event kinds, with the values of the DDL's <c>event_type</c> column.</summary>
public enum NexmarkEventType
{
    Person = 0,
    Auction = 1,
    Bid = 2,
}

/// <summary>
/// The string fields a generator builds: the others are drawn (the random generator advances exactly as when they are
/// built, and their lengths still size the <c>extra</c> padding) but not made, and left null.
/// </summary>
[Flags]
public enum NexmarkTextFields
{
    None = 0,
    PersonEmailAddress = 1,
    PersonCreditCard = 2,
    PersonExtra = 4,
    AuctionItemName = 8,
    AuctionDescription = 16,
    AuctionExtra = 32,
    BidExtra = 64,
    All = 127,
}

/// <summary>
/// One generated event: the fields of its kind are set, the others keep the values of an earlier event (read only the
/// fields of <see cref="Type"/>). Reused from event to event: the generator allocates only the strings.
/// </summary>
public struct NexmarkEvent
{
    public NexmarkEventType Type;
    /// <summary>The event's <c>dateTime</c>, epoch ms.</summary>
    public long DateTime;

    public long PersonId;
    public string Name;
    public string EmailAddress;
    public string CreditCard;
    public string City;
    public string State;

    public long AuctionId;
    public string ItemName;
    public string Description;
    public long InitialBid;
    public long Reserve;
    /// <summary>Epoch ms.</summary>
    public long Expires;
    public long Seller;
    public long Category;

    public long BidAuction;
    public long Bidder;
    public long Price;
    public string Channel;
    public string Url;

    /// <summary>The padding of every kind.</summary>
    public string Extra;

    // A cut of the reusable text not yet made into Extra (NexmarkGenerator.DeferExtras).
    internal bool ExtraDeferred;
    internal int ExtraStart;
    internal int ExtraLength;
}

/// <summary>
/// The strings Nexmark makes once per process from its own random generators (class initialisers in Java): four hot
/// URLs, 10,000 channels with their URLs, and a 1 MiB string that extras are cut from. Here they come from the seed.
/// </summary>
public sealed class NexmarkStrings
{
    internal const int ChannelCount = 10_000;
    internal static readonly string[] HotChannels = ["Google", "Facebook", "Baidu", "Apple"];

    public NexmarkStrings(long seed)
    {
        var urls = new SplittableRandom(seed ^ 0x2545F4914F6CDD1DL);
        HotUrls = [BaseUrl(urls), BaseUrl(urls), BaseUrl(urls), BaseUrl(urls)];
        ChannelNames = new string[ChannelCount];
        ChannelUrls = new string[ChannelCount];
        for (int i = 0; i < ChannelCount; i++)
        {
            string url = BaseUrl(urls);
            if (urls.NextInt(10) > 0)
            {
                // Java's Math.abs(Integer.reverse(i)): the reverse of 1 is int.MinValue, whose absolute value stays negative.
                int reversed = (int)ReverseBits((uint)i);
                url += "&channel_id=" + unchecked(reversed < 0 ? -reversed : reversed).ToString(CultureInfo.InvariantCulture);
            }
            ChannelNames[i] = "channel-" + i.ToString(CultureInfo.InvariantCulture);
            ChannelUrls[i] = url;
        }
        ReusableExtra = ExactStringWithoutReuse(new SplittableRandom(seed ^ 0x6A09E667F3BCC909L), 1024 * 1024);
        // Its characters are ASCII ('a' + a remainder in -25..25): as bytes it takes 1 MiB, not 2, and the cuts read
        // from it (one per event, at a random place) miss the CPU caches less.
        ReusableExtraAscii = Encoding.Latin1.GetBytes(ReusableExtra);
    }

    public string[] HotUrls { get; }
    public string[] ChannelNames { get; }
    public string[] ChannelUrls { get; }
    public string ReusableExtra { get; }

    /// <summary><see cref="ReusableExtra"/> as Latin-1 bytes (all its characters are ASCII).</summary>
    internal byte[] ReusableExtraAscii { get; }

    private static uint ReverseBits(uint v)
    {
        uint r = 0;
        for (int b = 0; b < 32; b++, v >>= 1) r = (r << 1) | (v & 1);
        return r;
    }

    private static string BaseUrl(SplittableRandom random) =>
        "https://www.nexmark.com/" + NexmarkGenerator.NextString(random, 5, '_') + "/" + NexmarkGenerator.NextString(random, 5, '_') + "/"
        + NexmarkGenerator.NextString(random, 5, '_') + "/item.htm?query=1";

    /// <summary>
    /// Nexmark's exact string built character by character, 6 per random int; Java's remainder of a negative int is
    /// negative, so some characters fall below 'a' there and here alike.
    /// </summary>
    private static string ExactStringWithoutReuse(SplittableRandom random, int length)
    {
        var chars = new char[length];
        int rnd = 0, n = 0;
        for (int i = 0; i < length; i++)
        {
            if (n == 0)
            {
                rnd = random.NextInt();
                n = 6;
            }
            chars[i] = (char)('a' + rnd % 26);
            rnd /= 26;
            n--;
        }
        return new string(chars);
    }
}

/// <summary>
/// Nexmark's event generator (<c>NexmarkGenerator</c> with <c>PersonGenerator</c>, <c>AuctionGenerator</c>,
/// <c>BidGenerator</c>): event <c>id</c> modulo the total proportion picks the kind (person, auction, bid in 1:3:46 by
/// default), person and auction ids follow from the id, bids go mostly to hot auctions and come mostly from hot bidders,
/// auctions mostly from hot sellers, and every random value is drawn in Nexmark's order from one
/// <see cref="SplittableRandom"/>.
/// </summary>
public sealed class NexmarkGenerator
{
    private const int NumCategories = 5;
    private const int AuctionIdLead = 10;
    private const int PersonIdLead = 10;
    private const int HotSellerRatio = 100;
    private const int HotAuctionRatio = 100;
    private const int HotBidderRatio = 100;
    private const int HotChannelsRatio = 2;
    private const int MinStringLength = 3;

    private static readonly string[] UsStates = ["AZ", "CA", "ID", "OR", "WA", "WY"];
    private static readonly string[] UsCities = ["Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"];
    private static readonly string[] FirstNames = ["Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"];
    private static readonly string[] LastNames = ["Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"];
    private static readonly string[] PersonNames = FirstNames.SelectMany(f => LastNames.Select(l => f + " " + l)).ToArray();

    private readonly GeneratorConfig config;
    private readonly NexmarkStrings strings;
    private readonly SplittableRandom random;
    private readonly NexmarkTextFields built;

    /// <param name="built">the string fields to make; the others are drawn and left null.</param>
    public NexmarkGenerator(GeneratorConfig config, NexmarkStrings strings, SplittableRandom random, long eventsSoFar = 0,
        NexmarkTextFields built = NexmarkTextFields.All)
    {
        this.config = config;
        this.strings = strings;
        this.random = random;
        this.built = built;
        EventsSoFar = eventsSoFar;
    }

    /// <summary>The generators of a table read at <paramref name="parallelism"/>, one per subtask, as Flink's source splits them.</summary>
    public static NexmarkGenerator[] ForTable(NexmarkOptions options, int parallelism, long seed, long baseTime,
        NexmarkTextFields built = NexmarkTextFields.All)
    {
        var strings = new NexmarkStrings(seed);
        var splits = GeneratorConfig.ForTable(options, parallelism, baseTime).Split(parallelism);
        return splits.Select((c, i) => new NexmarkGenerator(c, strings, new SplittableRandom(seed + i), 0, built)).ToArray();
    }

    /// <summary>The string fields this generator makes.</summary>
    public NexmarkTextFields Built => built;

    public GeneratorConfig Config => config;

    public SplittableRandom Random => random;

    public long EventsSoFar { get; private set; }

    public bool HasNext => EventsSoFar < config.EventCount;

    /// <summary>The event time of the next event before its out-of-order adjustment (its wall-clock due time follows from it).</summary>
    public long NextUnadjustedTimestamp => config.TimestampForEvent(config.NextEventNumber(EventsSoFar));

    /// <summary>The id of the next event: it picks the kind and seeds the ids.</summary>
    public long NextEventId => config.FirstEventId + config.NextAdjustedEventNumber(EventsSoFar);

    /// <summary>Writes the next event into <paramref name="e"/>.</summary>
    public void Next(ref NexmarkEvent e)
    {
        long adjusted = config.NextAdjustedEventNumber(EventsSoFar);
        long timestamp = config.TimestampForEvent(adjusted);
        long eventId = config.FirstEventId + adjusted;
        // One division for the epoch and the offset in it: every id below is derived from them.
        long epoch = Math.DivRem(eventId, (long)config.TotalProportion, out long rem);
        e.DateTime = timestamp;
        if (rem < config.PersonProportion) NextPerson(epoch, rem, ref e);
        else if (rem < config.PersonProportion + config.AuctionProportion) NextAuction(EventsSoFar, epoch, rem, timestamp, ref e);
        else NextBid(epoch, rem, ref e);
        EventsSoFar++;
    }

    private void NextPerson(long epoch, long offset, ref NexmarkEvent e)
    {
        e.Type = NexmarkEventType.Person;
        e.PersonId = LastBase0PersonId(epoch, offset) + GeneratorConfig.FirstPersonId;
        // FIRST " " LAST, drawn first name first.
        int first = random.NextInt(FirstNames.Length);
        e.Name = PersonNames[first * LastNames.Length + random.NextInt(LastNames.Length)];
        int emailLength;
        if ((built & NexmarkTextFields.PersonEmailAddress) != 0)
        {
            e.EmailAddress = NextEmail();
            emailLength = e.EmailAddress.Length;
        }
        else
        {
            e.EmailAddress = null!;
            emailLength = SkipString(random, 7, ' ') + 1 + SkipString(random, 5, ' ') + 4;
        }
        if ((built & NexmarkTextFields.PersonCreditCard) != 0) e.CreditCard = NextCreditCard();
        else
        {
            e.CreditCard = null!;
            for (int i = 0; i < 4; i++) random.NextInt(10_000);
        }
        e.City = UsCities[random.NextInt(UsCities.Length)];
        e.State = UsStates[random.NextInt(UsStates.Length)];
        int size = 8 + e.Name.Length + emailLength + CreditCardLength + e.City.Length + e.State.Length;
        NextExtra(ref e, size, config.Options.AvgPersonByteSize, (built & NexmarkTextFields.PersonExtra) != 0);
    }

    private void NextAuction(long eventsSoFar, long epoch, long offset, long timestamp, ref NexmarkEvent e)
    {
        e.Type = NexmarkEventType.Auction;
        e.AuctionId = LastBase0AuctionId(epoch, offset) + GeneratorConfig.FirstAuctionId;
        long seller = random.NextInt(config.Options.HotSellersRatio) > 0
            ? LastBase0PersonId(epoch, offset) / HotSellerRatio * HotSellerRatio
            : NextBase0PersonId(epoch, offset);
        e.Seller = seller + GeneratorConfig.FirstPersonId;
        e.Category = GeneratorConfig.FirstCategoryId + random.NextInt(NumCategories);
        e.InitialBid = NextPrice();
        e.Expires = timestamp + NextAuctionLengthMs(eventsSoFar, timestamp);
        int itemNameLength, descriptionLength;
        if ((built & NexmarkTextFields.AuctionItemName) != 0)
        {
            e.ItemName = NextString(random, 20, ' ');
            itemNameLength = e.ItemName.Length;
        }
        else
        {
            e.ItemName = null!;
            itemNameLength = SkipString(random, 20, ' ');
        }
        if ((built & NexmarkTextFields.AuctionDescription) != 0)
        {
            e.Description = NextString(random, 100, ' ');
            descriptionLength = e.Description.Length;
        }
        else
        {
            e.Description = null!;
            descriptionLength = SkipString(random, 100, ' ');
        }
        e.Reserve = e.InitialBid + NextPrice();
        int size = 8 + itemNameLength + descriptionLength + 8 + 8 + 8 + 8 + 8;
        NextExtra(ref e, size, config.Options.AvgAuctionByteSize, (built & NexmarkTextFields.AuctionExtra) != 0);
    }

    private void NextBid(long epoch, long offset, ref NexmarkEvent e)
    {
        e.Type = NexmarkEventType.Bid;
        long auction = random.NextInt(config.Options.HotAuctionRatio) > 0
            ? LastBase0AuctionId(epoch, offset) / HotAuctionRatio * HotAuctionRatio
            : NextBase0AuctionId(epoch, offset);
        e.BidAuction = auction + GeneratorConfig.FirstAuctionId;
        // A hot bidder is the second person of its batch, so that hot bidders and hot sellers differ.
        long bidder = random.NextInt(config.Options.HotBiddersRatio) > 0
            ? LastBase0PersonId(epoch, offset) / HotBidderRatio * HotBidderRatio + 1
            : NextBase0PersonId(epoch, offset);
        e.Price = NextPrice();
        if (random.NextInt(HotChannelsRatio) > 0)
        {
            int i = random.NextInt(NexmarkStrings.HotChannels.Length);
            e.Channel = NexmarkStrings.HotChannels[i];
            e.Url = strings.HotUrls[i];
        }
        else
        {
            int c = random.NextInt(NexmarkStrings.ChannelCount);
            e.Channel = strings.ChannelNames[c];
            e.Url = strings.ChannelUrls[c];
        }
        // Nexmark's BidGenerator adds FIRST_PERSON_ID twice: bidders are base-0 ids + 2000. Kept, to give Flink's rows.
        e.Bidder = bidder + 2 * GeneratorConfig.FirstPersonId;
        NextExtra(ref e, 8 + 8 + 8 + 8, config.Options.AvgBidByteSize, (built & NexmarkTextFields.BidExtra) != 0);
    }

    /// <summary>
    /// The last person id generated up to the event at <paramref name="offset"/> of epoch <paramref name="epoch"/>
    /// (event id = epoch × total proportion + offset; base 0): the current one for a person event.
    /// </summary>
    private long LastBase0PersonId(long epoch, long offset)
    {
        if (offset >= config.PersonProportion) offset = config.PersonProportion - 1;
        return epoch * config.PersonProportion + offset;
    }

    /// <summary>The last auction id generated up to an event (base 0): the current one for an auction event.</summary>
    private long LastBase0AuctionId(long epoch, long offset)
    {
        if (offset < config.PersonProportion)
        {
            epoch--;
            offset = config.AuctionProportion - 1;
        }
        else if (offset >= config.PersonProportion + config.AuctionProportion) offset = config.AuctionProportion - 1;
        else offset -= config.PersonProportion;
        return epoch * config.AuctionProportion + offset;
    }

    /// <summary>One of the active people, or a few ids ahead (so a person may seem to bid before joining).</summary>
    private long NextBase0PersonId(long epoch, long offset)
    {
        long numPeople = LastBase0PersonId(epoch, offset) + 1;
        long active = Math.Min(numPeople, config.Options.NumActivePeople);
        long n = NextLong(active + PersonIdLead);
        return numPeople - active + n;
    }

    /// <summary>One of the auctions likely still in flight, plus a few ids ahead.</summary>
    private long NextBase0AuctionId(long epoch, long offset)
    {
        long last = LastBase0AuctionId(epoch, offset);
        long min = Math.Max(last - config.Options.NumInFlightAuctions, 0);
        return min + NextLong(last - min + 1 + AuctionIdLead);
    }

    /// <summary>An auction length with mean the time until <c>numInFlightAuctions</c> more auctions are made.</summary>
    private long NextAuctionLengthMs(long eventsSoFar, long timestamp)
    {
        long current = config.NextAdjustedEventNumber(eventsSoFar);
        long eventsForAuctions = (long)config.Options.NumInFlightAuctions * config.TotalProportion / config.AuctionProportion;
        long future = config.TimestampForEvent(current + eventsForAuctions);
        long horizon = future - timestamp;
        return 1L + NextLong(Math.Max(horizon * 2, 1L));
    }

    /// <summary>Nexmark's LongGenerator: an int draw below int.MaxValue, else |nextLong % n| (skewed, as there).</summary>
    private long NextLong(long n) => n < int.MaxValue ? random.NextInt((int)n) : Math.Abs(random.NextLong() % n);

    /// <summary>10^(6u) × 100 rounded: prices from 1 to 100,000,000 cents, log-uniform.</summary>
    private long NextPrice() => JavaRound(Math.Pow(10.0, random.NextDouble() * 6.0) * 100.0);

    /// <summary>Java's Math.round(double): floor(x + 0.5).</summary>
    private static long JavaRound(double x) => (long)Math.Floor(x + 0.5);

    private string NextEmail() => NextString(random, 7, ' ') + "@" + NextString(random, 5, ' ') + ".com";

    private const int CreditCardLength = 19;

    private string NextCreditCard()
    {
        Span<char> chars = stackalloc char[CreditCardLength];
        for (int i = 0; i < 4; i++)
        {
            int n = random.NextInt(10_000);
            int at = i * 5;
            if (i > 0) chars[at - 1] = ' ';
            chars[at] = (char)('0' + n / 1000);
            chars[at + 1] = (char)('0' + n / 100 % 10);
            chars[at + 2] = (char)('0' + n / 10 % 10);
            chars[at + 3] = (char)('0' + n % 10);
        }
        return new string(chars);
    }

    /// <summary>
    /// A string of 3 to <paramref name="maxLength"/> - 1 characters: letters, and <paramref name="special"/> with
    /// probability 1/13; trimmed as Java's String.trim (spaces only can occur).
    /// </summary>
    internal static string NextString(SplittableRandom random, int maxLength, char special)
    {
        int len = MinStringLength + random.NextInt(maxLength - MinStringLength);
        Span<char> chars = stackalloc char[len];
        for (int i = 0; i < len; i++) chars[i] = random.NextInt(13) == 0 ? special : (char)('a' + random.NextInt(26));
        return new string(chars.Trim(' '));
    }

    /// <summary>
    /// The draws of <see cref="NextString"/> without the string: its length after the trim (what the sizes of
    /// <c>extra</c> count).
    /// </summary>
    internal static int SkipString(SplittableRandom random, int maxLength, char special)
    {
        int len = MinStringLength + random.NextInt(maxLength - MinStringLength);
        int first = -1, last = -1;
        for (int i = 0; i < len; i++)
        {
            bool isSpecial = random.NextInt(13) == 0;
            if (!isSpecial) random.NextInt(26);
            if (!isSpecial || special != ' ')
            {
                if (first < 0) first = i;
                last = i;
            }
        }
        return first < 0 ? 0 : last - first + 1;
    }

    /// <summary>
    /// Padding so that the event's size averages <paramref name="averageSize"/>: a cut of the reusable string; without
    /// <paramref name="build"/> only its draws (null).
    /// </summary>
    private void NextExtra(ref NexmarkEvent e, int currentSize, int averageSize, bool build)
    {
        e.ExtraDeferred = false;
        if (currentSize > averageSize)
        {
            e.Extra = build ? "" : null!;
            return;
        }
        averageSize -= currentSize;
        int delta = (int)JavaRound(averageSize * 0.2);
        int minSize = averageSize - delta;
        int size = minSize + (delta == 0 ? 0 : random.NextInt(2 * delta));
        var reusable = strings.ReusableExtraAscii;
        if (size < reusable.Length / 2)
        {
            int offset = random.NextInt(reusable.Length - size);
            if (build && DeferExtras)
            {
                e.ExtraStart = offset;
                e.ExtraLength = size;
                e.ExtraDeferred = true;
                e.Extra = null!;
            }
            else e.Extra = build ? Encoding.Latin1.GetString(reusable, offset, size) : null!;
            return;
        }
        e.Extra = ExactString(size, build);
    }

    /// <summary>
    /// Builds the <c>extra</c> strings that <see cref="Next"/> left as cuts (<see cref="DeferExtras"/>): each is read at
    /// a random place of a 1 MiB text, a cache miss; here they are read one after the other with the text of the ones
    /// a few events ahead prefetched, so the misses overlap instead of stalling each event in turn.
    /// </summary>
    internal unsafe void BuildDeferredExtras(Span<NexmarkEvent> events)
    {
        const int Ahead = 8;
        var text = strings.ReusableExtraAscii;
        fixed (byte* start = text)
        {
            for (int i = 0; i < events.Length; i++)
            {
                if (Sse.IsSupported && i + Ahead < events.Length && events[i + Ahead].ExtraDeferred)
                {
                    ref var next = ref events[i + Ahead];
                    byte* at = start + next.ExtraStart;
                    for (int o = 0; o < next.ExtraLength; o += 64) Sse.Prefetch0(at + o);
                    Sse.Prefetch0(at + next.ExtraLength - 1);
                }
                ref var e = ref events[i];
                if (!e.ExtraDeferred) continue;
                e.Extra = Encoding.Latin1.GetString(text, e.ExtraStart, e.ExtraLength);
                e.ExtraDeferred = false;
            }
        }
    }

    /// <summary>
    /// When set, <see cref="Next"/> leaves the event's <c>extra</c> (when a cut of the reusable text) as its place in the
    /// text, for <see cref="BuildDeferredExtras"/>: the random draws are the same.
    /// </summary>
    internal bool DeferExtras { get; set; }

    private string ExactString(int length, bool build)
    {
        var reusable = strings.ReusableExtraAscii;
        if (!build)
        {
            for (int i = 0; i < length; i += 6) random.NextInt();
            return null!;
        }
        // Longer than half the reusable string (a very large avg-size): built from the random draws, as Nexmark.
        var chars = new char[length];
        int rnd = 0, n = 0;
        for (int i = 0; i < length; i++)
        {
            if (n == 0)
            {
                rnd = random.NextInt();
                n = 6;
            }
            chars[i] = (char)('a' + rnd % 26);
            rnd /= 26;
            n--;
        }
        return new string(chars);
    }
}
