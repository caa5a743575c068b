#!/usr/bin/env bash
# One-time set-up of a Debian machine for `npm start` and `npm test`: installs the Debian
# packages listed in debian-packages.txt that are missing, then the npm packages (`npm ci`).
# Idempotent: a second run installs nothing new. `--no-npm` skips `npm ci`.
set -euo pipefail
cd "$(dirname "$0")/../.."
list=scripts/setup/debian-packages.txt

# A command on PATH, or an absolute path to a file (a package that installs data, such as a font).
have() {
  case "$1" in /*) [ -r "$1" ] ;; *) command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ] ;; esac
}

missing=()
while read -r pkg cmd _; do
  case "$pkg" in '' | '#'*) continue ;; esac
  have "$cmd" || missing+=("$pkg")
done <"$list"

if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: no apt-get here; install these packages (or their equivalents): ${missing[*]}" >&2
    exit 1
  fi
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "setup: run as root, or install sudo, to install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  echo "setup: installing ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  for pkg in "${missing[@]}"; do
    cmd=$(awk -v p="$pkg" '$1 == p { print $2 }' "$list")
    have "$cmd" || { echo "setup: $pkg was installed but '$cmd' is still not on PATH" >&2; exit 1; }
  done
else
  echo "setup: every Debian package in $list is present"
fi

if [ "${1:-}" != "--no-npm" ]; then
  npm ci --no-audit --no-fund
fi
