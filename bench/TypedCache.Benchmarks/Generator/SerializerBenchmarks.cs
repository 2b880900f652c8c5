using System.Buffers;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using MessagePack;
using MessagePack.Formatters;
using MessagePack.Resolvers;

namespace TypedCache.Benchmarks.Generator;

/// <summary>
/// The generated formatter against MessagePack's StandardResolver formatter for the same shape (formatter to
/// formatter, into the same reused buffer) and against System.Text.Json's source-generated serializer.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class SerializerBenchmarks
{
    private static readonly MessagePackSerializerOptions Options = MessagePackSerializerOptions.Standard.WithResolver(StandardResolver.Instance);
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly Utf8JsonWriter _json = new(Stream.Null);
    private IMessagePackFormatter<MpOrder> _standard = null!;
    private BenchOrder _generatedValue = null!;
    private MpOrder _standardValue = null!;
    private StjOrder _jsonValue = null!;
    private byte[] _generatedBytes = null!;
    private byte[] _standardBytes = null!;
    private byte[] _jsonBytes = null!;

    [GlobalSetup]
    public void Setup()
    {
        _standard = Options.Resolver.GetFormatterWithVerify<MpOrder>();
        var placed = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        var lines = Enumerable.Range(0, 8).Select(static i => (Sku: $"SKU-{i:D6}", Quantity: i + 1, Price: 9.99 * i)).ToList();
        _generatedValue = new BenchOrder(42, "Ada Lovelace", 7, 12.5, true, placed, [.. lines.Select(static l => new BenchLine(l.Sku, l.Quantity, l.Price))]);
        _standardValue = new MpOrder(42, "Ada Lovelace", 7, 12.5, true, placed, [.. lines.Select(static l => new MpLine(l.Sku, l.Quantity, l.Price))]);
        _jsonValue = new StjOrder(42, "Ada Lovelace", 7, 12.5, true, placed, [.. lines.Select(static l => new StjLine(l.Sku, l.Quantity, l.Price))]);
        _generatedBytes = SerializeGenerated().ToArray();
        _standardBytes = SerializeStandard().ToArray();
        _jsonBytes = SerializeJson().ToArray();
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Serialize")]
    public int StandardResolverSerialize() => SerializeStandard().Length;

    [Benchmark]
    [BenchmarkCategory("Serialize")]
    public int GeneratedSerialize() => SerializeGenerated().Length;

    [Benchmark]
    [BenchmarkCategory("Serialize")]
    public int JsonSourceGenSerialize() => SerializeJson().Length;

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Deserialize")]
    public MpOrder StandardResolverDeserialize()
    {
        var reader = new MessagePackReader(_standardBytes);
        return _standard.Deserialize(ref reader, Options);
    }

    [Benchmark]
    [BenchmarkCategory("Deserialize")]
    public BenchOrder GeneratedDeserialize()
    {
        var reader = new MessagePackReader(_generatedBytes);
        return BenchOrderCacheFormatter.Instance.Deserialize(ref reader, Options);
    }

    [Benchmark]
    [BenchmarkCategory("Deserialize")]
    public StjOrder? JsonSourceGenDeserialize() => JsonSerializer.Deserialize(_jsonBytes, BenchJsonContext.Default.StjOrder);

    private ReadOnlySpan<byte> SerializeGenerated()
    {
        _buffer.ResetWrittenCount();
        var writer = new MessagePackWriter(_buffer);
        BenchOrderCacheFormatter.Instance.Serialize(ref writer, _generatedValue, Options);
        writer.Flush();
        return _buffer.WrittenSpan;
    }

    private ReadOnlySpan<byte> SerializeStandard()
    {
        _buffer.ResetWrittenCount();
        var writer = new MessagePackWriter(_buffer);
        _standard.Serialize(ref writer, _standardValue, Options);
        writer.Flush();
        return _buffer.WrittenSpan;
    }

    private ReadOnlySpan<byte> SerializeJson()
    {
        _buffer.ResetWrittenCount();
        _json.Reset(_buffer);
        JsonSerializer.Serialize(_json, _jsonValue, BenchJsonContext.Default.StjOrder);
        _json.Flush();
        return _buffer.WrittenSpan;
    }
}
