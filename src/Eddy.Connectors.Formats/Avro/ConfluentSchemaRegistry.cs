using Confluent.SchemaRegistry;

namespace Eddy.Connectors.Formats.Avro;

/// <summary>
/// The registry through Confluent's own client (Confluent.SchemaRegistry 2.16.0, which caches schemas by id and by
/// subject). Its calls are asynchronous; Eddy's decoders and encoders wait for them, which happens once per schema id
/// (reading) or once per writer (registering), not per message.
/// </summary>
internal sealed class ConfluentSchemaRegistry : ISchemaRegistry, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly CachedSchemaRegistryClient client;
    private readonly RegistrySettings settings;

    public ConfluentSchemaRegistry(RegistrySettings settings)
    {
        this.settings = settings;
        var config = new SchemaRegistryConfig { Url = settings.Urls, RequestTimeoutMs = (int)Timeout.TotalMilliseconds };
        if (settings.UserInfo is not null)
        {
            config.BasicAuthCredentialsSource = AuthCredentialsSource.UserInfo;
            config.BasicAuthUserInfo = settings.UserInfo;
        }
        if (settings.TrustedCertificate is not null) config.SslCaLocation = settings.TrustedCertificate;
        if (settings.KeystoreLocation is not null)
        {
            config.SslKeystoreLocation = settings.KeystoreLocation;
            config.SslKeystorePassword = settings.KeystorePassword;
        }
        // A static token as Java's provider sends it: the header alone. (The client's own StaticToken source also
        // requires Confluent Cloud's logical cluster and identity pool, which Flink's options do not have.)
        client = settings.BearerToken is { } token
            ? new CachedSchemaRegistryClient(config, new StaticBearerToken(token), null)
            : new CachedSchemaRegistryClient(config);
    }

    public string GetSchema(int id) => Call(() => client.GetSchemaAsync(id), $"fetching schema id {id}").SchemaString;

    public int Register(string subject, string schema) =>
        Call(() => client.RegisterSchemaAsync(subject, new global::Confluent.SchemaRegistry.Schema(schema, SchemaType.Avro)), $"registering the schema under subject '{subject}'");

    private T Call<T>(Func<Task<T>> call, string what)
    {
        try
        {
            var task = call();
            return task.Wait(Timeout + TimeSpan.FromSeconds(5)) ? task.Result
                : throw new SchemaRegistryCallException($"{what} at {settings}: no answer in {Timeout.TotalSeconds:0} s");
        }
        catch (AggregateException e) when (e.InnerException is not null)
        {
            throw new SchemaRegistryCallException($"{what} at {settings}: {Describe(e.InnerException)}", e.InnerException);
        }
        catch (Exception e) when (e is HttpRequestException or global::Confluent.SchemaRegistry.SchemaRegistryException or TaskCanceledException)
        {
            throw new SchemaRegistryCallException($"{what} at {settings}: {Describe(e)}", e);
        }
    }

    private string Describe(Exception e) => e switch
    {
        global::Confluent.SchemaRegistry.SchemaRegistryException { Status: System.Net.HttpStatusCode.Unauthorized or System.Net.HttpStatusCode.Forbidden } r =>
            $"the registry answered {(int)r.Status} ({r.ErrorCode}): {r.Message}; check '{settings.CredentialsOption}'",
        global::Confluent.SchemaRegistry.SchemaRegistryException r => $"the registry answered {(int)r.Status} ({r.ErrorCode}): {r.Message}",
        HttpRequestException h when h.Message.Contains("Unauthorized", StringComparison.Ordinal) => $"{h.Message}; check '{settings.CredentialsOption}'",
        HttpRequestException h when h.Message.Contains("SSL", StringComparison.Ordinal) || h.InnerException is System.Security.Authentication.AuthenticationException =>
            $"{h.Message}{(h.InnerException is { } inner ? $" ({inner.Message})" : "")}; the registry's certificate is not trusted: check '{settings.TrustOption}'",
        HttpRequestException h when h.InnerException is not null => $"{h.Message} ({h.InnerException.Message})",
        _ => e.Message,
    };

    /// <summary><c>Authorization: Bearer &lt;token&gt;</c> on every request.</summary>
    private sealed class StaticBearerToken(string token) : IAuthenticationHeaderValueProvider
    {
        public System.Net.Http.Headers.AuthenticationHeaderValue GetAuthenticationHeader() => new("Bearer", token);
    }

    public void Dispose() => client.Dispose();
}

/// <summary>The registry could not be reached or refused a call; the message names the call and the address (never the credentials).</summary>
public sealed class SchemaRegistryCallException(string message, Exception? inner = null) : Exception(message, inner);
