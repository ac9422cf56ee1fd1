using System.Net;

namespace Eddy.Functions.Geo;

/// <summary>Parses textual IP addresses into their bytes without allocating (IPv4 by hand; IPv6 through the BCL's span parser).</summary>
public static class IpAddressParser
{
    /// <summary>
    /// Writes the address in <paramref name="text"/> into <paramref name="bytes"/> (at least 16 bytes) and returns its
    /// length (4 or 16), or 0 when <paramref name="text"/> is not an IP address.
    /// </summary>
    public static int TryParse(ReadOnlySpan<char> text, Span<byte> bytes)
    {
        text = text.Trim();
        if (text.Length == 0) return 0;
        if (TryParseIpv4(text, bytes)) return 4;
        if (text.IndexOf(':') < 0) return 0;
        // Zone ids (fe80::1%eth0) name an interface, not a place.
        int zone = text.IndexOf('%');
        if (zone >= 0) text = text[..zone];
        if (!IPAddress.TryParse(text, out var address)) return 0;
        return address.TryWriteBytes(bytes, out int written) ? written : 0;
    }

    /// <summary>Dotted-quad IPv4 only: four decimal parts 0–255, no leading '+' or spaces inside.</summary>
    public static bool TryParseIpv4(ReadOnlySpan<char> text, Span<byte> bytes)
    {
        int part = 0;
        int value = 0;
        int digits = 0;
        foreach (char c in text)
        {
            if (c is >= '0' and <= '9')
            {
                value = value * 10 + (c - '0');
                if (++digits > 3 || value > 255) return false;
            }
            else if (c == '.')
            {
                if (digits == 0 || part == 3) return false;
                bytes[part++] = (byte)value;
                value = 0;
                digits = 0;
            }
            else return false;
        }
        if (digits == 0 || part != 3) return false;
        bytes[3] = (byte)value;
        return true;
    }
}
