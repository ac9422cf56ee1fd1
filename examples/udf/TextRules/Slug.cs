using System.Text;

namespace TextRules;

/// <summary>URL slugs: lower-case ASCII letters and digits, every other run of characters one '-', none at the ends.</summary>
public static class Slug
{
    public static string Make(string text)
    {
        var sb = new StringBuilder(text.Length);
        bool dash = false;
        foreach (char c in text)
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                if (dash && sb.Length > 0) sb.Append('-');
                sb.Append(char.ToLowerInvariant(c));
                dash = false;
            }
            else
            {
                dash = true;
            }
        }
        return sb.ToString();
    }
}
