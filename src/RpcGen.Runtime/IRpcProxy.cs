namespace RpcGen;

/// <summary>Implemented by every generated client proxy: the channel its calls go through.</summary>
public interface IRpcProxy
{
    /// <summary>The channel this proxy calls through.</summary>
    IRpcChannel Channel { get; }
}
