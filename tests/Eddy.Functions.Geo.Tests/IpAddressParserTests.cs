using System.Net;
using Eddy.Functions.Geo;

namespace Eddy.Functions.Geo.Tests;

public class IpAddressParserTests
{
    [Theory]
    [InlineData("::")]
    [InlineData("::1")]
    [InlineData("1::")]
    [InlineData("2001:db8::9")]
    [InlineData("2001:0db8:85a3:0000:0000:8a2e:0370:7334")]
    [InlineData("2A01:4F8:0:A0A1::AD:1")]
    [InlineData("1:2:3:4:5:6:7::")]
    [InlineData("::2:3:4:5:6:7:8")]
    [InlineData("::ffff:81.2.69.5")]
    [InlineData("64:ff9b::192.0.2.33")]
    [InlineData("1:2:3:4:5:6:1.2.3.4")]
    public void Ipv6_is_parsed_as_the_BCL_parses_it(string text)
    {
        Span<byte> bytes = stackalloc byte[16];
        Assert.True(IpAddressParser.TryParseIpv6(text, bytes));
        Assert.Equal(IPAddress.Parse(text).GetAddressBytes(), bytes.ToArray());
        Assert.Equal(16, IpAddressParser.TryParse(text, bytes));
    }

    [Theory]
    [InlineData(":1")]
    [InlineData("1:")]
    [InlineData("1:::2")]
    [InlineData("1::2::3")]
    [InlineData("12345::1")]
    [InlineData("1:2:3:4:5:6:7:8:9")]
    [InlineData("1:2:3:4:5:6:7")]
    [InlineData("g::1")]
    [InlineData("::ffff:1.2.3")]
    [InlineData("::ffff:1.2.3.256")]
    [InlineData("1:2:3:4:5:6:7:1.2.3.4")]
    [InlineData("1.2.3.4")]
    public void Malformed_ipv6_is_rejected_by_the_hand_parser_and_by_TryParse(string text)
    {
        Span<byte> bytes = stackalloc byte[16];
        Assert.False(IpAddressParser.TryParseIpv6(text, bytes));
        if (text.Contains(':')) Assert.Equal(0, IpAddressParser.TryParse(text, bytes));
    }

    [Fact]
    public void Zone_ids_and_brackets_still_parse()
    {
        Span<byte> bytes = stackalloc byte[16];
        Assert.Equal(16, IpAddressParser.TryParse("fe80::1%eth0", bytes));
        Assert.Equal(IPAddress.Parse("fe80::1").GetAddressBytes(), bytes.ToArray());
    }
}
