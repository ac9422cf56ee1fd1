using System.Globalization;
using System.Text;

namespace Eddy.Functions.Geo;

/// <summary>
/// What is known of where an address is: country (ISO 3166-1 alpha-2 code), region (state, province), city and
/// coordinates. Immutable, so that one instance can be cached and shared by every lookup that lands on it.
/// </summary>
public sealed class GeoLocation
{
    public static readonly GeoLocation Unknown = new(null, null, null, null, null);

    /// <summary>The lab's answer when nothing is known.</summary>
    public const string EmptyJson = "{}";

    public GeoLocation(string? country, string? region, string? city, double? latitude, double? longitude)
    {
        Country = NullIfEmpty(country);
        Region = NullIfEmpty(region);
        City = NullIfEmpty(city);
        Latitude = latitude;
        Longitude = longitude;
        Json = IsUnknown ? EmptyJson : LabJson(Country, Region, City);
    }

    public string? Country { get; }

    public string? Region { get; }

    public string? City { get; }

    public double? Latitude { get; }

    public double? Longitude { get; }

    public bool IsUnknown => Country is null && Region is null && City is null && Latitude is null && Longitude is null;

    /// <summary>
    /// The lab's <c>get_location</c> result: Python's <c>json.dumps({'country': ..., 'state': ..., 'city': ...})</c>
    /// (", " and ": " separators, non-ASCII escaped as \uXXXX, missing parts as empty strings).
    /// </summary>
    public string Json { get; }

    public override string ToString() => Json;

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    internal static string LabJson(string? country, string? state, string? city)
    {
        var sb = new StringBuilder(64);
        sb.Append("{\"country\": ");
        Quote(sb, country ?? "");
        sb.Append(", \"state\": ");
        Quote(sb, state ?? "");
        sb.Append(", \"city\": ");
        Quote(sb, city ?? "");
        sb.Append('}');
        return sb.ToString();
    }

    private static void Quote(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || c > 0x7E) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}
