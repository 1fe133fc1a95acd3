#!/usr/bin/env bash
# Rewrites the public API baseline (PublicAPI.Unshipped.txt of each product project) from the code as it is now,
# after a DELIBERATE change to the public surface; review the diff before committing it.
#
#     bash scripts/update-public-api.sh            # every product project
#     bash scripts/update-public-api.sh src/NetlinkFence
#
# The build checks the baseline (Microsoft.CodeAnalysis.PublicApiAnalyzers, warnings are errors): a public symbol
# not in PublicAPI.Shipped.txt/Unshipped.txt fails with RS0016, one listed but gone with RS0017. This script empties
# Unshipped, lets the analyser's own code fix add every public symbol that Shipped does not list (dotnet format,
# part of the SDK), and sorts the result so that diffs stay small. Shipped is left alone: at a release, move the
# Unshipped lines there (CHANGELOG.md); removing a shipped symbol is a breaking change, written by hand as a
# "*REMOVED*" line in Unshipped (the analyser's documentation).
set -euo pipefail
cd "$(dirname "$0")/.."

projects=("$@")
((${#projects[@]} > 0)) || projects=(native-interop/NetlinkFence.Interop src/NetlinkFence src/NetlinkFence.Cli)

for project in "${projects[@]}"; do
    project=${project%/}
    csproj=$(ls "$project"/*.csproj)
    unshipped=$project/PublicAPI.Unshipped.txt
    [[ -f $project/PublicAPI.Shipped.txt ]] || printf '#nullable enable\n' >"$project/PublicAPI.Shipped.txt"
    printf '#nullable enable\n' >"$unshipped"
    echo "update-public-api: $project"
    dotnet restore "$csproj" -v quiet -nologo >/dev/null
    # RS0016's fix appends every missing symbol; nothing else in the sources is touched.
    dotnet format analyzers "$csproj" --diagnostics RS0016 --severity warn --no-restore -v quiet
    { head -n 1 "$unshipped"; tail -n +2 "$unshipped" | LC_ALL=C sort -u; } >"$unshipped.sorted"
    mv "$unshipped.sorted" "$unshipped"
    echo "update-public-api: $unshipped: $(($(wc -l <"$unshipped") - 1)) symbols"
done
git status --short -- "${projects[@]}"

# The generated listings of the public types (docs/api.md, README's "Library reference" table) follow the same change.
echo "update-public-api: docs/api.md and README.md's library table"
NLF_UPDATE_DOCS=1 dotnet test tests/NetlinkFence.Tests -c Release -nologo -v quiet --filter "FullyQualifiedName~Docs.ApiListingTests"
git status --short -- docs/api.md README.md
