#!/usr/bin/env bash
# scripts/host-state.sh record DIR          what a test run must leave as it found it, written to DIR
# scripts/host-state.sh compare BEFORE AFTER  one "ok: ..." or "FAILED: ..." line per check; status 1 on a failure
#
# Recorded: every package with its version and status (dpkg-query -W), the host's rulesets (nft -s list ruleset,
# iptables-save, ip6tables-save, with timestamps and counters blanked), the host's ipsets (ipset -n list), the python3
# the PATH resolves, the forwarding and bridge-netfilter sysctls, interface names and Docker's fixed paths of the host, the processes of the run (every process whose
# environment carries NLF_RUN_ID, which .ci/run or run-integration.sh set at their start; NLF_RUN_ID must be set), and
# in /tmp the suite's scratch files and the .NET runtime files of processes that ended (none may be new after the run).
# compare allows exactly one kind of change: packages that were missing and are now installed, each named, each
# from Debian 12 except docker.io and docker-cli (which come from trixie, see scripts/install-packages.sh).
set -uo pipefail

# iptables-save and ip6tables-save without the comment lines (timestamps) and with packet counters blanked.
ruleset_without_counters() { grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]/[0:0]/g'; }

# The pids of this script, its ancestors and its descendants: the run is still running while it checks itself.
own_lineage() {
    local pid=$$
    while [[ $pid -gt 1 ]]; do
        echo "$pid"
        pid=$(awk '{print $4}' "/proc/$pid/stat" 2>/dev/null) || break
    done
    ps -eo pid=,ppid= | awk -v root=$$ '{ parent[$1] = $2 }
        END { for (p in parent) { q = p; while (q in parent && q > 1) { if (q == root) { print p; break } q = parent[q] } } }'
}

run_processes() {
    local lineage pid
    lineage=" $(own_lineage | tr '\n' ' ') "
    for environ in /proc/[0-9]*/environ; do
        pid=${environ#/proc/}; pid=${pid%/environ}
        [[ $lineage == *" $pid "* ]] && continue
        { tr '\0' '\n' <"$environ"; } 2>/dev/null | grep -qx "NLF_RUN_ID=$NLF_RUN_ID" || continue
        ps -o pid=,lstart=,args= -p "$pid" 2>/dev/null | cut -c1-200
    done
}

record() {
    local dir=$1
    [[ -n ${NLF_RUN_ID:-} ]] || { echo "host-state.sh: NLF_RUN_ID is not set" >&2; return 2; }
    mkdir -p "$dir"
    dpkg-query -W -f='${binary:Package}\t${Version}\t${db:Status-Abbrev}\n' | sort >"$dir/packages"
    if command -v nft >/dev/null; then nft -s list ruleset >"$dir/nft" 2>&1; else echo "(nft not installed)" >"$dir/nft"; fi
    for tool in iptables-save ip6tables-save; do
        if command -v "$tool" >/dev/null; then "$tool" 2>&1 | ruleset_without_counters >"$dir/$tool"
        else echo "($tool not installed)" >"$dir/$tool"; fi
    done
    # ipsets of the host (the import tests make theirs inside their namespaces only)
    if command -v ipset >/dev/null; then ipset -n list >"$dir/ipsets" 2>&1; else echo "(ipset not installed)" >"$dir/ipsets"; fi
    # x_tables (legacy iptables) tables the kernel holds: what iptables-legacy-save would list, without iptables.
    cat /proc/net/ip_tables_names /proc/net/ip6_tables_names 2>/dev/null | sort >"$dir/xtables-tables"
    local python
    python=$(command -v python3 || echo none)
    # and Debian's own, which a PATH python3 (pyenv, a venv) can hide
    { echo "$python"; readlink -f "$python" 2>/dev/null; "$python" --version 2>&1
      echo "/usr/bin/python3 -> $(readlink -f /usr/bin/python3 2>&1) $(/usr/bin/python3 --version 2>&1)"; } >"$dir/python3"
    for knob in /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding /proc/sys/net/bridge/bridge-nf-call-iptables \
        /proc/sys/net/bridge/bridge-nf-call-ip6tables; do
        echo "$knob $(cat "$knob" 2>&1)"
    done >"$dir/sysctl"
    ip -o link show 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort >"$dir/interfaces"
    # Docker's fixed places on the host: the suite's own engine keeps everything under its temporary directory.
    for path in /run/docker /run/docker.sock /var/lib/docker /run/containerd /var/lib/containerd /etc/docker/daemon.json \
        /sys/fs/cgroup/docker /sys/fs/cgroup/*/docker; do
        [[ -e $path ]] && echo "$path"
    done >"$dir/docker-paths"
    # netlinkfence's own rollback state on the host: the tests keep theirs in private directories.
    ls -la --time-style=+ /run/netlinkfence 2>&1 | sed 1d >"$dir/netlinkfence-state"
    run_processes >"$dir/processes"
    # /tmp: the suite's scratch files (its names start nlf- or netlinkfence-), and the debugger pipes and diagnostics
    # sockets the .NET runtime makes per process, of processes no longer running (a process killed with SIGKILL
    # leaves them; the suite's children run with DOTNET_EnableDiagnostics=0).
    find /tmp -maxdepth 1 -mindepth 1 \( -name 'nlf-*' -o -name 'netlinkfence-*' \) -printf '%f\n' | sort >"$dir/tmp-scratch"
    # All of the runtime's files (tmp-runtime) as well as the orphans: a process that was running before the run (a
    # build server, say) and ended during it leaves files that were there before; only files made during the run count.
    local file pid
    : >"$dir/tmp-runtime"; : >"$dir/tmp-orphans"
    for file in /tmp/clr-debug-pipe-* /tmp/dotnet-diagnostic-*; do
        [[ -e $file ]] || continue
        echo "${file#/tmp/}" >>"$dir/tmp-runtime"
        pid=${file#/tmp/clr-debug-pipe-}; pid=${pid#/tmp/dotnet-diagnostic-}; pid=${pid%%-*}
        [[ -d /proc/$pid ]] || echo "${file#/tmp/}" >>"$dir/tmp-orphans"
    done
    sort -o "$dir/tmp-runtime" "$dir/tmp-runtime"
    sort -o "$dir/tmp-orphans" "$dir/tmp-orphans"
}

passed=0 failed=0
result() { # ok|FAILED text [details]
    if [[ $1 == ok ]]; then passed=$((passed + 1)); echo "ok: host state: $2"
    else failed=$((failed + 1)); echo "FAILED: host state: $2"; fi
    [[ -z ${3:-} ]] || sed 's/^/    /' <<<"$3"
}

# The release an installed package version comes from, from the host's apt lists: "Debian 12" or "not Debian 12".
release_of() { # package version
    local sources
    sources=$(apt-cache policy "$1" 2>/dev/null | awk -v v="$2" '
        /^ \*\*\* / { this = ($2 == v); next }
        /^     [^ ]/ { this = ($1 == v); next }
        this && /^ +[0-9]+ / { $1 = ""; sub(/^ /, ""); print }')
    local releases
    releases=$(apt-cache policy 2>/dev/null | awk '
        /^ *-?[0-9]+ / { $1 = ""; sub(/^ /, ""); source = $0; next }
        /^ +release / && source != "" { print source "\t" $2; source = "" }')
    while IFS= read -r source; do
        [[ -n $source ]] || continue
        if grep -F -- "$source"$'\t' <<<"$releases" | grep -qE $'\t''(v=12[.,-]|v=12$|.*,n=bookworm)'; then echo "Debian 12"; return; fi
    done <<<"$sources"
    echo "not Debian 12"
}

compare() {
    local before=$1 after=$2
    # --- packages: nothing upgraded, downgraded or removed; new ones named, from Debian 12 (docker.io, docker-cli: trixie)
    local changed added
    changed=$(awk -F'\t' 'NR == FNR { if ($3 ~ /^ii/) { version[$1] = $2 }; next }
        ($1 in version) { seen[$1] = 1; if ($3 !~ /^ii/) print "removed: " $1 " " version[$1] " (now " $3 ")";
                         else if ($2 != version[$1]) print "version changed: " $1 " " version[$1] " -> " $2 }
        END { for (p in version) if (!(p in seen)) print "removed: " p " " version[p] }' "$before/packages" "$after/packages")
    added=$(awk -F'\t' 'NR == FNR { if ($3 ~ /^ii/) had[$1] = 1; next } $3 ~ /^ii/ && !($1 in had) { print $1 "\t" $2 }' \
        "$before/packages" "$after/packages")
    if [[ -z $changed ]]; then result ok "no package upgraded, downgraded or removed"
    else result FAILED "packages changed (the run must only add missing packages)" "$changed"; fi

    local listing="" foreign="" package version release name
    while IFS=$'\t' read -r package version; do
        [[ -n $package ]] || continue
        name=${package%%:*}
        release=$(release_of "$name" "$version")
        [[ $release == "Debian 12" ]] || release="not in the host's Debian 12 package lists"
        listing+="$package $version ($release)"$'\n'
        if [[ $release != "Debian 12" && $name != docker.io && $name != docker-cli ]]; then foreign+="$package $version"$'\n'; fi
    done <<<"$added"
    local count
    count=$(grep -c . <<<"$added")
    if [[ -z $foreign ]]; then
        result ok "$count package(s) installed by the run, each missing before; all from Debian 12 but docker.io and docker-cli" "${listing%$'\n'}"
    else
        result FAILED "packages installed by the run that do not come from Debian 12" "${foreign%$'\n'}"
    fi

    # --- rulesets, python3, sysctls, interfaces: identical
    local item label
    for item in nft:"nft -s list ruleset" iptables-save:"iptables-save" ip6tables-save:"ip6tables-save" \
        xtables-tables:"x_tables tables (/proc/net/ip*_tables_names)" ipsets:"the host's ipsets (ipset -n list)" python3:"python3 on PATH and /usr/bin/python3 (path, target, version)" \
        sysctl:"forwarding and bridge-netfilter sysctls" interfaces:"host network interfaces" \
        docker-paths:"Docker's paths on the host (/run/docker, /var/lib/docker, cgroups, ...)" \
        netlinkfence-state:"netlinkfence's rollback state on the host (/run/netlinkfence)"; do
        label=${item#*:}; item=${item%%:*}
        if [[ $item == ip*tables-save ]] && grep -q '^(.* not installed)$' "$before/$item" && ! grep -q 'not installed' "$after/$item"; then
            # iptables came with docker.io during the run: its rules live in nf_tables (compared above) or in
            # x_tables (compared below); what it shows now must be nothing.
            if [[ -z $(grep -v '^\*\|^COMMIT$\|^:' "$after/$item") ]]; then
                result ok "$label: not installed before, shows no rule now"
            else result FAILED "$label: not installed before, shows rules now" "$(cat "$after/$item")"; fi
            continue
        fi
        if [[ $item == ipsets ]] && [[ ! -e $before/$item ]]; then
            # A record made before ipsets were recorded: nothing to compare with.
            result ok "$label: not recorded before"
            continue
        fi
        if [[ $item == ipsets ]] && grep -q '^(ipset not installed)$' "$before/$item" && ! grep -q 'not installed' "$after/$item"; then
            # ipset came with the run (the packages the tests install): the host must hold no set now.
            if [[ ! -s $after/$item ]]; then result ok "$label: ipset not installed before, the host holds no set now"
            else result FAILED "$label: ipset not installed before, the host holds sets now" "$(cat "$after/$item")"; fi
            continue
        fi
        if [[ $item == nft ]] && grep -q '^(nft not installed)$' "$before/$item" && ! grep -q 'not installed' "$after/$item"; then
            # nftables came with the run (a fresh machine): the ruleset before could not be listed, so it must be empty now.
            if [[ ! -s $after/$item ]]; then result ok "$label: nft not installed before, the ruleset is empty now"
            else result FAILED "$label: nft not installed before, the host has a ruleset now" "$(cat "$after/$item")"; fi
            continue
        fi
        if cmp -s "$before/$item" "$after/$item"; then result ok "$label unchanged"
        else result FAILED "$label changed" "$(diff "$before/$item" "$after/$item")"; fi
    done

    # --- /tmp: nothing new left behind (what was there before may stay or go)
    local left baseline
    for item in tmp-scratch:"scratch files of the suite in /tmp (nlf-*, netlinkfence-*)" \
        tmp-orphans:".NET runtime debugger pipes or diagnostics sockets in /tmp of processes that ended"; do
        label=${item#*:}; item=${item%%:*}
        # Orphans are compared with every runtime file there was before (older records have only the orphans).
        baseline=$before/$item
        [[ $item == tmp-orphans && -e $before/tmp-runtime ]] && baseline=$before/tmp-runtime
        left=$(comm -13 "$baseline" "$after/$item")
        if [[ -z $left ]]; then result ok "no new $label"
        else result FAILED "the run left $(grep -c . <<<"$left") $label" "$(head -20 <<<"$left")"; fi
    done

    # --- processes of the run
    if [[ ! -s $after/processes ]]; then result ok "no process started by the run is still running"
    else result FAILED "processes started by the run are still running" "$(cat "$after/processes")"; fi

    echo "host state: $passed passed, $failed failed"
    ((failed == 0))
}

case ${1:-} in
    record) record "$2" ;;
    compare) compare "$2" "$3" ;;
    *) echo "usage: host-state.sh record DIR | compare BEFORE AFTER" >&2; exit 2 ;;
esac
