using TypedCache.Load.Measure;

namespace TypedCache.Load.Scenarios;

/// <summary>
/// A phase whose load runs in this process (many cache clients against one another) rather than in the workers:
/// its meter feeds a timeline shown live and charted like the workers', and <see cref="Stop"/> ends it after the
/// run's duration.
/// </summary>
internal sealed class InProcessLoad : IAsyncDisposable
{
    private readonly ScenarioContext _context;
    private readonly string _scenario;
    private readonly CancellationTokenSource _stop;
    private readonly IAsyncDisposable _feed;

    public InProcessLoad(ScenarioContext context, string scenario, string cache)
    {
        _context = context;
        _scenario = scenario;
        Timeline = new Timeline(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        _stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        _stop.CancelAfter(context.Duration);
        _feed = Meter.FeedInto(Timeline);
        context.Progress.Track(scenario, cache, Timeline);
    }

    public Timeline Timeline { get; }

    public IntervalMeter Meter { get; } = new();

    /// <summary>Cancelled when the run's duration has passed (or the run is interrupted).</summary>
    public CancellationToken Stop => _stop.Token;

    public async ValueTask DisposeAsync()
    {
        await _feed.DisposeAsync();
        _stop.Dispose();
        _context.Progress.Track(_scenario, "", null);
        _context.CancellationToken.ThrowIfCancellationRequested();
    }
}
