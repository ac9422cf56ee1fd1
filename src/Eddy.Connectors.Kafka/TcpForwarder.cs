using System.Net;
using System.Net.Sockets;

namespace Eddy.Connectors.Kafka;

/// <summary>
/// Listens on a chosen loopback port and relays each connection to another address. librdkafka 2.0.2's mock cluster
/// always listens on a port of its own choosing; a Kafka client bootstrapped at the chosen port then learns the
/// broker's real address from the metadata and connects there directly (both on loopback).
/// </summary>
public sealed class TcpForwarder : IDisposable
{
    private readonly TcpListener listener;
    private readonly string targetHost;
    private readonly int targetPort;
    private readonly CancellationTokenSource stop = new();
    private readonly Task acceptLoop;

    /// <exception cref="SocketException">The port cannot be bound (in use, or privileged).</exception>
    public TcpForwarder(int port, string target)
    {
        int colon = target.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(target.AsSpan(colon + 1), out targetPort))
            throw new ArgumentException($"'{target}' is not host:port", nameof(target));
        targetHost = target[..colon];
        listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        acceptLoop = AcceptAsync(stop.Token);
    }

    public int Port { get; }

    private async Task AcceptAsync(CancellationToken cancel)
    {
        while (!cancel.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await listener.AcceptTcpClientAsync(cancel).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = RelayAsync(inbound, cancel);
        }
    }

    private async Task RelayAsync(TcpClient inbound, CancellationToken cancel)
    {
        using (inbound)
        using (var outbound = new TcpClient())
        {
            try
            {
                inbound.NoDelay = outbound.NoDelay = true;
                await outbound.ConnectAsync(targetHost, targetPort, cancel).ConfigureAwait(false);
                var a = inbound.GetStream();
                var b = outbound.GetStream();
                // Either side closing ends the pair: Kafka connections are not half-closed.
                await Task.WhenAny(a.CopyToAsync(b, cancel), b.CopyToAsync(a, cancel)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // A dropped client or a stopping forwarder: the other side is closed by the using blocks.
            }
        }
    }

    public void Dispose()
    {
        stop.Cancel();
        listener.Stop();
        try
        {
            acceptLoop.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
            // The loop only ends by cancellation; nothing to report on shutdown.
        }
        stop.Dispose();
    }
}
