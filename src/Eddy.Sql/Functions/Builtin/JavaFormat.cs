using System.Globalization;
using System.Numerics;
using System.Text;

namespace Eddy.Sql.Functions.Builtin;

/// <summary>What a PRINTF argument is, for the checks of <see cref="JavaFormat.Parse"/>.</summary>
public enum FormatArgument
{
    Null, String, Boolean, TinyInt, SmallInt, Int, BigInt, Double, Decimal, Other,
}

/// <summary>
/// The part of java.util.Formatter (Locale.US) that Flink's PRINTF uses and Eddy renders exactly: the conversions
/// <c>%s %S %b %B %d %o %x %X %f %e %E %% %n</c> with the flags <c>- + space 0 ,</c>, widths, precisions and argument
/// indexes (<c>%2$s</c>, <c>%&lt;s</c>). A literal format is read when the statement is planned; anything else in it is
/// refused there with the reason.
/// </summary>
public sealed class JavaFormat
{
    private sealed record Spec(string? Text, int Argument, char Conversion, string Flags, int Width, int Precision);

    private readonly Spec[] specs;
    private readonly string text;

    private JavaFormat(Spec[] specs, string text)
    {
        this.specs = specs;
        this.text = text;
    }

    /// <summary>The format as the SQL literal it was written as (EXPLAIN shows it).</summary>
    public override string ToString() => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>Reads <paramref name="format"/>; the message says why Eddy cannot render it exactly (or why Java would fail).</summary>
    public static JavaFormat Parse(string format, IReadOnlyList<FormatArgument> arguments)
    {
        var specs = new List<Spec>();
        var text = new StringBuilder();
        int ordinary = 0, last = -1;
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%')
            {
                text.Append(format[i]);
                continue;
            }
            if (text.Length > 0)
            {
                specs.Add(new Spec(text.ToString(), -1, '\0', "", -1, -1));
                text.Clear();
            }
            int start = i++;
            // %[argument_index$][flags][width][.precision]conversion
            int argument = -1;
            int j = i;
            while (j < format.Length && char.IsAsciiDigit(format[j])) j++;
            if (j < format.Length && format[j] == '$' && j > i)
            {
                argument = int.Parse(format[i..j], CultureInfo.InvariantCulture) - 1;
                if (argument < 0) throw new FormatException($"'{format[start..(j + 1)]}': argument indexes start at 1");
                i = j + 1;
            }
            bool relative = false;
            var flags = new StringBuilder();
            while (i < format.Length && "-#+ 0,(<".Contains(format[i]))
            {
                if (format[i] == '<') relative = true;
                else if (flags.ToString().Contains(format[i])) throw new FormatException($"'{format[start..(i + 1)]}': the flag '{format[i]}' is repeated");
                else flags.Append(format[i]);
                i++;
            }
            int width = -1;
            j = i;
            while (j < format.Length && char.IsAsciiDigit(format[j])) j++;
            if (j > i)
            {
                width = int.Parse(format[i..j], CultureInfo.InvariantCulture);
                i = j;
            }
            int precision = -1;
            if (i < format.Length && format[i] == '.')
            {
                j = ++i;
                while (j < format.Length && char.IsAsciiDigit(format[j])) j++;
                if (j == i) throw new FormatException($"'{format[start..Math.Min(format.Length, j + 1)]}': a precision needs digits");
                precision = int.Parse(format[i..j], CultureInfo.InvariantCulture);
                i = j;
            }
            if (i >= format.Length) throw new FormatException($"'{format[start..]}' ends without a conversion");
            char conversion = format[i];
            string spec = format[start..(i + 1)];
            string f = flags.ToString();
            switch (conversion)
            {
                case '%':
                    if (f.Trim('-').Length > 0 || precision >= 0 || (f.Contains('-') && width < 0))
                        throw new FormatException($"'{spec}': %% takes only a width and '-'");
                    specs.Add(new Spec(null, -1, '%', f, width, -1));
                    continue;
                case 'n':
                    if (f.Length > 0 || width >= 0 || precision >= 0) throw new FormatException($"'{spec}': %n takes no flags, width or precision");
                    specs.Add(new Spec("\n", -1, '\0', "", -1, -1));
                    continue;
            }
            if ("sSbBdoxXfeE".IndexOf(conversion) < 0)
                throw new FormatException($"'{spec}': the conversion '{conversion}' is not supported by Eddy's PRINTF (it renders %s %S %b %B %d %o %x %X %f %e %E %% %n)");
            string allowed = conversion switch
            {
                'd' => "-+ 0,",
                'o' or 'x' or 'X' => "-0",
                'f' => "-+ 0,",
                'e' or 'E' => "-+ 0",
                _ => "-",
            };
            foreach (char flag in f)
                if (!allowed.Contains(flag)) throw new FormatException($"'{spec}': the flag '{flag}' is not supported with %{conversion}");
            if ((f.Contains('-') || f.Contains('0')) && width < 0) throw new FormatException($"'{spec}': the flags '-' and '0' need a width");
            if (f.Contains('-') && f.Contains('0')) throw new FormatException($"'{spec}': the flags '-' and '0' exclude each other");
            if (f.Contains('+') && f.Contains(' ')) throw new FormatException($"'{spec}': the flags '+' and ' ' exclude each other");
            if (precision >= 0 && conversion is 'd' or 'o' or 'x' or 'X') throw new FormatException($"'{spec}': %{conversion} takes no precision");
            int index = relative ? last : argument >= 0 ? argument : ordinary++;
            if (relative && last < 0) throw new FormatException($"'{spec}': '<' needs a previous argument");
            if (index >= arguments.Count) throw new FormatException($"'{spec}': there is no argument {index + 1}");
            last = index;
            var kind = arguments[index];
            bool fits = conversion switch
            {
                'b' or 'B' => true,
                's' or 'S' => kind is not (FormatArgument.Other),
                'd' or 'o' or 'x' or 'X' => kind is FormatArgument.Null or FormatArgument.TinyInt or FormatArgument.SmallInt or FormatArgument.Int or FormatArgument.BigInt,
                _ => kind is FormatArgument.Null or FormatArgument.Double,
            };
            if (!fits) throw new FormatException($"'{spec}': argument {index + 1} is a {kind.ToString().ToUpperInvariant()}, which %{conversion} does not render (or renders from Flink's internal data) — CAST it");
            specs.Add(new Spec(null, index, conversion, f, width, precision));
        }
        if (text.Length > 0) specs.Add(new Spec(text.ToString(), -1, '\0', "", -1, -1));
        return new JavaFormat([.. specs], format);
    }

    public string Format(object?[] args)
    {
        var sb = new StringBuilder();
        foreach (var s in specs)
        {
            if (s.Text is not null)
            {
                sb.Append(s.Text);
                continue;
            }
            if (s.Conversion == '%')
            {
                Justify(sb, "%", s);
                continue;
            }
            var arg = args[s.Argument];
            string body = s.Conversion switch
            {
                'b' or 'B' => Truncate(arg is bool b ? (b ? "true" : "false") : arg is null ? "false" : "true", s.Precision),
                _ when arg is null => Truncate("null", s.Precision),
                's' or 'S' => Truncate(JavaString(arg), s.Precision),
                'd' => Integer(ToBig(arg), s.Flags, s.Width),
                'o' or 'x' or 'X' => Radix(arg, s.Conversion == 'o' ? 8 : 16, s.Flags, s.Width),
                'f' => Floating(Convert.ToDouble(arg, CultureInfo.InvariantCulture), s.Flags, s.Width, s.Precision < 0 ? 6 : s.Precision, scientific: false),
                _ => Floating(Convert.ToDouble(arg, CultureInfo.InvariantCulture), s.Flags, s.Width, s.Precision < 0 ? 6 : s.Precision, scientific: true),
            };
            if (char.IsUpper(s.Conversion)) body = body.ToUpperInvariant();
            Justify(sb, body, s);
        }
        return sb.ToString();
    }

    private static string Truncate(string s, int precision) => precision >= 0 && precision < s.Length ? s[..precision] : s;

    private static void Justify(StringBuilder sb, string body, Spec s)
    {
        int pad = Math.Max(0, s.Width - body.Length);
        if (s.Flags.Contains('-')) sb.Append(body).Append(' ', pad);
        else sb.Append(' ', pad).Append(body);
    }

    /// <summary>Java's String.valueOf of Flink's internal value.</summary>
    private static string JavaString(object value) => value switch
    {
        string str => str,
        bool b => b ? "true" : "false",
        double d => Row.FormatDouble(d),
        decimal m => m.ToString(CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "null",
    };

    private static BigInteger ToBig(object value) => value switch
    {
        sbyte b => b, short s => s, int i => i, long l => l,
        _ => throw new InvalidOperationException($"PRINTF: {value.GetType().Name} is not an integer"),
    };

    private static string Integer(BigInteger value, string flags, int width)
    {
        bool negative = value.Sign < 0;
        string digits = BigInteger.Abs(value).ToString(CultureInfo.InvariantCulture);
        if (flags.Contains(',')) digits = Group(digits);
        return Signed(digits, negative, flags, width);
    }

    /// <summary>The sign (or '+' / ' ' flag), then zeros up to the width when the '0' flag is given.</summary>
    private static string Signed(string magnitude, bool negative, string flags, int width)
    {
        string sign = negative ? "-" : flags.Contains('+') ? "+" : flags.Contains(' ') ? " " : "";
        if (flags.Contains('0') && width > sign.Length + magnitude.Length) magnitude = new string('0', width - sign.Length - magnitude.Length) + magnitude;
        return sign + magnitude;
    }

    private static string Group(string digits)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < digits.Length; i++)
        {
            if (i > 0 && (digits.Length - i) % 3 == 0) sb.Append(',');
            sb.Append(digits[i]);
        }
        return sb.ToString();
    }

    /// <summary>%o / %x: a negative value as its two's complement in the width of its Java type (byte, short, int, long).</summary>
    private static string Radix(object value, int radix, string flags, int width)
    {
        BigInteger v = ToBig(value);
        int bits = value switch { sbyte => 8, short => 16, int => 32, _ => 64 };
        if (v.Sign < 0) v += BigInteger.One << bits;
        string digits = radix == 16 ? v.ToString("x", CultureInfo.InvariantCulture).TrimStart('0') : ToOctal(v);
        if (digits.Length == 0) digits = "0";
        if (flags.Contains('0') && width > digits.Length) digits = new string('0', width - digits.Length) + digits;
        return digits;
    }

    private static string ToOctal(BigInteger v)
    {
        if (v.IsZero) return "0";
        var sb = new StringBuilder();
        while (!v.IsZero)
        {
            sb.Insert(0, (char)('0' + (int)(v % 8)));
            v /= 8;
        }
        return sb.ToString();
    }

    /// <summary>
    /// %f / %e as Java's Formatter: the shortest decimal digits of the double (Double.toString's), rounded HALF_UP to the
    /// precision.
    /// </summary>
    private static string Floating(double value, string flags, int width, int precision, bool scientific)
    {
        if (double.IsNaN(value)) return "NaN";
        bool negative = value < 0 || (value == 0 && double.IsNegative(value));
        if (double.IsInfinity(value)) return (negative ? "-" : flags.Contains('+') ? "+" : flags.Contains(' ') ? " " : "") + "Infinity";
        // Shortest round-trip digits and the decimal exponent: value = 0.d1d2d3... × 10^exponent.
        string shortest = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        var (digits, pointAt) = Digits(shortest);
        string magnitude;
        if (!scientific)
        {
            // Round at 'precision' places after the point.
            var (rounded, point) = RoundHalfUp(digits, pointAt, pointAt + precision);
            string intPart = point <= 0 ? "0" : rounded[..Math.Min(point, rounded.Length)].PadRight(point, '0');
            string frac = point >= 0 ? (rounded.Length > point ? rounded[point..] : "") : new string('0', -point) + rounded;
            frac = frac.PadRight(precision, '0')[..precision];
            intPart = intPart.TrimStart('0');
            if (intPart.Length == 0) intPart = "0";
            if (flags.Contains(',')) intPart = Group(intPart);
            magnitude = precision > 0 ? intPart + "." + frac : intPart;
        }
        else
        {
            int exponent;
            string mantissa;
            if (digits.TrimStart('0').Length == 0)
            {
                exponent = 0;
                mantissa = new string('0', precision + 1);
            }
            else
            {
                var (rounded, point) = RoundHalfUp(digits, pointAt, precision + 1);
                exponent = point - 1;
                mantissa = rounded.PadRight(precision + 1, '0')[..(precision + 1)];
            }
            magnitude = mantissa[..1] + (precision > 0 ? "." + mantissa[1..] : "")
                + "e" + (exponent < 0 ? "-" : "+") + Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture);
        }
        return Signed(magnitude, negative, flags, width);
    }

    /// <summary>The significant digits of a round-trip string and where the decimal point goes (digits before it).</summary>
    private static (string Digits, int PointAt) Digits(string text)
    {
        int e = text.IndexOfAny(['E', 'e']);
        int exponent = e >= 0 ? int.Parse(text[(e + 1)..], CultureInfo.InvariantCulture) : 0;
        string mantissa = e >= 0 ? text[..e] : text;
        int dot = mantissa.IndexOf('.');
        string all = dot >= 0 ? mantissa.Remove(dot, 1) : mantissa;
        int point = (dot >= 0 ? dot : mantissa.Length) + exponent;
        int lead = 0;
        while (lead < all.Length - 1 && all[lead] == '0')
        {
            lead++;
            point--;
        }
        return (all[lead..], point);
    }

    /// <summary>
    /// Rounds the digit string HALF_UP to its first <paramref name="keep"/> digits; returns them and the point position
    /// (one further right when the rounding carries into a new digit).
    /// </summary>
    private static (string Digits, int PointAt) RoundHalfUp(string digits, int pointAt, int keep)
    {
        if (keep >= digits.Length) return (digits, pointAt);
        if (keep < 0) return ("0", pointAt);
        bool up = digits[keep] >= '5';
        var kept = digits[..keep].ToCharArray();
        if (up)
        {
            int i = kept.Length - 1;
            while (i >= 0 && kept[i] == '9')
            {
                kept[i] = '0';
                i--;
            }
            if (i >= 0) kept[i]++;
            else return ("1" + new string(kept), pointAt + 1);
        }
        string result = new(kept);
        return (result.Length == 0 ? "0" : result, pointAt);
    }
}
