#!/usr/bin/env bash
# tests/packaging/deb-test.sh OLD.deb NEW.deb [--lintian]
#
# Installs, upgrades, removes and purges the netlinkfence package (OLD, then NEW: the same package at a higher
# version) on a throwaway Debian 12 root, and prints one "ok: ..." or "FAILED: ..." line per check (run-integration.sh
# counts them). As root.
#
# The throwaway root is this machine's own Debian 12 root seen through an overlay: lower layer /, upper layer a tmpfs,
# mounted in a private mount namespace (unshare -m), so every change dpkg and apt make lands in the tmpfs and vanishes
# with the namespace, whatever happens; the host's dpkg database, /etc and /usr are never written (checked at the end).
# A root made by mmdebstrap (minbase + lintian) took 7 minutes here, almost all of it downloading; the overlay takes
# a second and is the same Debian 12 that CI runs on. dpkg runs in the chroot as on a host, maintainer scripts included.
#
# The kernel part runs in a network namespace made here: the installed binary applies the packaged policy there,
# and dpkg's upgrade, remove and purge run inside that namespace too, so a maintainer script that flushed or deleted
# the table would do it to that very table. With --lintian, apt installs Debian 12's lintian into the overlay (it
# needs a newer perl than this machine may have, which is upgraded in the overlay only) and lints OLD.deb.
set -uo pipefail

if [[ ${1:-} != --inside ]]; then
    [[ $# -ge 2 ]] || { echo "usage: deb-test.sh OLD.deb NEW.deb [--lintian]" >&2; exit 2; }
    [[ $EUID -eq 0 ]] || { echo "FAILED: deb-test.sh must run as root"; exit 1; }
    work=$(mktemp -d /tmp/nlf-deb-test.XXXXXX)
    netns=nlf-deb-$$
    unshare --mount --propagation private -- bash "$0" --inside "$work" "$netns" "$(readlink -f -- "$1")" "$(readlink -f -- "$2")" "${3:-}"
    status=$?
    ip netns del "$netns" 2>/dev/null
    rmdir -- "$work" 2>/dev/null || rm -rf -- "$work"
    # The host itself: the package never reached its dpkg database or its file system.
    if dpkg-query -W netlinkfence >/dev/null 2>&1 || [[ -e /usr/sbin/netlinkfence || -e /lib/systemd/system/netlinkfence.service ]]; then
        echo "FAILED: the host's own dpkg database and file system do not know netlinkfence"
        exit 1
    fi
    echo "ok: the host's own dpkg database and file system do not know netlinkfence"
    exit "$status"
fi

work=$2 netns=$3 old_deb=$4 new_deb=$5 lintian=${6:-}
failures=0
ok() { echo "ok: $*"; }
bad() { echo "FAILED: $*"; failures=$((failures + 1)); }
check() { # name command...: ok when the command succeeds; its output is shown on failure
    local name=$1 out; shift
    if out=$("$@" 2>&1); then ok "$name"; else bad "$name"; sed 's/^/    /' <<<"$out" | tail -n 20; fi
}

mount -t tmpfs -o mode=0755 nlf-deb-test "$work" || { bad "mount a tmpfs for the throwaway root"; exit 1; }
mkdir "$work/upper" "$work/overlay-work" "$work/root"
root=$work/root
mount -t overlay nlf-deb-root -o "lowerdir=/,upperdir=$work/upper,workdir=$work/overlay-work" "$root" ||
    { bad "mount the throwaway root (overlay over /)"; exit 1; }
mount -t proc proc "$root/proc" && mount --rbind /dev "$root/dev" && mount --rbind /sys "$root/sys" ||
    { bad "mount /proc, /dev and /sys in the throwaway root"; exit 1; }
# No service may start from a maintainer script (there is no systemd in the chroot; this makes sure of it).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" && chmod 755 "$root/usr/sbin/policy-rc.d"
cp -- "$old_deb" "$root/tmp/old.deb" && cp -- "$new_deb" "$root/tmp/new.deb"
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }
in_ns() { ip netns exec "$netns" chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }
old_version=$(dpkg-deb -f "$old_deb" Version) new_version=$(dpkg-deb -f "$new_deb" Version)
if dpkg --compare-versions "$new_version" gt "$old_version"; then ok "NEW.deb ($new_version) is a higher version than OLD.deb ($old_version)"
else bad "NEW.deb ($new_version) is a higher version than OLD.deb ($old_version)"; fi

# --- install -------------------------------------------------------------------------------------------
check "dpkg -i installs $old_version" in_root dpkg -i /tmp/old.deb
check "dpkg records the policy as a conffile" grep -qx ' /etc/netlinkfence/policy.yaml [0-9a-f]*' <(in_root dpkg-query -W -f='${Conffiles}\n' netlinkfence)
mode=$(stat -c '%a %U %G' "$root/etc/netlinkfence/policy.yaml" 2>&1)
if [[ $mode == "600 root root" ]]; then ok "/etc/netlinkfence/policy.yaml is 0600 root:root"; else bad "/etc/netlinkfence/policy.yaml is 0600 root:root (it is: $mode)"; fi
upstream=${old_version%-*}
check "netlinkfence --version prints $upstream" grep -q "^${upstream//\~/-}\(+\|\$\)" <(in_root netlinkfence --version)
check "netlinkfence lint /etc/netlinkfence/policy.yaml exits 0" in_root netlinkfence lint /etc/netlinkfence/policy.yaml
check "the man page renders without a warning" bash -c "out=\$(chroot '$root' man --warnings -E UTF-8 -l /usr/share/man/man8/netlinkfence.8.gz 2>&1 >/dev/null); [[ -z \$out ]] || { echo \"\$out\"; false; }"
for verb in $(in_root netlinkfence '[suggest:0]' '' | grep -v -e '^-' -e '^/'); do
    check "the man page documents the verb $verb" grep -q "^\\.BI\\? \"\\?$verb\\b" <(zcat "$root/usr/share/man/man8/netlinkfence.8.gz")
done
completion() { # a command line typed so far -> what TAB offers
    in_root bash -c 'source /usr/share/bash-completion/completions/netlinkfence
        COMP_LINE=$1 COMP_POINT=${#1}; read -ra COMP_WORDS <<<"$1"; [[ $1 == *" " ]] && COMP_WORDS+=("")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _netlinkfence; printf "%s\n" "${COMPREPLY[@]}"' _ "$1"
}
check "bash completion offers 'apply' for 'netlinkfence ap'" grep -qx apply <(completion "netlinkfence ap")
check "bash completion offers --confirm-within for 'netlinkfence apply --con'" grep -qx -- --confirm-within <(completion "netlinkfence apply --con")
check "bash completion offers file names for a policy argument" grep -qx /etc/netlinkfence/policy.yaml <(completion "netlinkfence lint /etc/netlinkfence/pol")
# Inside the root (verify needs no running systemd), so that Documentation=man:netlinkfence(8) is checked against the
# installed man page too; any line it prints fails (it exits 0 on keys it ignores).
verify=$(in_root systemd-analyze verify /lib/systemd/system/netlinkfence.service 2>&1)
if [[ $? -eq 0 && -z $verify ]]; then ok "systemd-analyze verify accepts the installed unit, man page included"
else bad "systemd-analyze verify accepts the installed unit, man page included"; echo "$verify" | sed 's/^/    /'; fi
check "the unit's ExecStart names the installed binary" grep -qx 'ExecStart=/usr/sbin/netlinkfence run /etc/netlinkfence/policy.yaml' "$root/lib/systemd/system/netlinkfence.service"
check "the package neither enabled nor started the service" bash -c "! ls '$root'/etc/systemd/system/*.wants/netlinkfence.service 2>/dev/null | grep -q ."
metrics_units="/lib/systemd/system/netlinkfence-metrics.timer /lib/systemd/system/netlinkfence-metrics.service"
verify=$(in_root systemd-analyze verify $metrics_units 2>&1)
if [[ $? -eq 0 && -z $verify ]]; then ok "systemd-analyze verify accepts the installed metrics timer and its service"
else bad "systemd-analyze verify accepts the installed metrics timer and its service"; echo "$verify" | sed 's/^/    /'; fi
check "the package did not enable the metrics timer" bash -c "! ls '$root'/etc/systemd/system/*.wants/netlinkfence-metrics.* 2>/dev/null | grep -q ."

# --- a live table in a namespace -----------------------------------------------------------------------
table() { ip netns exec "$netns" nft list table inet netlinkfence 2>&1 | sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/'; }
ip netns add "$netns" || bad "ip netns add $netns"
ip -n "$netns" link set lo up
check "the installed netlinkfence applies the packaged policy in a namespace" in_ns netlinkfence apply /etc/netlinkfence/policy.yaml
live=$(table)
check "nft lists the applied table (default-drop output chain)" grep -q 'policy drop;' <<<"$live"
# The metrics service's own command line, run as its timer would (in the namespace, node_exporter's directory made).
metrics_command=$(sed -n 's/^ExecStart=//p' "$root/lib/systemd/system/netlinkfence-metrics.service")
mkdir -p "$root/var/lib/prometheus/node-exporter"
check "the metrics service's command writes the applied table's metrics" in_ns sh -c "$metrics_command"
check "node_exporter's directory holds netlinkfence_table_present 1 and matches 1" bash -c "grep -qx 'netlinkfence_table_present{table=\"netlinkfence\"} 1' '$root/var/lib/prometheus/node-exporter/netlinkfence.prom' && grep -qx 'netlinkfence_table_matches_policy{table=\"netlinkfence\"} 1' '$root/var/lib/prometheus/node-exporter/netlinkfence.prom'"

# --- upgrade keeps a modified policy ---------------------------------------------------------------------
sed -i 's/^  resolvers: .*/  resolvers: [192.168.1.11]   # changed by the administrator/' "$root/etc/netlinkfence/policy.yaml"
modified=$(md5sum <"$root/etc/netlinkfence/policy.yaml")
check "dpkg -i upgrades to $new_version (in the namespace, no prompt: stdin is /dev/null)" in_ns dpkg -i /tmp/new.deb </dev/null
check "dpkg-query shows $new_version installed" grep -qx "install ok installed $new_version" <(in_root dpkg-query -W -f='${Status} ${Version}\n' netlinkfence)
if [[ $(md5sum <"$root/etc/netlinkfence/policy.yaml") == "$modified" ]]; then ok "the upgrade kept the modified policy"; else bad "the upgrade kept the modified policy"; fi
check "the upgrade left no .dpkg-new/.dpkg-dist/.dpkg-old beside it" bash -c "! ls '$root'/etc/netlinkfence/ | grep -q dpkg"
mode=$(stat -c '%a %U' "$root/etc/netlinkfence/policy.yaml" 2>&1)
[[ $mode == "600 root" ]] && ok "the modified policy is still 0600 root" || bad "the modified policy is still 0600 root (it is: $mode)"
[[ $(table) == "$live" ]] && ok "the upgrade left the live table as it was" || bad "the upgrade left the live table as it was"

# --- remove and purge never flush a live table -------------------------------------------------------------
check "dpkg -r removes the package (in the namespace)" in_ns dpkg -r netlinkfence
[[ ! -e $root/usr/sbin/netlinkfence ]] && ok "remove took the binary" || bad "remove took the binary"
[[ -f $root/etc/netlinkfence/policy.yaml ]] && ok "remove kept the policy (a conffile)" || bad "remove kept the policy (a conffile)"
after_remove=$(table)
if [[ $after_remove == "$live" ]]; then ok "remove left the live table in place, unchanged"
else bad "remove left the live table in place, unchanged"; echo "$after_remove" | head -n 5 | sed 's/^/    /'; fi
# What an administrator's 'systemctl enable netlinkfence-metrics.timer' leaves, which purge must take.
mkdir -p "$root/etc/systemd/system/timers.target.wants"
ln -sf /lib/systemd/system/netlinkfence-metrics.timer "$root/etc/systemd/system/timers.target.wants/netlinkfence-metrics.timer"
check "dpkg -P purges the package (in the namespace)" in_ns dpkg -P netlinkfence
[[ ! -L $root/etc/systemd/system/timers.target.wants/netlinkfence-metrics.timer ]] && ok "purge took the metrics timer's enablement" || bad "purge took the metrics timer's enablement"
[[ ! -e $root/etc/netlinkfence ]] && ok "purge took /etc/netlinkfence" || bad "purge took /etc/netlinkfence"
[[ $(table) == "$live" ]] && ok "purge left the live table in place, unchanged" || bad "purge left the live table in place, unchanged"
check "dpkg no longer knows the package after purge" bash -c "! chroot '$root' dpkg-query -W netlinkfence"

# --- lintian -------------------------------------------------------------------------------------------------
if [[ $lintian == --lintian ]]; then
    if in_root apt-get update -qq >"$work/apt.log" 2>&1 &&
        in_root apt-get install -y -qq --no-install-recommends lintian >>"$work/apt.log" 2>&1; then
        ok "apt installed Debian 12's lintian $(in_root lintian --version | sed 's/Lintian v//') in the throwaway root"
        # Errors, warnings and info tags fail. Overrides are in the package itself (not --show-overrides: with it,
        # lintian 2.116 also fails on the overridden tags).
        report=$(in_root lintian --fail-on error,warning,info --display-info /tmp/old.deb 2>&1)
        status=$?
        [[ -n $report ]] && sed 's/^/    lintian: /' <<<"$report"
        if ((status == 0)) && ! grep -q "^[EWI]: " <<<"$report"; then ok "lintian: no error, warning or info tag (overrides: packaging/debian/lintian-overrides)"
        else bad "lintian: no error, warning or info tag (overrides: packaging/debian/lintian-overrides)"; fi
    else
        bad "apt installs lintian in the throwaway root"
        tail -n 20 "$work/apt.log" | sed 's/^/    /'
    fi
fi

((failures == 0))
