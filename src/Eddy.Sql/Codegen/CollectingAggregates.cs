using System.Globalization;
using System.Text;

namespace Eddy.Sql.Codegen;

/// <summary>
/// ARRAY_AGG's accumulator, as Flink's ArrayAggFunction: the values in arrival order (NULLs too unless IGNORE NULLS).
/// A retraction takes out the first equal value; one that is not there changes nothing (Flink keeps it aside only
/// for merging partial accumulators, which a group aggregation does not do).
/// </summary>
public static class ArrayAggOps
{
    public static List<T> Add<T>(List<T>? values, T value)
    {
        values ??= [];
        values.Add(value);
        return values;
    }

    public static List<T>? Retract<T>(List<T>? values, T value)
    {
        values?.Remove(value);
        return values;
    }

    /// <summary>Appends <paramref name="b"/>'s values to a list owned by the result (never returns <paramref name="b"/> itself).</summary>
    public static List<T>? Merge<T>(List<T>? a, List<T>? b)
    {
        if (b is null || b.Count == 0) return a;
        a ??= new List<T>(b.Count);
        a.AddRange(b);
        return a;
    }

    /// <summary>The ARRAY value; NULL when there is no value (Flink: "array_agg returns null rather than an empty array").</summary>
    public static object?[]? Result<T>(List<T>? values)
    {
        if (values is null || values.Count == 0) return null;
        var array = new object?[values.Count];
        for (int i = 0; i < array.Length; i++) array[i] = values[i];
        return array;
    }
}

/// <summary>ARRAY_AGG(DISTINCT x): each value once, in the order it first came.</summary>
public sealed class DistinctValues<T> where T : notnull
{
    public List<T> Values { get; set; } = [];

    public HashSet<T> Seen { get; set; } = [];

    public static DistinctValues<T> Add(DistinctValues<T>? acc, T value)
    {
        acc ??= new DistinctValues<T>();
        if (acc.Seen.Add(value)) acc.Values.Add(value);
        return acc;
    }

    public static DistinctValues<T>? Merge(DistinctValues<T>? a, DistinctValues<T>? b)
    {
        if (b is null || b.Values.Count == 0) return a;
        a ??= new DistinctValues<T>();
        foreach (var v in b.Values)
            if (a.Seen.Add(v)) a.Values.Add(v);
        return a;
    }

    public static object?[]? Result(DistinctValues<T>? acc) => acc is null ? null : ArrayAggOps.Result(acc.Values);
}

/// <summary>
/// JSON_ARRAYAGG and JSON_OBJECTAGG, as Flink's JsonArrayAggFunction and JsonObjectAggFunction: each value is first
/// written as Flink's JSON_STRING writes it (Jackson: strings quoted and escaped, numbers as Java prints them), and
/// the texts are inserted as they are. JSON_OBJECTAGG writes its keys sorted (Flink's serializer orders map
/// entries by key) and fails on a key that is already present, with Flink's message.
/// </summary>
public static class JsonAggOps
{
    private const string NullText = "null";

    public static string? ToJson(string? value) => value is null ? null : Quote(value);

    public static string? ToJson(bool? value) => value is null ? null : value.Value ? "true" : "false";

    public static string? ToJson(long? value) => value?.ToString(CultureInfo.InvariantCulture);

    public static string? ToJson(double? value) => value switch
    {
        null => null,
        // Jackson quotes the non-finite numbers (QUOTE_NON_NUMERIC_NUMBERS).
        { } d when double.IsNaN(d) || double.IsInfinity(d) => Quote(Row.FormatDouble(d)),
        { } d => Row.FormatDouble(d),
    };

    public static string? ToJson(decimal? value) => value is null ? null : JavaBigDecimal(value.Value);

    /// <summary>Java's BigDecimal.toString: plain unless the exponent is below -6, then scientific (1E-7).</summary>
    public static string JavaBigDecimal(decimal value)
    {
        int scale = value.Scale;
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(value, bits);
        var unscaled = new System.Numerics.BigInteger((uint)bits[0]) | (new System.Numerics.BigInteger((uint)bits[1]) << 32)
            | (new System.Numerics.BigInteger((uint)bits[2]) << 64);
        string digits = unscaled.ToString(CultureInfo.InvariantCulture);
        string sign = value < 0 ? "-" : "";
        if (scale == 0) return sign + digits;
        int adjusted = -scale + (digits.Length - 1);
        if (adjusted >= -6)
        {
            if (digits.Length > scale) return sign + digits[..^scale] + "." + digits[^scale..];
            return sign + "0." + new string('0', scale - digits.Length) + digits;
        }
        string mantissa = digits.Length > 1 ? digits[0] + "." + digits[1..] : digits;
        return sign + mantissa + "E" + adjusted.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>A JSON string literal as Jackson writes it: quote, backslash and control characters escaped.</summary>
    public static string Quote(string s)
    {
        var sb = new StringBuilder(s.Length + 2).Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\t': sb.Append("\\t"); break;
                case '\n': sb.Append("\\n"); break;
                case '\f': sb.Append("\\f"); break;
                case '\r': sb.Append("\\r"); break;
                default:
                    if (c < 0x20) sb.Append("\\u00").Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    public static List<string>? AddItem(List<string>? items, string? json, bool skipNulls)
    {
        if (json is null && skipNulls) return items;
        items ??= [];
        items.Add(json ?? NullText);
        return items;
    }

    public static List<string>? RetractItem(List<string>? items, string? json)
    {
        items?.Remove(json ?? NullText);
        return items;
    }

    public static string ArrayText(List<string>? items) => items is null ? "[]" : "[" + string.Join(",", items) + "]";

    public static Dictionary<string, string?> Put(Dictionary<string, string?>? entries, string? key, string? json, bool skipNulls)
    {
        entries ??= new Dictionary<string, string?>(StringComparer.Ordinal);
        if (key is null) throw new InvalidOperationException("JSON_OBJECTAGG: the key is NULL; a key must not be NULL");
        AssertKeyNotPresent(entries, key);
        if (json is not null || !skipNulls) entries[key] = json;
        return entries;
    }

    /// <summary>
    /// Takes an entry out when its key holds the same value. As in Flink, an entry whose value is NULL is not taken
    /// out (Flink compares its NULL marker with the retracted NULL and finds them different).
    /// </summary>
    public static Dictionary<string, string?>? Remove(Dictionary<string, string?>? entries, string? key, string? json)
    {
        if (entries is null || key is null) return entries;
        if (json is not null && entries.TryGetValue(key, out var current) && current == json) entries.Remove(key);
        return entries;
    }

    public static Dictionary<string, string?>? Merge(Dictionary<string, string?>? a, Dictionary<string, string?>? b)
    {
        if (b is null || b.Count == 0) return a;
        a ??= new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (key, json) in b)
        {
            AssertKeyNotPresent(a, key);
            a[key] = json;
        }
        return a;
    }

    public static string ObjectText(Dictionary<string, string?>? entries)
    {
        if (entries is null || entries.Count == 0) return "{}";
        var keys = entries.Keys.ToArray();
        Array.Sort(keys, StringComparer.Ordinal);
        var sb = new StringBuilder().Append('{');
        for (int i = 0; i < keys.Length; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append(Quote(keys[i])).Append(':').Append(entries[keys[i]] ?? NullText);
        }
        return sb.Append('}').ToString();
    }

    private static void AssertKeyNotPresent(Dictionary<string, string?> entries, string key)
    {
        if (entries.ContainsKey(key))
            throw new InvalidOperationException(
                $"Key '{key}' is already present. Duplicate keys are not allowed in JSON_OBJECTAGG. Please ensure that keys are unique.");
    }
}

/// <summary>
/// PERCENTILE, as Flink's PercentileAggFunction: a count per value (as DOUBLE); the percentile at p is the value at
/// position p * (n - 1) + 1 of the sorted values, interpolated linearly between the two around it. A frequency
/// that is NULL or not positive skips the row.
/// </summary>
public static class PercentileOps
{
    public static Dictionary<double, long>? Update(Dictionary<double, long>? counts, double? value, long? frequency, bool retract)
    {
        if (frequency is null || frequency.Value <= 0 || value is null) return counts;
        counts ??= [];
        double v = value.Value;
        long n = (counts.TryGetValue(v, out var c) ? c : 0) + (retract ? -frequency.Value : frequency.Value);
        // Flink keeps a count that a retraction made negative (a value retracted before it came).
        if (n != 0) counts[v] = n;
        else counts.Remove(v);
        return counts;
    }

    public static Dictionary<double, long>? Merge(Dictionary<double, long>? a, Dictionary<double, long>? b)
    {
        if (b is null || b.Count == 0) return a;
        a ??= [];
        foreach (var (v, c) in b)
        {
            long n = (a.TryGetValue(v, out var x) ? x : 0) + c;
            if (n != 0) a[v] = n;
            else a.Remove(v);
        }
        return a;
    }

    public static double? Single(Dictionary<double, long>? counts, double percentage) => Compute(counts, [percentage])?[0];

    public static object?[]? Multi(Dictionary<double, long>? counts, double[] percentages)
    {
        var values = Compute(counts, percentages);
        if (values is null) return null;
        var result = new object?[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = values[i];
        return result;
    }

    private static double[]? Compute(Dictionary<double, long>? counts, double[] percentages)
    {
        if (counts is null || counts.Count == 0) return null;
        long total = 0;
        var sorted = new KeyValuePair<double, long>[counts.Count];
        int k = 0;
        foreach (var e in counts)
        {
            sorted[k++] = e;
            total += e.Value;
        }
        if (total <= 0) return null;
        // Java's Double.compare order (NaN last; -0.0 before 0.0 do not meet here: the map holds one of them).
        Array.Sort(sorted, (x, y) => x.Key.CompareTo(y.Key));
        var positions = new (double Position, int Index)[percentages.Length];
        for (int i = 0; i < percentages.Length; i++) positions[i] = (percentages[i] * (total - 1) + 1, i);
        Array.Sort(positions, (x, y) => x.Position.CompareTo(y.Position));
        var result = new double[percentages.Length];
        long seen = sorted[0].Value;
        for (int i = 0, j = 0; i < positions.Length; i++)
        {
            double position = positions[i].Position;
            long lower = (long)Math.Floor(position);
            long higher = (long)Math.Ceiling(position);
            while (seen < lower)
            {
                j++;
                seen += sorted[j].Value;
            }
            result[positions[i].Index] = seen >= higher
                ? sorted[j].Key
                : (higher - position) * sorted[j].Key + (position - lower) * sorted[j + 1].Key;
        }
        return result;
    }
}
