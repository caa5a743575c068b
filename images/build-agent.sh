#!/bin/bash
# Builds the station's agent tarball (loa-agent.tar.gz) for the image: the compiled agent and
# protocol with production dependencies only, pruned of docs, tests, type sources and source
# maps. Runs on a developer machine or CI (npm registry reachable); the tarball goes into
# images/pi-gen/stage-loa/01-loa/files/ or to customise.sh --agent-tar.
#
# Native modules (serialport, epoll for onoff) are built for the host: build on an arm64 machine
# (a Pi, or an arm64 CI runner) for the image, or run this inside the image's chroot.
#
# Usage: images/build-agent.sh OUT.tar.gz [--dry-run]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:?usage: build-agent.sh OUT.tar.gz [--dry-run]}"
dry=0
[ "${2:-}" = --dry-run ] && dry=1
run() {
  if [ "$dry" = 1 ]; then printf '+'; printf ' %q' "$@"; printf '\n'; else "$@"; fi
}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
run npx --prefix "$repo" tsc -b "$repo/agent"
run mkdir -p "$stage/agent/node_modules/@loa"
run cp -r "$repo/agent/dist" "$repo/agent/assets" "$repo/agent/bin" "$repo/agent/package.json" "$repo/agent/README.md" "$stage/agent/"
run mkdir -p "$stage/agent/node_modules/@loa/protocol"
run cp -r "$repo/protocol/dist" "$repo/protocol/package.json" "$stage/agent/node_modules/@loa/protocol/"
# the agent's own dependencies, production only; @loa/protocol is already in place
(
  cd "$stage/agent"
  run node -e '
    const p = require("./package.json");
    delete p.dependencies["@loa/protocol"];
    delete p.devDependencies;
    require("fs").writeFileSync("package.json", JSON.stringify(p, null, 2));'
  run npm install --omit=dev --no-audit --no-fund --ignore-scripts=false
)
# prune what a station never reads (the same rules the install-size benchmark measures)
run "$repo/images/prune-node-modules.sh" "$stage/agent/node_modules"
run find "$stage/agent" -name '*.d.ts' -delete
run du -sh "$stage/agent/node_modules"
run tar -czf "$out" -C "$stage" agent
echo "build-agent: $out" >&2
