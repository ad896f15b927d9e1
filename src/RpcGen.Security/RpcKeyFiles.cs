using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using NSec.Cryptography;
using ChaCha20Poly1305 = System.Security.Cryptography.ChaCha20Poly1305;

namespace RpcGen.Security;

/// <summary>
/// Reads and writes the files of a key directory (what <c>rpcgen keys</c> manages): certificates as
/// PEM (<c>NAME.crt</c>) and private keys (<c>NAME.key</c>, mode 0600, never overwritten), either
/// plain PKCS#8 or, with a passphrase, sealed with a key stretched by Argon2id and ChaCha20-Poly1305.
/// </summary>
public static class RpcKeyFiles
{
    /// <summary>The PEM label of a passphrase-protected private key.</summary>
    public const string EncryptedKeyLabel = "RPCGEN ENCRYPTED PRIVATE KEY";

    private const byte FormatVersion = 1;
    private const int SaltLength = 16;
    private const int NonceLength = 12;
    private const int TagLength = 16;

    // Argon2id cost: 64 MiB and 3 passes, libsodium's "moderate"-ish interactive choice.
    private const int MemoryKiB = 64 * 1024;
    private const int Passes = 3;

    /// <summary>The CA certificate's file name in a key directory.</summary>
    public const string AuthorityCertificateFile = "ca.crt";

    /// <summary>The CA private key's file name in a key directory.</summary>
    public const string AuthorityKeyFile = "ca.key";

    /// <summary>Creates <paramref name="directory"/> private to this user (mode 0700 on Unix) if it does not exist.</summary>
    public static void CreatePrivateDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    /// <summary>Writes <paramref name="certificate"/> as <c>NAME.crt</c> and its private key as <c>NAME.key</c> in <paramref name="directory"/>; refuses to overwrite either.</summary>
    /// <returns>The paths of the certificate and key files.</returns>
    public static (string Certificate, string Key) Write(string directory, string name, X509Certificate2 certificate, string? passphrase)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        CreatePrivateDirectory(directory);
        var certificatePath = Path.Combine(directory, name + ".crt");
        var keyPath = Path.Combine(directory, name + ".key");
        if (File.Exists(certificatePath) || File.Exists(keyPath))
        {
            throw new IOException($"{certificatePath} or {keyPath} already exists; refusing to overwrite an identity.");
        }

        using var key = certificate.GetECDsaPrivateKey() ?? throw new ArgumentException("The certificate has no ECDSA private key.", nameof(certificate));
        var pkcs8 = key.ExportPkcs8PrivateKey();
        try
        {
            var pem = passphrase is null ? PemEncoding.WriteString("PRIVATE KEY", pkcs8) : PemEncoding.WriteString(EncryptedKeyLabel, Seal(pkcs8, passphrase));
            WritePrivate(keyPath, pem + "\n");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }

        File.WriteAllText(certificatePath, certificate.ExportCertificatePem() + "\n");
        return (certificatePath, keyPath);
    }

    /// <summary>Reads a PEM certificate (no private key).</summary>
    public static X509Certificate2 ReadCertificate(string path) => X509Certificate2.CreateFromPem(File.ReadAllText(path));

    /// <summary>Whether the key file at <paramref name="keyPath"/> needs a passphrase.</summary>
    public static bool IsEncrypted(string keyPath) => File.ReadAllText(keyPath).Contains("-----BEGIN " + EncryptedKeyLabel, StringComparison.Ordinal);

    /// <summary>Reads an identity: the certificate at <paramref name="certificatePath"/> with the private key at <paramref name="keyPath"/>.</summary>
    /// <exception cref="CryptographicException">The passphrase is wrong, missing, or the key does not match the certificate.</exception>
    public static X509Certificate2 ReadIdentity(string certificatePath, string keyPath, string? passphrase)
    {
        using var certificate = ReadCertificate(certificatePath);
        var text = File.ReadAllText(keyPath);
        var fields = PemEncoding.Find(text);
        var label = text[fields.Label];
        var data = Convert.FromBase64String(text[fields.Base64Data]);
        byte[] pkcs8;
        if (label == EncryptedKeyLabel)
        {
            if (passphrase is null)
            {
                throw new CryptographicException($"{keyPath} is protected by a passphrase; give it.");
            }

            pkcs8 = Open(data, passphrase) ?? throw new CryptographicException($"Wrong passphrase for {keyPath}.");
        }
        else if (label == "PRIVATE KEY")
        {
            pkcs8 = data;
        }
        else
        {
            throw new CryptographicException($"{keyPath} holds a '{label}', not a private key.");
        }

        try
        {
            using var key = ECDsa.Create();
            key.ImportPkcs8PrivateKey(pkcs8, out _);
            return certificate.CopyWithPrivateKey(key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    private static void WritePrivate(string path, string text)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(text);
    }

    // version(1) | salt(16) | memory KiB(4, BE) | passes(4, BE) | nonce(12) | ciphertext | tag(16);
    // everything before the ciphertext is the associated data.
    private static byte[] Seal(byte[] plaintext, string passphrase)
    {
        var header = new byte[1 + SaltLength + 8 + NonceLength];
        header[0] = FormatVersion;
        RandomNumberGenerator.Fill(header.AsSpan(1, SaltLength));
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(1 + SaltLength), MemoryKiB);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(1 + SaltLength + 4), Passes);
        RandomNumberGenerator.Fill(header.AsSpan(1 + SaltLength + 8, NonceLength));
        var key = Stretch(passphrase, header.AsSpan(1, SaltLength), MemoryKiB, Passes);
        try
        {
            var sealedBytes = new byte[header.Length + plaintext.Length + TagLength];
            header.CopyTo(sealedBytes, 0);
            using var aead = new ChaCha20Poly1305(key);
            aead.Encrypt(header.AsSpan(1 + SaltLength + 8, NonceLength), plaintext, sealedBytes.AsSpan(header.Length, plaintext.Length), sealedBytes.AsSpan(header.Length + plaintext.Length), header);
            return sealedBytes;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    private static byte[]? Open(byte[] sealedBytes, string passphrase)
    {
        var headerLength = 1 + SaltLength + 8 + NonceLength;
        if (sealedBytes.Length < headerLength + TagLength || sealedBytes[0] != FormatVersion)
        {
            throw new CryptographicException("The encrypted key has an unknown format.");
        }

        var header = sealedBytes.AsSpan(0, headerLength);
        var memory = BinaryPrimitives.ReadInt32BigEndian(header[(1 + SaltLength)..]);
        var passes = BinaryPrimitives.ReadInt32BigEndian(header[(1 + SaltLength + 4)..]);
        if (memory is < 8 * 1024 or > 4 * 1024 * 1024 || passes is < 1 or > 64)
        {
            throw new CryptographicException("The encrypted key asks for unreasonable Argon2id costs.");
        }

        var key = Stretch(passphrase, header.Slice(1, SaltLength), memory, passes);
        try
        {
            var length = sealedBytes.Length - headerLength - TagLength;
            var plaintext = new byte[length];
            using var aead = new ChaCha20Poly1305(key);
            aead.Decrypt(header.Slice(1 + SaltLength + 8, NonceLength), sealedBytes.AsSpan(headerLength, length), sealedBytes.AsSpan(headerLength + length), plaintext, header);
            return plaintext;
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    private static byte[] Stretch(string passphrase, ReadOnlySpan<byte> salt, int memoryKiB, int passes)
    {
        var argon = PasswordBasedKeyDerivationAlgorithm.Argon2id(new Argon2Parameters
        {
            DegreeOfParallelism = 1,
            MemorySize = memoryKiB,
            NumberOfPasses = passes,
        });
        return argon.DeriveBytes(passphrase, salt, 32);
    }
}
