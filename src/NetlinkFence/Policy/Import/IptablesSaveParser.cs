using System.Text;
using System.Text.RegularExpressions;

namespace NetlinkFence.Policy.Import;

/// <summary>
/// Reads an iptables-save (or ip6tables-save) file into tables, chains and parsed rules. What iptables-restore itself
/// would refuse (no COMMIT, an unknown table, a jump to a chain that does not exist, a bad address or port, an
/// unexpanded shell variable) is an error with file:line:column; what it accepts but a policy cannot say is kept on
/// the rule (<see cref="IptablesRule.Unsupported"/>) for the translator to report.
/// </summary>
internal sealed partial class IptablesSaveParser(string file, bool ipv6, IReadOnlyDictionary<string, string> defines, PolicyRules errors, IReadOnlyDictionary<string, IpsetSet>? ipsets = null)
{
    /// <summary>iptables-restore reads lines into a buffer of this size; anything longer is not iptables-save output.</summary>
    public const int MaxLineLength = 10240;

    private static readonly Dictionary<string, string[]> BuiltInChains = new(StringComparer.Ordinal)
    {
        ["filter"] = ["INPUT", "FORWARD", "OUTPUT"],
        ["nat"] = ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
        ["mangle"] = ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
        ["raw"] = ["PREROUTING", "OUTPUT"],
        ["security"] = ["INPUT", "FORWARD", "OUTPUT"],
    };

    /// <summary>Targets that are not chains: the verdicts, and extensions the importer names but does not translate.</summary>
    internal static readonly HashSet<string> Verdicts = new(StringComparer.Ordinal) { "ACCEPT", "DROP", "REJECT", "LOG", "RETURN" };

    private static readonly HashSet<string> ExtensionTargets = new(StringComparer.Ordinal)
    {
        "QUEUE", "NFQUEUE", "NFLOG", "ULOG", "MARK", "CONNMARK", "CT", "NOTRACK", "TRACE", "AUDIT", "CLASSIFY", "DSCP", "TOS",
        "TCPMSS", "TTL", "HL", "SET", "TEE", "SECMARK", "CONNSECMARK", "CHECKSUM", "IDLETIMER", "LED", "SYNPROXY",
        "SNAT", "DNAT", "MASQUERADE", "REDIRECT", "NETMAP", "TPROXY", "CLUSTERIP", "ECN", "RATEEST", "HMARK", "CONNTRACK",
    };

    [GeneratedRegex(@"\$(?:\{(?<name>[A-Za-z_][A-Za-z0-9_]*)\}|(?<name>[A-Za-z_][A-Za-z0-9_]*)|(?<other>[({]|.|$))")]
    private static partial Regex ShellVariable();

    [GeneratedRegex(@"^\$(?:\{(?<name>[A-Za-z_][A-Za-z0-9_]*)\}|(?<name>[A-Za-z_][A-Za-z0-9_]*))$")]
    private static partial Regex WholeVariable();

    private static readonly System.Buffers.SearchValues<char> DigitsAndDots = System.Buffers.SearchValues.Create("0123456789.");

    private readonly IptablesRuleset _ruleset = new(file, ipv6);

    /// <summary>The sets of the <c>ipset save</c> file, by name; null when the import was given none.</summary>
    private readonly IReadOnlyDictionary<string, IpsetSet>? _ipsets = ipsets;

    public IptablesRuleset Parse(string text)
    {
        IptablesTable? table = null;
        List<string>? pendingComments = null;
        var tokens = new List<IptablesToken>(32);
        int lineNumber = 0, lastLine = 0;
        foreach (var rawLine in Lines(text))
        {
            lineNumber++;
            string line = rawLine.TrimEnd('\r');
            if (line.Length > MaxLineLength)
            {
                Error(lineNumber, 1, $"line is {line.Length:N0} characters long: not iptables-save output (iptables-restore reads lines of at most {MaxLineLength:N0})", "check that this is the file iptables-save wrote", "iptables-line-too-long");
                continue;
            }
            int control = line.AsSpan().IndexOfAnyInRange('\0', '\u0008');
            if (control < 0)
                control = line.AsSpan().IndexOfAnyInRange('\u000b', '\u001f');
            if (control >= 0)
            {
                Error(lineNumber, control + 1, "control character in the line: not iptables-save output", "check that this is the file iptables-save wrote", "iptables-not-text");
                continue;
            }
            string trimmed = line.TrimStart(' ', '\t');
            if (trimmed.Length == 0)
                continue;
            lastLine = lineNumber;
            var source = new IptablesLine(file, lineNumber, line);
            if (trimmed[0] == '#')
            {
                (pendingComments ??= []).Add(trimmed[1..].Trim());
                continue;
            }
            if (pendingComments is not null)
            {
                _ruleset.CommentsBefore[lineNumber] = pendingComments;
                pendingComments = null;
            }
            int indent = line.Length - trimmed.Length;
            if (trimmed[0] == '*')
            {
                if (table is not null)
                    Error(lineNumber, 1, $"table '{table.Name}' (line {table.Header.Number}) has no COMMIT before this next table", "end every table with a COMMIT line, as iptables-save does", "iptables-missing-commit");
                string name = trimmed[1..].Trim();
                table = new IptablesTable(name, source);
                if (!BuiltInChains.ContainsKey(name))
                {
                    Error(lineNumber, indent + 2, $"unknown table '{Printable(name)}'", "iptables has the tables filter, nat, mangle, raw and security", "iptables-unknown-table");
                    table = new IptablesTable("?", source);
                }
                else
                {
                    if (_ruleset.Tables.Any(t => t.Name == name))
                        Error(lineNumber, 1, $"table '{name}' appears twice in the file", "keep one block per table, as iptables-save writes", "iptables-duplicate-table");
                    _ruleset.Tables.Add(table);
                }
                continue;
            }
            if (trimmed == "COMMIT")
            {
                if (table is null)
                    Error(lineNumber, indent + 1, "COMMIT outside a table", "a table starts with a '*filter' line", "iptables-stray-commit");
                else
                    ResolveJumps(table);
                table = null;
                continue;
            }
            if (table is { Name: "?" })
                continue; // inside an unknown table: its header's error says it all
            if (table is null)
            {
                Error(lineNumber, indent + 1, trimmed[0] is ':' or '-' or '[' ? "rule or chain outside a table: no '*filter' line before it" : "not iptables-save syntax (a table starts with '*filter')",
                    "import the output of iptables-save (tables start with '*filter' and end with 'COMMIT')", "iptables-syntax");
                continue;
            }
            if (!IptablesTokenizer.Split(line, tokens, out int unclosed))
            {
                Error(lineNumber, unclosed, "this quote is never closed: iptables-restore would read the rest of the line, target included, as part of the quoted text",
                    "close the quote (inside quotes write \\\" for a quote and \\\\ for a backslash)", "iptables-unclosed-quote");
                continue;
            }
            if (!CheckVariables(source))
                continue;
            if (trimmed[0] == ':')
                DeclareChain(table, source, tokens);
            else
                AddRule(table, source, tokens);
        }
        if (table is not null)
            Error(Math.Max(lastLine, 1), 1, $"the file ends inside table '{table.Name}' (line {table.Header.Number}): no COMMIT, the file is truncated",
                "end the table with a COMMIT line (iptables-restore applies nothing of a table without one)", "iptables-missing-commit");
        if (_ruleset.Tables.Count == 0 && !errors.HasErrors)
            Error(1, 1, "no table in the file: not iptables-save output", "import the output of iptables-save, which starts with '*filter'", "iptables-no-table");
        return _ruleset;
    }

    /// <summary>Lines without building a second copy of a 10 MB file as substrings up front.</summary>
    private static IEnumerable<string> Lines(string text)
    {
        int start = 0;
        while (start <= text.Length)
        {
            int end = text.IndexOf('\n', start);
            if (end < 0)
            {
                if (start < text.Length)
                    yield return text[start..];
                yield break;
            }
            yield return text[start..end];
            start = end + 1;
        }
    }

    /// <summary>Every <c>$NAME</c> and <c>${NAME}</c> must be given with --define; false when one is not.</summary>
    private bool CheckVariables(IptablesLine source)
    {
        if (!source.Text.Contains('$'))
            return true;
        bool ok = true;
        foreach (Match match in ShellVariable().Matches(source.Text))
        {
            var at = source.At(match.Index + 1);
            if (!match.Groups["name"].Success)
            {
                Error(source.Number, match.Index + 1, "shell syntax ('$') in the ruleset: iptables-restore does not expand it",
                    "write the value itself (this importer reads $NAME and ${NAME} with --define NAME=VALUE)", "iptables-shell-syntax");
                ok = false;
                continue;
            }
            string name = match.Groups["name"].Value;
            if (!_ruleset.VariableUses.TryGetValue(name, out var uses))
                _ruleset.VariableUses[name] = uses = [];
            uses.Add(at);
            if (!defines.ContainsKey(name))
            {
                errors.Error(at, $"shell variable ${name} is not expanded: iptables-restore refuses it, and a script that expands it to nothing opens or breaks the rule",
                    $"give its value: --define {name}=VALUE (a list as VALUE,VALUE); it becomes a 'define:' of the policy", "undefined-shell-variable");
                ok = false;
            }
        }
        return ok;
    }

    private string Expand(string text) => text.Contains('$')
        ? ShellVariable().Replace(text, m => m.Groups["name"].Success && defines.TryGetValue(m.Groups["name"].Value, out var value) ? value : m.Value)
        : text;

    private void DeclareChain(IptablesTable table, IptablesLine source, List<IptablesToken> tokens)
    {
        string name = tokens[0].Text[1..];
        if (name.Length == 0 || tokens.Count < 2)
        {
            Error(source.Number, tokens[0].Column, "a chain line is ':NAME POLICY [packets:bytes]'", "write e.g. ':OUTPUT DROP [0:0]'", "iptables-syntax");
            return;
        }
        string policy = tokens[1].Text;
        bool builtIn = table.Name != "?" && BuiltInChains[table.Name].Contains(name);
        if (builtIn ? policy is not ("ACCEPT" or "DROP") : policy != "-")
        {
            Error(source.Number, tokens[1].Column, builtIn ? $"built-in chain {name} has policy '{Printable(policy)}'" : $"user-defined chain {Printable(name)} has a policy ('{Printable(policy)}')",
                builtIn ? "a built-in chain's policy is ACCEPT or DROP" : "a user-defined chain is declared with '-' (':NAME - [0:0]')", "iptables-bad-policy");
            return;
        }
        if (table.Chains.TryGetValue(name, out var existing))
        {
            if (existing.Declared)
            {
                Error(source.Number, tokens[0].Column, $"chain {Printable(name)} is declared twice (first at line {existing.Declaration.Number})", "keep one declaration", "iptables-duplicate-chain");
                return;
            }
            // Rules came first (a hand-written file); the declaration still sets the policy.
            existing.Policy = builtIn ? policy : null;
            existing.Declaration = source;
            existing.Declared = true;
            return;
        }
        var chain = new IptablesChain(name, builtIn ? policy : null, source);
        table.Chains[name] = chain;
        table.ChainOrder.Add(chain);
    }

    private void AddRule(IptablesTable table, IptablesLine source, List<IptablesToken> tokens)
    {
        int i = 0;
        // iptables-save -c writes "[packets:bytes]" before the rule.
        if (tokens[0].Text.StartsWith('[') && tokens[0].Text.EndsWith(']'))
            i++;
        if (i >= tokens.Count || tokens[i].Text is not ("-A" or "--append"))
        {
            var at = i < tokens.Count ? tokens[i] : tokens[0];
            Error(source.Number, at.Column, at.Text.StartsWith('-') && at.Text.Length <= 12
                ? $"'{Printable(at.Text)}' lines are not iptables-save output (it writes only -A rules)"
                : "not iptables-save syntax", "import the output of iptables-save (or write every rule as '-A CHAIN ...')", "iptables-syntax");
            return;
        }
        if (i + 1 >= tokens.Count)
        {
            Error(source.Number, tokens[i].Column, "-A without a chain name", "write '-A CHAIN ...'", "iptables-syntax");
            return;
        }
        string chainName = tokens[i + 1].Text;
        if (!table.Chains.TryGetValue(chainName, out var chain))
        {
            if (table.Name != "?" && BuiltInChains[table.Name].Contains(chainName))
            {
                // iptables-restore creates a built-in chain that is not declared, with policy ACCEPT.
                chain = new IptablesChain(chainName, "ACCEPT", source) { Declared = false };
                table.Chains[chainName] = chain;
                table.ChainOrder.Add(chain);
            }
            else
            {
                Error(source.Number, tokens[i + 1].Column, $"chain {Printable(chainName)} is not declared in table {table.Name}", $"declare it before its rules: ':{Printable(chainName)} - [0:0]'", "iptables-undeclared-chain");
                return;
            }
        }
        var rule = new IptablesRule { Line = source, Chain = chainName };
        new RuleOptions(this, rule, tokens, i + 2).Parse();
        chain.Rules.AddRange(IpsetPortRules.Split(rule));
    }

    /// <summary>At COMMIT: every -j names a verdict, a known extension, or a chain of this table.</summary>
    private void ResolveJumps(IptablesTable table)
    {
        foreach (var chain in table.ChainOrder)
        {
            foreach (var rule in chain.Rules)
            {
                if (rule.Target is not { } target || Verdicts.Contains(target))
                    continue;
                if (table.Chains.TryGetValue(target, out var called))
                {
                    if (called.Policy is not null)
                        Error(rule.Line.Number, rule.TargetColumn, $"-j {target}: a built-in chain cannot be jumped to", "jump to a user-defined chain", "iptables-bad-jump");
                    else
                        rule.TargetIsChain = true;
                }
                else if (ExtensionTargets.Contains(target))
                {
                    rule.Unsupported.Add((rule.TargetColumn, $"target {target} is not a verdict a policy can express"));
                }
                else
                {
                    string? suggestion = PolicyRules.Closest(target, table.Chains.Keys.Concat(Verdicts));
                    Error(rule.Line.Number, rule.TargetColumn, $"-j {Printable(target)}: no chain of that name in table {table.Name} (iptables-restore refuses the file)",
                        suggestion is null ? $"declare ':{Printable(target)} - [0:0]' with its rules, or fix the name" : $"did you mean '{suggestion}'?", "iptables-missing-chain");
                }
            }
        }
    }

    private void Error(int line, int column, string message, string fix, string code) => errors.Error(new SourceLocation(file, line, column), message, fix, code);

    /// <summary>Text from the file, safe to quote in a message (a random file's bytes are not echoed).</summary>
    internal static string Printable(string text)
    {
        var builder = new StringBuilder();
        foreach (char c in text.Length > 40 ? text[..40] : text)
            builder.Append(c is >= ' ' and <= '~' ? c : '?');
        return text.Length > 40 ? builder.Append("...").ToString() : builder.ToString();
    }

    /// <summary>The options of one rule, read left to right the way iptables does.</summary>
    private sealed class RuleOptions(IptablesSaveParser parser, IptablesRule rule, List<IptablesToken> tokens, int start)
    {
        private int _i = start;
        /// <summary>The <c>-m</c> modules named so far: a few per rule, so a list, not a set.</summary>
        private readonly List<string> _matches = new(2);

        public void Parse()
        {
            while (_i < tokens.Count)
            {
                var option = tokens[_i++];
                bool negated = false;
                if (option.Text == "!")
                {
                    if (_i >= tokens.Count)
                    {
                        Bad(option, "'!' at the end of the rule", "put '!' before the option it negates");
                        return;
                    }
                    negated = true;
                    Unsupported(option, "a negated match ('!'): a policy lists what is allowed, never 'all but'");
                    option = tokens[_i++];
                }
                if (!Option(option, negated))
                    return;
            }
        }

        /// <summary>Why a rule matching routing headers is not imported as a condition (a DROP of type 0 is built in instead).</summary>
        internal const string RoutingHeaderReason = "-m rt matches IPv6 routing headers, which a policy has no entries for";

        /// <summary>False when the rest of the line cannot be read.</summary>
        private bool Option(IptablesToken option, bool negated)
        {
            switch (option.Text)
            {
                case "-s" or "--source" or "--src":
                    return Value(option) is { } s && Set(rule.Sources = OneAddressMatch(rule.Sources, Addresses(s), option), option);
                case "-d" or "--destination" or "--dst":
                    return Value(option) is { } d && Set(rule.Destinations = OneAddressMatch(rule.Destinations, Addresses(d), option), option);
                case "--src-range" or "--dst-range":
                    if (!_matches.Contains("iprange"))
                        return Bad(option, $"{option.Text} needs '-m iprange' before it", "add '-m iprange'");
                    if (Value(option) is not { } range)
                        return false;
                    if (option.Text == "--src-range")
                        rule.Sources = OneAddressMatch(rule.Sources, AddressRange(range), option);
                    else
                        rule.Destinations = OneAddressMatch(rule.Destinations, AddressRange(range), option);
                    return true;
                case "-p" or "--protocol":
                    return Value(option) is { } p && Protocol(p);
                case "-i" or "--in-interface":
                    return Value(option) is { } i && Set(rule.InInterface = parser.Expand(i.Text), option);
                case "-o" or "--out-interface":
                    return Value(option) is { } o && Set(rule.OutInterface = parser.Expand(o.Text), option);
                case "-m" or "--match":
                    if (Value(option) is not { } m)
                        return false;
                    _matches.Add(m.Text);
                    if (m.Text is not ("tcp" or "udp" or "icmp" or "icmp6" or "icmpv6" or "state" or "conntrack" or "multiport" or "comment" or "limit" or "hl" or "owner" or "iprange" or "set" or "addrtype" or "rt"))
                        Unsupported(m, $"match '-m {Printable(m.Text)}' is not one the importer understands");
                    return true;
                case "--dport" or "--destination-port" or "--sport" or "--source-port":
                    if (rule.Protocol is not ("tcp" or "udp"))
                        return Bad(option, $"{option.Text} needs '-p tcp' or '-p udp' before it", "add the protocol (iptables-restore refuses the rule without it)");
                    if (Value(option) is not { } port)
                        return false;
                    var single = Ports(port, multi: false);
                    if (option.Text.Contains("dport") || option.Text.Contains("destination"))
                        rule.DestinationPorts = single;
                    else
                        rule.SourcePorts = single;
                    return true;
                case "--dports" or "--destination-ports" or "--sports" or "--source-ports" or "--ports":
                    if (!_matches.Contains("multiport"))
                        return Bad(option, $"{option.Text} needs '-m multiport' before it", "add '-m multiport'");
                    if (rule.Protocol is not ("tcp" or "udp"))
                        return Bad(option, "-m multiport needs '-p tcp' or '-p udp'", "add the protocol");
                    if (Value(option) is not { } ports)
                        return false;
                    if (option.Text == "--ports")
                        Unsupported(option, "--ports matches source or destination port");
                    else if (option.Text.Contains("dports") || option.Text.Contains("destination"))
                        rule.DestinationPorts = Ports(ports, multi: true);
                    else
                        rule.SourcePorts = Ports(ports, multi: true);
                    return true;
                case "--match-set":
                    if (!_matches.Contains("set"))
                        return Bad(option, $"{option.Text} needs '-m set' before it", "add '-m set'");
                    if (Value(option) is not { } setName || Value(option) is not { } flags)
                        return false;
                    MatchSet(option, setName, flags);
                    return true;
                case "--state" or "--ctstate":
                    if (!_matches.Contains(option.Text == "--state" ? "state" : "conntrack"))
                        return Bad(option, $"{option.Text} needs '-m {(option.Text == "--state" ? "state" : "conntrack")}' before it", "add the match");
                    return Value(option) is { } states && States(states);
                case "--dst-type":
                    if (!_matches.Contains("addrtype"))
                        return Bad(option, "--dst-type needs '-m addrtype' before it", "add the match");
                    if (Value(option) is not { } types)
                        return false;
                    rule.DestinationTypes = types.Text.ToUpperInvariant().Split(',');
                    Unsupported(option, AddressTypeReturns.Reason);
                    return true;
                case "--rt-type":
                    if (!_matches.Contains("rt"))
                        return Bad(option, "--rt-type needs '-m rt' before it", "add the match");
                    if (Value(option) is not { } routingType)
                        return false;
                    if (!byte.TryParse(routingType.Text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out byte routing))
                        return Bad(routingType, $"routing header type '{Printable(routingType.Text)}' is not a number from 0 to 255", "give --rt-type a number from 0 to 255");
                    rule.RoutingHeaderZero = routing == 0 && !negated && parser._ruleset.IPv6;
                    Unsupported(option, RoutingHeaderReason);
                    return true;
                case "--comment":
                    if (Value(option) is not { } comment)
                        return false;
                    rule.Comment = parser.Expand(comment.Text);
                    return true;
                case "--limit":
                    if (Value(option) is not { } limit)
                        return false;
                    rule.Limit = Rate(limit);
                    return true;
                case "--limit-burst":
                    if (Value(option) is not { } burst)
                        return false;
                    rule.LimitBurst = burst.Text;
                    return true;
                case "--icmp-type" or "--icmpv6-type":
                    if (Value(option) is not { } type)
                        return false;
                    rule.IcmpType = type.Text;
                    return true;
                case "--uid-owner":
                    if (!_matches.Contains("owner"))
                        return Bad(option, "--uid-owner needs '-m owner' before it", "add '-m owner'");
                    return Value(option) is { } owner && UidOwner(owner);
                case "--hl-eq":
                    if (!_matches.Contains("hl"))
                        return Bad(option, "--hl-eq needs '-m hl' before it", "add '-m hl'");
                    if (Value(option) is not { } hopLimit)
                        return false;
                    if (!byte.TryParse(hopLimit.Text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
                        return Bad(hopLimit, $"hop limit '{Printable(hopLimit.Text)}' is not a number from 0 to 255", "give --hl-eq a number from 0 to 255");
                    rule.HopLimit = hopLimit.Text;
                    return true;
                case "-j" or "--jump":
                    if (Value(option) is not { } target)
                        return false;
                    rule.Target = target.Text;
                    rule.TargetColumn = target.Column;
                    return true;
                case "-g" or "--goto":
                    if (Value(option) is not { } gotoTarget)
                        return false;
                    rule.Target = gotoTarget.Text;
                    rule.TargetColumn = gotoTarget.Column;
                    Unsupported(option, "-g (goto) does not come back to the calling chain");
                    return true;
                case "--log-prefix":
                    if (Value(option) is not { } prefix)
                        return false;
                    rule.LogPrefix = parser.Expand(prefix.Text);
                    return true;
                case "--log-level" or "--nflog-group" or "--nflog-prefix" or "--nflog-range" or "--nflog-size" or "--nflog-threshold":
                    if (Value(option) is not { } level)
                        return false;
                    rule.Ignored.Add($"{option.Text} {level.Text}");
                    return true;
                case "--log-tcp-sequence" or "--log-tcp-options" or "--log-ip-options" or "--log-uid" or "--log-macdecode":
                    rule.Ignored.Add(option.Text);
                    return true;
                case "--reject-with":
                    if (Value(option) is not { } with)
                        return false;
                    rule.RejectWith = with.Text;
                    return true;
                case "-c" or "--set-counters":
                    _i += 2;
                    return true;
                default:
                    if (!option.Text.StartsWith('-'))
                        return Bad(option, $"'{Printable(option.Text)}' is not an option", "options start with '-' (a value with spaces must be in double quotes)");
                    Unsupported(option, $"option '{Printable(option.Text)}' is not one the importer understands");
                    // Its values, if any, up to the next option.
                    while (_i < tokens.Count && !tokens[_i].Text.StartsWith('-') && tokens[_i].Text != "!")
                        _i++;
                    return true;
            }
        }

        private static bool Set<T>(T _, IptablesToken __) => true;

        /// <summary>A uid (<c>1000</c>, or the range <c>1000-1000</c> of one) or a user name; a range of several is one <c>by:</c> item per uid, not imported.</summary>
        private bool UidOwner(IptablesToken value)
        {
            string text = parser.Expand(value.Text);
            int dash = text.IndexOf('-');
            if (dash > 0 && ParsesAsUid(text[..dash]) && ParsesAsUid(text[(dash + 1)..]))
            {
                if (text[..dash] != text[(dash + 1)..])
                    Unsupported(value, $"--uid-owner {Printable(text)} matches a range of users: a policy's 'by:' names each user ('uid: N')");
                text = text[..dash];
            }
            else if (!ParsesAsUid(text) && !ScopeSyntax.IsUserName(text))
                return Bad(value, $"'{Printable(text)}' is neither a uid nor a user name", "give --uid-owner a number or an account's login name");
            rule.UidOwner = text;
            return true;
        }

        // uint.MaxValue is (uid_t)-1, "no user": never a socket's owner, and 'by:' refuses it.
        private static bool ParsesAsUid(string text) =>
            uint.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out uint uid) && uid != uint.MaxValue;

        private IptablesToken? Value(IptablesToken option)
        {
            if (_i < tokens.Count)
                return tokens[_i++];
            Bad(option, $"{option.Text} has no value", "give the value after the option");
            return null;
        }

        private bool Protocol(IptablesToken token)
        {
            string text = parser.Expand(token.Text).ToLowerInvariant();
            rule.Protocol = text switch
            {
                "tcp" or "6" => "tcp",
                "udp" or "17" => "udp",
                "icmp" or "1" => "icmp",
                "ipv6-icmp" or "icmpv6" or "58" => "ipv6-icmp",
                "all" or "0" => null,
                _ => "?",
            };
            if (rule.Protocol == "?")
            {
                Unsupported(token, $"protocol '{Printable(text)}' (only tcp, udp, icmp and ipv6-icmp are understood)");
            }
            else if (rule.Protocol == "icmp" && parser._ruleset.IPv6 || rule.Protocol == "ipv6-icmp" && !parser._ruleset.IPv6)
            {
                Unsupported(token, $"-p {text} in an {(parser._ruleset.IPv6 ? "ip6tables" : "iptables")} file never matches");
            }
            return true;
        }

        private List<AddressItem> Addresses(IptablesToken token)
        {
            var items = new List<AddressItem>();
            int column = token.Column;
            foreach (string part in Items(token.Text))
            {
                string? variable = VariableOf(part);
                string expanded = parser.Expand(part);
                var networks = new List<System.Net.IPNetwork>(1);
                foreach (string text in Items(expanded))
                {
                    if (IptablesValues.Network(text.Trim(), parser._ruleset.IPv6, out string? error) is { } network)
                        networks.Add(network);
                    else
                        Bad(token, variable is null ? error! : $"${variable} = '{Printable(expanded)}': {error}", "write an address or CIDR of the file's family" + (variable is null ? "" : $" in --define {variable}=..."), column);
                }
                if (networks.Count > 0)
                    items.Add(new AddressItem(variable is null ? Spelling(expanded, networks) : "$" + variable, networks, variable));
                column += part.Length + 1;
            }
            return items;
        }

        /// <summary>
        /// <c>-d</c> and <c>--dst-range</c> in one rule match where they overlap; a policy entry has one list of
        /// destinations, so that rule is not imported (the same for sources).
        /// </summary>
        private List<AddressItem> OneAddressMatch(IReadOnlyList<AddressItem>? earlier, List<AddressItem> items, IptablesToken option)
        {
            if (earlier is not null)
                Unsupported(option, "two address matches on the same side (-d, --dst-range, --match-set ... dst) match only where they overlap");
            return items;
        }

        /// <summary>
        /// <c>-m set --match-set NAME dst</c> (or <c>src</c>): the members of that set, from the <c>ipset save</c> file,
        /// as the rule's destinations (sources), named in the policy by a <c>define:</c> variable.
        /// </summary>
        private void MatchSet(IptablesToken option, IptablesToken nameToken, IptablesToken flags)
        {
            string name = parser.Expand(nameToken.Text);
            if (parser._ipsets is null || !parser._ipsets.TryGetValue(name, out var set))
            {
                parser.Error(rule.Line.Number, nameToken.Column, parser._ipsets is null
                    ? $"the rule matches ipset '{Printable(name)}', whose members iptables-save does not hold"
                    : $"ipset '{Printable(name)}' is not in the ipset file",
                    "give its members with --ipset FILE, the output of `ipset save` on the same host", "ipset-missing");
                return;
            }
            set = IpsetLists.Matched(set, parser._ruleset.IPv6);
            if (set.IPv6 != parser._ruleset.IPv6)
            {
                Bad(nameToken, $"ipset '{Printable(name)}' is of family {(set.IPv6 ? "inet6" : "inet")}, in an {(parser._ruleset.IPv6 ? "ip6tables" : "iptables")} file (the kernel refuses the rule)",
                    "match a set of the file's family");
                return;
            }
            if (set.Unsupported is { } reason)
            {
                Unsupported(nameToken, $"ipset '{Printable(name)}' ({set.Declaration}): {reason}");
                return;
            }
            if (set.HasPorts)
            {
                MatchPortSet(option, nameToken, flags, set);
                return;
            }
            if (flags.Text is not ("dst" or "src"))
            {
                Unsupported(flags, $"--match-set {Printable(name)} {Printable(flags.Text)}: a set of type {set.Type} holds one address per member; the importer reads 'src' or 'dst'");
                return;
            }
            if (set.Members.Count == 0)
            {
                Unsupported(nameToken, $"ipset '{Printable(name)}' ({set.Declaration}) has no members: the rule matches nothing");
                return;
            }
            parser._ruleset.Ipsets[set.Variable] = set;
            if (!parser._ruleset.VariableUses.TryGetValue(set.Variable, out var uses))
                parser._ruleset.VariableUses[set.Variable] = uses = [];
            uses.Add(rule.Line.At(nameToken.Column));
            List<AddressItem> members = [new AddressItem("$" + set.Variable, set.Members, set.Variable)];
            if (flags.Text == "dst")
                rule.Destinations = OneAddressMatch(rule.Destinations, members, option);
            else
                rule.Sources = OneAddressMatch(rule.Sources, members, option);
        }

        /// <summary>
        /// <c>--match-set NAME dst,dst</c> (OUTPUT) or <c>src,dst</c> (INPUT) of a hash:ip,port or hash:net,port set:
        /// the address side is checked here like an address set's, and the line is split into rules by protocol and
        /// port once the whole line is read (<see cref="IpsetPortRules.Split"/>: a <c>-p</c> may follow the match).
        /// </summary>
        private void MatchPortSet(IptablesToken option, IptablesToken nameToken, IptablesToken flags, IpsetSet set)
        {
            string name = Printable(set.Name);
            string[] sides = flags.Text.Split(',');
            if (sides.Length != 2 || sides.Any(side => side is not ("src" or "dst")))
            {
                Unsupported(flags, $"--match-set {name} {Printable(flags.Text)}: each member of a {set.Type} set is an address and a port; the importer reads 'dst,dst' (OUTPUT) and 'src,dst' (INPUT)");
                return;
            }
            if (set.Count == 0)
            {
                Unsupported(nameToken, $"ipset '{name}' ({set.Declaration}) has no members: the rule matches nothing");
                return;
            }
            rule.SetPorts = new IptablesSetPorts(set, sides[0] == "src", sides[1] == "src", nameToken.Column);
            List<AddressItem> addresses = [new AddressItem(set.Name, set.PortMembers.Select(m => m.Network).Distinct().ToList())];
            if (sides[0] == "dst")
                rule.Destinations = OneAddressMatch(rule.Destinations, addresses, option);
            else
                rule.Sources = OneAddressMatch(rule.Sources, addresses, option);
        }

        private List<AddressItem> AddressRange(IptablesToken token)
        {
            string text = parser.Expand(token.Text);
            if (IptablesValues.AddressRange(text, parser._ruleset.IPv6, out string? error) is not { } networks)
            {
                Bad(token, error!, "write the range as iptables-save does: FIRST-LAST, two addresses of the file's family");
                return [];
            }
            if (networks.Count == 0)
                Unsupported(token, $"the range {Printable(text)} is reversed: iptables loads it and it never matches");
            return networks.Count == 0 ? [] : [new AddressItem(text, networks, Range: true)];
        }

        private List<PortItem> Ports(IptablesToken token, bool multi)
        {
            var items = new List<PortItem>();
            string[] parts = multi ? token.Text.Split(',') : [token.Text];
            foreach (string part in parts)
            {
                string? variable = VariableOf(part);
                string expanded = parser.Expand(part);
                var ranges = new List<(int, int)>(1);
                foreach (string text in Items(expanded))
                {
                    if (IptablesValues.PortRange(text.Trim(), out string? error) is { } range)
                        ranges.Add(range);
                    else
                        Bad(token, variable is null ? error! : $"${variable} = '{Printable(expanded)}': {error}", "write a port (443) or a range (8000:8100)");
                }
                if (ranges.Count > 0)
                    items.Add(new PortItem(variable is null ? part : "$" + variable, ranges, variable));
            }
            if (!multi && parts.Length == 1 && items.Count == 1 && items[0].Ranges.Count > 1)
                Unsupported(token, "--dport/--sport take one port or range; a list needs -m multiport");
            return items;
        }

        private bool States(IptablesToken token)
        {
            var states = ConnState.None;
            foreach (string name in token.Text.Split(','))
            {
                var state = name.ToUpperInvariant() switch
                {
                    "NEW" => ConnState.New,
                    "ESTABLISHED" => ConnState.Established,
                    "RELATED" => ConnState.Related,
                    "INVALID" => ConnState.Invalid,
                    "UNTRACKED" => ConnState.Untracked,
                    "SNAT" => ConnState.Snat,
                    "DNAT" => ConnState.Dnat,
                    _ => ConnState.None,
                };
                if (state == ConnState.None)
                    return Bad(token, $"unknown connection state '{Printable(name)}'", "states are NEW, ESTABLISHED, RELATED, INVALID, UNTRACKED (and SNAT, DNAT with conntrack)");
                states |= state;
            }
            rule.States = rule.States is { } earlier ? earlier & states : states;
            return true;
        }

        private (ulong, ulong)? Rate(IptablesToken token)
        {
            if (IptablesValues.Rate(token.Text) is { } rate)
                return rate;
            Bad(token, $"--limit '{Printable(token.Text)}' is not a rate", "write N/second, N/minute, N/hour or N/day (iptables-save writes 10/sec)");
            return null;
        }

        /// <summary>How the policy writes the networks: the file's own text when that is already the canonical form (a plain IPv4 address, the usual case).</summary>
        private static string Spelling(string text, List<System.Net.IPNetwork> networks) =>
            networks.Count == 1 && !text.AsSpan().ContainsAnyExcept(DigitsAndDots) ? text : string.Join(",", networks.Select(IptablesValues.Format));

        /// <summary>The name when the text is one whole <c>$NAME</c> or <c>${NAME}</c>.</summary>
        private static string? VariableOf(string part) =>
            part.Contains('$') && WholeVariable().Match(part) is { Success: true } whole ? whole.Groups["name"].Value : null;

        /// <summary>A comma list's items; the text itself when it has no comma (nearly every value), without an array.</summary>
        private static IEnumerable<string> Items(string text) => text.Contains(',') ? text.Split(',') : [text];

        private void Unsupported(IptablesToken token, string reason) => rule.Unsupported.Add((token.Column, reason));

        private bool Bad(IptablesToken token, string message, string fix, int? column = null)
        {
            parser.Error(rule.Line.Number, column ?? token.Column, message, fix, "iptables-bad-value");
            return false;
        }
    }
}
