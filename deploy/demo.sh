#!/usr/bin/env bash
# The main job on one machine, no sound card: installs what is missing, builds,
# starts a mixer and two capture nodes on loopback, records a take of about
# 10 s and prints where the files are with a summary line per track; then shows
# one node's personal cue mix and mixes the take again offline (tl-render --as-live,
# checked against mix.wav to the LSB) and masters the mix for streaming (tl-master);
# then records an overdub: a singer on a simulated interface hears the take's mix as a
# backing track and lands on the song's timeline (placed back by what they heard).
#
#   deploy/demo.sh [--seconds N] [--out DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=10
out="$root/demo-takes"
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "demo: unknown option $1" >&2; exit 2 ;;
  esac
done

bash "$root/deploy/install-deps.sh"
echo "== building tracklink"
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build" -j "$(nproc)" --target tl-mixer tl-capture tlctl tl-render tl-master
bin="$root/build/bin"

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# A fresh shared token for this demo: every program needs it.
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$work/token"
mkdir -p "$out"
# Each demo starts from a clean desk: a mixer takes back the last one's strips, tempo
# and backing tracks from its record folder (.desk/), and this one sets up its own.
rm -rf "$out/.desk"

"$bin/tl-mixer" --listen 127.0.0.1:0 --record-dir "$out" --token-file "$work/token" 2> "$work/mixer.log" &
pids+=($!)
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/mixer.log" | head -n1)
  [ -n "$port" ] && break
  sleep 0.1
done
if [ -z "$port" ]; then echo "demo: tl-mixer did not start:" >&2; cat "$work/mixer.log" >&2; exit 1; fi
mixer="127.0.0.1:$port"
ctl() { "$bin/tlctl" --mixer "$mixer" --token-file "$work/token" "$@"; }
echo "== mixer on $mixer"

"$bin/tl-capture" --mixer "$mixer" --name room-a --source tone:440 --channels 2 --token-file "$work/token" \
  --spool-dir "$work/spool-room-a" \
  2> "$work/room-a.log" &
pids+=($!)
"$bin/tl-capture" --mixer "$mixer" --name booth --source noise --level-db -24 --token-file "$work/token" \
  --spool-dir "$work/spool-booth" --cue "file:$work/booth-cue.wav" \
  2> "$work/booth.log" &
pids+=($!)

for _ in $(seq 1 100); do
  n=$(ctl nodes 2>/dev/null | grep -c streaming || true)
  [ "$n" -ge 2 ] && break
  sleep 0.2
done
ctl nodes
ctl gain room-a/1 -6 >/dev/null
ctl pan room-a/1 -0.5 >/dev/null
ctl pan room-a/2 0.5 >/dev/null

echo "== recording ${seconds} s"
ctl record start
sleep "$seconds"
echo "== take finished"
stopped=$(ctl record stop)
echo "$stopped"
# The live mix's health: what it concealed (nothing, unless the machine stalled) and
# whether its threads ran with real-time priority.
ctl status | grep -E '^(latency|mix concealed|real-time):' || true
take=$(printf '%s\n' "$stopped" | sed -n 's/^path: //p' | head -n 1)
# A track the conform moves or resamples is written after the stop answers ("conforming").
for _ in $(seq 1 600); do
  grep -qs '"state": "conforming"' "$take/take.json" || break
  sleep 0.1
done
echo
echo "== booth's personal cue mix (tl-capture --cue), more of itself"
ctl cue booth me +6
echo
echo "== the take mixed again offline from its tracks and automation.json, as it was heard live"
"$bin/tl-render" "$take" --as-live --compare --quiet || echo "(the render differs from mix.wav; see above)"
echo
echo "== the take mixed from its tracks and mastered for streaming (tl-master: -14 LUFS, -1 dBTP)"
"$bin/tl-master" "$take" -o "$take/master.wav" --plot "$take/master.png" --quiet || echo "(tl-master could not master the take; see above)"
echo
echo "== the same, asked of the mixer from the operator's terminal (tlctl take master, for the CD)"
ctl take master "$(basename "$take")" --preset cd || echo "(the mixer could not master the take; see above)"
echo
echo "== an overdub: a singer hears the take's mix as a backing track (a simulated interface, 7.3 ms round trip)"
ctl backing add "$take/mix.wav" --name band >/dev/null
"$bin/tl-capture" --name singer --source cue-loop:7.3 --calibrate --calibration-file "$work/singer.json"
"$bin/tl-capture" --mixer "$mixer" --name singer --source cue-loop:7.3 --calibration-file "$work/singer.json" \
  --token-file "$work/token" --spool-dir "$work/spool-singer" 2> "$work/singer.log" &
pids+=($!)
placed=""
for _ in $(seq 1 100); do
  placed=$(ctl nodes -v 2>/dev/null | grep "overdubs placed back" || true)
  [ -n "$placed" ] && break
  sleep 0.2
done
echo "singer:${placed:-  (no placement reported; see $work/singer.log)}"
ctl cue singer me off >/dev/null  # the cable would feed the singer's own input back
ctl locate 0:01 >/dev/null
ctl record start --take "overdub-$(date +%Y%m%d-%H%M%S)" >/dev/null
ctl play >/dev/null
sleep 4
ctl stop >/dev/null
overdub=$(ctl record stop)
echo "$overdub"
dub=$(printf '%s\n' "$overdub" | sed -n 's/^path: //p' | head -n 1)
for _ in $(seq 1 600); do
  grep -qs '"state": "conforming"' "$dub/take.json" || break
  sleep 0.1
done
echo "== the overdub take mixed again offline, the backing played from its file where the transport had it"
"$bin/tl-render" "$dub" --as-live --compare --quiet || echo "(the render differs from mix.wav; see above)"
echo
echo "Files are in $out (one WAV per input channel, mix.wav, mix-render.wav, master.wav and master.png (its loudness over time), master/cd.wav, take.json, automation.json; the overdub in overdub-*/)."
