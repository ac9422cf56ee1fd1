using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Eddy.Connectors.Formats.Avro;
using Eddy.Sql;

namespace Eddy.Connectors.Formats.Tests.Avro;

/// <summary>
/// Flink's registry bearer auth and TLS options against the registry stand-in, which checks the bearer header and
/// serves HTTPS with a certificate made here (a CA and a server certificate it signed, System.Security.Cryptography).
/// The registry calls go through Confluent's own client (Confluent.SchemaRegistry 2.16.0).
/// </summary>
public sealed class RegistrySecurityTests : IDisposable
{
    private const string Schema = """{"type": "record", "name": "R", "fields": [{"name": "id", "type": "long"}]}""";
    private static readonly Column[] Columns = [new("id", DataType.BigInt)];

    private readonly string dir = Path.Combine(Path.GetTempPath(), "eddy-registry-tls-" + Guid.NewGuid().ToString("N"));

    public RegistrySecurityTests() => Directory.CreateDirectory(dir);

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static FormatContext Context(Dictionary<string, string> options) =>
        new("t", new Schema(Columns), [], name => options.GetValueOrDefault(name), _ => null);

    /// <summary>The record {id: 21} (zig-zag 42) in Confluent's wire format under <paramref name="id"/>.</summary>
    private static byte[] Message(int id)
    {
        var message = new byte[6];
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(1), id);
        message[5] = 42;
        return message;
    }

    private static object? Read(SchemaRegistryStandIn registry, int id, Dictionary<string, string> options) =>
        new AvroConfluentFormat().CreateDecoder(Context(new(options) { ["avro-confluent.url"] = registry.Url })).DecodeRow(Message(id))[0];

    [Fact]
    public void A_static_bearer_token_is_sent_and_a_wrong_one_is_an_error_naming_the_option_without_the_token()
    {
        Assert.True(SecretOptions.IsSecret("avro-confluent.bearer-auth.token"));
        Assert.True(SecretOptions.IsSecret("value.debezium-avro-confluent.bearer-auth.token"));
        using var registry = new SchemaRegistryStandIn(requiredBearerToken: "tok-123");
        int id = registry.Register("s-value", Schema);
        Assert.Equal(21L, Read(registry, id, new() { ["avro-confluent.bearer-auth.credentials-source"] = "STATIC_TOKEN", ["avro-confluent.bearer-auth.token"] = "tok-123" }));

        var wrong = Assert.Throws<FormatException>(() =>
            Read(registry, id, new() { ["avro-confluent.bearer-auth.credentials-source"] = "STATIC_TOKEN", ["avro-confluent.bearer-auth.token"] = "tok-999" }));
        Assert.Contains("401", wrong.Message);
        Assert.Contains("check 'avro-confluent.bearer-auth.token'", wrong.Message);
        Assert.DoesNotContain("tok-999", wrong.Message);
        var none = Assert.Throws<FormatException>(() => Read(registry, id, []));
        Assert.Contains("401", none.Message);
    }

    [Theory]
    [InlineData("avro-confluent.bearer-auth.token", "t", null, "'STATIC_TOKEN'")]
    [InlineData("avro-confluent.bearer-auth.credentials-source", "OAUTHBEARER", null, "not supported by Eddy")]
    [InlineData("avro-confluent.bearer-auth.credentials-source", "STATIC_TOKEN", null, "bearer-auth.token': required")]
    [InlineData("avro-confluent.bearer-auth.credentials-source", "STATIC_TOKEN", "avro-confluent.basic-auth.user-info", "not both")]
    [InlineData("avro-confluent.ssl.truststore.password", "changeit", null, "has no password")]
    [InlineData("avro-confluent.ssl.keystore.password", "changeit", null, "needs ssl.keystore.location")]
    public void Options_Eddy_cannot_honour_are_refused_naming_them(string option, string value, string? also, string expected)
    {
        var options = new Dictionary<string, string> { ["avro-confluent.url"] = "https://127.0.0.1:9", [option] = value };
        if (option.EndsWith("credentials-source", StringComparison.Ordinal) && also is not null) options["avro-confluent.bearer-auth.token"] = "t";
        if (also is not null) options[also] = "u:p";
        var e = Assert.Throws<FormatOptionException>(() => new AvroConfluentFormat().CreateDecoder(Context(options)));
        Assert.Contains(expected, $"{e.Option}': {e.Message}");
        Assert.DoesNotContain("changeit", e.Message);
    }

    /// <summary>
    /// A root CA, an intermediate CA it signed, and a certificate for 127.0.0.1 the intermediate signed (the server's,
    /// with its key). A .NET TLS server sends the leaf and the intermediate, not the self-signed root.
    /// </summary>
    private static (X509Certificate2 Root, X509Certificate2 Issuer, X509Certificate2 Server) Certificates(string name)
    {
        var now = DateTimeOffset.UtcNow;
        using var rootKey = RSA.Create(2048);
        var rootRequest = new CertificateRequest($"CN={name} root", rootKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        AddCaExtensions(rootRequest);
        using var root = rootRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));

        using var issuerKey = RSA.Create(2048);
        var issuerRequest = new CertificateRequest($"CN={name} issuer", issuerKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        AddCaExtensions(issuerRequest);
        using var issuerSigned = issuerRequest.Create(root, now.AddDays(-1), now.AddDays(1), [5, 6, 7, 8]);
        using var issuer = issuerSigned.CopyWithPrivateKey(issuerKey);

        using var serverKey = RSA.Create(2048);
        var serverRequest = new CertificateRequest("CN=127.0.0.1", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        serverRequest.CertificateExtensions.Add(san.Build());
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var signed = serverRequest.Create(issuer, now.AddDays(-1), now.AddDays(1), [1, 2, 3, 4]);
        using var withKey = signed.CopyWithPrivateKey(serverKey);
        // Through PKCS#12, so that the TLS stack can use the key.
        var server = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pfx), null);
        return (X509CertificateLoader.LoadCertificate(root.RawData), X509CertificateLoader.LoadCertificate(issuer.RawData), server);
    }

    private static void AddCaExtensions(CertificateRequest request)
    {
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
    }

    [Fact]
    public void Https_with_a_certificate_the_truststore_option_makes_trusted()
    {
        var (root, issuer, server) = Certificates("Eddy Test CA");
        var (_, otherIssuer, _) = Certificates("Another CA");
        string trusted = Path.Combine(dir, "ca.pem"), other = Path.Combine(dir, "other.crt"), garbage = Path.Combine(dir, "store.jks");
        // The certificate that issued the registry's, as Confluent.SchemaRegistry 2.16 checks it (the issuer in the chain the server sends).
        File.WriteAllText(trusted, issuer.ExportCertificatePem());
        File.WriteAllBytes(other, otherIssuer.RawData);
        File.WriteAllBytes(garbage, [0xFE, 0xED, 0xFE, 0xED, 0, 0, 0, 2]);
        using var registry = new SchemaRegistryStandIn(serverCertificate: server, chain: [issuer, root]);
        Assert.StartsWith("https://", registry.Url);
        int id = registry.Register("s-value", Schema);

        Assert.Equal(21L, Read(registry, id, new() { ["avro-confluent.ssl.truststore.location"] = trusted }));

        var untrusted = Assert.Throws<FormatException>(() => Read(registry, id, []));
        Assert.Contains("check 'avro-confluent.ssl.truststore.location'", untrusted.Message);
        var wrongCa = Assert.Throws<FormatException>(() => Read(registry, id, new() { ["avro-confluent.ssl.truststore.location"] = other }));
        Assert.Contains("not trusted", wrongCa.Message);

        var jks = Assert.Throws<FormatOptionException>(() => Read(registry, id, new() { ["avro-confluent.ssl.truststore.location"] = garbage }));
        Assert.Equal("avro-confluent.ssl.truststore.location", jks.Option);
        Assert.Contains("not a PEM or DER certificate", jks.Message);
        var plain = Assert.Throws<FormatOptionException>(() => new AvroConfluentFormat().CreateDecoder(Context(new()
        {
            ["avro-confluent.url"] = "http://127.0.0.1:9", ["avro-confluent.ssl.truststore.location"] = trusted,
        })));
        Assert.Contains("needs an https:// registry url", plain.Message);
    }

    [Fact]
    public void A_client_keystore_is_read_as_pkcs12_with_its_password_and_a_wrong_password_is_refused_without_echoing_it()
    {
        var (_, _, client) = Certificates("Client CA");
        string keystore = Path.Combine(dir, "client.p12");
        File.WriteAllBytes(keystore, client.Export(X509ContentType.Pfx, "right-pass"));
        var options = new Dictionary<string, string>
        {
            ["avro-confluent.url"] = "https://127.0.0.1:9", ["avro-confluent.ssl.keystore.location"] = keystore, ["avro-confluent.ssl.keystore.password"] = "right-pass",
        };
        new AvroConfluentFormat().CreateDecoder(Context(options));
        options["avro-confluent.ssl.keystore.password"] = "wrong-pass";
        var e = Assert.Throws<FormatOptionException>(() => new AvroConfluentFormat().CreateDecoder(Context(options)));
        Assert.Equal("avro-confluent.ssl.keystore.location", e.Option);
        Assert.Contains("PKCS#12", e.Message);
        Assert.DoesNotContain("wrong-pass", e.Message);
        Assert.True(SecretOptions.IsSecret("avro-confluent.ssl.keystore.password"));
    }
}
