namespace NetlinkFence.Cli;

/// <summary>The sentences that say where a pending rollback stands, shared by apply, confirm and rollback.</summary>
internal static class PendingReport
{
    /// <summary>Whether the waiter recorded in <paramref name="pending"/> still runs (same pid and start time).</summary>
    public static bool WaiterAlive(PendingConfirm pending) => pending.Waiter is { IsAlive: true };

    /// <summary>Says that the waiter is gone and nothing will roll back the unconfirmed table.</summary>
    public static string WaiterGone(SafetyState state, PendingConfirm pending)
    {
        string last = state.LastLogLine();
        return $"the rollback waiter{(pending.Waiter is { } w ? $" (process {w.Pid})" : "")} is gone (killed, or the machine's process was stopped hard; "
            + $"its log: {state.LogPath}{(last.Length > 0 ? $", last: {last}" : "")}): the unconfirmed table inet {state.Table} is live, nothing rolled it back, and nothing will";
    }

    public static string Due(PendingConfirm pending) => $"{pending.Deadline.ToLocalTime():HH:mm:ss}";

    /// <summary>Why a plain apply is refused while a confirmation is pending.</summary>
    public static string RefuseApply(SafetyState state, PendingConfirm pending)
    {
        string status = WaiterAlive(pending)
            ? $"an earlier 'apply --confirm-within' of table inet {state.Table} is waiting for confirmation (the rollback is due at {Due(pending)})"
            : $"an earlier 'apply --confirm-within' of table inet {state.Table} was never confirmed, and {WaiterGone(state, pending)}";
        return $"{status}; nothing was changed. Run '{SuggestedCommand.For("confirm", state)}' to keep it first, "
            + $"'{SuggestedCommand.For("rollback", state)}' to undo it, "
            + "or apply with --confirm-within to replace it (the rollback point stays the table before the unconfirmed apply)";
    }
}
