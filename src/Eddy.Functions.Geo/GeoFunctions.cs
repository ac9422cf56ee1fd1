namespace Eddy.Functions.Geo;

/// <summary>
/// The geolocation functions as SQL and C# call them: <c>get_location(ip)</c> (the lab's JSON string, '{}' when
/// nothing is known) and the typed <c>geo_country</c>, <c>geo_region</c>, <c>geo_city</c>, <c>geo_lat</c>,
/// <c>geo_lon</c> (NULL when unknown). Over a provider that answers at once (the offline database). A malformed
/// address gives '{}'/NULL and is counted in <see cref="Metrics"/>; it never fails the job.
/// </summary>
public sealed class GeoFunctions(IGeoLocator locator)
{
    /// <summary>The SQL names, upper case.</summary>
    public static readonly string[] SqlNames = ["GET_LOCATION", "GEO_COUNTRY", "GEO_REGION", "GEO_CITY", "GEO_LAT", "GEO_LON"];

    /// <summary>The offline functions over the database of <paramref name="config"/> (opened once per process).</summary>
    public static GeoFunctions Offline(GeoConfig config) =>
        new(new MmdbGeoLocator(GeoDatabases.Get(config.DatabasePath), config.RecordCacheSize));

    public IGeoLocator Locator => locator;

    public GeoMetrics Metrics => locator.Metrics;

    public string GetLocation(string? ip) => ip is null ? GeoLocation.EmptyJson : locator.LocateJson(ip);

    public string? GeoCountry(string? ip) => ip is null ? null : locator.Locate(ip).Country;

    public string? GeoRegion(string? ip) => ip is null ? null : locator.Locate(ip).Region;

    public string? GeoCity(string? ip) => ip is null ? null : locator.Locate(ip).City;

    public double? GeoLat(string? ip) => ip is null ? null : locator.Locate(ip).Latitude;

    public double? GeoLon(string? ip) => ip is null ? null : locator.Locate(ip).Longitude;

    /// <summary>The method behind a SQL name (upper case), or null.</summary>
    public static System.Reflection.MethodInfo? MethodFor(string upperName) => upperName switch
    {
        "GET_LOCATION" => typeof(GeoFunctions).GetMethod(nameof(GetLocation)),
        "GEO_COUNTRY" => typeof(GeoFunctions).GetMethod(nameof(GeoCountry)),
        "GEO_REGION" => typeof(GeoFunctions).GetMethod(nameof(GeoRegion)),
        "GEO_CITY" => typeof(GeoFunctions).GetMethod(nameof(GeoCity)),
        "GEO_LAT" => typeof(GeoFunctions).GetMethod(nameof(GeoLat)),
        "GEO_LON" => typeof(GeoFunctions).GetMethod(nameof(GeoLon)),
        _ => null,
    };
}

/// <summary>
/// A geolocation function over a remote provider for the async operator: the input is the address, the output the
/// location (the SQL layer picks the JSON or a typed part). A timeout gives <see cref="GeoLocation.Unknown"/>.
/// </summary>
public sealed class AsyncGeoFunction(IAsyncGeoLocator locator) : Eddy.Runtime.IAsyncFunction<string?, GeoLocation>
{
    public Task<GeoLocation> InvokeAsync(string? input, CancellationToken cancellation) => locator.LocateAsync(input, cancellation);

    public GeoLocation Timeout(string? input) => GeoLocation.Unknown;
}
