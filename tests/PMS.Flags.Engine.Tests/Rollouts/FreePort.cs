using System.Net;
using System.Net.Sockets;

namespace PMS.Flags.Engine.Tests.Rollouts;

/// <summary>A loopback port nothing listens on right now (the OS picks it, then it is released).</summary>
internal static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
