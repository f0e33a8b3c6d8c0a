#!/usr/bin/env bash
# Installs every Debian 12 package tracklink needs to build, test and run.
# Safe to run again: apt skips what is already there.
#   --dev  also the tools that check the code (clang-format), for deploy/test.sh
set -euo pipefail

packages=(
  build-essential cmake pkg-config ninja-build git
  libasio-dev libopus-dev libprotobuf-dev protobuf-compiler
  librtaudio-dev libspdlog-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev
  libsndfile1-dev libebur128-dev libsoxr-dev libsodium-dev
  libcli11-dev libtomlplusplus-dev nlohmann-json3-dev
  libplplot-dev plplot-driver-cairo
  jackd2 libjack-jackd2-dev iproute2 procps
)
if [ "${1:-}" = "--dev" ]; then packages+=(clang-format); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# jackd2 asks whether to enable realtime scheduling; answer for it.
echo "jackd2 jackd/tweak_rt_limits boolean false" | $SUDO debconf-set-selections 2>/dev/null || true
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
