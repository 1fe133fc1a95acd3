using System.Net;
using System.Text.Json;
using NetlinkFence.Nftables.Rendering;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>
/// What <c>plan</c> says about the policy's <c>selftest:</c>: each flow apply will try, with the verdict the compiled
/// policy gives it (<see cref="FlowExplainer"/>), so a reviewer sees before any commit which flow would fail the test
/// and roll the apply back. <c>apply</c> uses the same verdicts to refuse, before the commit, a deny flow the plan lets
/// through.
/// </summary>
internal static class SelfTestPreview
{
    /// <summary>
    /// One flow: as written, the flow tried (null for a name with no address, which stops apply), what the test
    /// expects, and what the compiled policy does with it.
    /// </summary>
    public sealed record Flow(bool MustPass, string Written, ExpectedFlow? Tried, FlowVerdict Verdict)
    {
        public bool AsExpected => Tried is not null && Verdict.Allowed == MustPass;

        /// <summary>A deny flow the plan itself lets through: apply refuses the policy before the commit.</summary>
        public bool Leaks => !MustPass && Tried is not null && Verdict.Allowed;
    }

    /// <summary>The policy's own <c>selftest:</c>, as <c>plan</c> shows it.</summary>
    public static List<Flow> Of(CompiledPolicy compiled, IReadOnlyCollection<IPAddress> hostAddresses) => Of(compiled, compiled.Source.Policy.SelfTest, hostAddresses);

    /// <summary>
    /// <paramref name="test"/>'s flows (apply's: the policy's and the command line's), each with the plan's verdict; a
    /// flow to one of <paramref name="hostAddresses"/> (the namespace's own) goes over loopback, which every policy allows.
    /// </summary>
    public static List<Flow> Of(CompiledPolicy compiled, SelfTest test, IReadOnlyCollection<IPAddress> hostAddresses)
    {
        var flows = new List<Flow>();
        Add(true, test.Allow, test.NamedAllow);
        Add(false, test.Deny, test.NamedDeny);
        return flows;

        void Add(bool mustPass, IReadOnlyList<ExpectedFlow> addresses, IReadOnlyList<string> named)
        {
            foreach (var flow in addresses)
                flows.Add(new Flow(mustPass, flow.ToString(), flow, Explain(flow)));
            foreach (string text in named)
            {
                IReadOnlyList<ExpectedFlow> expanded;
                try
                {
                    expanded = ExpectedFlow.Parse(text, compiled.Source);
                }
                catch (InvalidInputException e)
                {
                    flows.Add(new Flow(mustPass, text, null, new FlowVerdict(false, $"{e.Message}; apply stops before the commit")));
                    continue;
                }
                foreach (var flow in expanded)
                    flows.Add(new Flow(mustPass, text, flow, Explain(flow)));
            }
        }

        FlowVerdict Explain(ExpectedFlow flow) => FlowExplainer.Explain(compiled, flow.Protocol, flow.Address, flow.Port, hostAddresses);
    }

    public static void WriteText(TextWriter output, IReadOnlyList<Flow> flows)
    {
        if (flows.Count == 0)
            return;
        int failing = flows.Count(f => !f.AsExpected);
        output.WriteLine($"# self-test after apply ({flows.Count} flow{(flows.Count == 1 ? "" : "s")}, tried from inside the namespace; a failure puts the previous table back)"
            + (failing == 0 ? ":" : $": {failing} WOULD FAIL against this plan"));
        foreach (var flow in flows)
        {
            string tried = flow.Tried is null || flow.Written == flow.Tried.ToString() ? flow.Written : $"{flow.Written} ({flow.Tried.Address})";
            output.WriteLine("#   " + NftRenderer.CommentText($"{(flow.MustPass ? "allow" : "deny ")} {tried}: {flow.Verdict.Reason}"
                + (flow.AsExpected || flow.Tried is null ? ""
                    : flow.Leaks ? " -- FAILS: the test expects it denied (apply refuses the policy before the commit)"
                    : " -- FAILS: the test expects it allowed")));
        }
    }

    public static void WriteJson(Utf8JsonWriter w, IReadOnlyList<Flow> flows)
    {
        w.WriteStartArray("selftest");
        foreach (var flow in flows)
        {
            w.WriteStartObject();
            w.WriteString("expect", flow.MustPass ? "allow" : "deny");
            w.WriteString("written", flow.Written);
            if (flow.Tried is null)
                w.WriteNull("flow");
            else
                w.WriteString("flow", flow.Tried.ToString());
            w.WriteBoolean("allowed", flow.Verdict.Allowed);
            w.WriteBoolean("as_expected", flow.AsExpected);
            w.WriteString("reason", flow.Verdict.Reason);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }
}
