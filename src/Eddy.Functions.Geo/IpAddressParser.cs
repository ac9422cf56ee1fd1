using System.Net;

namespace Eddy.Functions.Geo;

/// <summary>
/// Parses textual IP addresses into their bytes without allocating: IPv4 dotted quads and the usual IPv6 forms
/// (hex groups, one "::", an IPv4 tail) by hand; rarer IPv6 spellings the hand parser rejects (brackets, ...) go
/// through the BCL's parser, which allocates an <see cref="IPAddress"/>.
/// </summary>
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
        if (TryParseIpv6(text, bytes)) return 16;
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

    /// <summary>IPv6 text: up to eight hex groups of 1–4 digits, at most one "::", optionally a dotted-quad tail.</summary>
    public static bool TryParseIpv6(ReadOnlySpan<char> text, Span<byte> bytes)
    {
        Span<ushort> groups = stackalloc ushort[8];
        int count = 0;
        int gap = -1;
        int i = 0;
        if (text.StartsWith("::"))
        {
            gap = 0;
            i = 2;
        }
        while (i < text.Length)
        {
            int start = i;
            int value = 0;
            while (i < text.Length && i - start < 5 && HexValue(text[i]) is var h and >= 0)
            {
                value = value << 4 | h;
                i++;
            }
            if (i < text.Length && text[i] == '.')
            {
                // The last 32 bits as a dotted quad (::ffff:1.2.3.4).
                Span<byte> tail = stackalloc byte[4];
                if (count > 6 || !TryParseIpv4(text[start..], tail)) return false;
                groups[count++] = (ushort)(tail[0] << 8 | tail[1]);
                groups[count++] = (ushort)(tail[2] << 8 | tail[3]);
                i = text.Length;
                break;
            }
            int digits = i - start;
            if (digits is 0 or > 4 || count == 8) return false;
            groups[count++] = (ushort)value;
            if (i == text.Length) break;
            if (text[i] != ':') return false;
            i++;
            if (i < text.Length && text[i] == ':')
            {
                if (gap >= 0) return false;
                gap = count;
                i++;
            }
            else if (i == text.Length) return false;
        }
        if (gap < 0 ? count != 8 : count > 7) return false;
        int zeros = 8 - count;
        for (int g = 0, o = 0; g < 8; g++)
        {
            ushort group = gap >= 0 && g >= gap && g < gap + zeros ? (ushort)0 : groups[o++];
            bytes[2 * g] = (byte)(group >> 8);
            bytes[2 * g + 1] = (byte)group;
        }
        return true;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
