using NetlinkFence.Nftables;

namespace NetlinkFence.Policy.Layout;

/// <summary>
/// The element changes of one allow-set change, for ONE transaction: delete <see cref="Remove"/> first, then add
/// <see cref="Add"/> (an element whose contributors changed is in both: its comment and grant list are userdata,
/// which the kernel does not update on a re-add). Deleting then adding the same key in one batch is accepted by the
/// kernel's pipapo set (the deleted element is inactive in the next generation when the add checks overlaps).
/// </summary>
/// <param name="Remove">Elements to delete (key and key end only).</param>
/// <param name="Add">Elements to add, with timeout and userdata.</param>
internal sealed record ElementDelta(IReadOnlyList<SetElement> Remove, IReadOnlyList<SetElement> Add)
{
    /// <summary>True when nothing changes.</summary>
    public bool IsEmpty => Remove.Count == 0 && Add.Count == 0;
}
