#!/usr/bin/env bash
# Cold start of the NativeAOT netlinkfence against nft -f of the same ruleset (what `plan` prints), with hyperfine.
# Run as root after `dotnet publish src/NetlinkFence.Cli -c Release -r linux-x64 -p:PublishAot=true`. Every apply
# and every nft -f runs in a namespace created fresh for that run (hyperfine --prepare), so each one starts from
# an empty ruleset. Writes the markdown tables to artifacts/cold-start/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prerequisites.sh nftables hyperfine util-linux
bin=$PWD/src/NetlinkFence.Cli/bin/Release/net10.0/linux-x64/publish/netlinkfence
[[ -x $bin ]] || { echo "publish the AOT binary first: $bin is missing" >&2; exit 1; }
policy=examples/ironclaw-agent.yaml
out=artifacts/cold-start
mkdir -p "$out"
"$bin" plan "$policy" >"$out/plan.nft"
ns=nlf-coldstart-$$
trap 'ip netns del $ns 2>/dev/null || true' EXIT
fresh="bash -c 'ip netns del $ns 2>/dev/null; ip netns add $ns'"
runs=${RUNS:-200}

hyperfine -N --warmup 10 --runs "$runs" --export-markdown "$out/plan.md" \
    -n "netlinkfence plan (AOT)" "$bin plan $policy"

hyperfine -N --warmup 5 --runs "$runs" --prepare "$fresh" --export-markdown "$out/apply.md" \
    -n "netlinkfence apply --netns (AOT)" "$bin apply $policy --netns $ns" \
    -n "nsenter + netlinkfence apply (AOT)" "nsenter --net=/run/netns/$ns $bin apply $policy" \
    -n "nsenter + nft -f (plan output)" "nsenter --net=/run/netns/$ns nft -f $out/plan.nft"
cat "$out/plan.md" "$out/apply.md"
