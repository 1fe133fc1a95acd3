#!/usr/bin/env bash
# scripts/install-packages.sh PACKAGE...            the missing ones, from the host's Debian 12 sources
# scripts/install-packages.sh --trixie PACKAGE...   the missing ones from trixie, their dependencies from Debian 12
#
# The only way the project's scripts install anything, as root. It never upgrades or removes a package: apt first
# simulates the install (`apt-get -s`) and the script refuses, with a message and status 1, unless the simulation
# only adds new packages, every one of them from Debian 12 (besides the ones named with --trixie). Packages already
# installed are left alone, whatever their version. No recommends, no `-t` (a target release applies to every
# dependency and recommendation: that is how an earlier version of the suite upgraded ~200 packages to trixie).
#
# --trixie uses a private apt configuration in a temporary directory (the host's sources plus trixie pinned at
# priority 100, its own package lists and cache), so the host's apt sources, preferences and lists stay as they were.
# No service starts while packages are installed (a temporary policy-rc.d, unless the host has one); the services
# of docker.io and containerd, when this installs them, are left disabled, because Docker's engine rewrites the
# host's firewall when it starts. Prints every package it installs, with version and release.
set -euo pipefail

fail() { echo "install-packages.sh: $*" >&2; exit 1; }

trixie=false
if [[ ${1:-} == --trixie ]]; then trixie=true; shift; fi
for argument in "$@"; do
    [[ $argument != -* ]] || fail "unknown option $argument (no apt options are passed through: never -t)"
done

is_installed() { [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null) == ii* ]]; }
missing=()
for package in "$@"; do
    is_installed "$package" || missing+=("$package")
done
((${#missing[@]})) || exit 0
[[ $EUID -eq 0 ]] || fail "${missing[*]} missing; only root can install them"
command -v apt-get >/dev/null 2>&1 || fail "${missing[*]} missing and there is no apt-get (this expects Debian 12)"
export DEBIAN_FRONTEND=noninteractive

work=$(mktemp -d /tmp/nlf-apt.XXXXXX)
policy_rc=/usr/sbin/policy-rc.d
own_policy_rc=false
cleanup() {
    if $own_policy_rc; then rm -f "$policy_rc"; fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Wait for another apt/dpkg (unattended-upgrades at boot, a parallel install) instead of failing on its lock.
apt_options=(-o DPkg::Lock::Timeout=600)
if $trixie; then
    # A private copy of the host's apt sources and preferences plus trixie at priority 100: only what is asked
    # for by version (PACKAGE=VERSION) can come from trixie, and the host's apt configuration is not changed.
    mkdir -p "$work"/{sources.list.d,preferences.d,lists/partial,cache,archives/partial}
    chmod 755 "$work"   # apt downloads as the user _apt
    chown _apt "$work/lists/partial" "$work/archives/partial" 2>/dev/null || true
    cp /etc/apt/sources.list "$work/sources.list" 2>/dev/null || : >"$work/sources.list"
    cp /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources "$work/sources.list.d/" 2>/dev/null || true
    cp /etc/apt/preferences.d/* "$work/preferences.d/" 2>/dev/null || true
    rm -f "$work"/sources.list.d/*trixie* "$work"/preferences.d/*trixie*   # an earlier version of this suite wrote these
    if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
        # The first stanza (the main archive, same mirror) with its suite replaced by trixie.
        awk 'BEGIN{RS="";ORS="\n\n"} NR==1' /etc/apt/sources.list.d/debian.sources |
            sed 's/^Suites:.*/Suites: trixie/' >"$work/sources.list.d/nlf-trixie.sources"
    else
        printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
            >"$work/sources.list.d/nlf-trixie.sources"
    fi
    printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' >"$work/preferences.d/nlf-trixie"
    apt_options+=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=$work/sources.list.d"
        -o "Dir::Etc::PreferencesParts=$work/preferences.d" -o "Dir::State::Lists=$work/lists"
        -o "Dir::Cache=$work/cache" -o "Dir::Cache::Archives=$work/archives")
else
    requested=("${missing[@]}")
fi

echo "install-packages.sh: installing ${missing[*]}$($trixie && echo ' (from trixie)')" >&2
apt-get "${apt_options[@]}" update -qq || fail "apt-get update failed"
if $trixie; then
    # PACKAGE=VERSION, not PACKAGE/trixie: with a release, apt also takes dependencies from that release when it
    # can (containerd from trixie); with a version, every dependency is the host's own candidate (Debian 12's),
    # and apt's simulation below fails, saying which, when one of them is not good enough.
    requested=()
    for package in "${missing[@]}"; do
        version=$(apt-cache "${apt_options[@]}" show "$package/trixie" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1)
        [[ -n $version ]] || fail "trixie has no package $package"
        requested+=("$package=$version")
    done
fi

# Debian 12's own release lines in apt's simulation: "Debian:12.15/oldstable", "Debian-Security:12/...", "Debian:12-updates/...".
from_debian12() { [[ $1 =~ [\(\ ,]Debian(-Security)?:12[./-] ]]; }
simulate() {
    apt-get "${apt_options[@]}" -s install --no-upgrade --no-install-recommends "${requested[@]}" 2>&1
}
plan=$(simulate) || fail "apt cannot install ${requested[*]} without changing installed packages$($trixie && echo ' (a dependency of trixie'"'"'s package that Debian 12 does not satisfy?)'):
$plan
Nothing was installed."
# Refuse anything but new packages from Debian 12 (and the ones asked for from trixie).
refusals=$(grep -E '^(Remv|Purg) ' <<<"$plan" || true)
refusals+=$(grep -E '^Inst [^ ]+ \[' <<<"$plan" || true)   # "Inst NAME [OLDVERSION] (...)": an upgrade or downgrade
while read -r _ package rest; do
    from_debian12 "$rest" || { $trixie && [[ " ${missing[*]} " == *" $package "* ]]; } ||
        refusals+=$'\n'"not from Debian 12: Inst $package $rest"
done < <(grep '^Inst ' <<<"$plan")
[[ -z ${refusals//$'\n'/} ]] || fail "refusing to install ${missing[*]}: apt would change more than adding Debian 12 packages:
$refusals
Nothing was installed. Install them yourself if you accept this, then run the script again."

echo "install-packages.sh: apt will add (and change nothing else):" >&2
grep '^Inst ' <<<"$plan" | sed -E 's/^Inst ([^ ]+) \(([^ ]+) ([^[]*) \[.*$/  \1 \2 \3/' >&2

# No service starts during the install (invoke-rc.d and deb-systemd-invoke ask policy-rc.d); a host's own
# policy-rc.d is kept as it is.
if [[ ! -e $policy_rc ]]; then
    printf '#!/bin/sh\n# Temporary, written by NetlinkFence scripts/install-packages.sh: no service starts while it installs.\nexit 101\n' >"$policy_rc"
    chmod 755 "$policy_rc"
    own_policy_rc=true
fi
had_docker=false had_containerd=false had_rsyslog=false
is_installed docker.io && had_docker=true
is_installed containerd && had_containerd=true
is_installed rsyslog && had_rsyslog=true
apt-get "${apt_options[@]}" install -y -qq --no-upgrade --no-install-recommends "${requested[@]}" >"$work/install.log" 2>&1 ||
    { cat "$work/install.log" >&2; fail "apt-get install ${requested[*]} failed"; }
# docker.io, containerd and rsyslog enable their services; the suite starts its own engine and its own collector
# (inside a test namespace), so leave them disabled (only when this installed them).
units=()
$had_docker || units+=(docker.io:docker.service docker.io:docker.socket)
$had_containerd || units+=(containerd:containerd.service)
$had_rsyslog || units+=(rsyslog:rsyslog.service)
for unit in "${units[@]}"; do
    # deb-systemd-helper keeps dpkg's record of the choice (an upgrade leaves the unit disabled); it only runs
    # on behalf of a package.
    if [[ -e /lib/systemd/system/${unit#*:} ]] && command -v deb-systemd-helper >/dev/null; then
        DPKG_MAINTSCRIPT_PACKAGE=${unit%%:*} deb-systemd-helper disable "${unit#*:}" >/dev/null 2>&1 || true
    fi
done
if ! $had_docker && [[ -e /etc/init.d/docker ]]; then update-rc.d docker disable >/dev/null 2>&1 || true; fi
if ! $had_rsyslog && [[ -e /etc/init.d/rsyslog ]]; then update-rc.d rsyslog disable >/dev/null 2>&1 || true; fi

for package in "${missing[@]}"; do
    is_installed "$package" || fail "$package is not installed after apt-get install"
done
