using System.Text;
using NetlinkFence.Interop;
using NetlinkFence.Interop.Uapi;

namespace NetlinkFence.Policy.Import;

/// <summary>
/// <c>netlinkfence import iptables</c>: turns iptables-save output into a policy that allows and denies the same
/// traffic, or says, line by line, why it cannot.
/// </summary>
public static class IptablesImporter
{
    /// <summary>Rulesets larger than this are refused before parsing.</summary>
    public const int MaxFileBytes = 32 << 20;

    /// <summary>
    /// Reads a ruleset file (a regular file of at most <see cref="MaxFileBytes"/>, UTF-8); throws
    /// <see cref="PolicyException"/> with the location when it cannot.
    /// </summary>
    public static IptablesSource ReadFile(string path) => ReadFile(path, "iptables-save");

    /// <summary>
    /// Reads a saved file the way <see cref="ReadFile(string)"/> does; <paramref name="saveCommand"/> (<c>ipset save</c>,
    /// <c>ip6tables-save</c>) is the command that writes it, named in the messages.
    /// </summary>
    public static IptablesSource ReadFile(string path, string saveCommand)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(saveCommand);
        byte[] bytes;
        try
        {
            bytes = RegularFile.Read(path, MaxFileBytes);
        }
        catch (ErrnoException e)
        {
            throw Single(new SourceLocation(path, 0, 0), e.Errno == (int)Errno.NOENT ? "ruleset file not found" : $"cannot read the ruleset file: {ErrnoException.Describe(e.Errno)} ({e.ErrnoName})",
                $"check the path (the output of {saveCommand} > FILE)", "unreadable");
        }
        catch (NotARegularFileException e)
        {
            throw Single(new SourceLocation(path, 0, 0), $"the ruleset path is {e.Kind}: it must be a regular file", $"save the ruleset first: {saveCommand} > FILE", "not-a-regular-file");
        }
        if (bytes.Length > MaxFileBytes)
            throw Single(new SourceLocation(path, 1, 1), $"ruleset file is larger than {MaxFileBytes >> 20} MiB: not an iptables-save file of one host", "check the path", "file-too-large");
        try
        {
            return new IptablesSource(path, new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes));
        }
        catch (DecoderFallbackException e)
        {
            var (line, column) = PolicyLoader.LineColumnOfByte(bytes, e.Index);
            throw Single(new SourceLocation(path, line, column), $"the file is not text (not valid UTF-8): not {saveCommand} output", $"check the path: import the output of {saveCommand}", "iptables-not-text");
        }
    }

    /// <summary>
    /// Imports the rulesets. Throws <see cref="PolicyException"/> listing every problem: bad input (what
    /// iptables-restore would refuse, unexpanded variables), and, unless <see cref="IptablesImportRequest.Partial"/>,
    /// every line a policy cannot express.
    /// </summary>
    public static IptablesImportResult Import(IptablesImportRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new PolicyRules();
        foreach (var name in request.Defines.Keys.Where(n => !IsShellName(n)))
            errors.Error(new SourceLocation("--define", 0, 0), $"'{IptablesSaveParser.Printable(name)}' is not a shell variable name", "write --define NAME=VALUE with NAME of letters, digits and '_'", "bad-define");
        var ipsets = request.Ipsets is { } saved ? NameVariables(new IpsetSaveParser(saved.Name, errors).Parse(saved.Text), request.Defines) : null;
        var rulesets = new List<IptablesRuleset> { new IptablesSaveParser(request.IPv4.Name, false, request.Defines, errors, ipsets).Parse(request.IPv4.Text) };
        if (request.IPv6 is { } v6)
            rulesets.Add(new IptablesSaveParser(v6.Name, true, request.Defines, errors, ipsets).Parse(v6.Text));
        errors.ThrowIfErrors();

        var plan = new ImportPlan();
        var translator = new IptablesTranslator(plan, errors);
        foreach (var ruleset in rulesets)
            translator.Translate(ruleset);
        translator.Finish();
        errors.ThrowIfErrors();
        // Distinct: the rules one line stands for (a user chain jumped to twice, an ipset of ports) share its reasons.
        var sorted = plan.Unsupported.Distinct().OrderBy(d => d.Location.File, StringComparer.Ordinal).ThenBy(d => d.Location.Line).ThenBy(d => d.Location.Column).ToList();
        plan.Unsupported.Clear();
        plan.Unsupported.AddRange(sorted);
        if (plan.Unsupported.Count > 0 && !request.Partial)
            throw new PolicyException(plan.Unsupported);

        EntryMerger.Merge(plan);
        var writer = new ImportedPolicyWriter(plan, rulesets);
        string body = writer.Write();
        foreach (var unused in request.Defines.Keys.Where(n => !rulesets.Any(r => r.VariableUses.ContainsKey(n))))
            plan.Notes.Add(new PolicyDiagnostic(Severity.Warning, new SourceLocation("--define", 0, 0), $"--define {unused} is not used by the ruleset", "remove it, or check the variable's spelling", "unused-define"));
        foreach (var substituted in rulesets.SelectMany(r => r.VariableUses.Keys).Distinct().Where(n => request.Defines.ContainsKey(n) && !writer.DefinedVariables.Contains(n)))
            plan.Notes.Add(new PolicyDiagnostic(Severity.Info, rulesets.SelectMany(r => r.VariableUses.GetValueOrDefault(substituted) ?? []).First(),
                $"${substituted} is written out as its value: it is not used as a whole address or port list of an imported entry", "", "variable-substituted"));

        EgressPolicy policy;
        try
        {
            policy = PolicyLoader.Load(body, request.PolicyName);
        }
        catch (PolicyException e)
        {
            // The writer made a policy the loader refuses: a bug here, not the user's input.
            throw new InvalidOperationException($"the imported policy does not load: {e.Message}\n{body}", e);
        }
        var lint = PolicyLinter.Lint(policy);
        string yaml = body + new ImportedPolicyWriter(plan, rulesets).Trailer(lint, request.Partial);
        return new IptablesImportResult(yaml, policy, plan.Unsupported, plan.Notes, lint);
    }

    /// <summary>Each set's variable, unique and apart from the --define names (<c>a-b</c> and <c>a_b</c> are both <c>a_b</c> at first).</summary>
    private static IReadOnlyDictionary<string, IpsetSet> NameVariables(IReadOnlyDictionary<string, IpsetSet> sets, IReadOnlyDictionary<string, string> defines)
    {
        var taken = new HashSet<string>(defines.Keys, StringComparer.Ordinal);
        foreach (var set in IpsetLists.Named(sets.Values))
        {
            string variable = taken.Contains(set.Variable) ? "ipset_" + set.Variable : set.Variable;
            for (int n = 2; !taken.Add(variable); n++)
                variable = $"ipset_{set.Variable}_{n}";
            set.Variable = variable;
        }
        return sets;
    }

    private static bool IsShellName(string name) =>
        name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_') && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    private static PolicyException Single(SourceLocation location, string message, string fix, string code) =>
        new([new PolicyDiagnostic(Severity.Error, location, message, fix, code)]);
}
