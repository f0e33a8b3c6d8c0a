#!/usr/bin/env bash
# tl-render's speed and memory on a take the size of a song: records one with the
# real programs on loopback (two capture nodes of 8 noise channels = 16 tracks,
# a few mix changes while it runs), then renders it --runs times and prints each
# run's wall time, CPU "x real time" and peak memory, and their medians.
# Then the take through mix + master (tl-master on the take folder, the streaming
# preset): wall time, CPU time and "x real time on one core" (take length / CPU),
# against issue 17's goal of 50x, --runs times and the median.
# With --vs OTHER_TL_RENDER the two binaries render the same take in turn
# (A B A B ...) and the ratio A/B of each pair is printed: build the baseline from
# an older commit (git worktree add /tmp/old COMMIT; cmake + ninja tl-render there)
# and pass its tl-render to see a change's before/after.
#
#   tests/bench/render_take.sh [--seconds 180] [--runs 3] [--vs PATH] [--take DIR] [--keep]
#
# --take DIR renders an existing take instead of recording one (--seconds ignored).
# Needs a built tree (build/bin); writes under a temporary folder, removed at the end
# unless --keep.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin="$root/build/bin"
seconds=180
runs=3
vs=""
take=""
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --vs) vs=$2; shift 2 ;;
    --take) take=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "render_take: unknown option $1" >&2; exit 2 ;;
  esac
done
for b in tl-mixer tl-capture tlctl tl-render tl-master; do
  [ -x "$bin/$b" ] || { echo "render_take: $bin/$b missing; build first" >&2; exit 1; }
done
if [ -n "$vs" ] && [ ! -x "$vs" ]; then echo "render_take: --vs $vs is not a program" >&2; exit 2; fi

work=$(mktemp -d)
. "$root/tests/bench/session.sh"
tl_session_init "$work" "$bin" "$keep"

record() {
  tl_start_mixer
  for n in room-a room-b; do
    tl_start_node "$n" --source noise --channels 8 --level-db -30 --spool-dir "$work/spool-$n"
  done
  tl_wait_streaming 2
  tl_ctl record start --take bench >/dev/null
  # A few changes spread over the take, so the render applies automation too.
  local step=$((seconds / 4)) i
  for i in 1 2 3; do
    sleep "$step"
    tl_ctl gain "room-a/$i" "-$((3 * i))" >/dev/null
    tl_ctl pan "room-b/$i" "0.$i" >/dev/null
    echo "recording: $((i * step)) of $seconds s" >&2
  done
  sleep $((seconds - 3 * step))
  tl_ctl record stop >/dev/null
  take="$work/takes/bench"
  tl_stop_all
}

if [ -z "$take" ]; then
  echo "== recording a ${seconds} s take of 16 tracks (2 nodes x 8 channels)"
  record
fi
[ -f "$take/take.json" ] || { echo "render_take: no take.json in $take" >&2; exit 1; }

# One render: prints "WALL CPU_X PEAK_MB" from the wall clock and tl-render's own line.
render_once() {
  local program=$1 out=$2 t0 t1 line
  t0=$(date +%s.%N)
  line=$("$program" "$take" --out "$out" --quiet)
  t1=$(date +%s.%N)
  local x mb
  x=$(printf '%s\n' "$line" | sed -n 's/.* \([0-9.]*\)x real time.*/\1/p' | head -n1)
  mb=$(printf '%s\n' "$line" | sed -n 's/.* \([0-9]*\) MB peak memory.*/\1/p' | head -n1)
  echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}') ${x:-?} ${mb:-?}"
}
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

echo "== rendering $take ($runs runs)"
render_once "$bin/tl-render" "$work/warm.wav" >/dev/null  # page cache warm for both
: > "$work/a.txt"; : > "$work/b.txt"; : > "$work/ratio.txt"
for r in $(seq 1 "$runs"); do
  a=$(render_once "$bin/tl-render" "$work/a.wav")
  echo "$a" >> "$work/a.txt"
  if [ -n "$vs" ]; then
    b=$(render_once "$vs" "$work/b.wav")
    echo "$b" >> "$work/b.txt"
    echo "$a $b" | awk '{printf "%.3f\n", $1 / $4}' >> "$work/ratio.txt"
    printf 'run %d: this %.2f s wall, %sx real time, %s MB | other %.2f s, %sx, %s MB\n' "$r" $a $b
  else
    printf 'run %d: %.2f s wall, %sx real time, %s MB peak\n' "$r" $a
  fi
done
summary() {
  printf '%s: median %.2f s wall, %sx real time (CPU), %s MB peak memory\n' "$1" \
    "$(cut -d' ' -f1 "$2" | median)" "$(cut -d' ' -f2 "$2" | median)" "$(cut -d' ' -f3 "$2" | median)"
}
summary "this ($bin/tl-render)" "$work/a.txt"
if [ -n "$vs" ]; then
  summary "other ($vs)" "$work/b.txt"
  echo "wall time ratio this/other: median $(median < "$work/ratio.txt") (min $(sort -g "$work/ratio.txt" | head -n1), max $(sort -g "$work/ratio.txt" | tail -n1))"
fi

# Mix + master: tl-master mixes the take (tl-render's engine) and masters the mix. CPU
# time from the kernel's accounting of the child (user + system), peak memory likewise.
echo "== mix + master of $take ($runs runs, streaming preset)"
: > "$work/m.txt"
for r in $(seq 1 "$runs"); do
  rm -f "$work/master.wav"
  line=$(python3 - "$bin/tl-master" "$take" "$work/master.wav" <<'PY'
import json, resource, subprocess, sys, time
t0 = time.monotonic()
p = subprocess.run([sys.argv[1], sys.argv[2], "-o", sys.argv[3], "--json", "-q"], capture_output=True, text=True)
wall = time.monotonic() - t0
if p.returncode != 0:
    sys.exit("tl-master failed: " + p.stderr.strip())
u = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = u.ru_utime + u.ru_stime
seconds = json.loads(p.stdout)["after"]["seconds"]
print(f"{wall:.3f} {cpu:.3f} {seconds / cpu:.1f} {u.ru_maxrss // 1024} {seconds:.1f}")
PY
  )
  echo "$line" >> "$work/m.txt"
  set -- $line
  printf 'run %d: %.2f s wall, %.2f s CPU for %s s of take: %sx real time on one core, %s MB peak\n' \
    "$r" "$1" "$2" "$5" "$3" "$4"
done
x=$(cut -d' ' -f3 "$work/m.txt" | median)
printf 'mix + master: median %.2f s wall, %.2f s CPU, %sx real time on one core (issue 17 asks 50x), %s MB peak\n' \
  "$(cut -d' ' -f1 "$work/m.txt" | median)" "$(cut -d' ' -f2 "$work/m.txt" | median)" "$x" \
  "$(cut -d' ' -f4 "$work/m.txt" | median)"
