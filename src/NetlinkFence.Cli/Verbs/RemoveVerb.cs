using System.CommandLine;
using System.Diagnostics;
using NetlinkFence.Interop;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Nftables;
using NetlinkFence.Nftables.Snapshots;

namespace NetlinkFence.Cli;

/// <summary>
/// <c>netlinkfence remove</c>: deletes the tool's table (and only it), atomically. The table is named the one way every
/// live-table verb names it (<see cref="PolicyTable"/>). A plain delete, not a destroy: the kernel says ENOENT when there
/// is no such table, so the verb never claims to have removed a table that was not there. The table it removed is
/// kept as the rollback point, as an apply keeps the table it replaces, so an accidental <c>remove</c> (which leaves
/// the host unfiltered) is undone by <c>rollback</c>; while an apply waits for its confirmation, that apply's rollback
/// point stays.
/// </summary>
internal static class RemoveVerb
{
    private const int Attempts = 16;

    public static Command Create()
    {
        var command = new Command("remove", "delete the netlinkfence table (other tables are never touched); 'rollback' puts it back").WithPolicyTable();
        command.SetAction((parse, cancellationToken) => ExitCodes.Run(parse, async () =>
        {
            string table = PolicyTable.Resolve(parse);
            using var target = TargetNamespace.Open(parse.GetValue(CommonOptions.NetworkNamespace));
            await using var nft = await target.ConnectAsync(cancellationToken);
            await nft.GetGenerationAsync(cancellationToken); // no CAP_NET_ADMIN: says so before anything else
            await Daemon.HeldByDaemonException.ThrowIfHeldAsync(target, table, "remove", cancellationToken);
            // Lifting the firewall on purpose must not wait on the state directory: without it, no rollback point.
            SafetyState? state = null;
            IDisposable? held = null;
            try
            {
                state = new SafetyState(target, table);
                StateCleanup.RemoveVanished(state);
                held = await state.LockAsync(cancellationToken);
                state.Claim();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or StateFileException)
            {
                Console.Error.WriteLine($"netlinkfence: warning: the state directory {SafetyState.Directory} cannot be used ({e.Message}): "
                    + "the table is removed without keeping it for 'rollback'");
                held?.Dispose();
                (held, state) = (null, null);
            }
            using var _ = held;
            var (removed, listedAt) = await DeleteAsync(nft, target, table, cancellationToken);
            if (removed is null)
            {
                Console.Error.WriteLine($"there was no table inet {table}; nothing to remove");
                return ExitCodes.DriftOrFindings;
            }
            Console.WriteLine($"removed table inet {table}; {Restorer.Unfiltered}");
            if (state is null)
                return ExitCodes.Ok;
            try
            {
                RecordClosedWindows(target, removed);
                if (state.ReadPending() is { } pending)
                    Console.WriteLine($"the unconfirmed apply's rollback point stays the table before it ('{SuggestedCommand.For("rollback", state)}' restores that; "
                        + $"its pending rollback, due at {PendingReport.Due(pending)}, finds the table gone and leaves it so)");
                else if (ApplyVerb.SavePrevious(state, TableSnapshot.Of(NftFamily.Inet, table, removed, listedAt)))
                    Console.WriteLine($"'{SuggestedCommand.For("rollback", state)}' puts it back");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or StateFileException)
            {
                Console.Error.WriteLine($"netlinkfence: warning: the table is removed, but not kept for 'rollback': {e.Message}");
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>
    /// Lists the table, then deletes it at that generation (so the table kept for <c>rollback</c> is exactly the one
    /// removed); another writer's commit in between means reading again. Null when there is no such table.
    /// </summary>
    private static async Task<(TableContents? Removed, long ListedAt)> DeleteAsync(NftablesConnection nft, TargetNamespace target, string table, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            long listedAt = Stopwatch.GetTimestamp();
            uint generation = await nft.GetGenerationAsync(cancellationToken);
            var live = await nft.ListTableAsync(NftFamily.Inet, table, cancellationToken);
            if (live is null)
                return (null, listedAt);
            try
            {
                await nft.CommitAsync(new Transaction().DeleteTable(new Table(NftFamily.Inet, table)), new CommitOptions { ExpectedGeneration = generation }, cancellationToken);
                return (live, listedAt);
            }
            catch (TransactionRejectedException e) when (e.IsGenerationConflict && attempt < Attempts)
            {
            }
            catch (TransactionRejectedException e) when (e.Errno == (int)Errno.NOENT)
            {
                return (null, listedAt);
            }
            catch (TransactionRejectedException e) when (ApplyVerb.OwnedByAnother(e)) // a daemon that started meanwhile
            {
                await Daemon.HeldByDaemonException.ThrowIfHeldAsync(target, table, "remove", cancellationToken, e);
                throw;
            }
        }
    }

    /// <summary>The windows (and other timed elements of an entry) the removed table held open, in the window log.</summary>
    private static void RecordClosedWindows(TargetNamespace target, TableContents removed)
    {
        foreach (var (entry, left) in WindowRecords.OpenIn(removed))
            WindowRecords.Append(target, removed.Table.Name, DirectoryHandle.EffectiveUserId, "close", entry,
                $"closed by remove, which deleted the table (it had {WindowRecords.Seconds(left)} left)");
    }
}
