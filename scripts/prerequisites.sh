#!/usr/bin/env bash
# source scripts/prerequisites.sh PACKAGE...
# Installs the missing ones of the named Debian 12 packages (scripts/install-packages.sh: never an upgrade or a
# removal, nothing from another release) and checks that the .NET 10 SDK is on PATH. Returns non-zero, with a
# message, when either fails. Needs root only when something is missing.
bash "$(dirname -- "${BASH_SOURCE[0]}")/install-packages.sh" "$@" || return 1

if ! command -v dotnet >/dev/null 2>&1; then
    echo "error: the .NET 10 SDK (dotnet) is not on PATH; install it first (https://dot.net)" >&2
    return 1
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
