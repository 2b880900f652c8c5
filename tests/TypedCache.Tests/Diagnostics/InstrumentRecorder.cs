using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace TypedCache.Tests.Diagnostics;

/// <summary>Listens to every TypedCache instrument and activity while alive, and sums what it heard by tag.</summary>
internal sealed class InstrumentRecorder : IDisposable
{
    private readonly MeterListener _meters = new();
    private readonly ActivityListener _activities;
    private readonly ConcurrentQueue<Measured> _measurements = new();
    private readonly ConcurrentQueue<Activity> _stopped = new();

    public InstrumentRecorder()
    {
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "TypedCache")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _meters.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Add(instrument, value, tags));
        _meters.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _meters.Start();
        _activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "TypedCache",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_activities);
    }

    /// <summary>The instruments published so far under the TypedCache meter.</summary>
    public HashSet<string> Published { get; } = [];

    /// <summary>How many measurements <paramref name="instrument"/> made with the tag <paramref name="tag"/> = <paramref name="value"/>.</summary>
    public int Count(string instrument, string tag, string value) => Matching(instrument, tag, value).Count();

    /// <summary>The sum of <paramref name="instrument"/>'s measurements with the tag.</summary>
    public double Sum(string instrument, string tag, string value) => Matching(instrument, tag, value).Sum(m => m.Value);

    /// <summary>The values of <paramref name="instrument"/>'s measurements with the tag.</summary>
    public IEnumerable<double> Values(string instrument, string tag, string value) => Matching(instrument, tag, value).Select(m => m.Value);

    /// <summary>The last measurement of <paramref name="instrument"/> with the tag, or null.</summary>
    public Measured? Last(string instrument, string tag, string value) => Matching(instrument, tag, value).LastOrDefault();

    /// <summary>Reads the observable instruments now.</summary>
    public void Observe() => _meters.RecordObservableInstruments();

    /// <summary>The stopped activities named <paramref name="name"/> with the type tag <paramref name="type"/>.</summary>
    public int Activities(string name, string type) =>
        _stopped.Count(a => a.OperationName == name && Equals(a.GetTagItem("typedcache.type"), type));

    public string ActivityNames() => string.Join(",", _stopped.Select(a => a.OperationName + "/" + a.GetTagItem("typedcache.type")));

    public void Dispose()
    {
        _meters.Dispose();
        _activities.Dispose();
    }

    private IEnumerable<Measured> Matching(string instrument, string tag, string value) =>
        _measurements.Where(m => m.Instrument == instrument && m.Tags.TryGetValue(tag, out var v) && Equals(v, value));

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        lock (Published)
        {
            Published.Add(instrument.Name);
        }

        var copy = new Dictionary<string, object?>();
        foreach (var tag in tags)
        {
            copy[tag.Key] = tag.Value;
        }

        _measurements.Enqueue(new Measured(instrument.Name, value, copy));
    }

    internal sealed record Measured(string Instrument, double Value, Dictionary<string, object?> Tags);
}
