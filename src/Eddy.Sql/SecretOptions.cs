using System.Text.RegularExpressions;

namespace Eddy.Sql;

/// <summary>
/// Connector options whose values are secrets (passwords, SASL settings, keys and tokens), and their redaction in SQL
/// text and option maps: whatever shows a job (server API, dashboard, logs, explain) shows "******" instead.
/// </summary>
public static partial class SecretOptions
{
    public const string Mask = "******";

    /// <summary>Whether the value of <paramref name="key"/> is a secret: password, sasl.jaas.config, *.key, *secret*, *token*, ...</summary>
    public static bool IsSecret(string key)
    {
        var k = key.ToLowerInvariant();
        // datagen's per-column options name columns, not secrets ('fields.token.kind').
        if (k.StartsWith("fields.", StringComparison.Ordinal)) return false;
        foreach (var word in SecretWords)
            if (k.Contains(word, StringComparison.Ordinal)) return true;
        var last = k[(k.LastIndexOf('.') + 1)..];
        // Flink's lookup caches name whether a key without rows is kept ('lookup.partial-cache.cache-missing-key').
        return last is "key" or "apikey" || (last.EndsWith("-key", StringComparison.Ordinal) || last.EndsWith("_key", StringComparison.Ordinal))
            && last is not ("primary-key" or "cache-missing-key" or "caching-missing-key");
    }

    private static readonly string[] SecretWords = ["password", "passwd", "secret", "token", "credential", "jaas.config", "ssl.key", "private", "user-info"];

    /// <summary>The options with every secret value masked.</summary>
    public static IReadOnlyDictionary<string, string> Redact(IReadOnlyDictionary<string, string> options) =>
        options.ToDictionary(o => o.Key, o => IsSecret(o.Key) ? Mask : RedactUrlCredentials(o.Value), StringComparer.Ordinal);

    /// <summary>
    /// A value with the credentials a URL may carry masked: <c>user:pass@</c> userinfo and the query parameters
    /// <c>password</c>, <c>sslpassword</c> and other secret names (<c>jdbc:postgresql://h/db?user=u&amp;password=...</c>).
    /// </summary>
    public static string RedactUrlCredentials(string value)
    {
        if (!value.Contains("://", StringComparison.Ordinal) && !value.Contains('?', StringComparison.Ordinal)) return value;
        value = UrlUserInfo().Replace(value, m => m.Groups["pre"].Value + Mask + "@");
        return UrlParameter().Replace(value, m =>
            IsSecret(m.Groups["key"].Value) ? m.Groups["key"].Value + "=" + Mask : m.Value);
    }

    /// <summary>
    /// SQL text with the value of every secret option (<c>'password' = '...'</c> in a WITH clause or a SET statement)
    /// masked. Works on the text, so it also covers scripts that fail to parse.
    /// </summary>
    public static string RedactSql(string sql) => OptionPair().Replace(sql, m =>
    {
        var value = m.Groups["value"].Value;
        string masked = IsSecret(m.Groups["key"].Value) ? Mask : RedactUrlCredentials(value);
        return masked == value
            ? m.Value
            : m.Value[..(m.Groups["value"].Index - m.Index)] + masked + m.Value[(m.Groups["value"].Index + m.Groups["value"].Length - m.Index)..];
    });

    /// <summary>
    /// One source line (an error excerpt) with secrets masked as <see cref="RedactText"/> does; <paramref name="column"/>
    /// (0-based) and <paramref name="length"/> of a marked range follow the text they marked.
    /// </summary>
    public static string RedactLine(string line, ref int column, ref int length)
    {
        var spans = new List<(int Start, int Length)>();
        foreach (Match m in OptionPair().Matches(line))
        {
            var value = m.Groups["value"];
            if (IsSecret(m.Groups["key"].Value)) spans.Add((value.Index, value.Length));
            else AddUrlSecrets(value.Value, value.Index, spans);
        }
        foreach (Match m in PlainPair().Matches(line))
        {
            var value = m.Groups["value"];
            if (IsSecret(m.Groups["key"].Value) && !spans.Exists(s => value.Index < s.Start + s.Length && s.Start < value.Index + value.Length))
                spans.Add((value.Index, value.Length));
        }
        foreach (Match m in QuotedPair().Matches(line))
        {
            var value = m.Groups["value"];
            if (IsSecret(m.Groups["key"].Value) && !spans.Exists(s => value.Index < s.Start + s.Length && s.Start < value.Index + value.Length))
                spans.Add((value.Index, value.Length));
        }
        foreach (Match m in UrlUserInfo().Matches(line))
        {
            var pass = m.Groups["pass"];
            if (!spans.Exists(s => pass.Index < s.Start + s.Length && s.Start < pass.Index + pass.Length)) spans.Add((pass.Index, pass.Length));
        }
        if (spans.Count == 0) return line;
        spans.Sort((a, b) => b.Start.CompareTo(a.Start));
        var sb = new System.Text.StringBuilder(line);
        foreach (var (start, len) in spans)
        {
            if (len == 0) continue;
            sb.Remove(start, len).Insert(start, Mask);
            int end = column + length;
            if (column >= start + len) column += Mask.Length - len;
            else if (column > start) column = start;
            if (end >= start + len) end += Mask.Length - len;
            else if (end > start) end = start + Mask.Length;
            length = Math.Max(1, end - column);
        }
        return sb.ToString();
    }

    private static void AddUrlSecrets(string value, int offset, List<(int Start, int Length)> spans)
    {
        foreach (Match m in UrlUserInfo().Matches(value)) spans.Add((offset + m.Groups["pass"].Index, m.Groups["pass"].Length));
        foreach (Match m in UrlParameter().Matches(value))
            if (IsSecret(m.Groups["key"].Value)) spans.Add((offset + m.Groups["value"].Index, m.Groups["value"].Length));
    }

    /// <summary>Text (a message, a log line) with <c>key=value</c> or <c>'key' = 'value'</c> secrets masked.</summary>
    public static string RedactText(string text) => PlainPair().Replace(QuotedPair().Replace(
        UrlUserInfo().Replace(RedactSql(text), m => m.Groups["pre"].Value + Mask + "@"),
        m => IsSecret(m.Groups["key"].Value) ? m.Value[..(m.Groups["value"].Index - m.Index)] + Mask + "\"" : m.Value), m =>
        IsSecret(m.Groups["key"].Value)
            ? m.Value[..(m.Groups["value"].Index - m.Index)] + Mask
            : m.Value);

    // 'key' = 'value' with SQL's doubled quotes inside the value.
    [GeneratedRegex(@"'(?<key>[^']+)'\s*=\s*'(?<value>(?:[^']|'')*)'", RegexOptions.CultureInvariant)]
    private static partial Regex OptionPair();

    [GeneratedRegex(@"(?<![\w.'-])(?<key>[A-Za-z][\w.-]*)=(?<value>[^\s,;'""]+)", RegexOptions.CultureInvariant)]
    private static partial Regex PlainPair();

    // key="value" (a JAAS configuration, a connection string) inside another value or a comment.
    [GeneratedRegex(@"(?<![\w.'-])(?<key>[A-Za-z][\w.-]*)\s*=\s*""(?<value>[^""]*)""", RegexOptions.CultureInvariant)]
    private static partial Regex QuotedPair();

    // scheme://user:pass@host: the password part.
    [GeneratedRegex(@"(?<pre>://[^/@:\s'""]+:)(?<pass>[^/@\s'""]*)@", RegexOptions.CultureInvariant)]
    private static partial Regex UrlUserInfo();

    // ?key=value or &key=value (also ; as JDBC URLs of some drivers separate them).
    [GeneratedRegex(@"(?<=[?&;])(?<key>[A-Za-z][\w.-]*)=(?<value>[^&;\s'""]*)", RegexOptions.CultureInvariant)]
    private static partial Regex UrlParameter();
}
