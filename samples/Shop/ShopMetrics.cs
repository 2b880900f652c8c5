using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Shop;

/// <summary>
/// What one shop process counts itself (reads, database loads, saves, lock waits), and every measurement of
/// TypedCache's own <c>TypedCache</c> meter, read with a <see cref="MeterListener"/>.
/// </summary>
internal sealed class ShopMetrics : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, double> _meter = new(StringComparer.Ordinal);
    private long _reads;
    private long _readTicks;
    private long _loads;
    private long _saves;
    private long _locks;
    private long _lockWaitTicks;

    public ShopMetrics()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "TypedCache")
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => Add(instrument, value));
        _listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => Add(instrument, value));
        _listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => Add(instrument, value));
        _listener.Start();
    }

    public long DatabaseLoads => Interlocked.Read(ref _loads);

    public void Read(TimeSpan time)
    {
        Interlocked.Increment(ref _reads);
        Interlocked.Add(ref _readTicks, time.Ticks);
    }

    /// <summary>Forgets everything counted so far (the warm-up's work).</summary>
    public void Reset()
    {
        Interlocked.Exchange(ref _reads, 0);
        Interlocked.Exchange(ref _readTicks, 0);
        Interlocked.Exchange(ref _loads, 0);
        Interlocked.Exchange(ref _saves, 0);
        Interlocked.Exchange(ref _locks, 0);
        Interlocked.Exchange(ref _lockWaitTicks, 0);
        _meter.Clear();
    }

    public void DatabaseLoad() => Interlocked.Increment(ref _loads);

    public void Saved() => Interlocked.Increment(ref _saves);

    public void LockWaited(TimeSpan time)
    {
        Interlocked.Increment(ref _locks);
        Interlocked.Add(ref _lockWaitTicks, time.Ticks);
    }

    /// <summary><c>key=value</c> pairs; the meter's instruments as <c>meter.NAME=SUM</c> (observable ones are read now).</summary>
    public string Describe()
    {
        _listener.RecordObservableInstruments();
        var reads = Interlocked.Read(ref _reads);
        var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"reads={reads} database_loads={DatabaseLoads} saves={Interlocked.Read(ref _saves)} locks={Interlocked.Read(ref _locks)}");
        if (reads > 0)
            text.Append(CultureInfo.InvariantCulture, $" mean_read_us={TimeSpan.FromTicks(Interlocked.Read(ref _readTicks) / reads).TotalMicroseconds:0}");
        if (_locks > 0)
            text.Append(CultureInfo.InvariantCulture, $" lock_wait_ms={TimeSpan.FromTicks(Interlocked.Read(ref _lockWaitTicks)).TotalMilliseconds:0.0}");
        foreach (var (name, value) in _meter.OrderBy(p => p.Key, StringComparer.Ordinal))
            text.Append(CultureInfo.InvariantCulture, $" meter.{name}={value:0.###}");
        return text.ToString();
    }

    public void Dispose() => _listener.Dispose();

    private void Add(Instrument instrument, double value)
    {
        if (instrument is ObservableInstrument<long> or ObservableInstrument<int> or ObservableInstrument<double>)
            _meter[instrument.Name] = value;
        else if (instrument is Histogram<long> or Histogram<int> or Histogram<double>)
            _meter.AddOrUpdate(instrument.Name + ".count", 1, static (_, count) => count + 1);
        else
            _meter.AddOrUpdate(instrument.Name, value, (_, sum) => sum + value);
    }
}
