namespace TypedCache.ZooKeeper;

/// <summary>Client-side checks of paths and ACLs, with the server's rules, so bad input never reaches the wire.</summary>
internal static class ZooKeeperPath
{
    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="path"/> is a valid ZooKeeper path.</summary>
    public static void Validate(string path, string paramName = "path", bool sequential = false)
    {
        ArgumentNullException.ThrowIfNull(path, paramName);
        string? problem = Check(path, sequential);
        if (problem is not null)
        {
            throw new ArgumentException($"Invalid ZooKeeper path '{path}': {problem}.", paramName);
        }
    }

    public static void ValidateAcl(IReadOnlyList<Acl> acl)
    {
        ArgumentNullException.ThrowIfNull(acl);
        if (acl.Count == 0)
        {
            throw new ArgumentException("An ACL needs at least one entry.", nameof(acl));
        }
    }

    /// <summary>The parent of <paramref name="path"/>, or null for the root.</summary>
    public static string? Parent(string path)
    {
        if (path == "/")
        {
            return null;
        }

        int slash = path.LastIndexOf('/');
        return slash == 0 ? "/" : path[..slash];
    }

    // Mirrors PathUtils.validatePath: a sequential create may end in '/' because the server appends the number.
    private static string? Check(string path, bool sequential)
    {
        if (path.Length == 0)
        {
            return "it is empty";
        }

        if (path[0] != '/')
        {
            return "it must start with '/'";
        }

        if (path.Length == 1)
        {
            return null;
        }

        if (path[^1] == '/' && !sequential)
        {
            return "it must not end with '/'";
        }

        char last = '/';
        for (int i = 1; i < path.Length; i++)
        {
            char c = path[i];
            if (c == '\0')
            {
                return $"null character at {i}";
            }

            if (c == '/' && last == '/')
            {
                return $"empty segment at {i}";
            }

            if (c == '.' && last == '.' && path[i - 2] == '/' && (i + 1 == path.Length || path[i + 1] == '/'))
            {
                return $"relative segment '..' at {i - 1}";
            }

            if (c == '.' && last == '/' && (i + 1 == path.Length || path[i + 1] == '/'))
            {
                return $"relative segment '.' at {i}";
            }

            if (c is (> '\u0000' and <= '\u001f') or (>= '\u007f' and <= '\u009f') or (>= '\ud800' and <= '\uf8ff') or (>= '\ufff0' and <= '\uffff'))
            {
                return $"invalid character U+{(int)c:X4} at {i}";
            }

            last = c;
        }

        return null;
    }
}
