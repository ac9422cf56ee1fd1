using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Eddy.Runtime;

/// <summary>
/// Checkpoints in an S3-compatible object store, in the layout of <see cref="LocalCheckpointStorage"/> with keys for
/// files: <c>&lt;prefix&gt;/chk-&lt;id&gt;/op-&lt;o&gt;-&lt;s&gt;.state</c> and <c>&lt;prefix&gt;/chk-&lt;id&gt;/_metadata</c>, byte for
/// byte the same files (a checkpoint copied out of the bucket into a folder loads as a local one).
/// <para>
/// Completion is atomic because the metadata object is written last and only a <c>chk-&lt;id&gt;/</c> with a
/// <c>_metadata</c> counts as a checkpoint (an object store has no rename; a single PUT is all or nothing). State
/// objects without metadata are an incomplete checkpoint: never listed, never restored, removed at start. Deleting
/// removes the metadata first for the same reason. The metadata records every state object's size and SHA-256, so a
/// mix of two writers' objects under one id fails validation and is skipped like a damaged checkpoint.
/// </para>
/// <para>
/// A checkpoint is written into a temporary local folder with the local storage's code (the same streaming and
/// hashing) and then uploaded; loading downloads into a temporary folder and validates there. A transport failure is
/// a <see cref="CheckpointStorageException"/>, never an <see cref="IOException"/>: a store that cannot be read is not
/// a damaged checkpoint, and falling back to an older one would be wrong.
/// </para>
/// </summary>
internal sealed class S3CheckpointStorage : ICheckpointStorage
{
    private const string MetadataName = "_metadata";
    private readonly S3Location location;
    private readonly S3Settings settings;
    private readonly AmazonS3Client client;

    public S3CheckpointStorage(S3Location location, S3Settings settings)
    {
        this.location = location;
        this.settings = settings;
        client = CreateClient(settings);
    }

    /// <summary>State objects from this size on are uploaded in parts (a single PUT is limited to 5 GB).</summary>
    internal long MultipartThreshold { get; init; } = 64L << 20;

    /// <summary>The size of one part of a multipart upload (S3 allows at most 10,000 parts).</summary>
    internal long PartSize { get; init; } = 64L << 20;

    /// <summary>Keys per listing request (S3 returns at most 1,000).</summary>
    internal int ListPageSize { get; init; } = 1000;

    public string Location => location.ToString();

    private string Endpoint => settings.Endpoint is null ? "AWS S3" : SecretOptionsText.RedactUserInfo(settings.Endpoint);

    private static AmazonS3Client CreateClient(S3Settings s)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = s.PathStyleAccess,
            // Checksums only where S3 requires them: the SDK's default trailing CRC (aws-chunked bodies) is not
            // understood by every S3-compatible store, and every file carries its own SHA-256 anyway.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            MaxErrorRetry = 3,
        };
        if (s.Endpoint is not null)
        {
            config.ServiceURL = s.Endpoint;
            config.AuthenticationRegion = s.Region ?? "us-east-1";
        }
        else if (s.Region is not null)
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(s.Region);
        }
        else if (Environment.GetEnvironmentVariable("AWS_REGION") is null && Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION") is null)
        {
            config.RegionEndpoint = RegionEndpoint.USEast1;
        }
        if (s.AccessKey is not null && s.SecretKey is not null) return new AmazonS3Client(new BasicAWSCredentials(s.AccessKey, s.SecretKey), config);
        if (s.AccessKey is not null || s.SecretKey is not null)
        {
            string missing = s.AccessKey is null ? S3Settings.AccessKeyOption : S3Settings.SecretKeyOption;
            throw new CheckpointStorageException($"'{missing}' is not set: '{S3Settings.AccessKeyOption}' and "
                + $"'{S3Settings.SecretKeyOption}' go together (or set neither to use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)", missing);
        }
        return new AmazonS3Client(config);
    }

    /// <summary>One cheap request that fails with the reason when the store, the bucket or the credentials are wrong.</summary>
    public void Probe() => Run(() => client.ListObjectsV2Async(new ListObjectsV2Request
    {
        BucketName = location.Bucket,
        Prefix = location.Key(""),
        MaxKeys = 1,
    }), "listing");

    public static string FolderName(long id) => LocalCheckpointStorage.FolderName(id);

    public IReadOnlyList<long> List()
    {
        var ids = new List<long>();
        foreach (var key in Keys(location.Key("chk-")))
            if (Parse(key) is ({ } id, MetadataName)) ids.Add(id);
        ids.Sort();
        return ids;
    }

    public long HighestId()
    {
        long max = 0;
        foreach (var key in Keys(location.Key("chk-")))
            if (Parse(key) is ({ } id, _)) max = Math.Max(max, id);
        return max;
    }

    public void RemoveIncomplete()
    {
        var byId = new Dictionary<long, List<string>>();
        var complete = new HashSet<long>();
        foreach (var key in Keys(location.Key("chk-")))
        {
            if (Parse(key) is not ({ } id, var name)) continue;
            if (name == MetadataName) complete.Add(id);
            if (!byId.TryGetValue(id, out var keys)) byId[id] = keys = [];
            keys.Add(key);
        }
        foreach (var (id, keys) in byId)
            if (!complete.Contains(id)) DeleteKeys(keys);
    }

    public void Clear()
    {
        foreach (var id in List()) Delete(id);
        RemoveIncomplete();
    }

    public string Write(CheckpointData checkpoint) => WriteFolder(location.Key(FolderName(checkpoint.Id)), checkpoint);

    /// <summary>Writes a savepoint under this location itself (not a <c>chk-&lt;id&gt;</c> below it).</summary>
    public string WriteHere(CheckpointData checkpoint)
    {
        Probe();
        return WriteFolder(location.Prefix, checkpoint);
    }

    public CheckpointData Load(long id) => LoadFolder(location.Key(FolderName(id)));

    /// <summary>Whether this location is itself a checkpoint (has a <c>_metadata</c> object).</summary>
    public bool HasMetadataHere() => Keys(location.Key(MetadataName)).Any(k => k == location.Key(MetadataName));

    public CheckpointData LoadHere() => LoadFolder(location.Prefix);

    public void Delete(long id)
    {
        string folder = location.Key(FolderName(id)) + "/";
        var keys = Keys(folder).ToList();
        if (keys.Count == 0) return;
        // The metadata first, so that an interrupted delete leaves an incomplete checkpoint, never a damaged one.
        DeleteKeys(keys.Where(k => k == folder + MetadataName).ToList());
        DeleteKeys(keys.Where(k => k != folder + MetadataName).ToList());
    }

    private string Uri(string key) => $"s3://{location.Bucket}/{key}";

    private string WriteFolder(string folderKey, CheckpointData checkpoint)
    {
        string prefix = folderKey.Length == 0 ? "" : folderKey + "/";
        if (Keys(prefix + MetadataName).Any(k => k == prefix + MetadataName))
            throw new IOException($"checkpoint {Uri(folderKey)} exists already");
        string temp = TempFolder();
        try
        {
            string folder = LocalCheckpointStorage.WriteFolder(Path.Combine(temp, "checkpoint"), checkpoint);
            foreach (var file in Directory.EnumerateFiles(folder).Where(f => Path.GetFileName(f) != MetadataName).Order(StringComparer.Ordinal))
                Upload(file, prefix + Path.GetFileName(file));
            // Last: from here on the checkpoint exists.
            Upload(Path.Combine(folder, MetadataName), prefix + MetadataName);
        }
        finally
        {
            DeleteTemp(temp);
        }
        return Uri(folderKey);
    }

    private CheckpointData LoadFolder(string folderKey)
    {
        string prefix = folderKey.Length == 0 ? "" : folderKey + "/";
        var keys = Keys(prefix).Where(k => k.IndexOf('/', prefix.Length) < 0).ToList();
        if (!keys.Contains(prefix + MetadataName)) throw new InvalidDataException($"{Uri(folderKey)} has no {MetadataName} object: not a checkpoint");
        string temp = TempFolder();
        try
        {
            string folder = Path.Combine(temp, "checkpoint");
            Directory.CreateDirectory(folder);
            foreach (var key in keys)
            {
                string name = key[prefix.Length..];
                if (name != MetadataName && !name.EndsWith(".state", StringComparison.Ordinal)) continue;
                Download(key, Path.Combine(folder, name));
            }
            try
            {
                return LocalCheckpointStorage.LoadFolder(folder) with { Path = Uri(folderKey) };
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException(e.Message.Replace(folder, Uri(folderKey), StringComparison.Ordinal), e);
            }
        }
        finally
        {
            DeleteTemp(temp);
        }
    }

    private static string TempFolder() => Directory.CreateTempSubdirectory("eddy-s3-checkpoint-").FullName;

    private static void DeleteTemp(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>(id, file name) of a key <c>&lt;prefix&gt;/chk-&lt;id&gt;/&lt;name&gt;</c>; (null, "") for anything else.</summary>
    private (long? Id, string Name) Parse(string key)
    {
        string head = location.Key("chk-");
        if (!key.StartsWith(head, StringComparison.Ordinal)) return (null, "");
        int slash = key.IndexOf('/', head.Length);
        if (slash < 0) return (null, "");
        if (!long.TryParse(key.AsSpan(head.Length, slash - head.Length), NumberStyles.None, CultureInfo.InvariantCulture, out long id)) return (null, "");
        string name = key[(slash + 1)..];
        return name.Length == 0 || name.Contains('/') ? (null, "") : (id, name);
    }

    /// <summary>Every key starting with <paramref name="prefix"/>, page by page.</summary>
    private IEnumerable<string> Keys(string prefix)
    {
        string? token = null;
        do
        {
            var request = new ListObjectsV2Request { BucketName = location.Bucket, Prefix = prefix, ContinuationToken = token, MaxKeys = ListPageSize };
            var page = Run(() => client.ListObjectsV2Async(request), "listing");
            foreach (var o in page.S3Objects ?? []) yield return o.Key;
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
    }

    private void Upload(string file, string key)
    {
        long size = new FileInfo(file).Length;
        if (size < MultipartThreshold)
        {
            Run(() => client.PutObjectAsync(new PutObjectRequest
            {
                BucketName = location.Bucket,
                Key = key,
                FilePath = file,
                UseChunkEncoding = false,
            }), $"writing {Uri(key)}");
            return;
        }
        // In parts, each sent plainly (no aws-chunked body, which not every S3-compatible store decodes).
        var upload = Run(() => client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = location.Bucket, Key = key }),
            $"writing {Uri(key)}");
        try
        {
            var parts = new List<PartETag>();
            int number = 1;
            for (long position = 0; position < size; position += PartSize, number++)
            {
                long length = Math.Min(PartSize, size - position);
                var part = Run(() => client.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = location.Bucket,
                    Key = key,
                    UploadId = upload.UploadId,
                    PartNumber = number,
                    FilePath = file,
                    FilePosition = position,
                    PartSize = length,
                    IsLastPart = position + length == size,
                    UseChunkEncoding = false,
                }), $"writing {Uri(key)} (part {number})");
                parts.Add(new PartETag(number, part.ETag));
            }
            Run(() => client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = location.Bucket,
                Key = key,
                UploadId = upload.UploadId,
                PartETags = parts,
            }), $"writing {Uri(key)}");
        }
        catch
        {
            try
            {
                client.AbortMultipartUploadAsync(location.Bucket, key, upload.UploadId).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException)
            {
            }
            throw;
        }
    }

    private void Download(string key, string file)
    {
        Run(async () =>
        {
            using var response = await client.GetObjectAsync(location.Bucket, key).ConfigureAwait(false);
            await using var f = new FileStream(file, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 20, useAsync: false);
            await response.ResponseStream.CopyToAsync(f, 1 << 20).ConfigureAwait(false);
            return 0;
        }, $"reading {Uri(key)}");
    }

    private void DeleteKeys(IReadOnlyList<string> keys)
    {
        foreach (var key in keys)
            Run(() => client.DeleteObjectAsync(location.Bucket, key), $"deleting {Uri(key)}");
    }

    /// <summary>Runs one request to the end; a failure becomes a <see cref="CheckpointStorageException"/> naming the likely option.</summary>
    private T Run<T>(Func<Task<T>> request, string what)
    {
        try
        {
            return request().GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException or SocketException or IOException or TaskCanceledException)
        {
            throw Explain(e, what);
        }
    }

    private CheckpointStorageException Explain(Exception e, string what)
    {
        string at = $"{Location} at {Endpoint}";
        if (e is AmazonS3Exception s3)
        {
            switch (s3.ErrorCode)
            {
                case "NoSuchBucket":
                    return new CheckpointStorageException($"checkpoint storage {Location}: the bucket '{location.Bucket}' does not exist "
                        + $"at {Endpoint} ('{CheckpointStorages.DirOption}' names it; create it first, or check '{S3Settings.EndpointOption}')",
                        CheckpointStorages.DirOption, e);
                case "InvalidAccessKeyId":
                    return new CheckpointStorageException($"checkpoint storage {at}: the store does not know the access key "
                        + $"('{S3Settings.AccessKeyOption}')", S3Settings.AccessKeyOption, e);
                case "SignatureDoesNotMatch":
                    return new CheckpointStorageException($"checkpoint storage {at}: the request signature does not match "
                        + $"(a wrong '{S3Settings.SecretKeyOption}', or a wrong '{S3Settings.EndpointOption}' or '{S3Settings.RegionOption}')",
                        S3Settings.SecretKeyOption, e);
                case "AccessDenied":
                    return new CheckpointStorageException($"checkpoint storage {at}: access denied while {what} "
                        + $"(the credentials of '{S3Settings.AccessKeyOption}' may not read and write the bucket)", S3Settings.AccessKeyOption, e);
            }
            if (s3.StatusCode == HttpStatusCode.NotFound && what == "listing")
            {
                return new CheckpointStorageException($"checkpoint storage {at}: not found ({s3.ErrorCode}: {s3.Message}); check "
                    + $"'{S3Settings.EndpointOption}' and '{S3Settings.PathStyleAccessOption}'", S3Settings.EndpointOption, e);
            }
            return new CheckpointStorageException($"checkpoint storage {at}: {what} failed: {s3.ErrorCode} {(int)s3.StatusCode}: {s3.Message}",
                CheckpointStorages.DirOption, e);
        }
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is HttpRequestException or SocketException or TaskCanceledException)
            {
                return new CheckpointStorageException($"checkpoint storage {Location}: cannot reach {Endpoint} while {what} "
                    + $"('{S3Settings.EndpointOption}'): {inner.Message}", S3Settings.EndpointOption, e);
            }
        }
        if (e.Message.Contains("credentials", StringComparison.OrdinalIgnoreCase))
        {
            return new CheckpointStorageException($"checkpoint storage {at}: no credentials: set '{S3Settings.AccessKeyOption}' and "
                + $"'{S3Settings.SecretKeyOption}', or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY ({e.Message})", S3Settings.AccessKeyOption, e);
        }
        return new CheckpointStorageException($"checkpoint storage {at}: {what} failed: {e.Message}", CheckpointStorages.DirOption, e);
    }
}
