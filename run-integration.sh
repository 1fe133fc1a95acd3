#!/usr/bin/env bash
# End-to-end check in a throwaway network namespace (the Docker suite of issue 4 is not written yet):
# the CLI commits the example ruleset over netlink; nft, as an independent oracle, must list it back.
set -uo pipefail
cd "$(dirname "$0")"
source scripts/prerequisites.sh iproute2 nftables

passed=0 failed=0
check() {
    local name=$1; shift
    if "$@"; then passed=$((passed + 1)); echo "ok: $name"; else failed=$((failed + 1)); echo "FAILED: $name"; fi
}

dotnet build src/NetlinkFence.Cli -c Release -v quiet -nologo >/dev/null || { echo "tests: 0 passed, 1 failed"; exit 1; }
cli=(dotnet src/NetlinkFence.Cli/bin/Release/net10.0/NetlinkFence.Cli.dll)
namespace="nlf-integration-$$"
ip netns add "$namespace"
trap 'ip netns del "$namespace"' EXIT

check "demo commits" "${cli[@]}" demo --netns "$namespace"
listing=$(ip netns exec "$namespace" nft list table inet netlinkfence 2>&1)
check "nft sees default-drop output chain" grep -q "type filter hook output priority filter; policy drop;" <<<"$listing"
check "nft sees the concatenated allow set" grep -q "ip daddr . tcp dport @allow_tcp_v4 counter packets 0 bytes 0 accept" <<<"$listing"
check "remove deletes the table" "${cli[@]}" remove --netns "$namespace"
check "table is gone" bash -c "! ip netns exec $namespace nft list table inet netlinkfence >/dev/null 2>&1"

echo "tests: $passed passed, $failed failed"
((failed == 0))
