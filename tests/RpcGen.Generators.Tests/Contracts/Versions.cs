using RpcGen;

// Two versions of one contract, as two assemblies would declare them. V2 appends a member to
// Profile; each version reads the other's payloads.
namespace RpcGen.Generators.Tests.Contracts.V1
{
    [RpcService]
    public interface IProfiles
    {
        Task<Profile> GetAsync(string name);
    }

    public sealed class Profile
    {
        public string Name { get; set; } = "";
        public int Age { get; set; }
    }
}

namespace RpcGen.Generators.Tests.Contracts.V2
{
    [RpcService]
    public interface IProfiles
    {
        Task<Profile> GetAsync(string name);
    }

    public sealed class Profile
    {
        public string Name { get; set; } = "";
        public int Age { get; set; }
        public string? Email { get; set; }
        public List<string> Aliases { get; set; } = ["none"];
    }
}
