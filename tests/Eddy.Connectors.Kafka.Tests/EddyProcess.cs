using System.Diagnostics;

namespace Eddy.Connectors.Kafka.Tests;

/// <summary>Runs the built <c>eddy</c> CLI as a separate process, as a user does.</summary>
internal static class EddyProcess
{
    /// <summary>The built CLI's entry assembly (run with <c>dotnet</c>).</summary>
    public static string DllPath => EddyDll();

    private static string EddyDll()
    {
        // tests/Eddy.Connectors.Kafka.Tests/bin/<Configuration>/net10.0 → src/Eddy.Cli/bin/<Configuration>/net10.0
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        string tfm = here.Name, config = here.Parent!.Name;
        var root = here.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        return Path.Combine(root, "src", "Eddy.Cli", "bin", config, tfm, "eddy.dll");
    }

    public static Process Start(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(EddyDll());
        foreach (var a in args) info.ArgumentList.Add(a);
        return Process.Start(info)!;
    }
}
