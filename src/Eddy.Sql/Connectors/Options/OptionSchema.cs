using System.Text;
using Eddy.Sql.Catalog;

namespace Eddy.Sql.Connectors.Options;

/// <summary>
/// The options a connector takes, declared once (Arroyo's per-connector option schema is the model): the schema
/// validates a table's WITH options at planning — an unknown option is refused with the nearest name, a value of the
/// wrong form names the option and the form expected, a missing required option is named — and the connector reads
/// typed values from the result (<see cref="ConnectorOptions"/>) instead of parsing strings itself.
/// </summary>
public sealed class OptionSchema
{
    private readonly Dictionary<string, ConnectorOption> exact = new(StringComparer.Ordinal);
    private readonly List<ConnectorOption> prefixes = [];
    private readonly List<ConnectorOption> templates = [];

    /// <param name="connector">the connector's name (<c>'connector' = ...</c>), for messages.</param>
    public OptionSchema(string connector, params IEnumerable<ConnectorOption> options)
    {
        Connector = connector;
        Options = options.ToList();
        foreach (var option in Options)
        {
            if (option.IsPrefix) prefixes.Add(option);
            else if (option.IsTemplate)
            {
                if (option.Required) throw new ArgumentException($"connector '{connector}' declares the template option '{option.Name}' required");
                templates.Add(option);
            }
            else if (!exact.TryAdd(option.Name, option)) throw new ArgumentException($"connector '{connector}' declares option '{option.Name}' twice");
            // Whatever shows options masks them by name (SecretOptions): a secret it would not mask is a declaration error.
            if (option.Secret && !SecretOptions.IsSecret(option.IsPrefix ? option.Name + "password" : option.Name))
                throw new ArgumentException($"connector '{connector}' declares '{option.DisplayName}' secret, but SecretOptions would show it");
            if (!option.Secret && !option.IsPrefix && SecretOptions.IsSecret(option.Name))
                throw new ArgumentException($"connector '{connector}' option '{option.Name}' is masked by SecretOptions: declare it secret");
        }
    }

    public string Connector { get; }

    /// <summary>The options in declaration order (the docs' table lists them so).</summary>
    public IReadOnlyList<ConnectorOption> Options { get; }

    /// <summary>The declared option <paramref name="key"/> belongs to, or null.</summary>
    public ConnectorOption? Find(string key) =>
        exact.GetValueOrDefault(key)
        ?? templates.FirstOrDefault(t => t.TryMatchTemplate(key, out _))
        ?? prefixes.Where(p => key.StartsWith(p.Name, StringComparison.Ordinal)).MaxBy(p => p.Name.Length);

    /// <summary>Every name a table may give, for the nearest-name hint: the exact options and the known members of families.</summary>
    private IEnumerable<string> KnownNames() =>
        Options.Where(o => o.Refusal is null && !o.IsTemplate)
            .SelectMany(o => o.Members is { } members ? members().Select(m => o.Name + m) : [o.DisplayName])
            .Append("connector");

    /// <summary>
    /// Checks every option of <paramref name="table"/> (<c>connector</c> itself aside) and parses each value; throws a
    /// <see cref="ConnectorOptionException"/> naming the table and the option at the first problem.
    /// </summary>
    public ConnectorOptions Validate(TableDef table) => Validate(table.Name, table.Options);

    public ConnectorOptions Validate(string table, IReadOnlyDictionary<string, string> options)
    {
        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        var prefixed = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        var perName = new Dictionary<string, Dictionary<string, object?>>(StringComparer.Ordinal);
        foreach (var (key, text) in options.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            if (key == "connector")
            {
                // The registry found this connector by the name (case-insensitively); a caller outside SQL may not have.
                if (!text.Equals(Connector, StringComparison.OrdinalIgnoreCase)) throw new ConnectorOptionException(table, key, $"expected '{Connector}', got '{text}'");
                continue;
            }
            var option = Find(key);
            if (option is null || option.Members is { } members && !members().Contains(key[option.Name.Length..], StringComparer.Ordinal))
                throw new ConnectorOptionException(table, key, Unknown(key));
            if (option.Refusal is { } refusal) throw new ConnectorOptionException(table, key, refusal);
            if (option.IsPrefix)
            {
                if (!prefixed.TryGetValue(option.Name, out var family)) prefixed[option.Name] = family = new(StringComparer.Ordinal);
                family[key[option.Name.Length..]] = text;
                continue;
            }
            if (option.OfFormat is { } of && options.GetValueOrDefault(of.Selector) is var picked
                && !of.Format.Equals(picked, StringComparison.OrdinalIgnoreCase))
            {
                throw new ConnectorOptionException(table, key,
                    $"an option of format '{of.Format}', but {(picked is null ? $"'{of.Selector}' is not set" : $"'{of.Selector}' is '{picked}'")}");
            }
            if (!option.TryParse(text, out var value, out var problem))
                throw new ConnectorOptionException(table, key, option.Secret ? $"expected {option.Expected}" : problem!);
            if (option.TryMatchTemplate(key, out var placeholder))
            {
                if (!perName.TryGetValue(option.Name, out var instances)) perName[option.Name] = instances = new(StringComparer.Ordinal);
                instances[placeholder] = value;
                continue;
            }
            values[option.Name] = value;
        }
        foreach (var option in Options)
        {
            if (option.Required && !values.ContainsKey(option.Name) && !prefixed.ContainsKey(option.Name))
                throw new ConnectorOptionException(table, option.DisplayName, $"missing: connector '{Connector}' requires it ({option.Description})");
        }
        return new ConnectorOptions(values, prefixed, perName);
    }

    /// <summary>
    /// Why <paramref name="key"/> is refused: the nearest declared name (a template option instantiated with the
    /// key's own placeholder, so that <c>fields.age.mni</c> meets <c>fields.age.min</c>), else the names there are.
    /// </summary>
    private string Unknown(string key)
    {
        var candidates = KnownNames().ToList();
        foreach (var t in templates)
        {
            var (head, _) = t.TemplateParts;
            int lastDot = key.LastIndexOf('.');
            if (key.StartsWith(head, StringComparison.Ordinal) && lastDot > head.Length) candidates.Add(t.KeyFor(key[head.Length..lastDot]));
        }
        string suggestion = SqlErrors.Suggest(key, candidates);
        return suggestion.Length > 0
            ? $"unknown option for connector '{Connector}'{suggestion}"
            : $"unknown option for connector '{Connector}'; its options are {string.Join(", ", Options.Where(o => o.Refusal is null).Select(o => o.DisplayName).Prepend("connector"))}";
    }

    /// <summary>The options with every value this schema or <see cref="SecretOptions"/> declares secret masked.</summary>
    public IReadOnlyDictionary<string, string> Redact(IReadOnlyDictionary<string, string> options) =>
        options.ToDictionary(o => o.Key, o => Find(o.Key) is { Secret: true } ? SecretOptions.Mask : SecretOptions.Redact(new Dictionary<string, string> { [o.Key] = o.Value })[o.Key],
            StringComparer.Ordinal);

    /// <summary>The options as a Markdown table (docs/CONNECTOR-OPTIONS.md is made of these).</summary>
    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.Append("| option | type | default | required | secret | description |\n|---|---|---|---|---|---|\n");
        foreach (var o in Options)
        {
            string description = o.OfFormat is { } of ? $"with '{of.Selector}' = '{of.Format}': {o.Description}" : o.Description;
            sb.Append($"| `{o.DisplayName}` | {o.TypeName} | {(o.DefaultText is { } d ? $"`{d}`" : "")} | {(o.Required ? "yes" : "")} | {(o.Secret ? "yes" : "")} | ")
                .Append(description.Replace("|", "\\|", StringComparison.Ordinal)).Append(" |\n");
        }
        return sb.ToString();
    }
}

/// <summary>
/// A table's options as its connector's schema read them: typed values, defaults for those not given. Values are
/// found by option name, so that connectors sharing declarations (kafka and upsert-kafka, one declaring an option
/// required that the other does not) read them through either declaration.
/// </summary>
public sealed class ConnectorOptions
{
    private readonly Dictionary<string, object?> values;
    private readonly Dictionary<string, Dictionary<string, string>> prefixed;
    private readonly Dictionary<string, Dictionary<string, object?>> perName;

    internal ConnectorOptions(Dictionary<string, object?> values, Dictionary<string, Dictionary<string, string>> prefixed,
        Dictionary<string, Dictionary<string, object?>> perName)
    {
        this.values = values;
        this.prefixed = prefixed;
        this.perName = perName;
    }

    /// <summary>Whether the table gives the option (a default does not count).</summary>
    public bool Has(ConnectorOption option) => values.ContainsKey(option.Name) || prefixed.ContainsKey(option.Name) || perName.ContainsKey(option.Name);

    /// <summary>A template option's values (<c>fields.&lt;name&gt;.kind</c>), by the value of the placeholder.</summary>
    public IReadOnlyDictionary<string, T> PerName<T>(ConnectorOption<T> template) =>
        perName.TryGetValue(template.Name, out var instances)
            ? instances.ToDictionary(i => i.Key, i => (T)i.Value!, StringComparer.Ordinal)
            : new Dictionary<string, T>();

    /// <summary>The placeholder values a template option is given for (the columns <c>fields.&lt;name&gt;.kind</c> names).</summary>
    public IReadOnlyCollection<string> PerNameKeys(ConnectorOption template) =>
        perName.TryGetValue(template.Name, out var instances) ? instances.Keys : [];

    /// <summary>The table's value, else the option's default (<c>default(T)</c> when it has none: ask <see cref="Has"/>).</summary>
    public T Get<T>(ConnectorOption<T> option) => values.TryGetValue(option.Name, out var v) ? (T)v! : option.Default;

    /// <summary>The table's value, or null when it gives none.</summary>
    public T? Find<T>(ConnectorOption<T> option) where T : struct => values.TryGetValue(option.Name, out var v) ? (T)v! : null;

    /// <summary>The table's value, or null when it gives none.</summary>
    public string? FindString(ConnectorOption<string> option) => values.TryGetValue(option.Name, out var v) ? (string?)v : null;

    /// <summary>A prefix option's family: each key without the prefix, with its value.</summary>
    public IReadOnlyDictionary<string, string> Family(ConnectorOption<string> prefix) =>
        prefixed.TryGetValue(prefix.Name, out var family) ? family : new Dictionary<string, string>();
}
