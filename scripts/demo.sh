#!/usr/bin/env bash
# The main job, safely: build netlinkfence, create a throwaway network namespace, commit the example
# default-deny egress ruleset there over netlink in one atomic batch, read it back, then delete the namespace.
# The host's own ruleset is never touched. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prerequisites.sh iproute2

dotnet build src/NetlinkFence.Cli -c Release -v quiet -nologo >/dev/null
namespace="nlf-demo-$$"
ip netns add "$namespace"
trap 'ip netns del "$namespace"' EXIT
ip -n "$namespace" link set lo up

dotnet src/NetlinkFence.Cli/bin/Release/net10.0/NetlinkFence.Cli.dll demo --netns "$namespace"
