namespace RpcGen.Balancing;

/// <summary>
/// A fixed list of addresses, for tests and simple setups; <see cref="Update"/> replaces it (the
/// client picks the change up at its next resolution).
/// </summary>
/// <example>
/// <code>
/// var resolver = new RpcStaticEndpointResolver("catalog", "tcp://10.0.0.1:5000", "tcp://10.0.0.2:5000");
/// await using var client = RpcBalancedClient.Create(resolver, new() { Policy = RpcBalancingPolicy.RoundRobin });
/// </code>
/// </example>
public sealed class RpcStaticEndpointResolver : IRpcEndpointResolver
{
    private volatile string[] _addresses;

    /// <summary>Creates a resolver named <paramref name="name"/> that returns <paramref name="addresses"/>.</summary>
    public RpcStaticEndpointResolver(string name, params string[] addresses)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        _addresses = Validate(addresses);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>Replaces the addresses returned from now on.</summary>
    public void Update(params string[] addresses) => _addresses = Validate(addresses);

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<string>> ResolveAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<string>>(_addresses);

    private static string[] Validate(string[] addresses)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        foreach (var address in addresses)
        {
            ArgumentException.ThrowIfNullOrEmpty(address, nameof(addresses));
        }

        return [.. addresses];
    }
}
