#!/usr/bin/env bash
# Makes a Docker engine recent enough for Testcontainers 4 (API >= 1.44) available on Debian 12, as root,
# idempotently, and starts dockerd when it is not running. Debian 12's own docker.io (20.10, API 1.41) is
# too old; the next release's (trixie) docker.io installs cleanly on Debian 12 when trixie is pinned low, so
# that only what is asked for with `-t trixie` comes from it (see shared/DESIGN.md).
# Exit status 0 when `docker version` answers with a new enough server; non-zero with a message otherwise.
set -uo pipefail

min_api=1.44
log=${DOCKERD_LOG:-/var/log/dockerd.log}
fail() { echo "docker-engine.sh: $*" >&2; exit 1; }

server_api() { docker version --format '{{.Server.APIVersion}}' 2>/dev/null; }
api_ok() { # version: at least $min_api?
    [[ -n $1 ]] && [[ $(printf '%s\n%s\n' "$min_api" "$1" | sort -V | head -n 1) == "$min_api" ]]
}

[[ $EUID -eq 0 ]] || fail "must run as root (installs packages, starts dockerd)"

# --- the engine package ----------------------------------------------------------------------------
installed=$(dpkg-query -W -f='${Status} ${Version}' docker.io 2>/dev/null | sed -n 's/^install ok installed //p')
# Install when there is no dockerd, or when it is Debian 12's docker.io (20.10); any other engine is checked below.
if ! command -v dockerd >/dev/null 2>&1 || { [[ -n $installed ]] && dpkg --compare-versions "$installed" lt 25; }; then
    if [[ ! -f /etc/apt/sources.list.d/trixie.sources ]]; then
        if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
            # The first stanza (the main archive, same mirror) with its suite replaced by trixie.
            awk 'BEGIN{RS="";ORS="\n\n"} NR==1' /etc/apt/sources.list.d/debian.sources |
                sed 's/^Suites:.*/Suites: trixie/' >/etc/apt/sources.list.d/trixie.sources || fail "cannot write trixie.sources"
        else
            # An install with a one-line /etc/apt/sources.list: the main Debian mirror.
            printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
                >/etc/apt/sources.list.d/trixie.sources || fail "cannot write trixie.sources"
        fi
    fi
    # Priority 100: nothing is upgraded from trixie unless asked for with -t trixie.
    printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' >/etc/apt/preferences.d/trixie ||
        fail "cannot write the trixie apt pin"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || fail "apt-get update failed"
    apt-get install -y -qq -t trixie docker.io >/dev/null || fail "apt-get install -t trixie docker.io failed"
fi
command -v dockerd >/dev/null 2>&1 || fail "dockerd is not installed after installing docker.io"

# --- the daemon ------------------------------------------------------------------------------------
if ! docker version >/dev/null 2>&1; then
    if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
        systemctl start docker >/dev/null 2>&1 || true
    fi
fi
if ! docker version >/dev/null 2>&1; then
    echo "starting dockerd (log: $log)"
    (setsid dockerd >>"$log" 2>&1 &)
    for _ in $(seq 1 60); do
        [[ -S /var/run/docker.sock ]] && docker version >/dev/null 2>&1 && break
        sleep 1
    done
fi
docker version >/dev/null 2>&1 || fail "dockerd did not answer on /var/run/docker.sock within 60 s (see $log)"
api=$(server_api)
api_ok "$api" || fail "the Docker engine speaks API $api; Testcontainers 4 needs >= $min_api"
echo "docker engine $(docker version --format '{{.Server.Version}}' 2>/dev/null) (API $api) is running"
