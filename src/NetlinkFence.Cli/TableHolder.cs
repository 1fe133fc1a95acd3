using System.Text.Json;
using NetlinkFence.Nftables;

namespace NetlinkFence.Cli;

/// <summary>The <c>netlinkfence run</c> daemon that answered on the table's control socket, as it describes itself.</summary>
/// <param name="Pid">Its process id.</param>
/// <param name="Mode">owner (the kernel refuses other processes' changes) or watch (the daemon repairs them).</param>
/// <param name="Policy">The policy file it runs, by its absolute path.</param>
/// <param name="Forwarding">How its denial forwarding is doing; null without <c>log.remote</c> (or from an older daemon).</param>
internal sealed record RunningDaemon(int? Pid, string? Mode, string? Policy, Daemon.ForwardingHealth? Forwarding = null);

/// <summary>
/// What keeps a live table as it is (<c>status</c>): the kernel's owner flag, which makes it refuse every other socket's
/// change and makes <c>nft flush ruleset</c> skip the table, and the daemon, if one holds it. A table nobody owns is an
/// ordinary table: any root process may change or delete it, and Debian's nftables.service (its /etc/nftables.conf
/// starts with <c>flush ruleset</c>) deletes it at each start and reload, which leaves the host unfiltered.
/// </summary>
/// <param name="Owned">The kernel holds the table with the owner flag.</param>
/// <param name="OwnerPort">The netlink port id of the owning socket (when owned).</param>
/// <param name="Daemon">The daemon that answered on the table's control socket; null when none did.</param>
/// <param name="AppliedBy">The build the table names (its comment); null when it names none.</param>
internal sealed record TableHolder(bool Owned, uint? OwnerPort, RunningDaemon? Daemon, string? AppliedBy)
{
    public static TableHolder Of(Table table, RunningDaemon? daemon) =>
        new(table.IsOwned, table.Owner, daemon, table.Comment);

    /// <summary>One line for <c>status</c>, saying who may change the table and what deletes it.</summary>
    public string Describe(string table)
    {
        string prefix = $"table inet {table}: ";
        string daemon = Daemon is null ? "" : $"the daemon (pid {Daemon.Pid?.ToString() ?? "?"}, policy {Daemon.Policy ?? "?"})";
        return (Owned, Daemon) switch
        {
            (true, not null) => prefix + $"owned by {daemon}: no other process, root 'nft' included, can change or delete it, and 'nft flush ruleset' leaves it alone",
            (false, not null) => prefix + $"held by {daemon} in watch mode, without owning it: another process's change, "
                + "a deletion included, is repaired as soon as the daemon sees it",
            (true, null) => prefix + $"owned by netlink port {OwnerPort?.ToString() ?? "?"}, which is not a 'netlinkfence run' daemon of this state directory "
                + "(an agent embedding the library?): only that socket can change it",
            (false, null) => prefix + "no daemon holds it: any root process can change or delete it, and 'nft flush ruleset' deletes it "
                + "(Debian's nftables.service runs one at each start and reload), leaving the host unfiltered; 'netlinkfence run' owns it",
        };
    }

    /// <summary>The JSON fields of <c>status --output json</c>: <c>owned</c>, <c>applied_by</c>, <c>owner_port</c> when owned, <c>daemon</c> when one answered.</summary>
    public void Write(Utf8JsonWriter w)
    {
        w.WriteBoolean("owned", Owned);
        w.WriteString("applied_by", AppliedBy);
        if (Owned && OwnerPort is { } port)
            w.WriteNumber("owner_port", port);
        if (Daemon is null)
            return;
        w.WriteStartObject("daemon");
        if (Daemon.Pid is { } pid)
            w.WriteNumber("pid", pid);
        if (Daemon.Mode is { } mode)
            w.WriteString("mode", mode);
        if (Daemon.Policy is { } policy)
            w.WriteString("policy", policy);
        if (Daemon.Forwarding is { } forwarding)
        {
            w.WritePropertyName("forwarding"); // as the daemon answered it: one place for its JSON names
            JsonSerializer.Serialize(w, forwarding, Cli.Daemon.ControlJsonContext.Default.ForwardingHealth);
        }
        w.WriteEndObject();
    }
}
