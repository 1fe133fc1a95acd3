#!/usr/bin/env bash
# scripts/build-image.sh [--binary PATH] [--tag NAME] [--save FILE.tar]
#
# Builds the netlinkfence container image, NAME:VERSION (default NAME netlinkfence), on the Docker engine DOCKER_HOST
# (or the default socket) with the docker CLI: FROM scratch, holding only the NativeAOT binary as
# /usr/sbin/netlinkfence and the libc files ldd lists for it (libc, libm, the loader). Nothing is pulled.
#
# Layout (what deploy/kubernetes/daemonset.yaml and the Docker suite's DaemonSetLikeTests rely on):
#   ENTRYPOINT /usr/sbin/netlinkfence, CMD run /etc/netlinkfence/policy.yaml  (the daemon; `apply ...` as an init step)
#   /etc/netlinkfence/   empty: mount the policy here, read-only (a ConfigMap, or a bind mount of one file)
#   /run/                empty: mount a tmpfs here (docker --tmpfs /run, an emptyDir with medium: Memory), where
#                        netlinkfence makes its state directory /run/netlinkfence, 0700 (rollback snapshots, locks,
#                        the control socket); not on /run/netlinkfence itself: an emptyDir is world-writable, and
#                        netlinkfence refuses a state directory others could write to
# Everything else can stay read-only (--read-only, readOnlyRootFilesystem: true). It runs as uid 0 but needs one
# capability only: --cap-drop ALL --cap-add NET_ADMIN; never --privileged. Netlink reaches the nf_tables of the
# container's network namespace: the node's with hostNetwork: true.
#
# VERSION is what the binary reports (`netlinkfence --version`, the project's MSBuild <Version>, without the +commit).
# OCI labels: title, description, version, revision (the git commit), created (the commit's time, so a rebuild of
# one commit gives the same labels), licenses (when the project declares one). Prints NAME:VERSION on its last line.
set -euo pipefail

fail() { echo "build-image.sh: $*" >&2; exit 1; }
repo=$(dirname -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")")
cd -- "$repo"

binary=${NETLINKFENCE_BINARY:-} name=netlinkfence save=""
while (($#)); do
    case $1 in
    --binary) binary=${2:?--binary needs a path}; shift 2 ;;
    --tag) name=${2:?--tag needs a name}; shift 2 ;;
    --save) save=${2:?--save needs a file}; shift 2 ;;
    *) echo "usage: build-image.sh [--binary PATH] [--tag NAME] [--save FILE.tar]" >&2; exit 2 ;;
    esac
done
command -v docker >/dev/null || fail "the docker CLI is missing (package docker-cli; scripts/docker-engine.sh installs it with an engine)"
command -v ldd >/dev/null || fail "ldd is missing (package libc-bin)"

if [[ -z $binary ]]; then
    echo "build-image.sh: publishing the NativeAOT binary (dotnet publish src/NetlinkFence.Cli -r linux-x64 -p:PublishAot=true)" >&2
    dotnet publish src/NetlinkFence.Cli -c Release -r linux-x64 -p:PublishAot=true -nologo >&2 || fail "dotnet publish failed"
    binary=src/NetlinkFence.Cli/bin/Release/net10.0/linux-x64/publish/netlinkfence
fi
[[ -x $binary ]] || fail "$binary is not an executable file"
reported=$("$binary" --version) || fail "$binary --version failed"
version=${reported%%+*}
[[ $version =~ ^[0-9][0-9A-Za-z.-]*$ ]] || fail "$binary --version printed '$reported', not a version"
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
created=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}" +%Y-%m-%dT%H:%M:%SZ)
licenses=$(sed -n 's:.*<PackageLicenseExpression>\(.*\)</PackageLicenseExpression>.*:\1:p' Directory.Build.props src/*/*.csproj 2>/dev/null | head -n 1)

context=$(mktemp -d /tmp/nlf-image.XXXXXX)
trap 'rm -rf -- "$context"' EXIT
rootfs=$context/rootfs
place() { # SOURCE ABSOLUTE-TARGET: the file itself (cp -L), keeping it executable
    install -D -m 0755 -- "$(readlink -f -- "$1")" "$rootfs$2"
}
place "$binary" /usr/sbin/netlinkfence
libraries=$(ldd -- "$binary") || fail "ldd $binary failed"
loader=false
while read -r line; do
    # "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
    path=${line#*=> }
    path=${path%% *}
    [[ $path == /* ]] || continue
    place "$path" "$path"
    [[ $path == *ld-linux* ]] && loader=true
done <<<"$libraries"
$loader || fail "ldd $binary named no loader: $libraries"
install -d -m 0755 "$rootfs/etc/netlinkfence"
install -d -m 0755 "$rootfs/run"

cat >"$context/Dockerfile" <<EOF
FROM scratch
COPY rootfs/ /
LABEL org.opencontainers.image.title="netlinkfence" \\
      org.opencontainers.image.description="default-deny egress firewall over nf_tables netlink; needs CAP_NET_ADMIN only" \\
      org.opencontainers.image.version="$version" \\
      org.opencontainers.image.revision="$revision" \\
      org.opencontainers.image.created="$created"${licenses:+ \\
      org.opencontainers.image.licenses=\"$licenses\"}
ENTRYPOINT ["/usr/sbin/netlinkfence"]
CMD ["run", "/etc/netlinkfence/policy.yaml"]
EOF

docker build --quiet --tag "$name:$version" "$context" >&2 || fail "docker build failed"
if [[ -n $save ]]; then
    docker save --output "$save" "$name:$version" || fail "docker save failed"
    echo "build-image.sh: saved $name:$version to $save" >&2
fi
echo "$name:$version"
