#!/usr/bin/env bash
# tl-master's memory on a long file (issue 17: memory bounded whatever the file's length).
#
# Generates a stereo 48 kHz / 24-bit file of --minutes (ffmpeg: a bass line and pink
# noise whose level steps every 20 s), then masters it with /usr/bin/time -v: plain
# (streaming preset), and with the whole chain (mastering/presets/bright-pop.toml) and
# the loudness picture. Prints each run's peak resident memory, wall time and speed
# (x real time), and the same for a file a tenth as long, so growth with length shows.
#
# Needs ffmpeg and GNU time (installed with apt if missing, for this bench only).
set -Eeuo pipefail

usage() {
  cat <<'USAGE'
usage: tests/bench/master_memory.sh [BIN_DIR] [--minutes N] [--keep]
  BIN_DIR    the build's bin folder holding tl-master (default build/bin)
  --minutes  length of the long file (default 60; the short one is a tenth of it)
  --keep     keep the work folder (the long file is about 1 GB an hour)
USAGE
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin_dir=$repo/build/bin
minutes=60
keep=0
die() {
  echo "master_memory: $*" >&2
  exit 1
}
while (($#)); do
  case $1 in
    --minutes) minutes=${2:?--minutes needs a value}; shift 2 ;;
    --keep) keep=1; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option $1" ;;
    *) bin_dir=$1; shift ;;
  esac
done
[[ $minutes =~ ^[0-9]+$ ]] && ((minutes >= 1)) || die "--minutes must be a whole number of minutes, 1 or more"
[ -x "$bin_dir/tl-master" ] || die "no tl-master in $bin_dir (build it first)"
missing=()
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
[ -x /usr/bin/time ] || missing+=(time)
if ((${#missing[@]})); then
  [ "$(id -u)" -eq 0 ] || die "needs ${missing[*]}: run as root to install them, or install them"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

work=$(mktemp -d)
cleanup() { ((keep)) && echo "kept $work" || rm -rf "$work"; }
trap cleanup EXIT

# A bass line under pink noise, the noise 6 dB up for 20 s in every minute.
make_file() { # seconds path
  ffmpeg -v error -f lavfi -i "sine=f=55:r=48000:d=$1" -f lavfi -i "anoisesrc=c=pink:r=48000:a=0.1:d=$1" \
    -filter_complex "[1]volume='if(lt(mod(t,60),20),2,1)':eval=frame[n];[0][n]amix=inputs=2:normalize=0,pan=stereo|c0=c0|c1=c0" \
    -c:a pcm_s24le -y "$2"
}

run() { # label seconds input args...
  local label=$1 seconds=$2 input=$3
  shift 3
  local out="$work/out-$RANDOM.wav"
  /usr/bin/time -v "$bin_dir/tl-master" "$input" -o "$out" -q "$@" >/dev/null 2>"$work/time.txt" ||
    die "tl-master failed: $(tail -3 "$work/time.txt")"
  local rss wall
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt")
  local secs
  secs=$(echo "$wall" | awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
  printf '%-34s %7.1f min  peak %6.1f MB  wall %7.1f s  %6.1fx real time\n' "$label" \
    "$(echo "$seconds / 60" | bc -l)" "$(echo "$rss / 1024" | bc -l)" "$secs" "$(echo "$seconds / $secs" | bc -l)"
  rm -f "$out" "${out%.wav}.png"
}

long=$((minutes * 60))
short=$((long / 10))
echo "master_memory: generating ${minutes} min and $((short / 60)) min test files in $work"
make_file "$long" "$work/long.wav"
make_file "$short" "$work/short.wav"
preset=$repo/mastering/presets/bright-pop.toml
for pair in "short:$short" "long:$long"; do
  name=${pair%%:*} seconds=${pair#*:}
  run "$name: streaming preset" "$seconds" "$work/$name.wav"
  run "$name: bright-pop chain + --plot" "$seconds" "$work/$name.wav" --preset "$preset" \
    --plot "$work/$name-plot.png"
done
