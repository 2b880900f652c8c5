using System.Text.Json;
using ZiggyCreatures.Caching.Fusion.Serialization;

namespace TypedCache.Benchmarks.Caching;

/// <summary>FusionCache's distributed level needs a serializer; this one is System.Text.Json, as HybridCache uses.</summary>
internal sealed class JsonFusionSerializer : IFusionCacheSerializer
{
    public byte[] Serialize<T>(T? obj) => JsonSerializer.SerializeToUtf8Bytes(obj);

    public T? Deserialize<T>(byte[] data) => JsonSerializer.Deserialize<T>(data);

    public ValueTask<byte[]> SerializeAsync<T>(T? obj, CancellationToken token = default) => ValueTask.FromResult(Serialize(obj));

    public ValueTask<T?> DeserializeAsync<T>(byte[] data, CancellationToken token = default) => ValueTask.FromResult(Deserialize<T>(data));
}
