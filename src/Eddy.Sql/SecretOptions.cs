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
        return last is "key" or "apikey" || (last.EndsWith("-key", StringComparison.Ordinal) || last.EndsWith("_key", StringComparison.Ordinal)) && last != "primary-key";
    }

    private static readonly string[] SecretWords = ["password", "passwd", "secret", "token", "credential", "jaas.config", "ssl.key", "private"];

    /// <summary>The options with every secret value masked.</summary>
    public static IReadOnlyDictionary<string, string> Redact(IReadOnlyDictionary<string, string> options) =>
        options.ToDictionary(o => o.Key, o => IsSecret(o.Key) ? Mask : o.Value, StringComparer.Ordinal);

    /// <summary>
    /// SQL text with the value of every secret option (<c>'password' = '...'</c> in a WITH clause or a SET statement)
    /// masked. Works on the text, so it also covers scripts that fail to parse.
    /// </summary>
    public static string RedactSql(string sql) => OptionPair().Replace(sql, m =>
        IsSecret(m.Groups["key"].Value)
            ? m.Value[..(m.Groups["value"].Index - m.Index)] + Mask + m.Value[(m.Groups["value"].Index + m.Groups["value"].Length - m.Index)..]
            : m.Value);

    /// <summary>Text (a message, a log line) with <c>key=value</c> or <c>'key' = 'value'</c> secrets masked.</summary>
    public static string RedactText(string text) => PlainPair().Replace(RedactSql(text), m =>
        IsSecret(m.Groups["key"].Value)
            ? m.Value[..(m.Groups["value"].Index - m.Index)] + Mask
            : m.Value);

    // 'key' = 'value' with SQL's doubled quotes inside the value.
    [GeneratedRegex(@"'(?<key>[^']+)'\s*=\s*'(?<value>(?:[^']|'')*)'", RegexOptions.CultureInvariant)]
    private static partial Regex OptionPair();

    [GeneratedRegex(@"(?<![\w.'-])(?<key>[A-Za-z][\w.-]*)=(?<value>[^\s,;'""]+)", RegexOptions.CultureInvariant)]
    private static partial Regex PlainPair();
}
