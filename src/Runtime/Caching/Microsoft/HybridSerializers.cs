using System.Buffers;
using System.Collections.Concurrent;
using System.ComponentModel;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace TypedCache.Caching.MicrosoftCaching;

/// <summary>
/// Finds the serializer of each type once, as Microsoft's implementation does: an <see cref="IHybridCacheSerializer{T}"/>
/// registered in the container, else the first registered <see cref="IHybridCacheSerializerFactory"/> (the last
/// registered first) that makes one, else raw bytes for <see cref="string"/> (UTF-8) and <see cref="byte"/> arrays,
/// else System.Text.Json.
/// </summary>
internal sealed class HybridSerializers(IServiceProvider? services)
{
    private readonly ConcurrentDictionary<Type, object> _serializers = new();
    private readonly IHybridCacheSerializerFactory[] _factories = services is null ? [] : [.. services.GetServices<IHybridCacheSerializerFactory>().Reverse()];

    public IHybridCacheSerializer<T> Get<T>() =>
        (IHybridCacheSerializer<T>)_serializers.GetOrAdd(typeof(T), static (_, self) => self.Create<T>(), this);

    /// <summary>Whether <typeparamref name="T"/> is written raw, so that null has no encoding (and is not cached).</summary>
    public static bool IsRaw<T>() => typeof(T) == typeof(string) || typeof(T) == typeof(byte[]);

    private IHybridCacheSerializer<T> Create<T>()
    {
        if (services?.GetService<IHybridCacheSerializer<T>>() is { } registered)
        {
            return registered;
        }

        foreach (var factory in _factories)
        {
            if (factory.TryCreateSerializer<T>(out var made) && made is not null)
            {
                return made;
            }
        }

        if (typeof(T) == typeof(string))
        {
            return (IHybridCacheSerializer<T>)(object)new Utf8StringSerializer();
        }

        return typeof(T) == typeof(byte[]) ? (IHybridCacheSerializer<T>)(object)new BytesSerializer() : new JsonSerializer<T>();
    }

    private sealed class Utf8StringSerializer : IHybridCacheSerializer<string>
    {
        public string Deserialize(ReadOnlySequence<byte> source) => Encoding.UTF8.GetString(source);

        public void Serialize(string value, IBufferWriter<byte> target) => Encoding.UTF8.GetBytes(value, target);
    }

    private sealed class BytesSerializer : IHybridCacheSerializer<byte[]>
    {
        public byte[] Deserialize(ReadOnlySequence<byte> source) => source.ToArray();

        public void Serialize(byte[] value, IBufferWriter<byte> target) => target.Write(value);
    }

    private sealed class JsonSerializer<T> : IHybridCacheSerializer<T>
    {
        public T Deserialize(ReadOnlySequence<byte> source)
        {
            var reader = new Utf8JsonReader(source);
            return JsonSerializer.Deserialize<T>(ref reader, JsonSerializerOptions.Default)!;
        }

        public void Serialize(T value, IBufferWriter<byte> target)
        {
            using var writer = new Utf8JsonWriter(target);
            JsonSerializer.Serialize(writer, value, JsonSerializerOptions.Default);
        }
    }
}

/// <summary>
/// Whether instances of <typeparamref name="T"/> can be shared between callers: strings, primitives, enums and the
/// common immutable structs, and sealed types marked <c>[ImmutableObject(true)]</c>. Others are deserialized per read.
/// </summary>
internal static class ImmutableType<T>
{
    public static readonly bool Value =
        typeof(T) == typeof(string) || typeof(T).IsPrimitive || typeof(T).IsEnum
        || typeof(T) == typeof(decimal) || typeof(T) == typeof(DateTime) || typeof(T) == typeof(DateTimeOffset)
        || typeof(T) == typeof(TimeSpan) || typeof(T) == typeof(Guid)
        || (typeof(T).IsSealed && typeof(T).GetCustomAttribute<ImmutableObjectAttribute>() is { Immutable: true });
}
