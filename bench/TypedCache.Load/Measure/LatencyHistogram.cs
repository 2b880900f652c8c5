namespace TypedCache.Load.Measure;

/// <summary>
/// Latencies in log-spaced buckets (about 4 % wide, 1 µs to ~100 s), cheap to record from many threads and to merge
/// across processes: only the non-empty buckets travel.
/// </summary>
internal sealed class LatencyHistogram
{
    private const double BucketsPerE = 25;
    private const int BucketCount = 480;
    private readonly long[] _counts = new long[BucketCount];

    public long Count { get; private set; }

    public static int BucketOf(double microseconds) =>
        Math.Clamp((int)(Math.Log(Math.Max(1, microseconds)) * BucketsPerE), 0, BucketCount - 1);

    /// <summary>The upper bound of a bucket, in microseconds.</summary>
    public static double UpperBound(int bucket) => Math.Exp((bucket + 1) / BucketsPerE);

    public void Add(int bucket, long count)
    {
        _counts[bucket] += count;
        Count += count;
    }

    public void Merge(IEnumerable<int[]> sparse)
    {
        foreach (var pair in sparse)
            Add(pair[0], pair[1]);
    }

    /// <summary>One histogram of every latency in <paramref name="histograms"/>.</summary>
    public static LatencyHistogram Sum(IEnumerable<LatencyHistogram> histograms)
    {
        var sum = new LatencyHistogram();
        foreach (var histogram in histograms)
        {
            for (int i = 0; i < BucketCount; i++)
                sum._counts[i] += histogram._counts[i];
            sum.Count += histogram.Count;
        }
        return sum;
    }

    /// <summary>The latency at <paramref name="quantile"/> (0..1) in milliseconds, or 0 when empty.</summary>
    public double Percentile(double quantile)
    {
        if (Count == 0)
            return 0;
        long rank = (long)Math.Ceiling(quantile * Count);
        long seen = 0;
        for (int i = 0; i < BucketCount; i++)
        {
            seen += _counts[i];
            if (seen >= rank && _counts[i] > 0)
                return UpperBound(i) / 1000;
        }
        return UpperBound(BucketCount - 1) / 1000;
    }

    /// <summary>The non-empty buckets as [bucket, count] pairs.</summary>
    public int[][] ToSparse() =>
        [.. _counts.Select((count, bucket) => (count, bucket)).Where(p => p.count > 0).Select(p => new[] { p.bucket, (int)p.count })];
}
