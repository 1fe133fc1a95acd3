namespace NetlinkFence.Policy.Import;

/// <summary>One word of an iptables-save line: its text after quote removal, and the 1-based column it starts at.</summary>
internal readonly record struct IptablesToken(string Text, int Column, bool Quoted);
