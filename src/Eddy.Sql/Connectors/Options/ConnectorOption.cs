using System.Globalization;

namespace Eddy.Sql.Connectors.Options;

/// <summary>
/// One option a connector declares in its <see cref="OptionSchema"/>: its name (or, for <see cref="IsPrefix"/>, the
/// start of a family of names such as <c>properties.</c>; for <see cref="IsTemplate"/>, a name with a placeholder such
/// as <c>fields.&lt;name&gt;.kind</c>), its type, default, whether it is required and whether its value is a secret.
/// The schema checks a table's value against it at planning.
/// </summary>
public abstract record ConnectorOption(string Name, string Description)
{
    /// <summary>A family of options: every key starting with <see cref="ConnectorOption.Name"/> (<c>properties.</c>).</summary>
    public bool IsPrefix { get; init; }

    /// <summary>
    /// A family of options named by a template, one per value of its placeholder (<c>fields.&lt;name&gt;.kind</c>: one
    /// per column): every key that starts with the text before <c>&lt;</c> and ends with the text after <c>&gt;</c>,
    /// with something between them. Each value is read as the option's type.
    /// </summary>
    public bool IsTemplate => Name.IndexOf('<') is >= 0 and var lt && Name.IndexOf('>', lt) > lt;

    /// <summary>The placeholder's value in <paramref name="key"/> when it is a key of this template option.</summary>
    public bool TryMatchTemplate(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? placeholder)
    {
        placeholder = null;
        if (!IsTemplate) return false;
        var (head, tail) = TemplateParts;
        if (key.Length <= head.Length + tail.Length || !key.StartsWith(head, StringComparison.Ordinal) || !key.EndsWith(tail, StringComparison.Ordinal))
            return false;
        placeholder = key[head.Length..^tail.Length];
        return true;
    }

    /// <summary>The key of this template option for one value of its placeholder (<c>fields.age.kind</c>).</summary>
    public string KeyFor(string placeholder)
    {
        var (head, tail) = TemplateParts;
        return head + placeholder + tail;
    }

    /// <summary>The text before the placeholder and after it.</summary>
    internal (string Head, string Tail) TemplateParts =>
        (Name[..Name.IndexOf('<')], Name[(Name.IndexOf('>', Name.IndexOf('<')) + 1)..]);

    public bool Required { get; init; }

    /// <summary>Masked wherever options are shown (<see cref="SecretOptions"/> must agree: the schema checks it).</summary>
    public bool Secret { get; init; }

    /// <summary>
    /// The format this option belongs to (Flink's <c>json.ignore-parse-errors</c> belongs to <c>json</c>): the table
    /// may give it only when its option <c>Selector</c> (<c>format</c>) names <c>Format</c>. Null: any table.
    /// </summary>
    public (string Selector, string Format)? OfFormat { get; init; }

    /// <summary>
    /// For a family (<see cref="IsPrefix"/>) that another component reads (a format's <c>json.*</c> options): the
    /// names it knows after the prefix, so that a misspelt member is refused as unknown like any other option. Null:
    /// any name belongs (Kafka's <c>properties.*</c>, checked by the client).
    /// </summary>
    public Func<IEnumerable<string>>? Members { get; init; }

    /// <summary>
    /// Why the connector refuses the option whatever its value (a Flink option Eddy does not implement): declared so
    /// that the docs list it; null for an option the connector takes.
    /// </summary>
    public string? Refusal { get; init; }

    /// <summary>The type as the options table of the docs shows it: Boolean, Integer, Duration, ...</summary>
    public abstract string TypeName { get; }

    /// <summary>What a value must look like, for an error: "true or false", "a positive integer", ...</summary>
    public abstract string Expected { get; }

    /// <summary>The default as text, for the docs (null: none).</summary>
    public abstract string? DefaultText { get; }

    internal abstract bool TryParse(string text, out object? value, out string? problem);

    /// <summary>The name as the docs show it (<c>properties.*</c> for a prefix).</summary>
    public string DisplayName => IsPrefix ? Name + "*" : Name;
}

/// <summary>An option whose value reads as a <typeparamref name="T"/>.</summary>
public sealed record ConnectorOption<T>(string Name, string Description, string Type, string Form, Func<string, (bool Ok, T Value, string? Problem)> Parse)
    : ConnectorOption(Name, Description)
{
    /// <summary>What an absent option reads as (<see cref="HasDefault"/> says whether there is one).</summary>
    public T Default { get; init; } = default!;

    public bool HasDefault { get; init; }

    public override string TypeName => Type;

    public override string Expected => Form;

    public override string? DefaultText => !HasDefault ? null : Type == "MemorySize" && Default is long bytes ? FormatSize(bytes) : Format(Default);

    private static string FormatSize(long b) =>
        b > 0 && b % (1L << 30) == 0 ? $"{b >> 30} gb" : b > 0 && b % (1L << 20) == 0 ? $"{b >> 20} mb" : b > 0 && b % 1024 == 0 ? $"{b >> 10} kb" : $"{b} b";

    public ConnectorOption<T> WithDefault(T value) => this with { Default = value, HasDefault = true };

    public ConnectorOption<T> AsRequired() => this with { Required = true };

    public ConnectorOption<T> AsSecret() => this with { Secret = true };

    /// <summary>An option of the format <paramref name="format"/>, which the table picks with its option <paramref name="selector"/>.</summary>
    public ConnectorOption<T> ForFormat(string selector, string format) => this with { OfFormat = (selector, format) };

    internal override bool TryParse(string text, out object? value, out string? problem)
    {
        var (ok, parsed, why) = Parse(text);
        value = parsed;
        problem = ok ? null : why ?? $"expected {Form}, got '{text}'";
        return ok;
    }

    private static string Format(T value) => value switch
    {
        null => "",
        bool b => b ? "true" : "false",
        TimeSpan t => FormatDuration(t),
        DateTimeOffset d => d.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static string FormatDuration(TimeSpan t) =>
        t.TotalMilliseconds % 86_400_000 == 0 && t > TimeSpan.Zero ? $"{t.TotalDays:0} d"
        : t.TotalMilliseconds % 3_600_000 == 0 && t > TimeSpan.Zero ? $"{t.TotalHours:0} h"
        : t.TotalMilliseconds % 60_000 == 0 && t > TimeSpan.Zero ? $"{t.TotalMinutes:0} min"
        : t.TotalMilliseconds % 1000 == 0 ? $"{t.TotalSeconds:0} s"
        : $"{t.TotalMilliseconds:0} ms";
}

/// <summary>The option types connectors declare, each with Flink's syntax for its values.</summary>
public static class Option
{
    public static ConnectorOption<string> String(string name, string description) =>
        new(name, description, "String", "a string", text => (true, text, null));

    /// <summary>Any key starting with <paramref name="prefix"/>, a string value (Kafka's <c>properties.*</c>).</summary>
    public static ConnectorOption<string> Prefix(string prefix, string description) => String(prefix, description) with { IsPrefix = true };

    /// <summary>
    /// A family whose members another component reads and checks (a format's options under <c>json.</c> or
    /// <c>value.avro-confluent.</c>): a key under <paramref name="prefix"/> whose rest is not one of
    /// <paramref name="members"/> is an unknown option.
    /// </summary>
    public static ConnectorOption<string> Family(string prefix, string description, Func<IEnumerable<string>> members) =>
        Prefix(prefix, description) with { Members = members };

    /// <summary>
    /// An option (or, with a name ending in '.', a family) this connector refuses whatever its value: a Flink option
    /// Eddy does not implement, or one Flink's connector does not take. <paramref name="message"/> says why and is
    /// the error; the docs list the option with it.
    /// </summary>
    public static ConnectorOption<string> Refused(string name, string message) =>
        new ConnectorOption<string>(name, message, "-", "nothing (refused)", text => (false, "", null))
        {
            IsPrefix = name.EndsWith('.'),
            Refusal = message,
        };

    /// <summary>true or false, as Flink reads them (case-insensitive).</summary>
    public static ConnectorOption<bool> Boolean(string name, string description) =>
        new(name, description, "Boolean", "true or false", text =>
            text.Trim().ToLowerInvariant() switch
            {
                "true" => (true, true, null),
                "false" => (true, false, null),
                _ => (false, false, null),
            });

    public static ConnectorOption<int> Int(string name, string description, int min = int.MinValue) =>
        new(name, description, "Integer", min switch { 0 => "a non-negative integer", 1 => "a positive integer", int.MinValue => "an integer", _ => $"an integer of at least {min}" },
            text => int.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) && v >= min ? (true, v, null) : (false, 0, null));

    public static ConnectorOption<long> Long(string name, string description, long min = long.MinValue) =>
        new(name, description, "Long", min switch { 0 => "a non-negative integer", 1 => "a positive integer", long.MinValue => "an integer", _ => $"an integer of at least {min}" },
            text => long.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v) && v >= min ? (true, v, null) : (false, 0L, null));

    /// <summary>A finite number, above zero when <paramref name="positive"/>.</summary>
    public static ConnectorOption<double> Double(string name, string description, bool positive = false) =>
        new(name, description, "Double", positive ? "a positive number" : "a number",
            text => double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) && (!positive || v > 0)
                ? (true, v, null) : (false, 0d, null));

    /// <summary>A number from <paramref name="min"/> to <paramref name="max"/>, both included (a share: 0 to 1).</summary>
    public static ConnectorOption<double> DoubleBetween(string name, string description, double min, double max) =>
        new(name, description, "Double", string.Create(CultureInfo.InvariantCulture, $"a number between {min} and {max}"),
            text => double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v >= min && v <= max
                ? (true, v, null) : (false, 0d, null));

    /// <summary>
    /// A value of the type of the column the option is about (datagen's <c>fields.&lt;name&gt;.min</c>): the schema
    /// takes the text as given, the connector reads it once it knows the column.
    /// </summary>
    public static ConnectorOption<string> OfColumnType(string name, string description) =>
        new(name, description, "(column's type)", "a value of the column's type", text => (true, text, null));

    /// <summary>Flink's duration syntax (<see cref="FlinkValues.TryParseDuration"/>).</summary>
    public static ConnectorOption<TimeSpan> Duration(string name, string description) =>
        new(name, description, "Duration", FlinkValues.DurationForm,
            text => FlinkValues.TryParseDuration(text, out var d, out var problem) ? (true, d, null) : (false, TimeSpan.Zero, problem));

    /// <summary>Flink's memory-size syntax, in bytes (<see cref="FlinkValues.TryParseMemorySize"/>).</summary>
    public static ConnectorOption<long> MemorySize(string name, string description) =>
        new(name, description, "MemorySize", FlinkValues.MemorySizeForm,
            text => FlinkValues.TryParseMemorySize(text, out long b, out var problem) ? (true, b, null) : (false, 0L, problem));

    /// <summary>One of <paramref name="values"/> (case-insensitive, read as the declared spelling).</summary>
    public static ConnectorOption<string> Enum(string name, string description, params string[] values) =>
        new(name, description, "Enum", "one of " + string.Join(", ", values), text =>
            values.FirstOrDefault(v => v.Equals(text.Trim(), StringComparison.OrdinalIgnoreCase)) is { } match
                ? (true, match, null)
                : (false, "", $"expected one of {string.Join(", ", values)}, got '{text}'{SqlErrors.Suggest(text, values)}"));
}
