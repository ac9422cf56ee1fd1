using System.Reflection;
using System.Runtime.InteropServices;

namespace Eddy.Connectors.Kafka;

/// <summary>
/// The one place that decides which librdkafka Confluent.Kafka and Eddy's own calls (the mock cluster) use: the build
/// that the librdkafka.redist package puts beside Eddy. Without it, Confluent's own loader tries the package's generic
/// <c>librdkafka.so</c>, which needs <c>libsasl2.so.3</c> (absent on Debian 12), and then silently takes whatever
/// librdkafka the operating system has (Debian 12: 2.0.2, older than the client expects). Every import whose name
/// mentions rdkafka, in Confluent.Kafka and in this assembly, resolves to the one handle loaded here, so the mock
/// cluster's P/Invokes and the client always share a library.
/// </summary>
public static class KafkaNative
{
    /// <summary>The name Eddy's own P/Invoke declarations use.</summary>
    internal const string Library = "librdkafka";

    /// <summary>Environment variable naming a librdkafka to load instead of the bundled one.</summary>
    public const string OverrideVariable = "EDDY_LIBRDKAFKA";

    private static readonly Lock Gate = new();
    private static IntPtr handle;
    private static bool resolversSet;

    /// <summary>
    /// The bundled builds for this platform in the order tried. On glibc Linux x64 the package's generic build comes
    /// first (it links the system's Cyrus SASL, so it loads only where <c>libsasl2.so.3</c> exists, and then offers
    /// Kerberos); the CentOS 8 build needs nothing beyond glibc and is the one that loads on Debian 12.
    /// </summary>
    internal static IReadOnlyList<string> BundledFileNames()
    {
        if (OperatingSystem.IsWindows()) return ["librdkafka.dll"];
        if (OperatingSystem.IsMacOS()) return ["librdkafka.dylib"];
        if (RuntimeInformation.RuntimeIdentifier.Contains("musl", StringComparison.Ordinal)) return ["alpine-librdkafka.so"];
        return RuntimeInformation.ProcessArchitecture == Architecture.X64
            ? ["librdkafka.so", "centos8-librdkafka.so"]
            : ["librdkafka.so"];
    }

    /// <summary>The package's runtime identifier folder for this process (runtimes/&lt;rid&gt;/native).</summary>
    internal static string PackageRid()
    {
        string os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        string arch = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => "x64",
            Architecture.X86 => "x86",
            Architecture.Arm64 => "arm64",
            Architecture.S390x => "s390x",
            var other => other.ToString().ToLowerInvariant(),
        };
        return os + "-" + arch;
    }

    /// <summary>
    /// The paths tried, in order (the first that loads wins): <see cref="OverrideVariable"/> when set, else the bundled
    /// builds in the portable layout (<c>runtimes/&lt;rid&gt;/native/</c> beside the assembly) and in the flat layout
    /// of a runtime-specific publish (beside the executable).
    /// </summary>
    public static IEnumerable<string> Candidates
    {
        get
        {
            string? overridePath = Environment.GetEnvironmentVariable(OverrideVariable);
            if (!string.IsNullOrEmpty(overridePath))
            {
                yield return overridePath;
                yield break;
            }
            var folders = new List<string>();
            foreach (var baseDir in new[] { Path.GetDirectoryName(typeof(KafkaNative).Assembly.Location), AppContext.BaseDirectory })
            {
                if (string.IsNullOrEmpty(baseDir)) continue;
                foreach (var folder in new[] { Path.Combine(baseDir, "runtimes", PackageRid(), "native"), baseDir })
                {
                    string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
                    if (!folders.Contains(full)) folders.Add(full);
                }
            }
            foreach (var file in BundledFileNames())
                foreach (var folder in folders)
                    yield return Path.Combine(folder, file);
        }
    }

    /// <summary>
    /// Loads librdkafka (once) and points every librdkafka import of Confluent.Kafka and of this assembly at it.
    /// Throws <see cref="DllNotFoundException"/> listing what was tried and why each failed.
    /// </summary>
    public static IntPtr EnsureLoaded()
    {
        lock (Gate)
        {
            if (handle == IntPtr.Zero)
            {
                handle = Load(Candidates, out var path, out var skipped);
                LoadedFrom = path;
                Skipped = skipped;
            }
            if (!resolversSet)
            {
                // Confluent's imports are named "librdkafka" or platform variants of it ("centos8-librdkafka.so", ...):
                // all of them mean this one library.
                NativeLibrary.SetDllImportResolver(typeof(Confluent.Kafka.Library).Assembly, Resolve);
                NativeLibrary.SetDllImportResolver(typeof(KafkaNative).Assembly, Resolve);
                resolversSet = true;
            }
            return handle;
        }
    }

    /// <summary>The first of <paramref name="candidates"/> that loads; <paramref name="skipped"/> says why earlier ones did not.</summary>
    /// <exception cref="DllNotFoundException">None loads: the message lists each path with the loader's reason.</exception>
    internal static IntPtr Load(IEnumerable<string> candidates, out string path, out IReadOnlyList<string> skipped)
    {
        var reasons = new List<string>();
        foreach (var candidate in candidates)
        {
            if (!File.Exists(candidate))
            {
                reasons.Add(candidate + ": no such file");
                continue;
            }
            try
            {
                var h = NativeLibrary.Load(candidate);
                path = candidate;
                skipped = reasons;
                return h;
            }
            catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
            {
                reasons.Add(candidate + ": " + LoaderReason(e.Message));
            }
        }
        throw new DllNotFoundException(
            "Kafka needs the native library librdkafka, which ships with Eddy (NuGet package librdkafka.redist, folder "
            + $"runtimes/{PackageRid()}/native) but did not load: " + string.Join("; ", reasons)
            + $". Rebuild or republish Eddy, or set {OverrideVariable} to the path of a librdkafka 2.x library.");
    }

    /// <summary>The dynamic loader's own words (.NET puts them on the message's last line, after generic advice).</summary>
    private static string LoaderReason(string message)
    {
        var lines = message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? message : lines[^1];
    }

    /// <summary>Where librdkafka was loaded from, once loaded.</summary>
    public static string? LoadedFrom { get; private set; }

    /// <summary>Candidates tried before <see cref="LoadedFrom"/>, each with the loader's reason.</summary>
    public static IReadOnlyList<string> Skipped { get; private set; } = [];

    /// <summary>librdkafka's version string (e.g. "2.16.0").</summary>
    public static string Version
    {
        get
        {
            EnsureLoaded();
            return Marshal.PtrToStringUTF8(Native.rd_kafka_version_str()) ?? "?";
        }
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        libraryName.Contains("rdkafka", StringComparison.Ordinal) ? handle : IntPtr.Zero;
}
