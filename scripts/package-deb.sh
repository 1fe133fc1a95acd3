#!/usr/bin/env bash
# scripts/package-deb.sh [--binary PATH] [--revision N] [--output DIR]
#
# Builds netlinkfence_VERSION-REVISION_amd64.deb with dpkg-deb alone (no debhelper): the NativeAOT binary as
# /usr/sbin/netlinkfence, packaging/systemd/netlinkfence.service (and the metrics timer, netlinkfence-metrics.timer and
# .service) in /lib/systemd/system, examples/ironclaw-agent.yaml as
# the conffile /etc/netlinkfence/policy.yaml (0600 root), the man page packaging/man/netlinkfence.8, bash completion,
# copyright, changelog.Debian and the maintainer scripts of packaging/debian (which never delete or flush a table).
#
# VERSION is what the binary itself reports (`netlinkfence --version`, i.e. the project's MSBuild <Version>), with a
# pre-release '-' turned into '~' so that 1.0.0~rc.1 sorts before 1.0.0. The binary is NETLINKFENCE_BINARY or
# --binary when given, else this publishes it (dotnet publish -r linux-x64 -p:PublishAot=true). Prints the .deb's
# path on its last line. Needs dpkg-deb, gzip, objdump (binutils) and, to publish, the .NET 10 SDK and gcc.
set -euo pipefail

fail() { echo "package-deb.sh: $*" >&2; exit 1; }
repo=$(dirname -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")")
cd -- "$repo"

binary=${NETLINKFENCE_BINARY:-} revision=1 output=artifacts/deb
while (($#)); do
    case $1 in
    --binary) binary=${2:?--binary needs a path}; shift 2 ;;
    --revision) revision=${2:?--revision needs a number}; shift 2 ;;
    --output) output=${2:?--output needs a directory}; shift 2 ;;
    *) echo "usage: package-deb.sh [--binary PATH] [--revision N] [--output DIR]" >&2; exit 2 ;;
    esac
done
[[ $revision =~ ^[0-9][0-9A-Za-z.+~]*$ ]] || fail "--revision '$revision' is not a Debian revision (digits first)"
for tool in dpkg-deb gzip objdump; do
    command -v "$tool" >/dev/null || fail "$tool is missing (packages dpkg, gzip, binutils)"
done

if [[ -z $binary ]]; then
    echo "package-deb.sh: publishing the NativeAOT binary (dotnet publish src/NetlinkFence.Cli -r linux-x64 -p:PublishAot=true)" >&2
    dotnet publish src/NetlinkFence.Cli -c Release -r linux-x64 -p:PublishAot=true -nologo >&2 || fail "dotnet publish failed"
    binary=src/NetlinkFence.Cli/bin/Release/net10.0/linux-x64/publish/netlinkfence
fi
[[ -x $binary ]] || fail "$binary is not an executable file"
file_type=$(od -An -c -N4 -- "$binary" | tr -d ' ')
[[ $file_type == 177ELF ]] || fail "$binary is not an ELF binary (a NativeAOT publish names it netlinkfence)"

# --- versions --------------------------------------------------------------------------------------------
reported=$("$binary" --version) || fail "$binary --version failed"
upstream=${reported%%+*}   # 1.2.3[-pre]+commit -> 1.2.3[-pre]
[[ $upstream =~ ^[0-9][0-9A-Za-z.~-]*$ ]] || fail "$binary --version printed '$reported', not a version"
deb_version="${upstream//-/\~}-$revision"
# The newest glibc symbol version the binary needs is the libc6 it depends on.
glibc_min=$(objdump -T -- "$binary" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -n 1)
[[ -n $glibc_min ]] || fail "objdump -T $binary shows no glibc symbol versions"
maintainer=${DEB_MAINTAINER:-$(git log -1 --format='%an <%ae>' 2>/dev/null || true)}
[[ $maintainer == *'<'*'@'*'>' ]] || fail "no maintainer: set DEB_MAINTAINER='Name <address>'"
# Reproducible: timestamps from the last commit (SOURCE_DATE_EPOCH when set).
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH=$epoch

# --- the tree ------------------------------------------------------------------------------------------
stage=$(mktemp -d /tmp/nlf-deb.XXXXXX)
trap 'rm -rf -- "$stage"' EXIT
root=$stage/netlinkfence
doc=$root/usr/share/doc/netlinkfence
install -d -m 0755 "$root/DEBIAN" "$root/usr/sbin" "$root/lib/systemd/system" "$root/etc/netlinkfence" \
    "$root/usr/share/man/man8" "$root/usr/share/bash-completion/completions" "$doc" "$root/usr/share/lintian/overrides"
install -m 0755 -- "$binary" "$root/usr/sbin/netlinkfence"
install -m 0644 packaging/systemd/netlinkfence.service "$root/lib/systemd/system/netlinkfence.service"
install -m 0644 packaging/systemd/netlinkfence-metrics.service "$root/lib/systemd/system/netlinkfence-metrics.service"
install -m 0644 packaging/systemd/netlinkfence-metrics.timer "$root/lib/systemd/system/netlinkfence-metrics.timer"
install -m 0600 examples/ironclaw-agent.yaml "$root/etc/netlinkfence/policy.yaml"
gzip -9n <packaging/man/netlinkfence.8 >"$root/usr/share/man/man8/netlinkfence.8.gz"
install -m 0644 packaging/bash-completion/netlinkfence "$root/usr/share/bash-completion/completions/netlinkfence"
install -m 0644 packaging/debian/lintian-overrides "$root/usr/share/lintian/overrides/netlinkfence"
if [[ -f CHANGELOG.md ]]; then gzip -9n <CHANGELOG.md >"$doc/changelog.gz"; fi

# changelog.Debian: one entry for this package version; what changed is in CHANGELOG.md (changelog.gz).
{
    echo "netlinkfence ($deb_version) unstable; urgency=medium"
    echo
    echo "  * Package of netlinkfence $upstream, built with scripts/package-deb.sh."
    [[ -f CHANGELOG.md ]] && echo "    The changes are listed in /usr/share/doc/netlinkfence/changelog.gz."
    echo
    echo " -- $maintainer  $(LC_ALL=C date -u -R -d "@$epoch")"
} | gzip -9n >"$doc/changelog.Debian.gz"

# copyright (machine-readable format): the repository's LICENSE file and the licence the project packs with.
license_file=$(ls LICENSE LICENSE.md LICENSE.txt COPYING 2>/dev/null | head -n 1 || true)
license_id=$(sed -n 's:.*<PackageLicenseExpression>\(.*\)</PackageLicenseExpression>.*:\1:p' Directory.Build.props src/*/*.csproj 2>/dev/null | head -n 1)
{
    echo "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
    echo "Upstream-Name: netlinkfence"
    echo
    echo "Files: *"
    echo "Copyright: $(date -u -d "@$epoch" +%Y) ${maintainer%% <*}"
    if [[ -n $license_file ]]; then
        echo "License: ${license_id:-other}"
        sed -e 's/^[[:space:]]*$/./' -e 's/^/ /' -- "$license_file"
    else
        echo "License: none-granted"
        echo " The repository names no licence yet (no LICENSE file): no licence is granted."
    fi
} >"$doc/copyright"
chmod 0644 "$doc"/*

for script in postinst prerm postrm; do
    install -m 0755 "packaging/debian/$script" "$root/DEBIAN/$script"
done
echo /etc/netlinkfence/policy.yaml >"$root/DEBIAN/conffiles"
installed_size=$(du -sk --exclude=DEBIAN -- "$root" | cut -f1)
sed -e "s|@DEB_VERSION@|$deb_version|" -e "s|@MAINTAINER@|$maintainer|" -e "s|@INSTALLED_SIZE@|$installed_size|" \
    -e "s|@GLIBC_MIN@|$glibc_min|" packaging/debian/control.in >"$root/DEBIAN/control"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"
find "$root" -exec touch -h -d "@$epoch" {} +

mkdir -p -- "$output"
deb=$output/netlinkfence_${deb_version}_amd64.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >&2 || fail "dpkg-deb --build failed"
echo "$deb"
