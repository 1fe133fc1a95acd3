using System.Net.Sockets;

namespace NetlinkFence.Policy;

/// <summary>One <c>by:</c> item whose cgroup changed, as <see cref="LivePolicy.RebindAsync"/> committed it.</summary>
/// <param name="Scope">The unit or cgroup item.</param>
/// <param name="Before">The cgroup id its elements matched before; null: it was absent.</param>
/// <param name="After">The id they match now; null: it is absent now (its elements were removed: nothing is allowed through it).</param>
/// <param name="Note">Why it could not be bound, when it exists at a depth the ruleset has no rule for; else null.</param>
public sealed record ScopeRebind(ServiceScope Scope, GrantScope? Before, GrantScope? After, string? Note = null);

public sealed partial class LivePolicy
{
    /// <summary>
    /// Re-resolves every unit and cgroup <c>by:</c> item on <paramref name="host"/> and moves the elements of each one whose
    /// cgroup id changed (a restarted unit's cgroup is a new directory with a new id) in ONE transaction: its old id's
    /// elements are deleted and the same grants added with the new id. Until then the kernel denies (the old id matches
    /// no socket any more: fail closed). A cgroup that went away loses its elements; its timed grants (open windows,
    /// refreshed names) are kept here and come back with it. Returns what changed (empty: nothing did).
    /// </summary>
    public async Task<IReadOnlyList<ScopeRebind>> RebindAsync(IServiceHost host, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        var rebinds = new List<ScopeRebind>();
        var next = new List<ScopeBinding>();
        foreach (var (scope, binding) in _policy.Scopes.Where(s => s.Key.IsCgroup))
        {
            var now = ScopeResolver.Bind(scope with { WhenAbsentDeny = true }, host, out _, out _);
            if (now is null || now.Current == binding.Current)
                continue;
            if (now.Current is not null && now.Level != binding.Level)
            {
                // The rules load the socket's ancestor at the depths the policy was compiled with.
                rebinds.Add(new ScopeRebind(scope, binding.Current, null,
                    $"{scope} is at {now.CgroupPath} now (depth {now.Level}), not at depth {binding.Level} where it was when the policy was applied: reload the policy to bind it"));
                now = now with { Current = null };
                if (binding.Current is null)
                    continue;
            }
            next.Add(now with { Scope = scope, Level = binding.Level });
            rebinds.Add(rebinds.Count > 0 && rebinds[^1].Scope == scope ? rebinds[^1] : new ScopeRebind(scope, binding.Current, now.Current));
        }
        if (next.Count == 0)
            return rebinds;
        await ChangeAsync(now => next.SelectMany(b => Families.Select(f => Rebind(b, f, now))), "re-bind " + string.Join(", ", next.Select(b => b.Scope)),
            cancellationToken, onCommitted: () =>
            {
                foreach (var binding in next)
                    _policy = _policy.WithBinding(binding.Scope, binding);
            }).ConfigureAwait(false);
        return rebinds;
    }

    /// <summary>The grants of one family to move from <paramref name="binding"/>'s old id to its new one.</summary>
    private SetChange Rebind(ScopeBinding binding, AddressFamily family, DateTimeOffset now)
    {
        var old = _policy.Scopes[binding.Scope].Current;
        var entries = _policy.Policy.Egress.Where(e => e.By.Contains(binding.Scope)).Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
        // Other items may share the old id (two entries naming the same unit): move only this item's entries.
        var held = old is { } o && _models.TryGetValue((family, o), out var model) ? model.Grants.Where(g => entries.Contains(g.Entry)).ToList() : [];
        if (binding.Current is not { } current)
        {
            // Gone: its timed grants (open windows, refreshed names) wait here for it to come back.
            _parked[(binding.Scope, family)] = held.Where(g => g.Expires is not null).ToList();
            return new SetChange(family, [], held);
        }
        var timed = (old is null ? _parked.GetValueOrDefault((binding.Scope, family)) ?? [] : held).Where(g => g.Expires > now);
        _parked.Remove((binding.Scope, family));
        // Permanent grants as the policy gives them (what apply compiles), timed ones carried over.
        var bound = _policy.WithBinding(binding.Scope, binding);
        var permanent = _policy.Policy.Egress.Where(e => e.Window is null && entries.Contains(e.Name))
            .SelectMany(e => EntryGrants(bound, _names, e, family, null));
        var add = permanent.Concat(timed).Select(g => g with { Scope = current }).Distinct().ToList();
        return new SetChange(family, add, held);
    }
}
