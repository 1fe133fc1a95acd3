#!/bin/sh
# bench/run.sh [BenchmarkDotNet args...]
#
# Builds and runs every NetlinkFence benchmark, then copies BenchmarkDotNet's GitHub-markdown tables to
# bench/results/ together with machine.txt (nproc, uname -r, date, versions). Must run as root: the commit
# benchmarks create their own network namespaces (ip netns add/del) and commit nf_tables batches in them;
# the host's ruleset is never touched.
#
# Default: verify, the commit matrix (fresh namespace per commit), the whole-process apply comparison, the
# paired A/B run, then all BenchmarkDotNet benchmarks (about 12-15 minutes on 2 cores). BenchmarkDotNet arguments narrow the last part, e.g.
#   bench/run.sh --filter '*CommitBenchmarks*'
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ARGS="$*"
[ "$(id -u)" = 0 ] || { echo "bench/run.sh: run as root (network namespaces, nf_tables)" >&2; exit 1; }
# ip netns, and nft (the baseline): the missing ones of these Debian 12 packages, never an upgrade or a removal.
bash "$ROOT/scripts/install-packages.sh" iproute2 nftables || { echo "bench/run.sh: cannot install iproute2 nftables (see above)" >&2; exit 1; }

ART="$ROOT/bench/BenchmarkDotNet.Artifacts"
OUT="$ROOT/bench/results"
DLL="$ROOT/bench/NetlinkFence.Benchmarks/bin/Release/net10.0/NetlinkFence.Benchmarks.dll"
mkdir -p "$OUT"

t0=$(date +%s)
dotnet build "$ROOT/bench/NetlinkFence.Benchmarks" -c Release -v quiet -nologo
dotnet build "$ROOT/src/NetlinkFence.Cli" -c Release -v quiet -nologo
# The CLI for `plan` (the nft -f baseline files) and the whole-process comparison.
NLF_CLI="$ROOT/src/NetlinkFence.Cli/bin/Release/net10.0/NetlinkFence.Cli.dll"
export NLF_CLI
# NativeAOT binary when it can be published here (needs clang/gcc + zlib dev); the apply rows then use it too.
AOT_DIR=$(mktemp -d /tmp/netlinkfence-aot.XXXXXX)
if dotnet publish "$ROOT/src/NetlinkFence.Cli" -c Release -r linux-x64 -p:PublishAot=true -o "$AOT_DIR/publish" -v quiet -nologo >"$AOT_DIR/publish.log" 2>&1 \
	&& [ -x "$AOT_DIR/publish/NetlinkFence.Cli" ]; then
	cp "$AOT_DIR/publish/NetlinkFence.Cli" "$AOT_DIR/netlinkfence"
	NLF_AOT="$AOT_DIR/netlinkfence"
	export NLF_AOT
	echo "bench/run.sh: NativeAOT binary: $NLF_AOT"
else
	echo "bench/run.sh: NativeAOT publish failed (see $AOT_DIR/publish.log); whole-process rows use dotnet NetlinkFence.Cli.dll only" >&2
fi
t1=$(date +%s)
# The library's transactions and the generated nft files (incl. what `plan` prints) must describe the same ruleset.
dotnet "$DLL" verify "$ROOT"

start=$(date +%s)
# Commit latency of every case, each commit in a fresh namespace: floor / library / nft side by side.
dotnet "$DLL" matrix "$ROOT" "$OUT/Matrix.md"
# Whole process: netlinkfence apply (AOT and dotnet) vs nft -f of what plan prints.
dotnet "$DLL" process "$ROOT" "$OUT/Process.md"
# Where apply's time goes, step by step (one run each).
dotnet "$DLL" phases-generated >"$OUT/ApplyPhases.txt"
# Paired A/B of library vs floor (alternating commits, medians): the figure for the <= 5 % overhead target.
dotnet "$DLL" paired "$OUT/Paired.md"

[ $# -gt 0 ] || set -- --filter '*'
rm -rf "$ART/results"
dotnet "$DLL" --artifacts "$ART" "$@"
end=$(date +%s)

for f in "$ART"/results/*-report-github.md; do
	[ -e "$f" ] || continue
	name=$(basename "$f" -report-github.md)
	cp "$f" "$OUT/${name##*.}.md"
done
{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "nproc: $(nproc)"
	echo "uname -r: $(uname -r)"
	echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	echo "dotnet: $(dotnet --version)"
	echo "nft: $(nft --version)"
	echo "aot: ${NLF_AOT:-none}"
	echo "command: bench/run.sh $ARGS"
	echo "build + AOT publish: $((t1 - t0)) s"
	echo "run time: $((end - start)) s"
} >"$OUT/machine.txt"
echo "results: $OUT"
ls "$OUT"
