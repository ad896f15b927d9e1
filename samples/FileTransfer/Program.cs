using System.Globalization;
using System.Security.Cryptography;
using FileTransfer;
using RpcGen.Compression;
using RpcGen.Transport.Message;

// dotnet run -c Release --project samples/FileTransfer -- --bytes 1073741824 [--compress lz4|zstd|snappy|none] [--address tcp://127.0.0.1:0|unix:PATH]
long bytes = 256L * 1024 * 1024;
var codec = RpcCompression.None;
var address = "tcp://127.0.0.1:0";
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--bytes" when i + 1 < args.Length:
            bytes = long.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--compress" when i + 1 < args.Length:
            codec = args[++i].ToLowerInvariant() switch
            {
                "none" => RpcCompression.None,
                "lz4" => RpcCompression.Lz4,
                "zstd" => RpcCompression.Zstd,
                "snappy" => RpcCompression.Snappy,
                var other => throw new ArgumentException($"Unknown codec '{other}': use lz4, zstd, snappy or none."),
            };
            break;
        case "--address" when i + 1 < args.Length:
            address = args[++i];
            break;
        default:
            Console.Error.WriteLine("usage: FileTransfer [--bytes N] [--compress lz4|zstd|snappy|none] [--address tcp://HOST:PORT|unix:PATH]");
            return 2;
    }
}

await using var server = new RpcServer();
server.AddService<IFileStore>(new FileStore());
await server.StartAsync(address);
Console.WriteLine($"serving on {server.Addresses[0]}; moving {bytes:N0} bytes each way, compression: {codec}");

await using var client = await RpcClient.ConnectAsync(server.Addresses[0], new RpcClientOptions { Compression = codec });
var store = client.GetService<IFileStore>();
const string name = "sample.bin";

// The expected hash, computed locally from the same generated content.
string expected;
using (var sha = SHA256.Create())
{
    expected = Convert.ToHexString(await sha.ComputeHashAsync(new GeneratedContent(name, bytes)));
}

var upload = new ProgressStream(new GeneratedContent(name, bytes), bytes, "upload");
var uploadedHash = await store.UploadAsync(name, upload);
upload.Finish();
var uploadSeconds = upload.Seconds;

await using var remote = await store.DownloadAsync(name);
var download = new ProgressStream(remote, bytes, "download");
string downloadedHash;
using (var sha = SHA256.Create())
{
    downloadedHash = Convert.ToHexString(await sha.ComputeHashAsync(download));
}

download.Finish();
var uploadOk = uploadedHash == expected;
var downloadOk = downloadedHash == expected && download.Done == bytes;
Console.WriteLine($"upload:   {bytes / 1048576.0 / uploadSeconds,8:F1} MB/s  sha256 {(uploadOk ? "matches" : "MISMATCH")}");
Console.WriteLine($"download: {bytes / 1048576.0 / download.Seconds,8:F1} MB/s  sha256 {(downloadOk ? "matches" : "MISMATCH")}");
Console.WriteLine(uploadOk && downloadOk ? "OK" : "FAILED");
return uploadOk && downloadOk ? 0 : 1;
