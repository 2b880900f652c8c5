using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using TypedCache.Testing;

namespace TypedCache.EntityFrameworkCore.Tests;

/// <summary>A real database the tests write to: how to point a <see cref="DbContextOptionsBuilder"/> at a fresh one.</summary>
public interface ITestDatabase
{
    /// <summary>Points <paramref name="options"/> at the database <paramref name="name"/>, created empty on first use.</summary>
    void Use(DbContextOptionsBuilder options, string name);

    /// <summary>Whether the database lets a second connection write while a transaction is open (SQLite locks the whole file).</summary>
    bool ConcurrentWriters { get; }
}

/// <summary>SQLite files in a temporary directory, removed at the end.</summary>
public sealed class SqliteDatabase : ITestDatabase, IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("typedcache-sqlite-");

    public bool ConcurrentWriters => false;

    public void Use(DbContextOptionsBuilder options, string name) =>
        options.UseSqlite($"Data Source={Path.Combine(_directory.FullName, name + ".db")};Pooling=False");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _directory.Delete(recursive: true);
    }
}

/// <summary>A throwaway PostgreSQL server for the test class; each test gets its own database.</summary>
public sealed class PostgresDatabase : ITestDatabase, IAsyncLifetime
{
    private PostgresServer? _server;

    public bool ConcurrentWriters => true;

    public void Use(DbContextOptionsBuilder options, string name) =>
        options.UseNpgsql(_server!.ConnectionString(name.ToLowerInvariant()));

    public async Task InitializeAsync() => _server = await PostgresServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
            await _server.DisposeAsync();
    }
}
