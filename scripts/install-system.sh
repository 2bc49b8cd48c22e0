#!/usr/bin/env bash
# Installs what Tessera needs outside npm on a fresh Debian bookworm machine:
#  - Mesa's lavapipe (CPU Vulkan driver) from bookworm-backports, used by Node's `webgpu` (Dawn)
#    when no hardware WebGPU adapter exists;
#  - Debian's Chromium, used by the browser tests (its SwiftShader adapter runs WebGPU).
# Idempotent: does nothing that is already done. Needs root (CI runs as root).
set -euo pipefail
need_vk=1; need_chromium=1
if ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 && \
   dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | grep -q bpo; then need_vk=0; fi
[ -x /usr/lib/chromium/chromium ] && need_chromium=0
[ "${TESSERA_SKIP_CHROMIUM:-}" = 1 ] && need_chromium=0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system: not a Debian-like system; install a Vulkan/WebGPU driver and Chromium yourself if needed"; exit 0
fi
if [ $need_vk = 0 ] && [ $need_chromium = 0 ]; then echo "install-system: lavapipe and chromium present"; exit 0; fi
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
src=/etc/apt/sources.list.d/debian.sources
if [ $need_vk = 1 ] && [ -f $src ] && ! grep -q bookworm-backports $src; then
  # Add backports to the first Suites: line (the main mirror), as Debian documents.
  $SUDO sed -i '0,/^Suites: bookworm bookworm-updates$/s//Suites: bookworm bookworm-updates bookworm-backports/' $src
  grep -q bookworm-backports $src || echo 'deb http://deb.debian.org/debian bookworm-backports main' | $SUDO tee /etc/apt/sources.list.d/backports.list
fi
$SUDO apt-get update -q
if [ $need_vk = 1 ]; then
  $SUDO apt-get install -y -q libvulkan1
  $SUDO apt-get install -y -q -t bookworm-backports mesa-vulkan-drivers
fi
if [ $need_chromium = 1 ]; then $SUDO apt-get install -y -q chromium; fi
echo "install-system: done"
