using System.Text;

namespace Eddy.Runtime;

/// <summary>
/// How to reach an S3-compatible object store for <c>execution.checkpointing.dir = 's3://bucket/prefix'</c>, under
/// Flink's option names (its S3 file systems read <c>s3.*</c> and pass them to Hadoop's <c>fs.s3a.*</c>). Without
/// keys the AWS SDK's default chain is used (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, the shared credentials file,
/// a pod's web identity); without an endpoint, AWS itself in the region of <see cref="Region"/> or AWS_REGION.
/// </summary>
public sealed record S3Settings
{
    public const string EndpointOption = "s3.endpoint";
    public const string AccessKeyOption = "s3.access-key";
    public const string SecretKeyOption = "s3.secret-key";
    public const string PathStyleAccessOption = "s3.path.style.access";
    public const string RegionOption = "s3.endpoint.region";

    /// <summary>Every option this record reads, for the SQL session's list of known options.</summary>
    public static readonly string[] OptionNames = [EndpointOption, AccessKeyOption, SecretKeyOption, PathStyleAccessOption, RegionOption];

    /// <summary><c>s3.endpoint</c>: the store's URL (<c>http://minio:9000</c>); null for AWS.</summary>
    public string? Endpoint { get; init; }

    /// <summary><c>s3.access-key</c>.</summary>
    public string? AccessKey { get; init; }

    /// <summary><c>s3.secret-key</c> (never shown: <see cref="ToString"/> masks it).</summary>
    public string? SecretKey { get; init; }

    /// <summary><c>s3.path.style.access</c>: <c>http://host/bucket/key</c> instead of <c>http://bucket.host/key</c> (MinIO, most stand-ins).</summary>
    public bool PathStyleAccess { get; init; }

    /// <summary><c>s3.endpoint.region</c>: the region requests are signed for (default us-east-1 with an endpoint).</summary>
    public string? Region { get; init; }

    /// <summary>
    /// The settings named by <paramref name="options"/> (null when none is set); throws <see cref="FormatException"/>
    /// naming the option when a value is malformed.
    /// </summary>
    public static S3Settings? FromOptions(IReadOnlyDictionary<string, string> options)
    {
        if (!OptionNames.Any(options.ContainsKey)) return null;
        var s = new S3Settings();
        if (options.TryGetValue(EndpointOption, out var endpoint)) s = s with { Endpoint = ValidateEndpoint(endpoint) };
        if (options.TryGetValue(AccessKeyOption, out var access)) s = s with { AccessKey = access };
        if (options.TryGetValue(SecretKeyOption, out var secret)) s = s with { SecretKey = secret };
        if (options.TryGetValue(PathStyleAccessOption, out var path)) s = s with { PathStyleAccess = ParseBool(PathStyleAccessOption, path) };
        if (options.TryGetValue(RegionOption, out var region))
        {
            if (string.IsNullOrWhiteSpace(region)) throw new FormatException($"'{RegionOption}' names a region such as 'us-east-1', got ''");
            s = s with { Region = region.Trim() };
        }
        return s;
    }

    /// <summary>Checks one option's value as <c>SET</c> does; throws <see cref="FormatException"/> naming it.</summary>
    public static void Validate(string key, string value)
    {
        switch (key)
        {
            case EndpointOption:
                ValidateEndpoint(value);
                break;
            case PathStyleAccessOption:
                ParseBool(key, value);
                break;
            case RegionOption when string.IsNullOrWhiteSpace(value):
                throw new FormatException($"'{RegionOption}' names a region such as 'us-east-1', got ''");
        }
    }

    private static string ValidateEndpoint(string value)
    {
        if (!Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
            throw new FormatException($"'{EndpointOption}' is the store's URL such as 'http://127.0.0.1:9000', got '{SecretOptionsText.RedactUserInfo(value)}'");
        return value.Trim();
    }

    private static bool ParseBool(string key, string value) =>
        bool.TryParse(value, out bool b) ? b : throw new FormatException($"'{key}' is 'true' or 'false', got '{value}'");

    /// <summary>The settings as shown anywhere (logs, errors): the keys masked.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder("S3Settings { ");
        sb.Append("Endpoint = ").Append(Endpoint is null ? "(AWS)" : SecretOptionsText.RedactUserInfo(Endpoint));
        sb.Append(", AccessKey = ").Append(AccessKey is null ? "(default chain)" : SecretOptionsText.Mask);
        sb.Append(", SecretKey = ").Append(SecretKey is null ? "(default chain)" : SecretOptionsText.Mask);
        sb.Append(", PathStyleAccess = ").Append(PathStyleAccess ? "true" : "false");
        sb.Append(", Region = ").Append(Region ?? "(default)").Append(" }");
        return sb.ToString();
    }
}

/// <summary>The runtime's own masking of what it prints about a store (the SQL layer's <c>SecretOptions</c> covers options).</summary>
internal static class SecretOptionsText
{
    public const string Mask = "******";

    /// <summary><c>http://user:pass@host</c> → <c>http://user:******@host</c>.</summary>
    public static string RedactUserInfo(string url)
    {
        int scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0) return url;
        int at = url.IndexOf('@', scheme + 3);
        int slash = url.IndexOf('/', scheme + 3);
        if (at < 0 || (slash >= 0 && slash < at)) return url;
        int colon = url.IndexOf(':', scheme + 3);
        return colon >= 0 && colon < at ? url[..(colon + 1)] + Mask + url[at..] : url;
    }
}
