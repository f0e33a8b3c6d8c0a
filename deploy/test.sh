#!/usr/bin/env bash
# Installs dependencies, checks the sources' layout, builds tracklink and runs the
# whole test suite:
#   1. a RelWithDebInfo build with warnings as errors: unit, integration tests;
#   2. the same suite under AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. the threaded unit tests under ThreadSanitizer.
# Set TL_TEST_QUICK=1 to run step 1 only (for a fast local loop).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash deploy/install-deps.sh --dev
echo "== tracklink: layout (.clang-format) and layers"
bash deploy/check-format.sh
bash deploy/check-layers.sh

jobs=$(nproc)
build_and_test() {
  local dir=$1 sanitize=$2 filter=$3 targets=${4:-all} unity=${5:-ON} bench=ON opt="-O2"
  # Benchmarks are built (and so compiled with -Werror) once; the sanitizer builds
  # use -O1, as the sanitizers advise, which halves their compile time.
  [ -n "$sanitize" ] && bench=OFF opt="-O1"
  echo "== tracklink: build ${dir} (sanitize='${sanitize}')"
  # -g1 (line tables) is what a failure's stack trace needs; full -g costs a fifth
  # more compile time.
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTL_SANITIZE="$sanitize" -DTL_WERROR=ON \
    -DTL_BUILD_BENCH="$bench" -DTL_UNITY_BUILD="$unity" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$opt -g1 -DNDEBUG" >/dev/null
  cmake --build "$dir" -j "$jobs" --target $targets
  echo "== tracklink: test ${dir}"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 600 $filter
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1
# Third-party caches kept for the process's life (fontconfig, under PLplot): tests/lsan.supp.
export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

build_and_test build ""  ""
if [ "${TL_TEST_QUICK:-0}" != "1" ]; then
  # Under the sanitizers the 60 s alignment and lossy takes are shortened: that
  # stage looks for memory and UB errors, the plain stage checks the figures. The
  # alignment take keeps 40 s: drift measured over 20 s of a sanitized, loaded
  # machine was seen 1.1 ppm off, i.e. 2 samples at the take's ends.
  # (Scale.* skips itself there: 33 sanitized processes cannot keep its pace on 2 cores.)
  TL_ALIGNMENT_SECONDS=40 TL_LOSSY_SECONDS=20 build_and_test build-asan "address,undefined" ""
  # ThreadSanitizer covers the threaded unit tests (rings, receiver, mixer, capture, proxy).
  # It compiles each file on its own (no unity batches): a missing #include that a
  # batch neighbour hides is found here.
  build_and_test build-tsan "thread" "-L unit" \
    "unit_common unit_protocol unit_dsp unit_capture unit_mixer unit_ctl unit_netem tl-capture" OFF
fi
echo "== tracklink: all test stages passed"
