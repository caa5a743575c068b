#!/bin/bash
# Turns an official Raspberry Pi OS Lite (arm64) image into a Loa station image without
# rebuilding it. Two phases:
#
#   offline (default; no root, no loop device, no mount): Debian's sfdisk, mkfs.ext4, mtools
#     and debugfs edit the image file directly:
#       - a data partition (ext4, label loadata) appended, mounted at /var/lib/loa;
#       - config.txt: the hardware watchdog (dtparam=watchdog=on);
#       - the root file system: Loa's systemd units (enabled), journald in RAM, the systemd
#         watchdog, the EC25 udev rule, NetworkManager settings, loa-configure, the hardware
#         profiles, the agent's base config and the province root key, fstab lines for the data
#         and boot partitions;
#   --chroot (root, loop device, qemu-user-static on a non-arm64 host): installs Debian's
#     nodejs, ffmpeg, network-manager, modemmanager (cage and chromium for noticeboards), the
#     compiled agent (--agent-tar, from images/build-agent.sh), the loa user, and turns on the
#     read-only root with an overlay (raspi-config nonint do_overlayfs 0).
#
# --dry-run prints every command instead of running it; the image is not touched.
#
# Usage: images/customise.sh --image raspios-lite-arm64.img[.xz|.zip] --out loa-station.img
#          --root-key province-root.pub [--data-mib 1024] [--kind station|noticeboard]
#          [--chroot --agent-tar loa-agent.tar.gz] [--dry-run]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
image="" out="" root_key="" data_mib=1024 kind=station chroot=0 agent_tar="" dry=0

die() { echo "customise: $*" >&2; exit 1; }
say() { echo "customise: $*" >&2; }
# run CMD…: runs it, or prints it under --dry-run
run() {
  if [ "$dry" = 1 ]; then printf '+'; printf ' %q' "$@"; printf '\n'; else "$@"; fi
}

while [ $# -gt 0 ]; do
  case "$1" in
    --image) image="${2:?}"; shift 2 ;;
    --out) out="${2:?}"; shift 2 ;;
    --root-key) root_key="${2:?}"; shift 2 ;;
    --data-mib) data_mib="${2:?}"; shift 2 ;;
    --kind) kind="${2:?}"; shift 2 ;;
    --chroot) chroot=1; shift ;;
    --agent-tar) agent_tar="${2:?}"; shift 2 ;;
    --dry-run) dry=1; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[ -n "$image" ] || die "--image is required"
[ -n "$out" ] || die "--out is required"
[ -n "$root_key" ] || die "--root-key is required (the province root public key, SPKI PEM)"
[ -f "$image" ] || die "no image file $image"
[ -f "$root_key" ] || die "no root key file $root_key"
grep -q 'BEGIN PUBLIC KEY' "$root_key" || die "$root_key is not a PEM public key"
case "$kind" in station|noticeboard) ;; *) die "--kind must be station or noticeboard" ;; esac
case "$data_mib" in ''|*[!0-9]*) die "--data-mib must be a number of MiB" ;; esac
[ "$data_mib" -ge 16 ] || die "--data-mib must be at least 16"
if [ "$chroot" = 1 ] && [ -z "$agent_tar" ]; then die "--chroot needs --agent-tar (images/build-agent.sh)"; fi
for tool in sfdisk mkfs.ext4 debugfs mcopy mtype; do
  command -v "$tool" >/dev/null || die "$tool is missing (Debian: fdisk e2fsprogs mtools)"
done

export MTOOLS_SKIP_CHECK=1 MTOOLSRC=/dev/null

# 1. The image, uncompressed, as the output file.
say "copying $image to $out"
case "$image" in
  *.xz) if [ "$dry" = 1 ]; then run xz -dc -- "$image"; else xz -dc -- "$image" >"$out"; fi ;;
  *.zip) if [ "$dry" = 1 ]; then run unzip -p -- "$image"; else unzip -p -- "$image" >"$out"; fi ;;
  *) run cp --sparse=always -- "$image" "$out" ;;
esac
src="$out"
[ "$dry" = 1 ] && src="$image"

# Partition starts (sectors) from the MBR, via sfdisk's JSON dump.
part_field() { # part_field IMAGE N FIELD
  sfdisk --json "$1" | node -e '
    const t = JSON.parse(require("fs").readFileSync(0, "utf8")).partitiontable;
    const p = t.partitions[Number(process.argv[1]) - 1];
    if (!p) process.exit(3);
    process.stdout.write(String(p[process.argv[2]]));' "$2" "$3"
}
if [ "$dry" = 1 ] && { [[ "$src" == *.xz ]] || [[ "$src" == *.zip ]]; }; then
  say "dry run of a compressed image: partition offsets are shown as BOOT, ROOT and DATA"
  boot_off=BOOT root_off=ROOT data_start=DATA
else
  boot_off=$(( $(part_field "$src" 1 start) * 512 ))
  root_off=$(( $(part_field "$src" 2 start) * 512 ))
  root_end=$(( $(part_field "$src" 2 start) + $(part_field "$src" 2 size) ))
  data_start=$(( (root_end + 2047) / 2048 * 2048 ))
fi

# 2. The data partition, appended after the root partition.
data_sectors=$(( data_mib * 2048 ))
if [ "$dry" = 1 ] || ! part_field "$src" 3 start >/dev/null 2>&1; then
  say "appending a ${data_mib} MiB data partition (ext4, label loadata)"
  if [[ "$data_start" =~ ^[0-9]+$ ]]; then
    run truncate -s $(( (data_start + data_sectors) * 512 )) "$out"
  else
    run truncate -s "(DATA + $data_sectors) * 512" "$out"
  fi
  if [ "$dry" = 1 ]; then
    printf '+ sfdisk --append %q <<< %q\n' "$out" "start=$data_start, size=$data_sectors, type=83"
  else
    echo "start=$data_start, size=$data_sectors, type=83" | sfdisk -q --no-reread --append "$out"
  fi
  if ! [[ "$data_start" =~ ^[0-9]+$ ]]; then
    run mkfs.ext4 -q -F -L loadata -E "offset=$data_start*512" "$out" "${data_mib}M"
  else
    run mkfs.ext4 -q -F -L loadata -E "offset=$(( data_start * 512 ))" "$out" "${data_mib}M"
  fi
else
  say "a third partition exists already: left as it is"
fi

# 3. Boot partition: the hardware watchdog.
say "config.txt: dtparam=watchdog=on"
if [ "$dry" = 1 ]; then
  run mcopy -o -i "$out@@$boot_off" - ::/config.txt
else
  cfg=$(mtype -i "$out@@$boot_off" ::/config.txt)
  if ! grep -qx 'dtparam=watchdog=on' <<<"$cfg"; then
    printf '%s\n\n# Loa: the SoC watchdog, fed by systemd (RuntimeWatchdogSec)\ndtparam=watchdog=on\n' "$cfg" |
      mcopy -o -i "$out@@$boot_off" - ::/config.txt
  fi
fi

# 4. Root file system, through debugfs (no mount).
rootfs="$out?offset=$root_off"
dbg() { run debugfs -w -R "$1" "$rootfs" >/dev/null 2>&1 || true; }
dbg_strict() {
  if [ "$dry" = 1 ]; then run debugfs -w -R "$1" "$rootfs"; return; fi
  local outp
  outp=$(debugfs -w -R "$1" "$rootfs" 2>&1)
  if grep -qiE 'error|not found|could not|no such' <<<"$outp"; then die "debugfs '$1': $outp"; fi
}
# put SOURCE DEST MODE: a root-owned file in the image
put() {
  dbg "rm $2"
  dbg_strict "write $1 $2"
  dbg_strict "sif $2 mode 0100$3"
  dbg_strict "sif $2 uid 0"
  dbg_strict "sif $2 gid 0"
}
# mkdirs DIR…: like mkdir -p (debugfs's mkdir makes one level)
mkdirs() {
  local d part path
  for d in "$@"; do
    path=""
    IFS=/ read -ra part <<<"${d#/}"
    for p in "${part[@]}"; do
      path="$path/$p"
      dbg "mkdir $path"
    done
  done
}

say "installing Loa's files into the root file system"
mkdirs /etc/loa /etc/loa/root-keys /usr/lib/loa /usr/share/loa /usr/share/loa/profiles /var/lib/loa \
  /etc/systemd/journald.conf.d /etc/systemd/system.conf.d /etc/udev/rules.d /etc/NetworkManager \
  /etc/NetworkManager/conf.d /etc/systemd/system/multi-user.target.wants /etc/systemd/system/graphical.target.wants \
  /etc/systemd/system/timers.target.wants
for f in etc/loa/agent.base.json etc/systemd/journald.conf.d/loa.conf etc/systemd/system.conf.d/loa-watchdog.conf \
  etc/udev/rules.d/77-loa-ec25.rules etc/udev/rules.d/78-loa-usb.rules etc/NetworkManager/conf.d/loa.conf; do
  put "$here/rootfs/$f" "/$f" 644
done
put "$here/rootfs/usr/lib/loa/loa-configure.mjs" /usr/lib/loa/loa-configure.mjs 755
put "$here/rootfs/usr/lib/loa/loa-release-check" /usr/lib/loa/loa-release-check 755
put "$root_key" /etc/loa/root-keys/province-root.pub 644
for p in "$here"/profiles/*.json; do put "$p" "/usr/share/loa/profiles/$(basename "$p")" 644; done
units="loa-agent.service loa-configure.service loa-release-check.timer"
[ "$kind" = noticeboard ] && units="$units loa-kiosk.service"
for u in $units; do
  put "$here/systemd/$u" "/etc/systemd/system/$u" 644
  target=multi-user.target.wants
  [ "$u" = loa-kiosk.service ] && target=graphical.target.wants
  [ "$u" = loa-release-check.timer ] && target=timers.target.wants
  [ "$u" = loa-release-check.timer ] && put "$here/systemd/loa-release-check.service" \
    /etc/systemd/system/loa-release-check.service 644 &&
    put "$here/systemd/loa-usb@.service" /etc/systemd/system/loa-usb@.service 644
  dbg "rm /etc/systemd/system/$target/$u"
  dbg_strict "symlink /etc/systemd/system/$target/$u /etc/systemd/system/$u"
done

# fstab: the data partition (rw, journalled, noatime) and the boot partition with group loa
# (the agent rewrites the provisioning file; others cannot read its token).
say "fstab: /var/lib/loa (loadata) and /boot/firmware (gid=loa)"
if [ "$dry" = 1 ]; then
  run debugfs -R "cat /etc/fstab" "$rootfs"
else
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  debugfs -R "cat /etc/fstab" "$rootfs" 2>/dev/null >"$tmp/fstab" || true
  grep -v -e '[[:space:]]/var/lib/loa[[:space:]]' -e '[[:space:]]/boot/firmware[[:space:]]' "$tmp/fstab" >"$tmp/fstab.new" || true
  {
    echo "LABEL=bootfs /boot/firmware vfat defaults,gid=loa,fmask=0117,dmask=0007,flush 0 2"
    echo "LABEL=loadata /var/lib/loa ext4 defaults,noatime,commit=5,errors=remount-ro 0 2"
  } >>"$tmp/fstab.new"
  put "$tmp/fstab.new" /etc/fstab 644
fi

if [ "$chroot" = 1 ]; then
  extra=()
  [ "$dry" = 1 ] && extra=(--dry-run)
  "$here/chroot-install.sh" "${extra[@]}" --image "$out" --kind "$kind" --agent-tar "$agent_tar"
fi
say "done: $out"
