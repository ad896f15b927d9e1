namespace System.Runtime.CompilerServices
{
    /// <summary>Lets records compile for netstandard2.0 (the generator carries the same polyfill).</summary>
    internal static class IsExternalInit
    {
    }
}
