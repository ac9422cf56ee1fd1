using System.Reflection;
using System.Runtime.Loader;

namespace Eddy.Sql.Catalog;

/// <summary>
/// The user assemblies of one session (<c>ADD JAR</c>, <c>CREATE FUNCTION ... USING JAR</c>, <c>eddy run --udf</c>):
/// loaded into one collectible <see cref="AssemblyLoadContext"/> that the session's jobs share and that is unloaded
/// once they have ended (<see cref="Release"/>). A dependency of a user assembly resolves from beside it (its
/// <c>.deps.json</c>, through <see cref="AssemblyDependencyResolver"/>); an assembly the host already has — Eddy's
/// function contracts, the framework — always comes from the host, so that the types the planner compares agree.
/// </summary>
public sealed class UserCode
{
    private readonly List<UserJar> jars = [];
    private UserCodeLoadContext? context;
    private int holders = 1;

    /// <summary>The added jars, in order.</summary>
    public IReadOnlyList<UserJar> Jars => jars;

    /// <summary>The load context, once a jar was added (for tests of unloading: hold it weakly).</summary>
    public AssemblyLoadContext? LoadContext => context;

    /// <summary>
    /// Loads the assembly at <paramref name="path"/> (a no-op when that file was added before). Throws
    /// <see cref="ArgumentException"/> with a readable reason when the file is missing or no .NET assembly.
    /// </summary>
    public UserJar Add(string path)
    {
        string full = Path.GetFullPath(StripFileScheme(path));
        if (jars.FirstOrDefault(j => string.Equals(j.Path, full, StringComparison.Ordinal)) is { } known) return known;
        if (Directory.Exists(full)) throw new ArgumentException($"'{path}' is a folder; ADD JAR takes an assembly file (.dll)");
        if (!File.Exists(full)) throw new ArgumentException($"no assembly at '{full}'");
        if (holders == 0) throw new InvalidOperationException("the session's user code was released: its jobs have ended");
        AssemblyName name;
        try
        {
            name = AssemblyName.GetAssemblyName(full);
        }
        catch (BadImageFormatException)
        {
            throw new ArgumentException($"'{full}' is not a .NET assembly (Eddy loads .NET class libraries: build one as docs/UDF.md shows)");
        }
        context ??= new UserCodeLoadContext();
        var clash = jars.FirstOrDefault(j => AssemblyName.ReferenceMatchesDefinition(j.Assembly.GetName(), name) || j.Assembly.GetName().Name == name.Name);
        if (clash is not null)
            throw new ArgumentException($"an assembly named '{name.Name}' was already added from '{clash.Path}'; one session loads one assembly per name");
        if (UserCodeLoadContext.HostHas(name.Name!))
            throw new ArgumentException($"'{name.Name}' is an assembly of Eddy itself or of .NET; add the function library, not the host's assemblies");
        Assembly assembly;
        try
        {
            assembly = context.LoadJar(full);
        }
        catch (Exception e) when (e is BadImageFormatException or FileLoadException or FileNotFoundException)
        {
            throw new ArgumentException($"'{full}' could not be loaded: {e.Message}");
        }
        var jar = new UserJar(full, assembly);
        jars.Add(jar);
        return jar;
    }

    /// <summary>Removes a jar added before; false when it was not. The assembly stays loaded until the context is unloaded.</summary>
    public bool Remove(string path)
    {
        string full = Path.GetFullPath(StripFileScheme(path));
        return jars.RemoveAll(j => string.Equals(j.Path, full, StringComparison.Ordinal)) > 0;
    }

    /// <summary>The added jar a type comes from, or null (a host type).</summary>
    public UserJar? JarOf(Type type) => jars.FirstOrDefault(j => j.Assembly == type.Assembly);

    /// <summary>
    /// A class by full name: in <paramref name="only"/> when given (<c>USING JAR</c>), else in the added jars, else in
    /// the host's assemblies (never in another session's user code).
    /// </summary>
    public Type? FindType(string className, IReadOnlyList<UserJar>? only = null)
    {
        foreach (var jar in only ?? jars)
        {
            var t = jar.Assembly.GetType(className, throwOnError: false);
            if (t is not null) return t;
        }
        if (only is not null) return null;
        return FindHostType(className);
    }

    /// <summary>A class of the host's assemblies (never of a session's user code).</summary>
    public static Type? FindHostType(string className)
    {
        var hosted = Type.GetType(className, throwOnError: false);
        if (hosted is not null && !hosted.Assembly.IsCollectible) return hosted;
        foreach (var asm in AssemblyLoadContext.Default.Assemblies)
        {
            var t = asm.GetType(className, throwOnError: false);
            if (t is not null) return t;
        }
        return null;
    }

    /// <summary>Runs once the last holder has let go and the context is unloading (e.g. deletes uploaded files).</summary>
    public Action? Released { get; set; }

    /// <summary>
    /// Adds every assembly directly in <paramref name="folder"/> (a server's <c>--udf-dir</c>, as Flink's <c>lib/</c>),
    /// leaving out copies of assemblies the host has (a library's build output holds Eddy.Functions.dll).
    /// </summary>
    public void AddFolder(string folder)
    {
        foreach (var file in Directory.GetFiles(folder, "*.dll").Order(StringComparer.Ordinal))
        {
            string name;
            try
            {
                name = AssemblyName.GetAssemblyName(file).Name ?? "";
            }
            catch (BadImageFormatException)
            {
                continue;
            }
            if (UserCodeLoadContext.HostHas(name) || jars.Any(j => j.Assembly.GetName().Name == name)) continue;
            Add(file);
        }
    }

    /// <summary>One more job holds the user code (each job of the session retains it while it runs).</summary>
    public void Retain() => Interlocked.Increment(ref holders);

    /// <summary>
    /// One holder let go (a job ended, or the session that planned them is done); the last one unloads the context.
    /// Unloading completes when the garbage collector finds nothing referring to the user's types any more.
    /// </summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref holders) != 0) return;
        var c = context;
        context = null;
        jars.Clear();
        c?.Unload();
        Released?.Invoke();
    }

    private static string StripFileScheme(string path) =>
        path.StartsWith("file://", StringComparison.OrdinalIgnoreCase) ? new Uri(path).LocalPath : path;

    private sealed class UserCodeLoadContext() : AssemblyLoadContext("eddy-user-code", isCollectible: true)
    {
        private static readonly HashSet<string> HostAssemblies = ListHostAssemblies();
        private readonly List<AssemblyDependencyResolver> resolvers = [];

        public static bool HostHas(string name) =>
            HostAssemblies.Contains(name) || Default.Assemblies.Any(a => string.Equals(a.GetName().Name, name, StringComparison.OrdinalIgnoreCase));

        public Assembly LoadJar(string path)
        {
            var resolver = new AssemblyDependencyResolver(path);
            var assembly = LoadFromAssemblyPath(path);
            resolvers.Add(resolver);
            return assembly;
        }

        protected override Assembly? Load(AssemblyName name)
        {
            // The host's copy wins: a function library ships Eddy.Functions.dll beside it, but its types must be the host's.
            if (name.Name is { } simple && HostHas(simple)) return null;
            foreach (var resolver in resolvers)
            {
                if (resolver.ResolveAssemblyToPath(name) is { } path) return LoadFromAssemblyPath(path);
            }
            return null;
        }

        protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
        {
            foreach (var resolver in resolvers)
            {
                if (resolver.ResolveUnmanagedDllToPath(unmanagedDllName) is { } path) return LoadUnmanagedDllFromPath(path);
            }
            return IntPtr.Zero;
        }

        private static HashSet<string> ListHostAssemblies()
        {
            var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            if (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") is string tpa)
            {
                foreach (var file in tpa.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
                    names.Add(Path.GetFileNameWithoutExtension(file));
            }
            return names;
        }
    }
}

/// <summary>An added assembly: where it was read from and the loaded assembly.</summary>
public sealed record UserJar(string Path, Assembly Assembly);
