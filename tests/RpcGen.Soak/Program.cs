using System.Globalization;
using RpcGen.Soak;

// dotnet run -c Release --project tests/RpcGen.Soak -- [--minutes N | --seconds N] [--transport tcp|tls|unix|shm|flow] [--workers N] [--paced-seconds N] [--profile] [--out FILE]
var options = new SoakOptions();
var output = Path.Combine(AppContext.BaseDirectory, "results.md");
for (var i = 0; i < args.Length; i++)
{
    var value = i + 1 < args.Length ? args[i + 1] : null;
    switch (args[i])
    {
        case "--minutes" when double.TryParse(value, CultureInfo.InvariantCulture, out var minutes) && minutes is > 0 and <= 24 * 60:
            options.Duration = TimeSpan.FromMinutes(minutes);
            i++;
            break;
        case "--seconds" when double.TryParse(value, CultureInfo.InvariantCulture, out var seconds) && seconds is > 0 and <= 24 * 3600:
            options.Duration = TimeSpan.FromSeconds(seconds);
            i++;
            break;
        case "--transport" when value is "tcp" or "tls" or "unix" or "shm" or "flow":
            options.Transport = value;
            i++;
            break;
        case "--workers" when int.TryParse(value, CultureInfo.InvariantCulture, out var workers) && workers is > 0 and <= 1024:
            options.MixedWorkers = workers;
            i++;
            break;
        case "--paced-seconds" when double.TryParse(value, CultureInfo.InvariantCulture, out var paced) && paced is > 0 and <= 3600:
            options.PacedDuration = TimeSpan.FromSeconds(paced);
            i++;
            break;
        case "--profile":
            options.Profile = true;
            break;
        case "--out" when !string.IsNullOrEmpty(value):
            output = value;
            i++;
            break;
        default:
            Console.Error.WriteLine($"Unknown or invalid argument '{args[i]}'. Usage: --minutes N | --seconds N (up to a day), --transport tcp|tls|unix|shm|flow, --workers N (up to 1024), --paced-seconds N (up to an hour), --profile, --out FILE");
            return 2;
    }
}

var result = await SoakRunner.RunAsync(options, Console.Out);
var command = "dotnet run -c Release --project tests/RpcGen.Soak -- " + string.Join(' ', args);
var table = result.ToMarkdown(command.TrimEnd());
Console.WriteLine();
Console.WriteLine(table);
await File.WriteAllTextAsync(output, table);
Console.WriteLine($"Written to {output}");
return result.Passed ? 0 : 1;
