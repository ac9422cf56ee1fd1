namespace Eddy.Tests;

public class DateTimePatternTests
{
    [Theory]
    [InlineData("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", "2024-03-05T14:07:09.123Z", "2024-03-05 14:07:09.123")]
    [InlineData("yyyy-MM-dd HH:mm:ss", "2019-10-01 00:26:02", "2019-10-01 00:26:02.000")]
    [InlineData("yyyy-MM-dd HH:mm:ss.SSS", "2019-10-01 00:26:02.5", "2019-10-01 00:26:02.500")]
    [InlineData("yyyyMMddHHmmss", "20240102030405", "2024-01-02 03:04:05.000")]
    [InlineData("dd/MMM/yyyy:HH:mm:ss", "10/Oct/2000:13:55:36", "2000-10-10 13:55:36.000")]
    [InlineData("yyyy-MM-dd'T'HH:mm:ssXXX", "2024-01-01T10:00:00+02:00", "2024-01-01 08:00:00.000")]
    [InlineData("yyyy-MM-dd'T'HH:mm:ssX", "2024-01-01T10:00:00Z", "2024-01-01 10:00:00.000")]
    [InlineData("hh:mm a, yyyy-MM-dd", "12:30 PM, 2024-01-01", "2024-01-01 12:30:00.000")]
    [InlineData("hh:mm a, yyyy-MM-dd", "12:30 AM, 2024-01-01", "2024-01-01 00:30:00.000")]
    [InlineData("''yyyy''", "'2024'", "2024-01-01 00:00:00.000")]
    public void Parses_java_patterns(string pattern, string text, string expected)
    {
        Assert.True(DateTimePattern.Of(pattern).TryParse(text, out var value));
        Assert.Equal(expected, EventTime.FormatSql(value));
    }

    [Theory]
    [InlineData("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", "2024-03-05 14:07:09.123")]
    [InlineData("yyyy-MM-dd HH:mm:ss", "2024-02-30 10:00:00")]
    [InlineData("yyyy-MM-dd HH:mm:ss", "2024-01-01 25:00:00")]
    [InlineData("yyyy-MM-dd HH:mm:ss", "2024-01-01 10:00:00 trailing")]
    [InlineData("yyyy-MM-dd", "")]
    public void Returns_false_when_the_text_does_not_match(string pattern, string text) =>
        Assert.False(DateTimePattern.Of(pattern).TryParse(text, out _));

    [Theory]
    [InlineData("yyyy-MM-dd HH:mm:ss", "2024-03-05 14:07:09")]
    [InlineData("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", "2024-03-05T14:07:09.120Z")]
    [InlineData("yy/M/d h:mm a", "24/3/5 2:07 PM")]
    [InlineData("EEE, dd MMM yyyy", "Tue, 05 Mar 2024")]
    public void Formats_like_java(string pattern, string expected) =>
        Assert.Equal(expected, DateTimePattern.Of(pattern).Format(new DateTime(2024, 3, 5, 14, 7, 9, 120)));

    [Fact]
    public void Rejects_unknown_letters_and_open_quotes()
    {
        Assert.Throws<FormatException>(() => DateTimePattern.Of("yyyy-QQ"));
        Assert.Throws<FormatException>(() => DateTimePattern.Of("yyyy-'MM"));
    }

    [Theory]
    [InlineData("yyyy-MM-dd", "yyyy-MM-dd")]
    [InlineData("HH:mm", "HH:mm")]
    [InlineData("yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss")]
    [InlineData("EEE, d MMM yyyy hh a", "ddd, d MMM yyyy hh tt")]
    [InlineData("yyyy-MM-dd HH:mm:ss.SSS", "yyyy-MM-dd HH:mm:ss.fff")]
    public void Formats_a_walk_of_nearby_times_as_dotnet_does_reusing_the_last_text_only_within_its_period(string pattern, string dotnetFormat)
    {
        // Forward and backward steps across second, minute, hour, day and year boundaries: a text remembered from the
        // previous time is right only when both fall in the same period of the pattern's finest field.
        var random = new Random(7);
        var time = new DateTime(2023, 12, 31, 23, 58, 0);
        long[] steps = [1, 999, TimeSpan.TicksPerMillisecond * 400, TimeSpan.TicksPerSecond * 59, TimeSpan.TicksPerMinute * 61, TimeSpan.TicksPerHour * 5];
        var formatter = DateTimePattern.Of(pattern);
        for (int i = 0; i < 20_000; i++)
        {
            long step = steps[random.Next(steps.Length)] * (random.Next(4) == 0 ? -1 : 1);
            time = time.AddTicks(step);
            Assert.Equal(time.ToString(dotnetFormat, System.Globalization.CultureInfo.InvariantCulture), formatter.Format(time));
        }
    }
}
