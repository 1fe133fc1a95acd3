using DotNet.Testcontainers.Networks;

namespace NetlinkFence.IntegrationTests;

/// <summary>Removing a suite's Docker network once its containers are gone.</summary>
internal static class NetworkCleanup
{
    /// <summary>
    /// Deletes and disposes <paramref name="network"/>. Auto-removal of stopped containers finishes a moment after they
    /// stop; until then the network still has endpoints and cannot be deleted, so this retries for about 5 s.
    /// </summary>
    public static async Task DeleteWhenEmptyAsync(INetwork network)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await network.DeleteAsync();
                break;
            }
            catch (Exception) when (attempt < 20)
            {
                await Task.Delay(250);
            }
        }
        await network.DisposeAsync();
    }
}
