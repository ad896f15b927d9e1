using RpcGen.Links;

namespace RpcGen.Runtime.Tests;

public class AddressTests
{
    [Theory]
    [InlineData("tcp://127.0.0.1:5000", RpcAddressScheme.Tcp, "127.0.0.1", 5000)]
    [InlineData("tcp://[::1]:0", RpcAddressScheme.Tcp, "::1", 0)]
    [InlineData("unix:/tmp/a.sock", RpcAddressScheme.Unix, "", 0)]
    [InlineData("memory:svc", RpcAddressScheme.Memory, "", 0)]
    [InlineData("tls://127.0.0.1:5000", RpcAddressScheme.Tls, "127.0.0.1", 5000)]
    [InlineData("tls://[::1]:7", RpcAddressScheme.Tls, "::1", 7)]
    [InlineData("tls+unix:/tmp/a.sock", RpcAddressScheme.TlsUnix, "", 0)]
    public void Parses_every_scheme(string text, RpcAddressScheme scheme, string host, int port)
    {
        var address = RpcAddress.Parse(text);
        Assert.Equal(scheme, address.Scheme);
        Assert.Equal(host, address.Host);
        Assert.Equal(port, address.Port);
        Assert.Equal(text, address.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("http://x:1")]
    [InlineData("tcp://:5")]
    [InlineData("tcp://host:99999")]
    [InlineData("unix:")]
    public void Rejects_malformed_addresses(string text) =>
        Assert.Throws<FormatException>(() => RpcAddress.Parse(text));
}
