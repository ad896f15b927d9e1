using System.CommandLine;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace RpcGen.Tool;

/// <summary>
/// <c>rpcgen capnp export ASSEMBLY [--out FILE]</c>: writes the Cap'n Proto schema of a contract
/// assembly (the generator puts it in the assembly's <c>CapnpContractSchemaAttribute</c>). The
/// assembly is read as metadata, never loaded or run, so any build of any contract can be exported.
/// </summary>
internal static class CapnpCommand
{
    private const string AttributeNamespace = "RpcGen.Capnp";
    private const string AttributeName = "CapnpContractSchemaAttribute";

    public static Command Create()
    {
        var capnp = new Command("capnp", "Cap'n Proto schemas of RpcGen contracts.");
        var export = new Command("export", "Write the contract of an assembly as one .capnp schema (stdout unless --out).");
        var assembly = new Argument<string>("ASSEMBLY") { Description = "The contract assembly (.dll), built with the RpcGen generator and a reference to RpcGen.Transport.Capability." };
        var output = new Option<string?>("--out") { Description = "The .capnp file to write." };
        export.Arguments.Add(assembly);
        export.Options.Add(output);
        export.SetAction(result => CommandRunner.Run(() => Export(result.GetValue(assembly)!, result.GetValue(output))));
        capnp.Subcommands.Add(export);
        capnp.Subcommands.Add(CapnpImportCommand.Create());
        return capnp;
    }

    private static int Export(string assemblyPath, string? output)
    {
        var schema = ReadSchema(assemblyPath)
            ?? throw new InvalidOperationException($"'{assemblyPath}' carries no Cap'n Proto contract: build it with the RpcGen generator, at least one [RpcService] interface Cap'n Proto can carry, and a reference to RpcGen.Transport.Capability.");
        return CommandRunner.Write(schema, output);
    }

    /// <summary>The schema in the assembly's <c>CapnpContractSchemaAttribute</c>, or null when it has none.</summary>
    internal static string? ReadSchema(string assemblyPath)
    {
        using var stream = File.OpenRead(assemblyPath);
        using var pe = new PEReader(stream);
        if (!pe.HasMetadata)
        {
            throw new BadImageFormatException($"'{assemblyPath}' is not a .NET assembly.");
        }

        var metadata = pe.GetMetadataReader();
        foreach (var handle in metadata.GetAssemblyDefinition().GetCustomAttributes())
        {
            var attribute = metadata.GetCustomAttribute(handle);
            if (!IsSchemaAttribute(metadata, attribute.Constructor))
            {
                continue;
            }

            // The blob of a one-string constructor: the prolog 0x0001, then the string.
            var blob = metadata.GetBlobReader(attribute.Value);
            if (blob.Length < 2 || blob.ReadUInt16() != 1)
            {
                throw new BadImageFormatException($"'{assemblyPath}' has a malformed {AttributeName}.");
            }

            return blob.ReadSerializedString();
        }

        return null;
    }

    private static bool IsSchemaAttribute(MetadataReader metadata, EntityHandle constructor)
    {
        if (constructor.Kind != HandleKind.MemberReference)
        {
            return false;
        }

        var parent = metadata.GetMemberReference((MemberReferenceHandle)constructor).Parent;
        if (parent.Kind != HandleKind.TypeReference)
        {
            return false;
        }

        var type = metadata.GetTypeReference((TypeReferenceHandle)parent);
        return metadata.StringComparer.Equals(type.Name, AttributeName) && metadata.StringComparer.Equals(type.Namespace, AttributeNamespace);
    }
}
