namespace RpcGen.Capnp.Tests.Export;

/// <summary>
/// A base service: <see cref="IShelf"/> extends it, so the export declares <c>Shelf extends(Named)</c>.
/// Ordinals are unpinned: a pin is also the message-transport method id, which must be unique across
/// a service and the services it inherits, while Cap'n Proto numbers each interface from 0.
/// </summary>
[RpcService(0xe5b0_7a11_0000_0001)]
public interface INamed
{
    Task<string> NameAsync();
}

/// <summary>
/// The contract the exported schema is checked with: an inherited service, types nested in the
/// interface (a struct, an enum, a union), a list, and a service (<see cref="ILibrarian"/>) that passes
/// this one back, so the two reference each other.
/// </summary>
[RpcService(0xe5b0_7a11_0000_0002)]
public interface IShelf : INamed
{
    Task<Book> FindAsync(string title);

    Task<int> AddAsync(Book book);

    ILibrarian Librarian();

    Task<Genre> GenreOfAsync(string title);

    /// <summary>A book; nested here, so the export nests <c>struct Book</c> in <c>interface Shelf</c>.</summary>
    [RpcTypeId(0xe5b0_7a11_0000_0010)]
    public sealed record Book(string Title, Genre Genre, string[] Authors, Binding Binding);

    /// <summary>What a book is about.</summary>
    public enum Genre
    {
        Fiction,
        Science,
        History,
    }

    /// <summary>How a book is bound: a Cap'n Proto union of a void member and a one-field member.</summary>
    [RpcKnownType(typeof(Paperback), 0)]
    [RpcKnownType(typeof(Hardcover), 1)]
    public abstract record Binding
    {
        /// <summary>A paperback.</summary>
        public sealed record Paperback : Binding;

        /// <summary>A hardcover of so many pages.</summary>
        public sealed record Hardcover(int Pages) : Binding;
    }
}

/// <summary>Passes its shelf back: the export declares the two services once each.</summary>
[RpcService(0xe5b0_7a11_0000_0003)]
public interface ILibrarian
{
    Task<IShelf> ShelfAsync();

    Task<string> GreetAsync(string visitor);
}
