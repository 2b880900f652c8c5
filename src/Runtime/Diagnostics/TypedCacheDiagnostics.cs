namespace TypedCache;

/// <summary>
/// The names to listen to TypedCache by: its <c>System.Diagnostics.Metrics</c> meter and its <c>ActivitySource</c>,
/// e.g. <c>metrics.AddMeter(TypedCacheDiagnostics.MeterName)</c> and <c>tracing.AddSource(TypedCacheDiagnostics.ActivitySourceName)</c>
/// with OpenTelemetry. Instruments are named <c>typedcache.*</c>, in dotted lower case, and tagged with type and
/// context names, never with keys or values.
/// </summary>
public static class TypedCacheDiagnostics
{
    /// <summary>The meter's name: <c>TypedCache</c>.</summary>
    public const string MeterName = "TypedCache";

    /// <summary>The activity source's name: <c>TypedCache</c>.</summary>
    public const string ActivitySourceName = "TypedCache";
}
