using System.Text;

namespace RpcGen.Benchmarks.Bulk;

/// <summary>The codec payloads, made from fixed seeds so every run compresses the same bytes.</summary>
public static class BulkPayloads
{
    public const int TextSeed = 2024;
    public const int RandomSeed = 7;

    // Common English words; drawn with a skew towards the front, as word frequencies are.
    private static readonly string[] Vocabulary =
    [
        "the", "of", "and", "to", "a", "in", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on", "not", "he",
        "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "had", "they", "you", "were", "their", "one",
        "all", "we", "can", "her", "has", "there", "been", "if", "more", "when", "will", "would", "who", "so", "no", "request",
        "server", "client", "message", "stream", "connection", "timeout", "deadline", "service", "method", "value", "error",
        "status", "payload", "buffer", "frame", "header", "length", "count", "record", "table", "index", "query", "result",
        "customer", "order", "invoice", "address", "account", "balance", "transaction", "product", "price", "quantity",
        "between", "through", "because", "without", "another", "however", "although", "therefore", "important", "different",
        "information", "development", "government", "performance", "configuration", "environment", "implementation",
    ];

    /// <summary>Words from <see cref="Vocabulary"/> separated by spaces, with sentence ends and line breaks: compresses like prose or logs.</summary>
    public static byte[] CreateText(int length)
    {
        var random = new Random(TextSeed);
        var data = new byte[length];
        var position = 0;
        var wordsInSentence = 0;
        while (position < length)
        {
            // Squaring a uniform draw favours the front of the list.
            var draw = random.NextDouble();
            var word = Vocabulary[(int)(draw * draw * Vocabulary.Length)];
            position += Encoding.ASCII.GetBytes(word.AsSpan(0, Math.Min(word.Length, length - position)), data.AsSpan(position));
            if (position >= length)
            {
                break;
            }

            wordsInSentence++;
            var separator = wordsInSentence > 6 && random.Next(10) == 0 ? (random.Next(4) == 0 ? ".\n" : ". ") : " ";
            if (separator != " ")
            {
                wordsInSentence = 0;
            }

            position += Encoding.ASCII.GetBytes(separator.AsSpan(0, Math.Min(separator.Length, length - position)), data.AsSpan(position));
        }

        return data;
    }

    /// <summary>Bytes from a seeded <see cref="Random"/>: incompressible.</summary>
    public static byte[] CreateRandom(int length)
    {
        var data = new byte[length];
        new Random(RandomSeed).NextBytes(data);
        return data;
    }
}
