using System.Runtime.CompilerServices;

namespace TypedCache.Generator.Tests;

/// <summary>
/// Approved files under <c>Snapshots/</c>: a generated file must equal its approved copy. Set the environment
/// variable <c>TYPEDCACHE_ACCEPT_SNAPSHOTS=1</c> to write the current output as the approved copy instead.
/// </summary>
internal static class Snapshot
{
    public const string AcceptVariable = "TYPEDCACHE_ACCEPT_SNAPSHOTS";

    public static void Verify(string folder, string fileName, string actual, [CallerFilePath] string callerPath = "")
    {
        var path = Path.Combine(Path.GetDirectoryName(callerPath)!, "Snapshots", folder, fileName);
        actual = actual.TrimStart('\uFEFF').ReplaceLineEndings("\n");
        if (Environment.GetEnvironmentVariable(AcceptVariable) == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, actual);
            return;
        }

        Assert.True(File.Exists(path), $"No approved snapshot {path}; run the tests with {AcceptVariable}=1 to write it, then review it.");
        var approved = File.ReadAllText(path).ReplaceLineEndings("\n");
        Assert.True(approved == actual, $"{folder}/{fileName} differs from its approved snapshot; run with {AcceptVariable}=1 to accept the new output.\n--- actual ---\n{actual}");
    }

    /// <summary>Verifies every file of <paramref name="files"/> and that no approved file of the folder is missing from it.</summary>
    public static void VerifyAll(string folder, IReadOnlyCollection<(string Name, string Text)> files, [CallerFilePath] string callerPath = "")
    {
        var directory = Path.Combine(Path.GetDirectoryName(callerPath)!, "Snapshots", folder);
        var approved = Directory.Exists(directory) ? Directory.GetFiles(directory).Select(static f => Path.GetFileName(f)).ToHashSet() : [];
        foreach (var stale in approved.Except(files.Select(static f => f.Name)))
        {
            if (Environment.GetEnvironmentVariable(AcceptVariable) == "1")
            {
                File.Delete(Path.Combine(directory, stale));
            }
            else
            {
                Assert.Fail($"The approved snapshot {folder}/{stale} is no longer generated; run with {AcceptVariable}=1 to remove it.");
            }
        }

        foreach (var (name, text) in files)
        {
            Verify(folder, name, text, callerPath);
        }
    }
}
