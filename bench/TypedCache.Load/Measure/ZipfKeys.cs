namespace TypedCache.Load.Measure;

/// <summary>Draws keys 0..n-1 with Zipf's law: key k with probability proportional to 1/(k+1)^s.</summary>
internal sealed class ZipfKeys
{
    private readonly double[] _cumulative;

    public ZipfKeys(int count, double exponent)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(exponent);
        _cumulative = new double[count];
        double sum = 0;
        for (int k = 0; k < count; k++)
        {
            sum += 1 / Math.Pow(k + 1, exponent);
            _cumulative[k] = sum;
        }
        for (int k = 0; k < count; k++)
            _cumulative[k] /= sum;
    }

    public int Next(Random random)
    {
        int index = Array.BinarySearch(_cumulative, random.NextDouble());
        return Math.Min(index < 0 ? ~index : index, _cumulative.Length - 1);
    }
}
