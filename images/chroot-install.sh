#!/bin/bash
# The part of images/customise.sh that needs root: the image's partitions on a loop device,
# mounted, and a chroot (through qemu-aarch64-static and binfmt_misc on a non-arm64 host) that
# installs Debian's packages and the compiled agent, creates the loa user and turns on the
# read-only root with an overlay. On a Raspberry Pi itself no emulation is needed.
#
# Usage (root): images/chroot-install.sh --image loa-station.img --agent-tar loa-agent.tar.gz
#                 [--kind station|noticeboard] [--dry-run]
set -euo pipefail

image="" agent_tar="" kind=station dry=0
die() { echo "chroot-install: $*" >&2; exit 1; }
run() {
  if [ "$dry" = 1 ]; then printf '+'; printf ' %q' "$@"; printf '\n'; else "$@"; fi
}
while [ $# -gt 0 ]; do
  case "$1" in
    --image) image="${2:?}"; shift 2 ;;
    --agent-tar) agent_tar="${2:?}"; shift 2 ;;
    --kind) kind="${2:?}"; shift 2 ;;
    --dry-run) dry=1; shift ;;
    *) die "unknown option $1" ;;
  esac
done
[ -f "$image" ] || die "no image $image"
[ -f "$agent_tar" ] || die "no agent tarball $agent_tar (images/build-agent.sh makes it)"
if [ "$dry" != 1 ] && [ "$(id -u)" != 0 ]; then die "needs root (loop device, mount, chroot)"; fi

packages="nodejs ffmpeg alsa-utils network-manager modemmanager libqmi-utils systemd-timesyncd"
[ "$kind" = noticeboard ] && packages="$packages cage chromium"

mnt=$(mktemp -d /tmp/loa-chroot.XXXXXX)
loop=""
cleanup() {
  for m in dev/pts dev proc sys boot/firmware ""; do
    mountpoint -q "$mnt/$m" 2>/dev/null && umount "$mnt/$m"
  done
  [ -n "$loop" ] && losetup -d "$loop"
  rmdir "$mnt" 2>/dev/null || true
}
trap cleanup EXIT

if [ "$dry" = 1 ]; then
  loop=/dev/loopN
  run losetup --show -fP "$image"
else
  loop=$(losetup --show -fP "$image")
fi
run mount "${loop}p2" "$mnt"
run mount "${loop}p1" "$mnt/boot/firmware"
for m in dev dev/pts proc sys; do run mount --bind "/$m" "$mnt/$m"; done
if [ "$(uname -m)" != aarch64 ]; then
  command -v qemu-aarch64-static >/dev/null || die "qemu-aarch64-static is missing (Debian: qemu-user-static binfmt-support)"
  run cp /usr/bin/qemu-aarch64-static "$mnt/usr/bin/"
fi
in_chroot() { run chroot "$mnt" /usr/bin/env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"; }
in_chroot apt-get update
# shellcheck disable=SC2086 # the package list is words
in_chroot apt-get install -y --no-install-recommends $packages
in_chroot sh -c 'getent group loa >/dev/null || useradd --system --home-dir /var/lib/loa --shell /usr/sbin/nologin --user-group loa'
in_chroot usermod -a -G gpio,dialout,audio loa
[ "$kind" = noticeboard ] && in_chroot sh -c 'getent passwd loa-kiosk >/dev/null || useradd --system --create-home --groups video,render,input --shell /usr/sbin/nologin loa-kiosk'
run mkdir -p "$mnt/opt/loa"
run tar -xzf "$agent_tar" -C "$mnt/opt/loa"
in_chroot chown -R root:root /opt/loa
# read-only root: Raspberry Pi OS's own overlay (initramfs overlayroot), as raspi-config sets it
in_chroot raspi-config nonint do_overlayfs 0
in_chroot systemctl enable NetworkManager ModemManager systemd-timesyncd
[ "$(uname -m)" != aarch64 ] && run rm -f "$mnt/usr/bin/qemu-aarch64-static"
echo "chroot-install: done" >&2
