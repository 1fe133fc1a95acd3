#!/usr/bin/env bash
# scripts/docker-engine.sh start DIR   a Docker engine for the suite (API >= 1.44, what Testcontainers 4 needs);
#                                      writes its address (DOCKER_HOST) to DIR/docker-host
# scripts/docker-engine.sh stop DIR    stops the engine `start` started, if it started one; removes DIR
#
# When the user already runs an engine (DOCKER_HOST, else /var/run/docker.sock) the suite uses it and changes
# nothing of it. Otherwise the suite runs an engine of its own, which nothing else sees: dockerd with its data,
# state, pid file and socket under DIR, its own containerd (a child of dockerd), no firewall rules
# (--iptables=false --ip6tables=false), no forwarding sysctl (--ip-forward=false), no default bridge
# (--bridge=none: the suite's containers are on their own user-defined bridge network, where they reach each
# other without any of those), the vfs storage driver (no overlay mounts) and an empty config file (the host's
# /etc/docker/daemon.json does not apply). When there is no dockerd, docker.io and docker-cli are installed from
# trixie with their dependencies from Debian 12 (scripts/install-packages.sh); Debian 12's own docker.io (20.10,
# API 1.41) is too old, and it is never upgraded: the script then stops with a message.
set -uo pipefail

min_api=1.44
fail() { echo "docker-engine.sh: $*" >&2; exit 1; }
usage() { echo "usage: docker-engine.sh start|stop DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
action=$1 dir=$2
script_dir=$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")

# The API version an engine at HOST (unix://PATH) speaks, empty when nothing answers.
engine_api() {
    local host=$1
    if command -v docker >/dev/null 2>&1; then
        docker -H "$host" version --format '{{.Server.APIVersion}}' 2>/dev/null
    elif command -v curl >/dev/null 2>&1 && [[ $host == unix://* ]]; then
        curl -s --max-time 5 --unix-socket "${host#unix://}" http://localhost/version 2>/dev/null |
            sed -n 's/.*"ApiVersion":"\([0-9.]*\)".*/\1/p'
    fi
}
api_ok() { [[ -n $1 ]] && [[ $(printf '%s\n%s\n' "$min_api" "$1" | sort -V | head -n 1) == "$min_api" ]]; }

start() {
    mkdir -p "$dir" || fail "cannot create $dir"
    # --- an engine the user runs: use it as it is
    local user_host=${DOCKER_HOST:-unix:///var/run/docker.sock} api
    api=$(engine_api "$user_host")
    if [[ -n $api ]]; then
        api_ok "$api" || fail "the Docker engine at $user_host speaks API $api; Testcontainers 4 needs >= $min_api. The suite does not change an engine it did not start: upgrade it, or stop it so that the suite runs its own."
        echo "$user_host" >"$dir/docker-host"
        echo "docker-engine.sh: using the Docker engine already running at $user_host (API $api); the suite changes nothing of it"
        return 0
    fi
    if [[ -S ${user_host#unix://} ]] && ! command -v docker >/dev/null && ! command -v curl >/dev/null; then
        fail "${user_host#unix://} exists but there is neither docker nor curl to ask the engine behind it"
    fi

    # --- the suite's own engine
    [[ $EUID -eq 0 ]] || fail "must run as root to start a Docker engine"
    if ! command -v dockerd >/dev/null 2>&1; then
        bash "$script_dir/install-packages.sh" --trixie docker.io docker-cli || fail "cannot install docker.io (see above)"
    fi
    command -v dockerd >/dev/null 2>&1 || fail "dockerd is not installed"
    local version
    version=$(dockerd --version 2>/dev/null | sed -n 's/^Docker version \([0-9][0-9.]*\).*/\1/p')
    if [[ -n $version ]] && dpkg --compare-versions "$version" lt 25; then
        fail "dockerd $version (Debian 12's docker.io) speaks API 1.41; Testcontainers 4 needs >= $min_api. The suite never upgrades an installed package: replace it yourself with trixie's (README, \"Docker\"), or run a newer engine."
    fi

    # Cgroup directories dockerd creates for its containers (cgroupfs driver) that did not exist before.
    local cgroup
    for cgroup in /sys/fs/cgroup/*/docker /sys/fs/cgroup/docker; do [[ -d $cgroup ]] && echo "$cgroup"; done >"$dir/cgroups-before"
    # Whatever their exec-root and state directory, dockerd makes /run/docker/plugins and containerd's shims
    # their sockets' directory /run/containerd/s: removed at the end, when they were not there before.
    [[ -e /run/docker ]] && touch "$dir/run-docker-existed"
    [[ -e /run/containerd ]] && touch "$dir/run-containerd-existed"
    echo '{}' >"$dir/daemon.json"
    mkdir -p "$dir/data" "$dir/exec"
    local host="unix://$dir/docker.sock"
    dockerd --config-file "$dir/daemon.json" --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" \
        --host "$host" --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --bridge=none \
        --userland-proxy=false --storage-driver=vfs >"$dir/dockerd.log" 2>&1 &
    echo $! >"$dir/dockerd.started"
    for _ in $(seq 1 120); do
        api=$(engine_api "$host")
        [[ -n $api ]] && break
        kill -0 "$(cat "$dir/dockerd.started")" 2>/dev/null || break
        sleep 0.5
    done
    if [[ -z $api ]]; then
        tail -n 20 "$dir/dockerd.log" >&2
        fail "the suite's dockerd did not answer on $host within 60 s (log above)"
    fi
    api_ok "$api" || fail "the suite's dockerd speaks API $api; Testcontainers 4 needs >= $min_api"
    echo "$host" >"$dir/docker-host"
    echo "docker-engine.sh: started the suite's own dockerd $(dockerd --version | sed 's/^Docker version //') (API $api) at $host, no iptables"
}

# Waits up to $2 half-seconds for process $1 to end.
wait_gone() { local _; for _ in $(seq 1 "$2"); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.5; done; ! kill -0 "$1" 2>/dev/null; }

stop() {
    [[ -d $dir ]] || return 0
    if [[ -f $dir/dockerd.started ]]; then
        local pid host containerd_pid=""
        pid=$(cat "$dir/dockerd.started")
        host="unix://$dir/docker.sock"
        # Containers and networks first: a user-defined network's bridge would outlive dockerd on the host.
        if command -v docker >/dev/null 2>&1 && kill -0 "$pid" 2>/dev/null; then
            local containers
            containers=$(docker -H "$host" ps -aq 2>/dev/null)
            [[ -z $containers ]] || docker -H "$host" rm -f $containers >/dev/null 2>&1
            docker -H "$host" network prune -f >/dev/null 2>&1
        fi
        containerd_pid=$(cat "$dir/exec/containerd/containerd.pid" 2>/dev/null || true)
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid"
            wait_gone "$pid" 60 || { echo "docker-engine.sh: dockerd $pid did not stop within 30 s; killing it" >&2; kill -KILL "$pid"; wait_gone "$pid" 20; }
        fi
        if [[ -n $containerd_pid ]] && kill -0 "$containerd_pid" 2>/dev/null &&
            [[ $(readlink "/proc/$containerd_pid/exe") == */containerd ]]; then
            kill -TERM "$containerd_pid"
            wait_gone "$containerd_pid" 20 || kill -KILL "$containerd_pid"
        fi
        # Whatever dockerd left mounted under DIR (netns bind mounts, ...), deepest first.
        awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r mount; do
            umount "$mount" 2>/dev/null || umount -l "$mount"
        done
        local cgroup
        for cgroup in /sys/fs/cgroup/*/docker /sys/fs/cgroup/docker; do
            [[ -d $cgroup ]] && ! grep -qx "$cgroup" "$dir/cgroups-before" 2>/dev/null && rmdir "$cgroup" 2>/dev/null
        done
        [[ -e $dir/run-docker-existed ]] || rmdir /run/docker/plugins /run/docker 2>/dev/null
        [[ -e $dir/run-containerd-existed ]] || rmdir /run/containerd/s /run/containerd 2>/dev/null
        [[ -f $dir/dockerd.log && -n ${DOCKERD_LOG_COPY:-} ]] && cp "$dir/dockerd.log" "$DOCKERD_LOG_COPY"
    fi
    rm -rf --one-file-system -- "$dir"
}

case $action in
    start) start ;;
    stop) stop ;;
    *) usage ;;
esac
