#!/usr/bin/env bash
# Copies the repository's files (tracked, and untracked ones git does not ignore: what a clone of
# the working tree would hold) into an empty directory with nothing beside it, and prints the
# copy's path. Tests run there prove the repository needs nothing outside itself (no team kit at
# ../shared, no sibling checkout).
set -euo pipefail
cd "$(dirname "$0")/../.."
dest="$(mktemp -d)/sei-jira"
mkdir -p "$dest"
git ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
    | tar --null -T - -cf - | tar -xf - -C "$dest"
echo "$dest"
