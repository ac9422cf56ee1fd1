using System.Reflection;
using System.Runtime.InteropServices;

namespace Eddy.Connectors.Kafka;

/// <summary>
/// Finds the OS's librdkafka for Confluent.Kafka and for Eddy's own calls (the mock cluster). The NuGet package that
/// normally ships it (librdkafka.redist) is not used, so without this a missing library surfaces as an obscure
/// DllNotFoundException deep inside the first Kafka call.
/// </summary>
public static class KafkaNative
{
    /// <summary>The name Eddy's own P/Invoke declarations use.</summary>
    internal const string Library = "librdkafka";

    private static readonly string[] Folders =
    [
        "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
        "/usr/lib", "/usr/local/lib", "/lib",
    ];

    private static readonly string[] FileNames = ["librdkafka.so.1", "librdkafka.so"];

    private static readonly Lock Gate = new();
    private static IntPtr handle;
    private static bool resolversSet;

    /// <summary>The paths tried, in order (the first that loads wins).</summary>
    public static IEnumerable<string> Candidates
    {
        get
        {
            string? overridePath = Environment.GetEnvironmentVariable("EDDY_LIBRDKAFKA");
            if (!string.IsNullOrEmpty(overridePath)) yield return overridePath;
            foreach (var folder in Folders)
                foreach (var file in FileNames)
                    yield return Path.Combine(folder, file);
            // Last: the loader's own search (LD_LIBRARY_PATH, ld.so.cache), for non-Debian layouts.
            foreach (var file in FileNames) yield return file;
        }
    }

    /// <summary>
    /// Loads librdkafka (once) and points every librdkafka import of Confluent.Kafka and of this assembly at it.
    /// Throws <see cref="DllNotFoundException"/> naming the package to install when it is absent.
    /// </summary>
    public static IntPtr EnsureLoaded()
    {
        lock (Gate)
        {
            if (handle == IntPtr.Zero)
            {
                handle = Load(Candidates, out var path);
                LoadedFrom = path;
            }
            if (!resolversSet)
            {
                // Confluent's imports are named "librdkafka" or platform variants of it ("centos7-librdkafka.so", ...):
                // all of them mean this one library.
                NativeLibrary.SetDllImportResolver(typeof(Confluent.Kafka.Library).Assembly, Resolve);
                NativeLibrary.SetDllImportResolver(typeof(KafkaNative).Assembly, Resolve);
                resolversSet = true;
            }
            return handle;
        }
    }

    /// <summary>The first of <paramref name="candidates"/> that loads.</summary>
    /// <exception cref="DllNotFoundException">None loads: the message names the package to install.</exception>
    internal static IntPtr Load(IEnumerable<string> candidates, out string path)
    {
        foreach (var candidate in candidates)
        {
            if (NativeLibrary.TryLoad(candidate, out var h))
            {
                path = candidate;
                return h;
            }
        }
        throw new DllNotFoundException(
            "Kafka needs the native library librdkafka, which was not found (looked for librdkafka.so.1 and librdkafka.so in "
            + string.Join(", ", Folders) + " and the loader's path). On Debian or Ubuntu: 'apt-get install librdkafka1' "
            + "(librdkafka-dev adds the librdkafka.so link); elsewhere set EDDY_LIBRDKAFKA to the library's path.");
    }

    /// <summary>Where librdkafka was loaded from, once loaded.</summary>
    public static string? LoadedFrom { get; private set; }

    /// <summary>librdkafka's version string (e.g. "2.0.2").</summary>
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
