#!/usr/bin/env bash
# End-to-end checks of the CLI as a user runs it, as root on a fresh Debian 12 machine, in four parts:
#  1. a throwaway agent/world namespace pair (no Docker needed): apply the example, let nft (an independent
#     oracle) list it, probe allowed and denied flows, verify removal; then scripts/demo.sh, the README's main job;
#  2. the packages, from the NativeAOT binary: scripts/package-deb.sh, then tests/packaging/deb-test.sh (install,
#     upgrade, remove and purge on a throwaway overlay of this Debian 12 root, a live table in a namespace that they
#     must leave alone, lintian), and deploy/kubernetes validated against the Kubernetes schema (npm's
#     kubernetes-models, tests/packaging/validate-manifests.mjs);
#  3. the Docker suite (integration/, Testcontainers) on a Docker engine with API >= 1.44: the user's, when one
#     runs, else one the suite starts for itself and stops at the end (scripts/docker-engine.sh: no iptables
#     rules, its own data and socket under a temporary directory; installs docker.io from trixie when there is
#     no dockerd); publishes the NativeAOT netlinkfence and runs agent/world containers built FROM scratch;
#  4. the host is as it was (scripts/host-state.sh): packages (only missing ones added, named, from Debian 12 but
#     docker.io and docker-cli), the host's rulesets, python3, no process of the run left. Runs whatever happens
#     before (EXIT trap, also on failure and Ctrl-C); the "before" state is the one .ci/run recorded at its start
#     (NLF_HOST_STATE_BEFORE), or recorded here first thing when this runs alone.
# Ends with one line "tests: N passed, N failed" counting all parts; exits non-zero on any failure. A Docker
# engine that cannot be installed or started is a counted failure, never a skip.
set -uo pipefail
cd "$(dirname "$0")"

# Every process of the run carries NLF_RUN_ID (host-state.sh finds the ones left behind by it). dotnet's build
# servers (MSBuild nodes, the compiler server) would outlive the run: they are not used.
export NLF_RUN_ID=${NLF_RUN_ID:-run-integration-$$-$(date +%s%N)}
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 UseSharedCompilation=false
host_state=artifacts/host-state
before=${NLF_HOST_STATE_BEFORE:-}
if [[ -z $before ]]; then
    before=$host_state/before
    rm -rf "$before"
    bash scripts/host-state.sh record "$before" || exit 1
fi

passed=0 failed=0
check() {
    local name=$1; shift
    if "$@" >/dev/null 2>&1; then passed=$((passed + 1)); echo "ok: $name"; else failed=$((failed + 1)); echo "FAILED: $name"; fi
}
fail() { failed=$((failed + 1)); echo "FAILED: $*"; }

agent="nlf-it-agent-$$" world="nlf-it-world-$$"
engine_dir=""
# The CLI's rollback state goes to a private directory, not the host's /run/netlinkfence.
NETLINKFENCE_STATE_DIR=$(mktemp -d /tmp/nlf-it-state.XXXXXX) && export NETLINKFENCE_STATE_DIR
finish() {
    trap - EXIT INT TERM
    ip netns del "$agent" 2>/dev/null; ip netns del "$world" 2>/dev/null
    rm -rf -- "$NETLINKFENCE_STATE_DIR"
    if [[ -n $engine_dir ]]; then
        DOCKERD_LOG_COPY=$PWD/artifacts/docker-suite/dockerd.log bash scripts/docker-engine.sh stop "$engine_dir"
    fi
    rm -rf "$host_state/after"
    bash scripts/host-state.sh record "$host_state/after"
    bash scripts/host-state.sh compare "$before" "$host_state/after" >"$host_state/compare.txt"
    cat "$host_state/compare.txt"
    passed=$((passed + $(grep -c '^ok: ' "$host_state/compare.txt")))
    failed=$((failed + $(grep -c '^FAILED: ' "$host_state/compare.txt")))
    echo "tests: $passed passed, $failed failed"
    ((failed == 0)) && exit 0
    exit 1
}
trap finish EXIT
trap 'echo "run-integration.sh: interrupted"; failed=$((failed + 1)); exit 130' INT TERM

# gcc links the NativeAOT binaries; the packaging part uses binutils (objdump), man-db, xz-utils and util-linux (unshare)
source scripts/prerequisites.sh iproute2 nftables gcc zlib1g-dev binutils man-db xz-utils util-linux || { fail "the prerequisites are installed (see above)"; exit 1; }

if ! dotnet build src/NetlinkFence.Cli -c Release -v quiet -nologo >/dev/null; then
    fail "dotnet build src/NetlinkFence.Cli"
    exit 1
fi
netlinkfence() { dotnet src/NetlinkFence.Cli/bin/Release/net10.0/NetlinkFence.Cli.dll "$@"; }

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
check "nft lists the one egress allow rule" grep -q 'ip daddr . meta l4proto . th dport @allow_v4 counter packets 0 bytes 0 accept comment "allow"' <<<"$listing"
check "nft lists the ironclaw-control element with its counter" grep -q '203.0.113.50 . tcp . 443 counter packets 0 bytes 0 comment "ironclaw-control"' <<<"$listing"
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

# The README's main-job command as a user runs it (without this script's state directory): it must work and leave
# nothing behind; its namespaces and its rollback state in /run/netlinkfence are compared by the host-state check.
demo=$(env -u NETLINKFENCE_STATE_DIR bash scripts/demo.sh 2>&1)
check "scripts/demo.sh (the README's main job) lets the IronClaw API through" grep -q '^tcp:203.0.113.50:443 .*ALLOWED' <<<"$demo"
check "scripts/demo.sh denies the unlisted host" grep -q '^tcp:198.51.100.7:443 .*DENIED' <<<"$demo"

# --- the NativeAOT binaries: the packages and the Docker suite ship and run them ---------------------------------
published=false
publish_native() {
    mkdir -p artifacts
    local publish_log=artifacts/publish.log
    if ! dotnet publish src/NetlinkFence.Cli -c Release -r linux-x64 -p:PublishAot=true -nologo >"$publish_log" 2>&1 ||
        ! dotnet publish integration/NetlinkFence.World -c Release -r linux-x64 -p:PublishAot=true -nologo >>"$publish_log" 2>&1; then
        tail -n 30 "$publish_log"
        fail "NativeAOT publish of netlinkfence and nlf-world (log: $publish_log); the packaging checks and the Docker suite did not run"
        return
    fi
    passed=$((passed + 1)); echo "ok: NativeAOT publish of netlinkfence and nlf-world"
    if grep -E ': warning (IL|CS)[0-9]+' "$publish_log"; then fail "the NativeAOT publish printed trimming/AOT or compiler warnings"
    else passed=$((passed + 1)); echo "ok: the NativeAOT publish has no trimming/AOT warnings"; fi
    export NETLINKFENCE_BINARY=$PWD/src/NetlinkFence.Cli/bin/Release/net10.0/linux-x64/publish/netlinkfence
    export NLF_WORLD_BINARY=$PWD/integration/NetlinkFence.World/bin/Release/net10.0/linux-x64/publish/nlf-world
    published=true
}
publish_native

# --- the packages: the .deb on a throwaway root (tests/packaging/deb-test.sh), the Kubernetes manifests --------
count_lines() { # LOG: adds its "ok: " and "FAILED: " lines to the summary
    passed=$((passed + $(grep -c '^ok: ' "$1"))) failed=$((failed + $(grep -c '^FAILED: ' "$1")))
}
packaging_checks() {
    $published || { fail "the NativeAOT binary is missing (see the publish above); the packaging checks did not run"; return; }
    local out=artifacts/packaging old new
    rm -rf "$out" && mkdir -p "$out"
    # Two builds of one binary, revisions 1 and 2: the second is the upgrade.
    if old=$(bash scripts/package-deb.sh --binary "$NETLINKFENCE_BINARY" --output "$out" --revision 1 2>"$out/package-deb.log") &&
        new=$(bash scripts/package-deb.sh --binary "$NETLINKFENCE_BINARY" --output "$out" --revision 2 2>>"$out/package-deb.log"); then
        passed=$((passed + 1)); echo "ok: scripts/package-deb.sh builds ${old##*/} and ${new##*/}"
        bash tests/packaging/deb-test.sh "$old" "$new" --lintian 2>&1 | tee "$out/deb-test.log"
        local status=${PIPESTATUS[0]}
        count_lines "$out/deb-test.log"
        if ((status != 0)) && ! grep -q '^FAILED: ' "$out/deb-test.log"; then fail "tests/packaging/deb-test.sh exited $status"; fi
    else
        tail -n 20 "$out/package-deb.log"
        fail "scripts/package-deb.sh builds the .deb (log: $out/package-deb.log)"
    fi

    # The manifests against the Kubernetes schema: npm's kubernetes-models (its generated validators), in a private
    # prefix and cache that go with the run.
    local npm_dir
    npm_dir=$(mktemp -d /tmp/nlf-npm.XXXXXX)
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        fail "node and npm are needed to validate deploy/kubernetes against the Kubernetes schema"
    elif ! npm install --no-audit --no-fund --loglevel=error --cache "$npm_dir/cache" --prefix "$npm_dir" \
        kubernetes-models@5.1.0 yaml@2.9.1 >"$out/npm.log" 2>&1; then
        tail -n 20 "$out/npm.log"
        fail "npm installs kubernetes-models to validate deploy/kubernetes (log: $out/npm.log)"
    else
        node tests/packaging/validate-manifests.mjs "$npm_dir/node_modules" deploy/kubernetes/*.yaml 2>&1 | tee "$out/manifests.log"
        local status=${PIPESTATUS[0]}
        count_lines "$out/manifests.log"
        if ((status != 0)) && ! grep -q '^FAILED: ' "$out/manifests.log"; then fail "validate-manifests.mjs exited $status"; fi
    fi
    rm -rf -- "$npm_dir"
}
packaging_checks

# --- the Docker suite -------------------------------------------------------------------------------------
docker_suite() {
    engine_dir=$(mktemp -d /tmp/nlf-dockerd.XXXXXX)
    mkdir -p artifacts/docker-suite
    if ! bash scripts/docker-engine.sh start "$engine_dir"; then
        fail "a Docker engine (API >= 1.44) is running (see the message above); the Docker suite did not run"
        return
    fi
    passed=$((passed + 1)); echo "ok: a Docker engine is running"
    export DOCKER_HOST
    DOCKER_HOST=$(cat "$engine_dir/docker-host")

    $published || { fail "the NativeAOT binaries are missing (see the publish above); the Docker suite did not run"; return; }
    export TESTCONTAINERS_RYUK_DISABLED=true
    local results=artifacts/docker-suite/results
    rm -rf "$results"
    dotnet test integration/NetlinkFence.IntegrationTests -c Release -p:RunDockerSuite=true -nologo \
        --logger trx --logger "console;verbosity=normal" --results-directory "$results" 2>&1 | tee artifacts/docker-suite/test.log
    local status=${PIPESTATUS[0]}
    # One <UnitTestResult ... outcome="..."> per test that ran: Passed counts as passed, anything else as failed.
    local p f
    read -r p f < <(cat "$results"/*.trx 2>/dev/null | tr '\r\n' '  ' | grep -o '<UnitTestResult [^>]*>' |
        awk '{ if ($0 ~ /outcome="Passed"/) p++; else f++ } END { printf "%d %d\n", p, f }')
    passed=$((passed + p)) failed=$((failed + f))
    echo "Docker suite: $p passed, $f failed"
    if ((p + f == 0)); then fail "the Docker suite ran no test (dotnet test exited $status)"
    elif ((status != 0 && f == 0)); then fail "dotnet test of the Docker suite exited $status"; fi
}
docker_suite
# finish (the EXIT trap) stops the suite's engine, checks the host state and prints the summary.
