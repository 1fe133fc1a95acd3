using System.CommandLine;
using System.Text.Json;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>
/// With <c>--output json</c>, a verb that fails also prints one JSON object on standard output, so a fleet's tooling
/// reads every outcome there: <c>{"error": {"exit", "kind", "message", "diagnostics"?, "failures"?, "policy_still_live"?}}</c>. Standard
/// error keeps the same text as without it, for people and the journal.
/// </summary>
internal static class FailureJson
{
    /// <summary>Whether the verb the command line ran was asked for JSON (<c>import</c>'s --output names a file).</summary>
    public static bool Wanted(ParseResult? parse) =>
        parse is not null && parse.CommandResult.Command.Options.Contains(CommonOptions.Output) && parse.GetValue(CommonOptions.Output) == "json";

    /// <param name="failure">What went wrong.</param>
    /// <param name="exit">The exit code <see cref="ExitCodes.Report"/> chose.</param>
    /// <param name="text">What it wrote to standard error.</param>
    public static void Write(Exception failure, int exit, string text) => Console.WriteLine(Of(failure, exit, text));

    /// <summary>
    /// The JSON <see cref="Write"/> prints, on one line: <c>watch --output json</c> writes a JSON object per line, and
    /// its failure is one more such line.
    /// </summary>
    public static string Of(Exception failure, int exit, string text) => Output.Json(indented: false, body: w =>
    {
        w.WriteStartObject("error");
        w.WriteNumber("exit", exit);
        w.WriteString("kind", ExitCodes.KindOf(exit));
        w.WriteString("message", text.TrimEnd());
        if (failure is PolicyException policy)
        {
            w.WriteStartArray("diagnostics");
            foreach (var diagnostic in policy.Diagnostics)
                Output.WriteDiagnostic(w, diagnostic);
            w.WriteEndArray();
        }
        if (failure is SelfTestFailedException selfTest)
            w.WriteBoolean("policy_still_live", selfTest.PolicyStillLive);
        if ((failure as TransactionRejectedException ?? failure.InnerException as TransactionRejectedException) is { } rejected)
        {
            w.WriteBoolean("failures_incomplete", rejected.FailuresIncomplete);
            w.WriteStartArray("failures");
            foreach (var f in rejected.Failures)
            {
                w.WriteStartObject();
                if (f.OperationIndex >= 0)
                    w.WriteNumber("operation", f.OperationIndex + 1); // 1-based, as the text says it
                else
                    w.WriteNull("operation"); // the batch as a whole
                w.WriteNumber("operations", f.OperationCount);
                w.WriteString("subject", f.Subject);
                w.WriteString("origin", f.Origin);
                w.WriteNumber("errno", f.Error.Errno);
                w.WriteString("errno_name", f.Error.ErrnoName);
                w.WriteString("kernel_message", f.Error.Message);
                w.WriteString("attribute", f.Attribute);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
    });
}
