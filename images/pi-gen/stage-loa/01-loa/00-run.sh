#!/bin/bash -e
# pi-gen step: the Loa agent and its system files. pi-gen runs this on the build host with
# ROOTFS_DIR set (files/ is beside this script); on_chroot runs commands inside the image.
# files/loa-agent.tar.gz comes from images/build-agent.sh; files/province-root.pub is the
# province's root public key (see images/README.md).
here="$(dirname "$0")"
loa="${LOA_IMAGES_DIR:?set LOA_IMAGES_DIR to the repository images/ directory}"

install -d -m 755 "${ROOTFS_DIR}/opt/loa" "${ROOTFS_DIR}/etc/loa/root-keys" "${ROOTFS_DIR}/usr/lib/loa" \
  "${ROOTFS_DIR}/usr/share/loa/profiles" "${ROOTFS_DIR}/var/lib/loa"
tar -xzf "${here}/files/loa-agent.tar.gz" -C "${ROOTFS_DIR}/opt/loa"
install -m 644 "${here}/files/province-root.pub" "${ROOTFS_DIR}/etc/loa/root-keys/province-root.pub"
cp -r "${loa}/rootfs/." "${ROOTFS_DIR}/"
chmod 755 "${ROOTFS_DIR}/usr/lib/loa/loa-configure.mjs" "${ROOTFS_DIR}/usr/lib/loa/loa-release-check"
install -m 644 "${loa}"/profiles/*.json "${ROOTFS_DIR}/usr/share/loa/profiles/"
install -m 644 "${loa}"/systemd/loa-agent.service "${loa}"/systemd/loa-configure.service \
  "${loa}"/systemd/loa-release-check.service "${loa}"/systemd/loa-release-check.timer \
  "${loa}"/systemd/loa-usb@.service "${ROOTFS_DIR}/etc/systemd/system/"
if [ "${LOA_KIND:-station}" = noticeboard ]; then
  install -m 644 "${loa}/systemd/loa-kiosk.service" "${ROOTFS_DIR}/etc/systemd/system/"
fi
sed -i -e '/[[:space:]]\/boot\/firmware[[:space:]]/d' -e '/[[:space:]]\/var\/lib\/loa[[:space:]]/d' "${ROOTFS_DIR}/etc/fstab"
cat >>"${ROOTFS_DIR}/etc/fstab" <<'FSTAB'
LABEL=bootfs /boot/firmware vfat defaults,gid=loa,fmask=0117,dmask=0007,flush 0 2
LABEL=loadata /var/lib/loa ext4 defaults,noatime,commit=5,errors=remount-ro,nofail 0 2
FSTAB
grep -qx 'dtparam=watchdog=on' "${ROOTFS_DIR}/boot/firmware/config.txt" ||
  printf '\n# Loa: the SoC watchdog, fed by systemd (RuntimeWatchdogSec)\ndtparam=watchdog=on\n' >>"${ROOTFS_DIR}/boot/firmware/config.txt"

on_chroot <<'CHROOT'
getent group loa >/dev/null || useradd --system --home-dir /var/lib/loa --shell /usr/sbin/nologin --user-group loa
usermod -a -G gpio,dialout,audio loa
chown -R root:root /opt/loa
systemctl enable loa-configure.service loa-agent.service loa-release-check.timer NetworkManager ModemManager systemd-timesyncd
if [ -f /etc/systemd/system/loa-kiosk.service ]; then
  getent passwd loa-kiosk >/dev/null || useradd --system --create-home --groups video,render,input --shell /usr/sbin/nologin loa-kiosk
  systemctl enable loa-kiosk.service
fi
raspi-config nonint do_overlayfs 0
CHROOT
