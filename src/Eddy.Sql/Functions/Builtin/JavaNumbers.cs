using System.Text.RegularExpressions;

namespace Eddy.Sql.Functions.Builtin;

/// <summary>Which strings Java's number parsers accept (what Flink's IS_DECIMAL asks).</summary>
internal static partial class JavaNumbers
{
    /// <summary>Long.parseLong: an optional sign and decimal digits (any Unicode decimal digit, as Character.digit) within 64 bits.</summary>
    public static bool IsJavaLong(string s)
    {
        int i = s.Length > 0 && s[0] is '+' or '-' ? 1 : 0;
        if (i == s.Length) return false;
        var digits = new System.Text.StringBuilder(s.Length);
        if (s[0] == '-') digits.Append('-');
        for (; i < s.Length; i++)
        {
            if (!char.IsDigit(s[i])) return false;
            digits.Append((char)('0' + (int)char.GetNumericValue(s[i])));
        }
        return long.TryParse(digits.ToString(), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out _);
    }

    /// <summary>Double.parseDouble: the grammar of Java's Double.valueOf (ASCII digits, hexadecimal forms, NaN, Infinity, an f/d suffix), blanks around.</summary>
    public static bool IsJavaDouble(string s) => JavaDouble().IsMatch(s);

    [GeneratedRegex(@"^[\x00-\x20]*[+-]?(NaN|Infinity|(([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|0[xX]([0-9a-fA-F]+\.?|[0-9a-fA-F]*\.[0-9a-fA-F]+)[pP][+-]?[0-9]+)[fFdD]?)[\x00-\x20]*\z", RegexOptions.CultureInvariant)]
    private static partial Regex JavaDouble();
}
