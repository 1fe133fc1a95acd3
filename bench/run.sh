#!/bin/sh
# bench/run.sh [BenchmarkDotNet args...]
#
# Builds and runs every NetlinkFence benchmark, then copies BenchmarkDotNet's GitHub-markdown tables to
# bench/results/ together with machine.txt (nproc, uname -r, date, versions). Must run as root: the commit
# benchmarks create their own network namespaces (ip netns add/del) and commit nf_tables batches in them;
# the host's ruleset is never touched.
#
# Default: the paired A/B run, then all BenchmarkDotNet benchmarks (about 6 minutes on 2 cores). Pass BenchmarkDotNet arguments to narrow it, e.g.
#   bench/run.sh --filter '*CommitBenchmarks*'
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ARGS="$*"
[ "$(id -u)" = 0 ] || { echo "bench/run.sh: run as root (network namespaces, nf_tables)" >&2; exit 1; }
command -v ip >/dev/null || { echo "bench/run.sh: needs iproute2 (ip netns)" >&2; exit 1; }
if ! command -v nft >/dev/null; then
	echo "bench/run.sh: nft (the baseline) is missing; installing Debian's nftables package" >&2
	apt-get install -y nftables >/dev/null
fi

ART="$ROOT/bench/BenchmarkDotNet.Artifacts"
OUT="$ROOT/bench/results"
DLL="$ROOT/bench/NetlinkFence.Benchmarks/bin/Release/net10.0/NetlinkFence.Benchmarks.dll"
mkdir -p "$OUT"

dotnet build "$ROOT/bench/NetlinkFence.Benchmarks" -c Release -v quiet -nologo
# The library's transactions and the generated nft files must describe the same ruleset.
dotnet "$DLL" verify

start=$(date +%s)
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
	echo "command: bench/run.sh $ARGS"
	echo "run time: $((end - start)) s"
} >"$OUT/machine.txt"
echo "results: $OUT"
ls "$OUT"
