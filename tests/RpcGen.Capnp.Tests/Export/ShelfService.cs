namespace RpcGen.Capnp.Tests.Export;

/// <summary>A shelf with one book, "Dune", and the books added to it.</summary>
internal sealed class ShelfService : IShelf, ILibrarian
{
    private readonly List<IShelf.Book> _books =
    [
        new("Dune", IShelf.Genre.Fiction, ["Frank Herbert"], new IShelf.Binding.Hardcover(412)),
    ];

    public Task<string> NameAsync() => Task.FromResult("front shelf");

    public Task<IShelf.Book> FindAsync(string title)
    {
        lock (_books)
        {
            return _books.Find(b => b.Title == title) is { } book
                ? Task.FromResult(book)
                : Task.FromException<IShelf.Book>(new RpcException(RpcStatusCode.Failed, $"No book '{title}'."));
        }
    }

    public Task<int> AddAsync(IShelf.Book book)
    {
        lock (_books)
        {
            _books.Add(book);
            return Task.FromResult(_books.Count);
        }
    }

    public ILibrarian Librarian() => this;

    public Task<IShelf.Genre> GenreOfAsync(string title) => FindAsync(title).ContinueWith(t => t.Result.Genre, TaskScheduler.Default);

    public Task<IShelf> ShelfAsync() => Task.FromResult<IShelf>(this);

    public Task<string> GreetAsync(string visitor) => Task.FromResult($"welcome, {visitor}");
}
