#!/usr/bin/env bash
# A long take, as a studio records a set: --channels inputs (capture nodes of up to 8
# noise channels, PCM24, with spools) recorded for --minutes with the real programs on
# loopback. Prints, every minute, the mixer's resident memory and the take folder's
# size; then how long `tlctl record stop` took to answer, the take's disk use against
# one copy of its tracks plus the mix, and the samples lost. The issue's figures:
# stop under 5 s, disk within 5% of one copy, memory flat, nothing lost.
#
#   tests/bench/long_take.sh [--channels 64] [--minutes 30] [--keep]
#
# Needs a built tree (build/bin) and room on the disk of the temporary folder
# (64 channels: about 0.55 GB a minute); removed at the end unless --keep.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin="$root/build/bin"
channels=64
minutes=30
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --channels) channels=$2; shift 2 ;;
    --minutes) minutes=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "long_take: unknown option $1" >&2; exit 2 ;;
  esac
done
for b in tl-mixer tl-capture tlctl; do
  [ -x "$bin/$b" ] || { echo "long_take: $bin/$b missing; build first" >&2; exit 1; }
done

work=$(mktemp -d)
. "$root/tests/bench/session.sh"
tl_session_init "$work" "$bin" "$keep"

tl_start_mixer
nodes=0
left=$channels
while [ "$left" -gt 0 ]; do
  n=$((left < 8 ? left : 8))
  tl_start_node "n$nodes" --source noise --channels "$n" --level-db -30 --spool-dir "$work/spool-n$nodes" \
    --spool-max 20m
  nodes=$((nodes + 1))
  left=$((left - n))
done
tl_wait_streaming "$nodes"
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$TL_MIXER_PID/status"; }
echo "== recording $channels channels from $nodes nodes for $minutes min"
tl_ctl record start --take long >/dev/null
take="$work/takes/long"
for m in $(seq 1 "$minutes"); do
  sleep 60
  printf 'minute %3d: mixer %s MB resident, take folder %s MB\n' "$m" "$(rss_mb)" \
    "$(du -sm "$take" | cut -f1)"
done
t0=$(date +%s.%N)
tl_ctl --timeout-ms 120000 record stop > "$work/stop.txt"
t1=$(date +%s.%N)
stop_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')
# Track files to move or resample are written after the stop answers.
tl_wait_closed "$take" 3600
t2=$(date +%s.%N)
echo "record stop answered in $stop_s s; the take closed $(awk -v a="$t0" -v b="$t2" 'BEGIN {printf "%.2f", b - a}') s after the stop was asked"
python3 - "$take" "$stop_s" <<'PY'
import json, os, sys
take, stop_s = sys.argv[1], sys.argv[2]
with open(os.path.join(take, "take.json")) as f:
    t = json.load(f)
frames = int(t["frames"])
tracks = t["tracks"]
one_copy = (len(tracks) * 3 + 2 * 3) * frames  # 24-bit mono tracks + the stereo mix
used, seen = 0, set()
for dirpath, _, files in os.walk(take):
    for name in files:
        st = os.stat(os.path.join(dirpath, name))
        if (st.st_dev, st.st_ino) in seen:
            continue  # a hard link (a conformed track that is its raw/ file) counts once
        seen.add((st.st_dev, st.st_ino))
        used += st.st_blocks * 512
lost = sum(int(tr.get("lost_samples", 0)) for tr in tracks)
# Held once: a link to raw/, or one file for a whole-sample move (no raw_file, raw_edge kept).
linked = sum(1 for tr in tracks if tr.get("raw_linked") or "raw_file" not in tr)
print(f"take: {t['seconds']:.1f} s, {len(tracks)} tracks ({linked} held once, {len(tracks) - linked} "
      f"with a resampled copy beside raw/), state {t['state']}")
print(f"disk: {used / 1e9:.2f} GB used, one copy of the tracks + mix {one_copy / 1e9:.2f} GB: "
      f"{100.0 * (used - one_copy) / one_copy:+.1f}%")
moved = {}
for tr in tracks:
    k = f"{tr.get('conform', 'none')} {tr.get('moved_samples', 0):+g}"
    moved[k] = moved.get(k, 0) + 1
print("conform of the tracks: " + ", ".join(f"{n} x {k}" for k, n in sorted(moved.items())))
print(f"lost samples: {lost}")
PY
