namespace RpcGen.Transport.Message.Tests;

/// <summary>A record holding one <see cref="DateTime"/> of each kind.</summary>
public sealed record Moments(DateTime Utc, DateTime Local, DateTime Unspecified, DateTime? Maybe, List<DateTime> Many);

/// <summary>Echoes values of the types users put in DTOs, so a test can compare what comes back.</summary>
[RpcService(0x5E57_0000_0000_0040)]
public interface IContractTypesService
{
    [RpcMethod(1)]
    Task<Moments> EchoMomentsAsync(Moments moments);
}

/// <summary>Returns what it was given.</summary>
public sealed class ContractTypesService : IContractTypesService
{
    public Task<Moments> EchoMomentsAsync(Moments moments) => Task.FromResult(moments);
}
