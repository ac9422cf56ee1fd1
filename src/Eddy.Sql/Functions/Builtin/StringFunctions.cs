using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Eddy.Sql.Planning;

namespace Eddy.Sql.Functions.Builtin;

/// <summary>Flink's string functions (the "string" group of its function list) and their run-time code.</summary>
public static class StringFunctions
{
    private static MethodInfo M(Delegate d) => d.Method;

    private static BuiltinFunction F(string name, BuiltinBinder bind) => new(name, FunctionGroup.String, bind);

    private static readonly ConcurrentDictionary<string, Regex?> Regexes = new();

    /// <summary>A compiled pattern, or null when .NET cannot read it (Flink gives NULL for an invalid regex).</summary>
    internal static Regex? Pattern(string pattern) => Regexes.GetOrAdd(pattern, static p =>
    {
        try
        {
            return new Regex(p, RegexOptions.CultureInvariant | RegexOptions.Compiled);
        }
        catch (ArgumentException)
        {
            return null;
        }
    });

    private static BoundExpr BindSubstring(BuiltinCall c)
    {
        c.Arity(2, 3);
        return c.Count == 2
            ? c.Fn(nameof(SqlFunctions.Substring), DataType.String, BuiltinCall.AsString(c.Args[0]), Planning.Binder.CastIfNeeded(c.Args[1], DataType.Int))
            : c.Fn(nameof(SqlFunctions.Substring), DataType.String, BuiltinCall.AsString(c.Args[0]), Planning.Binder.CastIfNeeded(c.Args[1], DataType.Int),
                Planning.Binder.CastIfNeeded(c.Args[2], DataType.Int));
    }

    /// <summary>PRINTF with a literal format, read at planning (see <see cref="JavaFormat"/>); NULL for a NULL format.</summary>
    private static BoundExpr BindPrintf(BuiltinCall c)
    {
        c.Arity(1, int.MaxValue);
        if (c.IsNull(0) || c.Args[0] is Literal { Value: null } && TypeRules.IsString(c.TypeOf(0))) return new Literal(null, DataType.String);
        if (c.Args[0] is not Literal { Value: string format }) throw c.FailAt(0, "PRINTF takes a string literal as its format");
        var kinds = c.Args.Skip(1).Select(a => a.Type.Kind switch
        {
            TypeKind.Null => FormatArgument.Null,
            TypeKind.String or TypeKind.Char => FormatArgument.String,
            TypeKind.Boolean => FormatArgument.Boolean,
            TypeKind.TinyInt => FormatArgument.TinyInt,
            TypeKind.SmallInt => FormatArgument.SmallInt,
            TypeKind.Int => FormatArgument.Int,
            TypeKind.BigInt => FormatArgument.BigInt,
            TypeKind.Double => FormatArgument.Double,
            TypeKind.Decimal => FormatArgument.Decimal,
            _ => FormatArgument.Other,
        }).ToArray();
        JavaFormat parsed;
        try
        {
            parsed = JavaFormat.Parse(format, kinds);
        }
        catch (FormatException e)
        {
            throw c.FailAt(0, "PRINTF format " + e.Message);
        }
        return c.Call(M(Printf), DataType.String, [new Literal(parsed, DataType.NullType), .. c.Args.Skip(1)]);
    }

    public static string Printf(object format, params object?[] args) => ((JavaFormat)format).Format(args);

    /// <summary>The charsets Flink's ENCODE and DECODE accept, with Java's replacement rules for what they cannot code.</summary>
    private static readonly FrozenDictionary<string, Encoding> Charsets = new Dictionary<string, Encoding>
    {
        ["US-ASCII"] = Encoding.GetEncoding("us-ascii", new EncoderReplacementFallback("?"), new DecoderReplacementFallback("\uFFFD")),
        ["ISO-8859-1"] = Encoding.GetEncoding("iso-8859-1", new EncoderReplacementFallback("?"), new DecoderReplacementFallback("\uFFFD")),
        ["UTF-8"] = Encoding.GetEncoding("utf-8", new EncoderReplacementFallback("?"), new DecoderReplacementFallback("\uFFFD")),
        ["UTF-16BE"] = Encoding.GetEncoding("utf-16BE", new EncoderReplacementFallback("\uFFFD"), new DecoderReplacementFallback("\uFFFD")),
        ["UTF-16LE"] = Encoding.GetEncoding("utf-16", new EncoderReplacementFallback("\uFFFD"), new DecoderReplacementFallback("\uFFFD")),
        ["UTF-16"] = new Utf16WithMark(Encoding.GetEncoding("utf-16BE", new EncoderReplacementFallback("\uFFFD"), new DecoderReplacementFallback("\uFFFD"))),
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    /// <summary>The charset argument: a literal naming one of <see cref="Charsets"/>.</summary>
    private static Literal Charset(BuiltinCall c, int i)
    {
        if (c.Args[i] is not Literal { Value: string name }) throw c.FailAt(i, $"{c.Name} takes a string literal charset");
        if (!Charsets.ContainsKey(name))
            throw c.FailAt(i, $"{c.Name} takes one of the charsets 'US-ASCII', 'ISO-8859-1', 'UTF-8', 'UTF-16BE', 'UTF-16LE', 'UTF-16'; got '{name}'");
        return new Literal(name, DataType.String.NotNull());
    }

    /// <summary>Java's "UTF-16": big-endian with a byte-order mark when encoding; a mark, if any, picks the order when decoding.</summary>
    private sealed class Utf16WithMark(Encoding bigEndian) : Encoding
    {
        private static readonly Encoding LittleEndian =
            GetEncoding("utf-16", new EncoderReplacementFallback("\uFFFD"), new DecoderReplacementFallback("\uFFFD"));

        public override int GetByteCount(char[] chars, int index, int count) => 2 + bigEndian.GetByteCount(chars, index, count);

        public override int GetBytes(char[] chars, int charIndex, int charCount, byte[] bytes, int byteIndex)
        {
            bytes[byteIndex] = 0xFE;
            bytes[byteIndex + 1] = 0xFF;
            return 2 + bigEndian.GetBytes(chars, charIndex, charCount, bytes, byteIndex + 2);
        }

        public override int GetCharCount(byte[] bytes, int index, int count) => GetString(bytes, index, count).Length;

        public override int GetChars(byte[] bytes, int byteIndex, int byteCount, char[] chars, int charIndex)
        {
            var s = GetString(bytes, byteIndex, byteCount);
            s.CopyTo(0, chars, charIndex, s.Length);
            return s.Length;
        }

        public override string GetString(byte[] bytes, int index, int count)
        {
            if (count >= 2 && bytes[index] == 0xFE && bytes[index + 1] == 0xFF) return bigEndian.GetString(bytes, index + 2, count - 2);
            if (count >= 2 && bytes[index] == 0xFF && bytes[index + 1] == 0xFE) return LittleEndian.GetString(bytes, index + 2, count - 2);
            return bigEndian.GetString(bytes, index, count);
        }

        public override int GetMaxByteCount(int charCount) => 2 + bigEndian.GetMaxByteCount(charCount);

        public override int GetMaxCharCount(int byteCount) => bigEndian.GetMaxCharCount(byteCount);
    }

    public static byte[]? Encode(string? s, string charset) => s is null ? null : Charsets[charset].GetBytes(s);

    public static string? Decode(byte[]? bytes, string charset) => bytes is null ? null : Charsets[charset].GetString(bytes);

    /// <summary>All arguments are strings; the result is a nullable STRING.</summary>
    private static BuiltinFunction Strings(string name, int arity, Delegate f, DataType? result = null) => F(name, c =>
    {
        c.Arity(arity, arity);
        return c.Call(f.Method, result ?? DataType.String, Enumerable.Range(0, arity).Select(c.String).ToArray());
    });

    internal static IEnumerable<BuiltinFunction> All() =>
    [
        F("CONCAT", c =>
        {
            if (c.Count == 0) throw c.Fail("CONCAT takes at least one argument");
            return new Planning.Call(c.Name, typeof(SqlFunctions).GetMethod(nameof(SqlFunctions.Concat))!, c.Args.Select(BuiltinCall.AsString).ToList(), DataType.String);
        }),
        F("CONCAT_WS", c =>
        {
            if (c.Count < 1) throw c.Fail("CONCAT_WS takes a separator and strings");
            return new Planning.Call(c.Name, typeof(SqlFunctions).GetMethod(nameof(SqlFunctions.ConcatWs))!, c.Args.Select(BuiltinCall.AsString).ToList(), DataType.String);
        }),
        F("LOWER", c => { c.Arity(1, 1); return c.Fn(nameof(SqlFunctions.Lower), DataType.String, BuiltinCall.AsString(c.Args[0])); }),
        F("UPPER", c => { c.Arity(1, 1); return c.Fn(nameof(SqlFunctions.Upper), DataType.String, BuiltinCall.AsString(c.Args[0])); }),
        F("CHAR_LENGTH", c => { c.Arity(1, 1); return c.Fn(nameof(SqlFunctions.CharLength), DataType.Int, BuiltinCall.AsString(c.Args[0])); }),
        F("CHARACTER_LENGTH", c => { c.Arity(1, 1); return c.Fn(nameof(SqlFunctions.CharLength), DataType.Int, BuiltinCall.AsString(c.Args[0])); }),
        // TRIM(s) written as a call; TRIM([BOTH | LEADING | TRAILING] c FROM s) has its own syntax.
        F("TRIM", c => { c.Arity(1, 1); return c.Fn(nameof(SqlFunctions.Trim), DataType.String, BuiltinCall.AsString(c.Args[0])); }),
        F("SUBSTRING", BindSubstring),
        F("SUBSTR", BindSubstring),
        F("REPLACE", c => { c.Arity(3, 3); return c.Fn(nameof(SqlFunctions.Replace), DataType.String, c.Args.Select(BuiltinCall.AsString).ToArray()); }),
        F("REGEXP_EXTRACT", c =>
        {
            c.Arity(2, 3);
            return c.Count == 2
                ? c.Fn(nameof(SqlFunctions.RegexpExtract), DataType.String, BuiltinCall.AsString(c.Args[0]), BuiltinCall.AsString(c.Args[1]))
                : c.Fn(nameof(SqlFunctions.RegexpExtract), DataType.String, BuiltinCall.AsString(c.Args[0]), BuiltinCall.AsString(c.Args[1]),
                    Planning.Binder.CastIfNeeded(c.Args[2], DataType.Int));
        }),
        F("REGEXP", c => { c.Arity(2, 2); return c.Fn(nameof(SqlFunctions.RegexpMatches), DataType.Boolean, BuiltinCall.AsString(c.Args[0]), BuiltinCall.AsString(c.Args[1])); }),
        F("SPLIT_INDEX", c =>
        {
            c.Arity(3, 3);
            return c.Fn(nameof(SqlFunctions.SplitIndex), DataType.String, BuiltinCall.AsString(c.Args[0]), BuiltinCall.AsString(c.Args[1]),
                Planning.Binder.CastIfNeeded(c.Args[2], DataType.Int));
        }),
        F("PRINTF", BindPrintf),
        F("ENCODE", c =>
        {
            c.Arity(2, 2);
            return c.Call(M(Encode), new DataType(TypeKind.Binary), c.String(0), Charset(c, 1));
        }),
        F("DECODE", c =>
        {
            c.Arity(2, 2);
            var bytes = c.IsNull(0) ? new Literal(null, new DataType(TypeKind.Binary)) : c.Args[0];
            if (bytes.Type.Kind != TypeKind.Binary) throw c.FailAt(0, $"DECODE expects a BINARY as argument 1, got {bytes.Type}");
            return c.Call(M(Decode), DataType.String, bytes, Charset(c, 1));
        }),
        F("LTRIM", c => BindTrim(c, leading: true, trailing: false)),
        F("RTRIM", c => BindTrim(c, leading: false, trailing: true)),
        F("BTRIM", c => BindTrim(c, leading: true, trailing: true)),
        F("REPEAT", c => { c.Arity(2, 2); return c.Call(M(Repeat), DataType.String, c.String(0), c.Integer(1)); }),
        Strings("REGEXP_REPLACE", 3, (Func<string?, string?, string?, string?>)RegexpReplace),
        F("OVERLAY", c =>
        {
            c.Arity(3, 4);
            return c.Count == 3
                ? c.Call(M(Overlay), DataType.String, c.String(0), c.String(1), c.Integer(2), new Literal(-1, DataType.Int))
                : c.Call(M(Overlay), DataType.String, c.String(0), c.String(1), c.Integer(2), c.Integer(3));
        }),
        Strings("STARTSWITH", 2, (Func<string?, string?, bool?>)StartsWith, DataType.Boolean),
        Strings("ENDSWITH", 2, (Func<string?, string?, bool?>)EndsWith, DataType.Boolean),
        Strings("REGEXP_COUNT", 2, (Func<string?, string?, int?>)RegexpCount, DataType.Int),
        Strings("REGEXP_INSTR", 2, (Func<string?, string?, int?>)RegexpInstr, DataType.Int),
        Strings("REGEXP_SUBSTR", 2, (Func<string?, string?, string?>)RegexpSubstr),
        F("REGEXP_EXTRACT_ALL", c =>
        {
            c.Arity(2, 3);
            var index = c.Count == 3 ? c.Integer(2) : new Literal(1, DataType.Int);
            return c.Call(M(RegexpExtractAll), DataType.ArrayOf(DataType.String), c.String(0), c.String(1), index);
        }),
        Strings("TRANSLATE", 3, (Func<string?, string?, string?, string?>)Translate),
        Strings("INITCAP", 1, (Func<string?, string?>)InitCap),
        F("LPAD", c => { c.Arity(3, 3); return c.Call(M(Lpad), DataType.String, c.String(0), c.Integer(1), c.String(2)); }),
        F("RPAD", c => { c.Arity(3, 3); return c.Call(M(Rpad), DataType.String, c.String(0), c.Integer(1), c.String(2)); }),
        Strings("FROM_BASE64", 1, (Func<string?, string?>)FromBase64),
        Strings("TO_BASE64", 1, (Func<string?, string?>)ToBase64),
        Strings("ASCII", 1, (Func<string?, int?>)Ascii, DataType.Int),
        F("CHR", c => { c.Arity(1, 1); return c.Call(M(Chr), DataType.String, c.Integer(0, DataType.BigInt)); }),
        Strings("INSTR", 2, (Func<string?, string?, int?>)Instr, DataType.Int),
        F("LEFT", c => { c.Arity(2, 2); return c.Call(M(Left), DataType.String, c.String(0), c.Integer(1)); }),
        F("RIGHT", c => { c.Arity(2, 2); return c.Call(M(Right), DataType.String, c.String(0), c.Integer(1)); }),
        F("LOCATE", c =>
        {
            c.Arity(2, 3);
            return c.Call(M(Locate), DataType.Int, c.String(0), c.String(1), c.Count == 3 ? c.Integer(2) : new Literal(1, DataType.Int));
        }),
        Strings("URL_ENCODE", 1, (Func<string?, string?>)UrlEncode),
        Strings("URL_DECODE", 1, (Func<string?, string?>)UrlDecode),
        F("PARSE_URL", c =>
        {
            c.Arity(2, 3);
            return c.Call(M(ParseUrl), DataType.String, c.String(0), c.String(1), c.Count == 3 ? c.String(2) : new Literal(null, DataType.String));
        }),
        Strings("REVERSE", 1, (Func<string?, string?>)Reverse),
        F("STR_TO_MAP", c =>
        {
            if (c.Count is not (1 or 3)) throw c.Fail($"STR_TO_MAP takes 1 or 3 arguments, got {c.Count}");
            return c.Count == 1
                ? c.Call(M(StrToMap), DataType.MapOf(DataType.String, DataType.String), c.String(0), new Literal(",", DataType.String), new Literal("=", DataType.String))
                : c.Call(M(StrToMap), DataType.MapOf(DataType.String, DataType.String), c.String(0), c.String(1), c.String(2));
        }),
        Strings("JSON_QUOTE", 1, (Func<string?, string?>)JsonQuote),
        Strings("JSON_UNQUOTE", 1, (Func<string?, string?>)JsonUnquote),
        F("ELT", c =>
        {
            c.Arity(2, int.MaxValue);
            var args = new List<BoundExpr> { c.Integer(0, DataType.BigInt) };
            for (int i = 1; i < c.Count; i++) args.Add(c.String(i));
            return c.Call(M(Elt), DataType.String, args.ToArray());
        }),
    ];

    private static BoundExpr BindTrim(BuiltinCall c, bool leading, bool trailing)
    {
        c.Arity(1, 2);
        var chars = c.Count == 2 ? c.String(1) : new Literal(" ", DataType.String);
        return c.Call(typeof(SqlFunctions).GetMethod(nameof(SqlFunctions.Trim))!, DataType.String,
            c.String(0), new Literal(leading, DataType.Boolean), new Literal(trailing, DataType.Boolean), chars);
    }

    public static string? Repeat(string? s, int? n)
    {
        if (s is null || n is not { } times) return null;
        if (times <= 0 || s.Length == 0) return string.Empty;
        return new StringBuilder(s.Length * times).Insert(0, s, times).ToString();
    }

    public static string? RegexpReplace(string? s, string? pattern, string? replacement)
    {
        if (s is null || pattern is null || replacement is null) return null;
        return Pattern(pattern) is { } r ? r.Replace(s, replacement) : null;
    }

    /// <summary>OVERLAY(s PLACING r FROM start [FOR length]): length defaults to r's length.</summary>
    public static string? Overlay(string? s, string? r, int? start, int? length)
    {
        if (s is null || r is null || start is not { } from || length is not { } len) return null;
        if (len < 0) len = r.Length;
        int begin = Math.Clamp(from - 1, 0, s.Length);
        int end = (int)Math.Clamp((long)from - 1 + len, begin, s.Length);
        return string.Concat(s.AsSpan(0, begin), r, s.AsSpan(end));
    }

    public static bool? StartsWith(string? s, string? prefix) => s is null || prefix is null ? null : s.StartsWith(prefix, StringComparison.Ordinal);

    public static bool? EndsWith(string? s, string? suffix) => s is null || suffix is null ? null : s.EndsWith(suffix, StringComparison.Ordinal);

    public static int? RegexpCount(string? s, string? pattern) =>
        s is null || pattern is null || Pattern(pattern) is not { } r ? null : r.Count(s);

    public static int? RegexpInstr(string? s, string? pattern)
    {
        if (s is null || pattern is null || Pattern(pattern) is not { } r) return null;
        var m = r.Match(s);
        return m.Success ? m.Index + 1 : 0;
    }

    public static string? RegexpSubstr(string? s, string? pattern)
    {
        if (s is null || pattern is null || Pattern(pattern) is not { } r) return null;
        var m = r.Match(s);
        return m.Success ? m.Value : null;
    }

    public static object?[]? RegexpExtractAll(string? s, string? pattern, int? group)
    {
        if (s is null || pattern is null || group is not { } g || Pattern(pattern) is not { } r) return null;
        if (g < 0 || g > r.GetGroupNumbers().Length - 1) return null;
        return r.Matches(s).Select(m => (object?)(m.Groups[g].Success ? m.Groups[g].Value : null)).ToArray();
    }

    public static string? Translate(string? s, string? from, string? to)
    {
        if (s is null || from is null || to is null) return null;
        var map = new Dictionary<char, char?>();
        for (int i = 0; i < from.Length; i++) map.TryAdd(from[i], i < to.Length ? to[i] : null);
        var sb = new StringBuilder(s.Length);
        foreach (char ch in s)
        {
            if (!map.TryGetValue(ch, out var replacement)) sb.Append(ch);
            else if (replacement is { } rc) sb.Append(rc);
        }
        return sb.ToString();
    }

    /// <summary>First letter of each word upper case, the rest lower case; a word is a run of letters and digits.</summary>
    public static string? InitCap(string? s)
    {
        if (s is null) return null;
        var chars = s.ToCharArray();
        bool start = true;
        for (int i = 0; i < chars.Length; i++)
        {
            char ch = chars[i];
            chars[i] = start ? char.ToUpperInvariant(ch) : char.ToLowerInvariant(ch);
            start = !char.IsLetterOrDigit(ch);
        }
        return new string(chars);
    }

    public static string? Lpad(string? s, int? length, string? pad) => Pad(s, length, pad, left: true);

    public static string? Rpad(string? s, int? length, string? pad) => Pad(s, length, pad, left: false);

    /// <summary>Flink's lpad/rpad: a negative length or an empty pad is NULL; a longer string is cut to the length.</summary>
    private static string? Pad(string? s, int? length, string? pad, bool left)
    {
        if (s is null || length is not { } len || pad is null) return null;
        if (len < 0 || pad.Length == 0) return null;
        if (len <= s.Length) return s[..len];
        var sb = new StringBuilder(len);
        int fill = len - s.Length;
        if (!left) sb.Append(s);
        for (int i = 0; i < fill; i++) sb.Append(pad[i % pad.Length]);
        if (left) sb.Append(s);
        return sb.ToString();
    }

    public static string? FromBase64(string? s)
    {
        if (s is null) return null;
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(s));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    public static string? ToBase64(string? s) => s is null ? null : Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    public static int? Ascii(string? s) => s is null ? null : s.Length == 0 ? 0 : s[0];

    /// <summary>Flink's CHR: the character of the low byte (353 gives 'a'); a negative code gives an empty string.</summary>
    public static string? Chr(long? code) => code is not { } c ? null : c < 0 ? string.Empty : ((char)(c & 0xFF)).ToString();

    public static int? Instr(string? s, string? needle) => s is null || needle is null ? null : s.IndexOf(needle, StringComparison.Ordinal) + 1;

    public static string? Left(string? s, int? n) => s is null || n is not { } len ? null : len <= 0 ? string.Empty : s[..Math.Min(len, s.Length)];

    public static string? Right(string? s, int? n) => s is null || n is not { } len ? null : len <= 0 ? string.Empty : s[^Math.Min(len, s.Length)..];

    /// <summary>LOCATE(needle, haystack [, from]): 1-based position of needle at or after position from, 0 when absent.</summary>
    public static int? Locate(string? needle, string? s, int? from)
    {
        if (needle is null || s is null || from is not { } start) return null;
        if (start < 1 || start > s.Length + 1) return 0;
        return s.IndexOf(needle, start - 1, StringComparison.Ordinal) + 1;
    }

    /// <summary>java.net.URLEncoder with UTF-8: letters, digits and <c>.-*_</c> stay, space is '+', the rest %XX.</summary>
    public static string? UrlEncode(string? s)
    {
        if (s is null) return null;
        var sb = new StringBuilder(s.Length);
        foreach (byte b in Encoding.UTF8.GetBytes(s))
        {
            char ch = (char)b;
            if (char.IsAsciiLetterOrDigit(ch) || ch is '.' or '-' or '*' or '_') sb.Append(ch);
            else if (ch == ' ') sb.Append('+');
            else sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    /// <summary>java.net.URLDecoder with UTF-8; an illegal escape gives NULL (as Flink).</summary>
    public static string? UrlDecode(string? s)
    {
        if (s is null) return null;
        var bytes = new List<byte>(s.Length);
        var sb = new StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            char ch = s[i];
            if (ch == '%')
            {
                bytes.Clear();
                while (i < s.Length && s[i] == '%')
                {
                    if (i + 2 >= s.Length || !byte.TryParse(s.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
                        return null;
                    bytes.Add(b);
                    i += 3;
                }
                i--;
                sb.Append(Encoding.UTF8.GetString(bytes.ToArray()));
            }
            else sb.Append(ch == '+' ? ' ' : ch);
        }
        return sb.ToString();
    }

    /// <summary>PARSE_URL as java.net.URL reads it; an unknown protocol or part, or a URL that does not parse, gives NULL.</summary>
    public static string? ParseUrl(string? url, string? part, string? key)
    {
        if (url is null || part is null) return null;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https" or "ftp" or "file")) return null;
        string path = uri.GetComponents(UriComponents.Path, UriFormat.UriEscaped);
        path = url.Contains("://" + uri.Authority + "/", StringComparison.Ordinal) || path.Length > 0 ? "/" + path : path;
        string? query = uri.Query.Length > 0 ? uri.Query[1..] : null;
        if (key is not null)
        {
            if (part != "QUERY" || query is null) return null;
            var m = Regex.Match(query, "(&|^)" + Regex.Escape(key) + "=([^&]*)");
            return m.Success ? m.Groups[2].Value : null;
        }
        string authority = (uri.UserInfo.Length > 0 ? uri.UserInfo + "@" : "") + uri.Authority;
        return part switch
        {
            "HOST" => uri.Host,
            "PATH" => path,
            "QUERY" => query,
            "REF" => uri.Fragment.Length > 0 ? uri.Fragment[1..] : null,
            "PROTOCOL" => uri.Scheme,
            "AUTHORITY" => authority,
            "FILE" => query is null ? path : path + "?" + query,
            "USERINFO" => uri.UserInfo.Length > 0 ? uri.UserInfo : null,
            _ => null,
        };
    }

    public static string? Reverse(string? s)
    {
        if (s is null) return null;
        var chars = s.ToCharArray();
        System.Array.Reverse(chars);
        // Keep surrogate pairs in order, as java.lang.StringBuilder.reverse does.
        for (int i = 0; i + 1 < chars.Length; i++)
            if (char.IsLowSurrogate(chars[i]) && char.IsHighSurrogate(chars[i + 1]))
            {
                (chars[i], chars[i + 1]) = (chars[i + 1], chars[i]);
                i++;
            }
        return new string(chars);
    }

    /// <summary>STR_TO_MAP: both delimiters are regular expressions; a pair without the key-value delimiter maps to NULL.</summary>
    public static Dictionary<object, object?>? StrToMap(string? s, string? pairDelimiter, string? keyValueDelimiter)
    {
        if (s is null || pairDelimiter is null || keyValueDelimiter is null) return null;
        if (Pattern(pairDelimiter) is not { } pairs || Pattern(keyValueDelimiter) is not { } kv) return null;
        var map = new Dictionary<object, object?>();
        foreach (var pair in pairs.Split(s))
        {
            var parts = kv.Split(pair, 2);
            map[parts[0]] = parts.Length == 2 ? parts[1] : null;
        }
        return map;
    }

    public static string? JsonQuote(string? s)
    {
        if (s is null) return null;
        var sb = new StringBuilder(s.Length + 2).Append('"');
        foreach (char ch in s)
        {
            switch (ch)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '/': sb.Append("\\/"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (ch < 0x20) sb.Append("\\u").Append(((int)ch).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(ch);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    /// <summary>A valid JSON string literal loses its quotes and escapes; anything else passes through unchanged.</summary>
    public static string? JsonUnquote(string? s)
    {
        if (s is null) return null;
        if (s.Length < 2 || s[0] != '"' || s[^1] != '"') return s;
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(s);
            return doc.RootElement.ValueKind == System.Text.Json.JsonValueKind.String ? doc.RootElement.GetString() : s;
        }
        catch (System.Text.Json.JsonException)
        {
            return s;
        }
    }

    public static string? Elt(long? index, params string?[] values)
    {
        if (index is not { } i || i < 1 || i > values.Length) return null;
        return values[i - 1];
    }
}
