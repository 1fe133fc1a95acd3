#!/usr/bin/env bash
# The main job, safely: two throwaway network namespaces joined by a veth pair ("agent" and "world", which
# holds the IronClaw API, the resolver, the syslog collector and an unlisted host), `netlinkfence apply`
# of examples/ironclaw-agent.yaml in the agent namespace, then probes that show what gets through and why.
# The host's own ruleset is never touched. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prerequisites.sh iproute2

dotnet build src/NetlinkFence.Cli -c Release -v quiet -nologo >/dev/null
netlinkfence() { dotnet src/NetlinkFence.Cli/bin/Release/net10.0/NetlinkFence.Cli.dll "$@"; }

agent="nlf-agent-$$" world="nlf-world-$$"
# apply keeps rollback state for the namespace (a snapshot for `rollback`); the namespace goes at exit, so the state
# goes with it instead of staying in /run/netlinkfence for a namespace that no longer exists.
export NETLINKFENCE_STATE_DIR; NETLINKFENCE_STATE_DIR=$(mktemp -d /tmp/netlinkfence-demo-state.XXXXXX)
cleanup() {
    ip netns del "$agent" 2>/dev/null || true; ip netns del "$world" 2>/dev/null || true
    rm -rf "$NETLINKFENCE_STATE_DIR"
}
trap cleanup EXIT
ip netns add "$agent"
ip netns add "$world"
ip link add nlfa$$ netns "$agent" type veth peer name nlfw$$ netns "$world"
ip -n "$agent" link set lo up
ip -n "$agent" link set nlfa$$ up
ip -n "$world" link set nlfw$$ up
ip -n "$agent" addr add 203.0.113.2/24 dev nlfa$$
ip -n "$agent" route add default dev nlfa$$
for address in 203.0.113.50 192.168.1.10 192.168.1.20 198.51.100.7; do
    ip -n "$world" addr add "$address/32" dev nlfw$$
done
ip -n "$world" route add default dev nlfw$$

echo "== netlinkfence apply examples/ironclaw-agent.yaml --netns $agent"
chown root examples/ironclaw-agent.yaml 2>/dev/null || true
netlinkfence apply examples/ironclaw-agent.yaml --netns "$agent"
echo
echo "== probes from the agent (nothing listens in the world: a refused connection still proves the packet got through)"
netlinkfence probe --netns "$agent" --policy examples/ironclaw-agent.yaml \
    tcp:203.0.113.50:443 tcp:203.0.113.50:8443 udp:192.168.1.10:53 tcp:192.168.1.10:53 \
    tcp:192.168.1.20:6514 tcp:192.168.1.20:514 udp:198.51.100.7:53 tcp:198.51.100.7:443
