using NetlinkFence.Nftables;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>A verb's <see cref="LivePolicy"/> on the live table, with a missing table said in the verb's terms.</summary>
internal static class LiveAttach
{
    /// <summary>
    /// <see cref="LivePolicy.AttachAsync"/>; when the table is not there, a <see cref="MissingTableException"/> (exit 1)
    /// that names the namespace and the apply that makes it, which the library cannot know.
    /// </summary>
    /// <param name="connection">A connection in <paramref name="target"/>.</param>
    /// <param name="policy">The policy, its table the one to act on.</param>
    /// <param name="policyFileTable">The table the policy file names (the policy's table may be <c>--table</c>'s).</param>
    /// <param name="target">The verb's namespace.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    public static async Task<LivePolicy> AttachAsync(NftablesConnection connection, ResolvedPolicy policy, string policyFileTable, TargetNamespace target,
        CancellationToken cancellationToken)
    {
        try
        {
            return await LivePolicy.AttachAsync(connection, policy, cancellationToken);
        }
        catch (LivePolicyException)
        {
            string table = policy.Policy.Table;
            if (await connection.GetTableAsync(NftFamily.Inet, table, cancellationToken) is not null)
                throw; // there, but another policy's: the library's message lists what differs
            string apply = table == policyFileTable
                ? $": '{SuggestedCommand.Of("apply", target.Netns, table: null, policy.Policy.Source)}'"
                : $" (its apply makes table inet {policyFileTable}; --table names {table})";
            throw new MissingTableException($"there is no table inet {table} in {target.Description} (removed, or never applied): apply the policy first{apply}");
        }
    }
}
