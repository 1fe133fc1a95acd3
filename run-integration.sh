#!/usr/bin/env bash
# End-to-end checks of the CLI as a user runs it, in a throwaway agent/world namespace pair (the privileged
# Docker suite of issue 4 is not written yet): apply the example, let nft (an independent oracle) list it,
# probe allowed and denied flows, verify removal. Ends with "tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")"
source scripts/prerequisites.sh iproute2 nftables

passed=0 failed=0
check() {
    local name=$1; shift
    if "$@" >/dev/null 2>&1; then passed=$((passed + 1)); echo "ok: $name"; else failed=$((failed + 1)); echo "FAILED: $name"; fi
}

if ! dotnet build src/NetlinkFence.Cli -c Release -v quiet -nologo >/dev/null; then
    echo "tests: 0 passed, 1 failed"
    exit 1
fi
netlinkfence() { dotnet src/NetlinkFence.Cli/bin/Release/net10.0/NetlinkFence.Cli.dll "$@"; }

agent="nlf-it-agent-$$" world="nlf-it-world-$$"
cleanup() { ip netns del "$agent" 2>/dev/null; ip netns del "$world" 2>/dev/null; }
trap cleanup EXIT
ip netns add "$agent" && ip netns add "$world"
ip link add nlfia$$ netns "$agent" type veth peer name nlfiw$$ netns "$world"
ip -n "$agent" link set lo up && ip -n "$agent" link set nlfia$$ up && ip -n "$world" link set nlfiw$$ up
ip -n "$agent" addr add 203.0.113.2/24 dev nlfia$$ && ip -n "$agent" route add default dev nlfia$$
for address in 203.0.113.50 192.168.1.10 192.168.1.20 198.51.100.7; do ip -n "$world" addr add "$address/32" dev nlfiw$$; done
ip -n "$world" route add default dev nlfiw$$

policy=examples/ironclaw-agent.yaml
check "apply exits 0" netlinkfence apply "$policy" --netns "$agent"
listing=$(ip netns exec "$agent" nft list table inet netlinkfence 2>&1)
check "nft lists a default-drop output chain" grep -q "type filter hook output priority filter; policy drop;" <<<"$listing"
check "nft lists the ironclaw-control rule" grep -q 'ip daddr . tcp dport @allow_ironclaw-control_tcp_v4 counter packets 0 bytes 0 accept comment "ironclaw-control"' <<<"$listing"
check "nft lists the log-prefixed drop" grep -q 'log prefix "EGRESS-DENIED: "' <<<"$listing"

probes=$(netlinkfence probe --netns "$agent" tcp:203.0.113.50:443 tcp:203.0.113.50:8443 udp:192.168.1.10:53 tcp:192.168.1.20:6514 tcp:198.51.100.7:443 udp:198.51.100.7:53)
echo "$probes"
check "IronClaw API 443 allowed" grep -q '^tcp:203.0.113.50:443 .*ALLOWED' <<<"$probes"
check "IronClaw 8443 denied" grep -q '^tcp:203.0.113.50:8443 .*DENIED' <<<"$probes"
check "DNS to the resolver allowed" grep -q '^udp:192.168.1.10:53 .*ALLOWED' <<<"$probes"
check "syslog-TLS allowed" grep -q '^tcp:192.168.1.20:6514 .*ALLOWED' <<<"$probes"
check "unlisted host denied" grep -q '^tcp:198.51.100.7:443 .*DENIED' <<<"$probes"
check "DNS to a non-resolver denied" grep -q '^udp:198.51.100.7:53 .*DENIED' <<<"$probes"

check "second apply exits 0" netlinkfence apply "$policy" --netns "$agent"
check "remove exits 0" netlinkfence remove --netns "$agent"
check "the table is gone" bash -c "! ip netns exec $agent nft list table inet netlinkfence"
removed=$(netlinkfence probe --netns "$agent" tcp:198.51.100.7:443)
check "egress is open again after remove" grep -q 'ALLOWED' <<<"$removed"

echo "tests: $passed passed, $failed failed"
((failed == 0))
