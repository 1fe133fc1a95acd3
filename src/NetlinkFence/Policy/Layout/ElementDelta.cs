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
/// <param name="Refresh">
/// Elements the set holds whose timeout alone moves (a DNS refresh), each with its new timeout: sent as additions
/// without NLM_F_EXCL, with timeout and expiration (<see cref="Transaction.RetimeElements"/>), which kernels 6.10+
/// apply to the element in place (its counter and userdata stay, the set's lookup structure is not touched). Empty
/// when the model was asked not to (older kernels ignore such an addition). The model refills it on its next change.
/// </param>
internal sealed record ElementDelta(IReadOnlyList<SetElement> Remove, IReadOnlyList<SetElement> Add, RetimedElements Refresh)
{
    /// <summary>True when nothing changes.</summary>
    public bool IsEmpty => Remove.Count == 0 && Add.Count == 0 && Refresh.Count == 0;
}
