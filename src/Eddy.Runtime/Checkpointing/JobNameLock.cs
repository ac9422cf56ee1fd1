using System.Text;

namespace Eddy.Runtime;

/// <summary>A job name's checkpoint folder is in use by another live run.</summary>
public sealed class JobNameInUseException(string message) : InvalidOperationException(message);

/// <summary>
/// One live run owns a job's checkpoint folder: two runs of one name would write the same <c>chk-&lt;id&gt;</c> folders
/// (the second resumes from the first's checkpoint, then every checkpoint fails as "exists already") and the same
/// exactly-once sink progress. The ownership is an OS file lock (<see cref="FileShare.None"/>, an <c>flock</c> on
/// Linux) held open for the run: the kernel drops it when the process ends, even by SIGKILL, so a crash leaves
/// nothing stale. A small file beside it names the holder for the message the next run gets.
/// </summary>
public sealed class JobNameLock : IDisposable
{
    /// <summary>The lock file; <see cref="LocalCheckpointStorage"/> lists only <c>chk-*</c> folders, so it is invisible there.</summary>
    public const string LockFileName = ".eddy-job.lock";

    /// <summary>Who holds the lock (process, host, command or server), rewritten by each new holder.</summary>
    public const string HolderFileName = ".eddy-job.holder";

    private readonly FileStream handle;
    private int disposed;

    private JobNameLock(FileStream handle, string folder)
    {
        this.handle = handle;
        Folder = folder;
    }

    /// <summary>The checkpoint folder this lock owns.</summary>
    public string Folder { get; }

    /// <summary>
    /// Takes the lock of <paramref name="folder"/> for job <paramref name="jobName"/>, recording
    /// <paramref name="holder"/>; throws <see cref="JobNameInUseException"/> naming the current holder and how to run
    /// under another name when another live run holds it.
    /// </summary>
    public static JobNameLock Acquire(string folder, string jobName, string holder, bool folderIsSet = false)
    {
        folder = Path.GetFullPath(folder);
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, LockFileName);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException) when (File.Exists(path))
        {
            throw new JobNameInUseException(InUseMessage(folder, jobName, folderIsSet));
        }
        try
        {
            File.WriteAllText(Path.Combine(folder, HolderFileName), holder + "\n");
        }
        catch
        {
            stream.Dispose();
            throw;
        }
        return new JobNameLock(stream, folder);
    }

    /// <summary>The holder of <paramref name="folder"/>'s lock when a live run holds it, else null (the lock is not kept).</summary>
    public static string? HeldBy(string folder, string jobName, bool folderIsSet = false)
    {
        if (!File.Exists(Path.Combine(folder, LockFileName))) return null;
        try
        {
            using var probe = new FileStream(Path.Combine(folder, LockFileName), FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return null;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (IOException)
        {
            return InUseMessage(Path.GetFullPath(folder), jobName, folderIsSet);
        }
    }

    /// <summary>This process, as a holder: <c>eddy run job.sql (pid 123 on host)</c>.</summary>
    public static string ThisProcess(string? what = null)
    {
        var args = Environment.GetCommandLineArgs();
        string command = what ?? "eddy " + string.Join(' ', args.Skip(1).Select(a => a.Contains(' ') ? $"'{a}'" : a));
        return $"{command} (pid {Environment.ProcessId} on {Environment.MachineName})";
    }

    /// <summary>
    /// How to run beside the holder: another <c>pipeline.name</c> (the default folder follows the name), or another
    /// <c>execution.checkpointing.dir</c> when the script sets the folder (<paramref name="folderIsSet"/>).
    /// </summary>
    public static string RenameHint(string jobName, bool folderIsSet) => folderIsSet
        ? "run this one with its own checkpoint folder: SET 'execution.checkpointing.dir' = '...'; in the script "
            + $"(and SET 'pipeline.name' = '{jobName}-2';), or --set execution.checkpointing.dir=... when the script sets none"
        : $"run this one under another name: SET 'pipeline.name' = '{jobName}-2'; in the script, "
            + $"or --set pipeline.name={jobName}-2 when the script sets none";

    private static string InUseMessage(string folder, string jobName, bool folderIsSet)
    {
        string holder;
        try
        {
            holder = File.ReadAllText(Path.Combine(folder, HolderFileName)).Trim();
        }
        catch (IOException)
        {
            holder = "";
        }
        if (holder.Length == 0) holder = "another process";
        var sb = new StringBuilder();
        sb.Append($"job name '{jobName}' is in use: {holder} runs it and owns its checkpoints ({folder}). ");
        sb.Append("Stop that run, or ").Append(RenameHint(jobName, folderIsSet));
        return sb.ToString();
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0) return;
        handle.Dispose();
    }
}
