using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Eddy.Connectors.Formats.Avro;

/// <summary>
/// Flink's schema registry options of <c>avro-confluent</c> and <c>debezium-avro-confluent</c>, read into what
/// Confluent.SchemaRegistry 2.16's .NET client can take:
/// <list type="bullet">
/// <item><c>url</c> (several separated by ','); <c>basic-auth.credentials-source</c> USER_INFO or URL with
/// <c>basic-auth.user-info</c>.</item>
/// <item><c>bearer-auth.credentials-source</c> = STATIC_TOKEN with <c>bearer-auth.token</c>: sent as
/// <c>Authorization: Bearer &lt;token&gt;</c>, as Java's static token provider sends it. OAUTHBEARER,
/// SASL_OAUTHBEARER_INHERIT and CUSTOM are refused; a token without a credentials source is refused too (Flink's
/// registry client would not send it).</item>
/// <item><c>ssl.truststore.location</c>: a PEM or DER file of the one CA certificate that signed the registry's
/// certificate (the client's <c>ssl.ca.location</c>: it trusts exactly one issuer); JKS and PKCS#12 truststores, and so
/// <c>ssl.truststore.password</c>, are refused. <c>ssl.keystore.location</c> / <c>ssl.keystore.password</c>: a
/// PKCS#12 keystore with the client's certificate and key (JKS refused).</item>
/// </list>
/// Every refusal names the option; passwords and tokens are never part of a message.
/// </summary>
internal static class RegistryOptionsReader
{
    public static RegistrySettings Read(FormatContext context, string prefix)
    {
        string Name(string option) => prefix + "." + option;
        string? Get(string option) => context.Option(Name(option));
        FormatOptionException Error(string option, string problem) => new(context.OptionKey(Name(option)), problem);

        foreach (var refused in AvroConfluentFormat.Refused)
        {
            if (Get(refused) is not null)
                throw Error(refused, $"not supported by Eddy's {prefix} (the table's columns give the schema; registry client properties are not passed on)");
        }
        string url = Get("url") is { Length: > 0 } u ? u : throw Error("url", "required");
        var urls = url.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var one in urls)
        {
            if (!Uri.TryCreate(one, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https"))
                throw Error("url", "expected http(s)://host:port (several separated by ',')");
        }

        string? userInfo = Get("basic-auth.user-info");
        string? basicSource = Get("basic-auth.credentials-source");
        switch (basicSource?.ToUpperInvariant())
        {
            case null when userInfo is null:
                break;
            case null or "USER_INFO":
                if (userInfo is null) throw Error("basic-auth.user-info", "required with basic-auth credentials source USER_INFO");
                if (!userInfo.Contains(':', StringComparison.Ordinal)) throw Error("basic-auth.user-info", "expected 'user:password'");
                break;
            case "URL":
                if (userInfo is not null) throw Error("basic-auth.user-info", "not used with credentials source URL (the user and password are in the URL)");
                var first = new Uri(urls[0]);
                if (string.IsNullOrEmpty(first.UserInfo)) throw Error("url", "credentials source URL needs http(s)://user:password@host:port");
                userInfo = Uri.UnescapeDataString(first.UserInfo);
                break;
            default:
                throw Error("basic-auth.credentials-source", $"'{basicSource}' is not supported; one of USER_INFO, URL");
        }

        string? token = Get("bearer-auth.token");
        string? bearerSource = Get("bearer-auth.credentials-source");
        switch (bearerSource?.ToUpperInvariant())
        {
            case null:
                if (token is not null)
                    throw Error("bearer-auth.token", $"needs '{context.OptionKey(Name("bearer-auth.credentials-source"))}' = 'STATIC_TOKEN' (without it Flink's registry client does not send the token)");
                break;
            case "STATIC_TOKEN":
                if (string.IsNullOrEmpty(token)) throw Error("bearer-auth.token", "required with bearer-auth credentials source STATIC_TOKEN");
                break;
            case "OAUTHBEARER" or "SASL_OAUTHBEARER_INHERIT" or "CUSTOM":
                throw Error("bearer-auth.credentials-source", $"'{bearerSource}' is not supported by Eddy (a token endpoint, the Kafka client's SASL login or a Java class); STATIC_TOKEN is");
            default:
                throw Error("bearer-auth.credentials-source", $"'{bearerSource}' is not supported; STATIC_TOKEN is");
        }
        if (token is not null && userInfo is not null)
            throw Error("bearer-auth.credentials-source", "set basic auth or bearer auth, not both");

        bool https = urls.All(one => one.StartsWith("https:", StringComparison.OrdinalIgnoreCase));
        string? truststore = Get("ssl.truststore.location");
        string? keystore = Get("ssl.keystore.location");
        string? keystorePassword = Get("ssl.keystore.password");
        if ((truststore ?? keystore) is not null && !https)
            throw Error(truststore is not null ? "ssl.truststore.location" : "ssl.keystore.location", "needs an https:// registry url");
        if (Get("ssl.truststore.password") is not null)
            throw Error("ssl.truststore.password", "not used: Eddy's truststore is a PEM or DER CA certificate, which has no password (Confluent's .NET client takes one CA certificate, not a JKS or PKCS#12 truststore)");
        if (truststore is not null) CheckCertificate(truststore, problem => Error("ssl.truststore.location", problem));
        if (keystorePassword is not null && keystore is null) throw Error("ssl.keystore.password", "needs ssl.keystore.location");
        if (keystore is not null) CheckKeystore(keystore, keystorePassword, problem => Error("ssl.keystore.location", problem));

        // The credentials travel in the Authorization header, never in the address.
        var plain = urls.Select(one => new UriBuilder(one) { UserName = "", Password = "" }.Uri.ToString().TrimEnd('/'));
        return new RegistrySettings(string.Join(",", plain), userInfo)
        {
            BearerToken = token,
            TrustedCertificate = truststore,
            KeystoreLocation = keystore,
            KeystorePassword = keystorePassword,
            CredentialsOption = context.OptionKey(Name(token is not null ? "bearer-auth.token" : "basic-auth.user-info")),
            TrustOption = context.OptionKey(Name("ssl.truststore.location")),
        };
    }

    /// <summary>One CA certificate, PEM or DER, as Confluent's client loads <c>ssl.ca.location</c>.</summary>
    private static void CheckCertificate(string path, Func<string, FormatOptionException> error)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw error($"cannot read '{path}': {e.Message}");
        }
        string text = System.Text.Encoding.ASCII.GetString(bytes);
        int pem = CountOf(text, "-----BEGIN CERTIFICATE-----");
        if (pem > 1) throw error($"'{path}' holds {pem} certificates; Confluent's .NET client trusts the one CA certificate that signed the registry's");
        try
        {
            using var certificate = pem == 1 ? X509Certificate2.CreateFromPem(text) : X509CertificateLoader.LoadCertificate(bytes);
        }
        catch (CryptographicException)
        {
            throw error($"'{path}' is not a PEM or DER certificate (a JKS or PKCS#12 truststore cannot be given to Confluent's .NET client: export its CA certificate, e.g. keytool -exportcert -rfc)");
        }
    }

    private static void CheckKeystore(string path, string? password, Func<string, FormatOptionException> error)
    {
        if (!File.Exists(path)) throw error($"no file '{path}'");
        try
        {
            using var certificate = X509CertificateLoader.LoadPkcs12FromFile(path, password);
            if (!certificate.HasPrivateKey) throw error($"'{path}' holds no private key");
        }
        catch (CryptographicException)
        {
            throw error($"'{path}' cannot be read as a PKCS#12 keystore with the given ssl.keystore.password (JKS keystores are not read by Confluent's .NET client)");
        }
    }

    private static int CountOf(string text, string word)
    {
        int count = 0;
        for (int at = text.IndexOf(word, StringComparison.Ordinal); at >= 0; at = text.IndexOf(word, at + word.Length, StringComparison.Ordinal)) count++;
        return count;
    }
}
