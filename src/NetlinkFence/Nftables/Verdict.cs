using NetlinkFence.Interop.Uapi;

namespace NetlinkFence.Nftables;

/// <summary>The verdict codes of nf_tables (netfilter's NF_* and nf_tables' NFT_*).</summary>
public enum VerdictCode
{
    /// <summary><c>drop</c>.</summary>
    Drop = NetfilterVerdict.DROP,
    /// <summary><c>accept</c>.</summary>
    Accept = NetfilterVerdict.ACCEPT,
    /// <summary><c>queue</c>.</summary>
    Queue = NetfilterVerdict.QUEUE,
    /// <summary><c>continue</c>.</summary>
    Continue = NftVerdictCode.CONTINUE,
    /// <summary>break out of the rule.</summary>
    Break = NftVerdictCode.BREAK,
    /// <summary><c>jump CHAIN</c>.</summary>
    Jump = NftVerdictCode.JUMP,
    /// <summary><c>goto CHAIN</c>.</summary>
    Goto = NftVerdictCode.GOTO,
    /// <summary><c>return</c>.</summary>
    Return = NftVerdictCode.RETURN,
}

/// <summary>A verdict, with the target chain for jump and goto.</summary>
/// <param name="Code">The verdict code.</param>
/// <param name="Chain">Target chain of jump/goto, else null.</param>
public sealed record Verdict(VerdictCode Code, string? Chain = null)
{
    /// <summary>The target chain of jump/goto, checked against nf_tables' name limit before anything is encoded.</summary>
    public string? Chain { get; init; } = ValidChain(Chain);

    private static string? ValidChain(string? chain)
    {
        if (chain is not null)
            NftNames.Validate(chain, "chain");
        return chain;
    }

    /// <summary><c>accept</c>.</summary>
    public static Verdict Accept { get; } = new(VerdictCode.Accept);

    /// <summary><c>drop</c>.</summary>
    public static Verdict Drop { get; } = new(VerdictCode.Drop);

    /// <summary><c>return</c>.</summary>
    public static Verdict Return { get; } = new(VerdictCode.Return);

    /// <summary><c>continue</c>.</summary>
    public static Verdict Continue { get; } = new(VerdictCode.Continue);

    /// <summary><c>jump <paramref name="chain"/></c>.</summary>
    public static Verdict JumpTo(string chain) => new(VerdictCode.Jump, chain);

    /// <summary><c>goto <paramref name="chain"/></c>.</summary>
    public static Verdict GotoChain(string chain) => new(VerdictCode.Goto, chain);
}
