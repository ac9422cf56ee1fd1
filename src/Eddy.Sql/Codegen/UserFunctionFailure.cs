using System.Globalization;
using System.Text;

namespace Eddy.Sql.Codegen;

/// <summary>A user function threw while the job ran: the message names the function, where the SQL calls it and the row.</summary>
public sealed class UserFunctionException(string message, Exception inner) : Exception(message, inner);

/// <summary>Builds the failure of a user function that threw (called from generated code, only on the failing row).</summary>
public static class UserFunctionFailure
{
    private const int MaxValueChars = 120;

    /// <summary>
    /// <paramref name="error"/> as a <see cref="UserFunctionException"/>: "function F (file: line L, column C) failed
    /// on row [a=1, b='x']: reason". Values of columns whose names say they hold secrets (password, token, ...) are
    /// masked, long values are cut. An exception that already is one (a function calling a function) passes unchanged.
    /// </summary>
    public static Exception Wrap(Exception error, string function, string? location, object? row) => Wrap(error, function, location, row, int.MaxValue);

    /// <summary>As <see cref="Wrap(Exception, string, string, object)"/>, describing only the row's first <paramref name="columns"/> columns (the rest are computed arguments).</summary>
    public static Exception Wrap(Exception error, string function, string? location, object? row, int columns)
    {
        if (error is UserFunctionException) return error;
        var reason = error is System.Reflection.TargetInvocationException { InnerException: { } inner } ? inner : error;
        string at = location is null ? "" : $" ({location})";
        return new UserFunctionException(
            $"function {function}{at} failed on row {Describe(row, columns)}: {reason.GetType().Name}: {reason.Message}", reason);
    }

    /// <summary>A row as <c>[name=value, ...]</c>, secrets masked.</summary>
    public static string Describe(object? row) => Describe(row, int.MaxValue);

    /// <summary>The row's first <paramref name="columns"/> columns as <c>[name=value, ...]</c>, secrets masked.</summary>
    public static string Describe(object? row, int columns)
    {
        if (row is null) return "(none)";
        var type = row.GetType();
        var names = RowTypes.ColumnNamesOf(type);
        if (names is null) return Cut(SecretOptions.RedactText(row.ToString() ?? ""));
        var sb = new StringBuilder("[");
        for (int i = 0; i < Math.Min(names.Count, columns); i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(names[i]).Append('=');
            if (SecretOptions.IsSecret(names[i]))
            {
                sb.Append(SecretOptions.Mask);
                continue;
            }
            var value = RowTypes.FieldOf(type, i).GetValue(row);
            sb.Append(value switch
            {
                null => "NULL",
                string s => "'" + Cut(s) + "'",
                IFormattable f => Cut(SqlOps.ToSqlString(value) ?? f.ToString(null, CultureInfo.InvariantCulture)),
                _ => Cut(value.ToString() ?? ""),
            });
        }
        return sb.Append(']').ToString();
    }

    private static string Cut(string s) => s.Length <= MaxValueChars ? s : s[..MaxValueChars] + "…";
}
