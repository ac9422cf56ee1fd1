using Eddy.Runtime;

namespace Eddy.Sql;

/// <summary>How a SQL job starts: from its latest checkpoint, from a given savepoint, or afresh.</summary>
/// <param name="FallbackJobName">The job's stable name when the script sets no <c>pipeline.name</c> (the SQL file's name).</param>
/// <param name="Fresh">Delete the job's checkpoints and start over.</param>
/// <param name="SavepointPath">A savepoint or checkpoint folder to restore (<c>--from-savepoint</c>).</param>
/// <param name="AllowNonRestoredState">Skip state of operators the job no longer has.</param>
/// <param name="Diagnostics">Where warnings of the run go (a damaged checkpoint skipped, a restart).</param>
/// <param name="Holder">Who runs the job, as another run that finds the name taken is told (default: this process's command).</param>
public sealed record ResumeOptions(
    string FallbackJobName, bool Fresh = false, string? SavepointPath = null, bool AllowNonRestoredState = false,
    Action<string>? Diagnostics = null, string? Holder = null);

/// <summary>
/// Starts a job under its stable name (<c>pipeline.name</c>, else the SQL file's name) the one way <c>eddy run</c>,
/// <c>eddy run --ui</c> and the server all do: it resumes from the latest completed checkpoint of that name unless
/// told to start fresh (which deletes them) or given a savepoint.
/// </summary>
public static class ResumableStart
{
    /// <summary>
    /// Starts <paramref name="job"/>; <paramref name="startNote"/> says from where it started (for the user, before
    /// anything else). Throws <see cref="InvalidOperationException"/> or <see cref="ArgumentException"/> when the
    /// savepoint or checkpoint cannot be restored, <see cref="JobNameInUseException"/> when another live run owns the
    /// job's checkpoint folder. The folder's lock is released when the job ends.
    /// </summary>
    public static JobExecution Start(SqlJob job, ResumeOptions options, out string? startNote)
    {
        var execution = Start(job, options, out startNote, out var nameLock);
        if (nameLock is not null) execution.Completion.ContinueWith(_ => nameLock.Dispose(), TaskScheduler.Default);
        return execution;
    }

    /// <summary>
    /// As <see cref="Start(SqlJob, ResumeOptions, out string?)"/>, but the caller releases <paramref name="nameLock"/>
    /// (the ownership of the job's checkpoint folder, held while the job checkpoints) once the job has ended, before it
    /// tells anyone that the job ended.
    /// </summary>
    public static JobExecution Start(SqlJob job, ResumeOptions options, out string? startNote, out JobNameLock? nameLock)
    {
        if (options.Fresh && options.SavepointPath is not null)
            throw new ArgumentException("--fresh and --from-savepoint exclude each other (--fresh deletes the job's checkpoints)");
        var env = job.Environment.Configure(c => c with
        {
            JobName = c.JobName ?? options.FallbackJobName,
            ResumeFromLatestCheckpoint = !options.Fresh && options.SavepointPath is null && c.RestorePath is null,
            RestorePath = options.SavepointPath ?? c.RestorePath,
            AllowNonRestoredState = options.AllowNonRestoredState || c.AllowNonRestoredState,
            Diagnostics = options.Diagnostics ?? c.Diagnostics,
        });
        var config = env.Config;
        string folder = JobDataPaths.CheckpointFolder(config, config.JobName!);
        // Taken before --fresh deletes anything: another live run's checkpoints are not this run's to delete.
        nameLock = config.CheckpointingEnabled ? JobNameLock.Acquire(JobDataPaths.LockFolder(config, config.JobName!), config.JobName!,
            options.Holder ?? JobNameLock.ThisProcess(), folderIsSet: config.CheckpointDirectory is not null) : null;
        JobExecution execution;
        try
        {
            if (options.Fresh) CheckpointStorages.Open(folder, config.S3).Clear();
            execution = env.Start(job.Name);
        }
        catch
        {
            nameLock?.Dispose();
            nameLock = null;
            throw;
        }
        startNote = null;
        if (execution.RestoredFrom is { } from)
        {
            startNote = $"job '{config.JobName}' resumes from {(config.RestorePath is null ? "checkpoint" : "savepoint")} {from.Id} "
                + $"taken {from.Timestamp.ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z ({from.Path}; state of {from.Operators.Count} operators, "
                + $"{from.Size} bytes)" + (config.RestorePath is null ? "; --fresh starts over" : "");
        }
        else if (config.CheckpointingEnabled)
        {
            startNote = $"job '{config.JobName}' starts fresh; checkpoints every "
                + $"{config.CheckpointInterval!.Value.TotalSeconds:0.###} s go to {folder}";
        }
        return execution;
    }
}
