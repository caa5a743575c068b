#!/bin/sh
# Removes from a production node_modules what a station never reads: docs, tests, examples,
# coverage reports (fluent-ffmpeg ships 11 MB of them), benchmarks, type sources and source maps.
# Used by build-agent.sh and by the benchmark that measures the installed size (npm run bench).
# Usage: images/prune-node-modules.sh NODE_MODULES_DIR
set -eu
dir="${1:?usage: prune-node-modules.sh NODE_MODULES_DIR}"
find "$dir" \( -name '*.md' -o -name '*.markdown' -o -name 'CHANGELOG*' -o -name '*.ts' -o -name '*.cts' \
  -o -name '*.mts' -o -name '*.map' -o -name test -o -name tests -o -name __tests__ -o -name docs -o -name doc \
  -o -name example -o -name examples -o -name coverage -o -name benchmark -o -name benchmarks -o -name .github \) \
  -not -path '*/@loa/*' -prune -exec rm -rf {} +
