using System.Text;

namespace Eddy.Connectors.Kafka;

/// <summary>
/// Translates Flink's <c>properties.*</c> (the Java Kafka client's names, prefix removed) into librdkafka's. Jobs
/// written for Flink name the Java client's settings; librdkafka spells some differently or has no equivalent, and
/// a setting silently dropped would connect without the security the job asked for, so anything not understood is
/// an error naming the property. Messages never contain property values: they may be secrets.
/// </summary>
public static class KafkaProperties
{
    /// <summary>Login modules of <c>sasl.jaas.config</c> whose options are a user name and a password.</summary>
    private static readonly string[] PasswordLoginModules =
    [
        "org.apache.kafka.common.security.plain.PlainLoginModule",
        "org.apache.kafka.common.security.scram.ScramLoginModule",
    ];

    /// <summary>The prefix Flink's SQL connector jar relocates the Kafka client under.</summary>
    private const string ShadedPrefix = "org.apache.flink.kafka.shaded.";

    /// <summary>Java-client properties librdkafka has no equivalent of, with what to do instead.</summary>
    private static readonly Dictionary<string, string> JavaOnly = new(StringComparer.Ordinal)
    {
        ["key.deserializer"] = "the table's 'key.format' decides how keys are read",
        ["value.deserializer"] = "the table's 'format' decides how values are read",
        ["key.serializer"] = "the table's 'key.format' decides how keys are written",
        ["value.serializer"] = "the table's 'format' decides how values are written",
        ["partitioner.class"] = "use the table's 'sink.partitioner'",
        ["interceptor.classes"] = "Java classes cannot run in Eddy",
        ["sasl.login.callback.handler.class"] = "Java classes cannot run in Eddy",
        ["sasl.client.callback.handler.class"] = "Java classes cannot run in Eddy",
        ["sasl.login.class"] = "Java classes cannot run in Eddy",
        ["ssl.truststore.location"] = "librdkafka reads CA certificates from a PEM file: use 'properties.ssl.ca.location'",
        ["ssl.truststore.password"] = "librdkafka reads CA certificates from a PEM file: use 'properties.ssl.ca.location'",
        ["ssl.truststore.type"] = "librdkafka reads CA certificates from a PEM file: use 'properties.ssl.ca.location'",
        ["ssl.truststore.certificates"] = "librdkafka reads CA certificates from a PEM file: use 'properties.ssl.ca.location'",
        ["ssl.keystore.type"] = "librdkafka's 'ssl.keystore.location' is always PKCS#12; or use 'properties.ssl.certificate.location' and 'properties.ssl.key.location' (PEM)",
        ["ssl.keystore.certificate.chain"] = "use 'properties.ssl.certificate.pem'",
        ["ssl.keystore.key"] = "use 'properties.ssl.key.pem'",
        ["ssl.protocol"] = "librdkafka negotiates the TLS version itself",
        ["ssl.enabled.protocols"] = "librdkafka negotiates the TLS version itself",
        ["ssl.keymanager.algorithm"] = "a Java security setting",
        ["ssl.trustmanager.algorithm"] = "a Java security setting",
        ["ssl.secure.random.implementation"] = "a Java security setting",
        ["ssl.provider"] = "a Java security setting",
        ["ssl.engine.factory.class"] = "Java classes cannot run in Eddy",
    };

    /// <summary>
    /// librdkafka's <c>ssl.*</c> properties; a Java <c>ssl.*</c> name outside this set and <see cref="JavaOnly"/>
    /// is refused too, because librdkafka would reject it only when the client is built, with a less helpful message.
    /// </summary>
    private static readonly HashSet<string> LibrdkafkaSsl = new(StringComparer.Ordinal)
    {
        "ssl.key.location", "ssl.key.password", "ssl.key.pem", "ssl.certificate.location", "ssl.certificate.pem",
        "ssl.ca.location", "ssl.ca.pem", "ssl.ca.certificate.stores", "ssl.crl.location", "ssl.keystore.location",
        "ssl.keystore.password", "ssl.providers", "ssl.engine.location", "ssl.engine.id", "ssl.cipher.suites",
        "ssl.curves.list", "ssl.sigalgs.list", "enable.ssl.certificate.verification", "ssl.endpoint.identification.algorithm",
    };

    private static readonly string[] Protocols = ["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"];

    private static readonly string[] Mechanisms = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "GSSAPI", "OAUTHBEARER"];

    /// <summary>
    /// librdkafka settings Eddy's consumers use unless the job names them (<c>'properties.&lt;name&gt;'</c> overrides):
    /// <c>enable.metrics.push</c> = false. librdkafka 2.5 and later sample the consumer's poll idle ratio for KIP-714
    /// client telemetry on every poll (Confluent.Kafka polls once per record) into a histogram kept only while metrics
    /// push is enabled; without the histogram the sample costs 94 instead of 150 instructions. Measured with callgrind
    /// on librdkafka 2.16 consuming from its mock cluster: 2,646 instructions per record in all threads by default,
    /// 2,595 with the push off (2.0.2, before telemetry: 2,428). Client metrics are a broker-side diagnosis feature
    /// (Kafka 3.7+, off unless the broker has a subscription); a job that wants them sets the property to true.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> ConsumerDefaults = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["enable.metrics.push"] = "false",
    };

    /// <summary><paramref name="properties"/> with <see cref="ConsumerDefaults"/> added where the job set no value.</summary>
    public static Dictionary<string, string> WithConsumerDefaults(IEnumerable<KeyValuePair<string, string>> properties)
    {
        var result = properties.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        foreach (var (key, value) in ConsumerDefaults) result.TryAdd(key, value);
        return result;
    }

    /// <summary>
    /// librdkafka properties for the Java-named ones (keys without <c>properties.</c>). Throws
    /// <see cref="ArgumentException"/> naming the property (as <c>properties.name</c>) for what cannot be translated.
    /// </summary>
    public static Dictionary<string, string> FromJava(IEnumerable<KeyValuePair<string, string>> properties)
    {
        ArgumentNullException.ThrowIfNull(properties);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in properties)
        {
            if (JavaOnly.TryGetValue(key, out var instead))
                throw new ArgumentException($"option 'properties.{key}': a Java Kafka client property librdkafka does not have; {instead}");
            switch (key)
            {
                case "security.protocol":
                    string protocol = value.Trim().ToLowerInvariant();
                    result[key] = Protocols.Contains(protocol) ? protocol
                        : throw new ArgumentException($"option 'properties.security.protocol': unknown protocol; one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL");
                    break;
                case "sasl.mechanism":
                case "sasl.mechanisms":
                    string mechanism = value.Trim().ToUpperInvariant();
                    result["sasl.mechanism"] = Mechanisms.Contains(mechanism) ? mechanism
                        : throw new ArgumentException($"option 'properties.{key}': unknown mechanism; one of {string.Join(", ", Mechanisms)}");
                    break;
                case "sasl.jaas.config":
                    var (user, password) = ParseJaas(value);
                    result["sasl.username"] = user;
                    result["sasl.password"] = password;
                    break;
                case "ssl.endpoint.identification.algorithm":
                    // Java turns host-name verification off with an empty value; librdkafka with 'none'.
                    string algorithm = value.Trim().ToLowerInvariant();
                    result[key] = algorithm switch
                    {
                        "" or "none" => "none",
                        "https" => "https",
                        _ => throw new ArgumentException("option 'properties.ssl.endpoint.identification.algorithm': one of '' (none), 'https'"),
                    };
                    break;
                default:
                    if (key.StartsWith("ssl.", StringComparison.Ordinal) && !LibrdkafkaSsl.Contains(key))
                        throw new ArgumentException($"option 'properties.{key}': librdkafka has no such SSL property; it has {string.Join(", ", LibrdkafkaSsl.Order(StringComparer.Ordinal))}");
                    // Same name in both clients (bootstrap.servers, client.id, acks, linger.ms, ...), or a
                    // librdkafka-only name; librdkafka checks it when the client is built.
                    result[key] = value;
                    break;
            }
        }
        if (result.ContainsKey("sasl.username") && !result.ContainsKey("sasl.mechanism"))
            // Java's default mechanism is GSSAPI, which takes no password; a user name and password mean PLAIN.
            result["sasl.mechanism"] = "PLAIN";
        return result;
    }

    /// <summary>
    /// The user name and password of a JAAS line <c>module.Class required username="u" password="p";</c>. Only the
    /// plain and SCRAM login modules are understood (their options map to librdkafka's sasl.username/password).
    /// </summary>
    internal static (string User, string Password) ParseJaas(string jaas)
    {
        const string Option = "option 'properties.sasl.jaas.config'";
        var text = jaas.AsSpan().Trim();
        int space = text.IndexOfAny(' ', '\t', '\n');
        if (space < 0) throw new ArgumentException($"{Option}: expected '<LoginModule class> required username=\"...\" password=\"...\";'");
        string module = text[..space].ToString();
        string bare = module.StartsWith(ShadedPrefix, StringComparison.Ordinal) ? module[ShadedPrefix.Length..] : module;
        if (!PasswordLoginModules.Contains(bare))
            throw new ArgumentException($"{Option}: login module '{module}' is not supported; Eddy understands PlainLoginModule and ScramLoginModule (also under '{ShadedPrefix}')");
        var rest = text[space..].TrimStart();
        if (!rest.StartsWith("required", StringComparison.Ordinal) || (rest.Length > 8 && !char.IsWhiteSpace(rest[8]) && rest[8] != ';'))
            throw new ArgumentException($"{Option}: expected the control flag 'required' after the login module");
        rest = rest[8..];

        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        int i = 0;
        while (true)
        {
            while (i < rest.Length && char.IsWhiteSpace(rest[i])) i++;
            if (i < rest.Length && rest[i] == ';')
            {
                i++;
                while (i < rest.Length && char.IsWhiteSpace(rest[i])) i++;
                if (i != rest.Length) throw new ArgumentException($"{Option}: text after the closing ';' (one login module only)");
                break;
            }
            if (i >= rest.Length) throw new ArgumentException($"{Option}: missing the closing ';'");
            int nameStart = i;
            while (i < rest.Length && (char.IsLetterOrDigit(rest[i]) || rest[i] is '_' or '.' or '-')) i++;
            string name = rest[nameStart..i].ToString();
            if (name.Length == 0 || i >= rest.Length || rest[i] != '=')
                throw new ArgumentException($"{Option}: expected name=\"value\" at character {nameStart + 1} after 'required'");
            i++;
            var value = new StringBuilder();
            if (i < rest.Length && rest[i] == '"')
            {
                i++;
                bool closed = false;
                for (; i < rest.Length; i++)
                {
                    char c = rest[i];
                    if (c == '\\' && i + 1 < rest.Length) value.Append(rest[++i]);
                    else if (c == '"')
                    {
                        closed = true;
                        i++;
                        break;
                    }
                    else value.Append(c);
                }
                // The value itself stays out of the message: it may be the password.
                if (!closed) throw new ArgumentException($"{Option}: the quoted value of '{name}' is not closed");
            }
            else
            {
                while (i < rest.Length && !char.IsWhiteSpace(rest[i]) && rest[i] != ';') value.Append(rest[i++]);
            }
            options[name] = value.ToString();
        }
        if (!options.TryGetValue("username", out var user) || user.Length == 0)
            throw new ArgumentException($"{Option}: needs username=\"...\"");
        if (!options.TryGetValue("password", out var password))
            throw new ArgumentException($"{Option}: needs password=\"...\"");
        var unknown = options.Keys.Where(k => k is not "username" and not "password").ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"{Option}: unsupported login option(s) {string.Join(", ", unknown)}; librdkafka takes only username and password");
        return (user, password);
    }
}
