#!/usr/bin/env bash
# Hub CPU side by side with JackTrip (issue 14).
#
# For each channel count, in the same run and on the same loopback (a private
# network namespace this script creates), it measures:
#   - tracklink: tl-mixer's CPU (utime+stime from /proc/PID/stat) while capture
#     nodes stream noise, PCM24, 128 frames per packet, 8 channels per node at
#     most; once not recording and once recording every channel; and the
#     play-out delay the mixer ran at (what it adds from capture to mix).
#   - JackTrip: a hub server (jacktrip -S, client loopback patch) on a JACK
#     dummy server, clients sending the same channel counts at 24 bit and
#     128 frames; the server's CPU and its jackd's separately; and its round
#     trip through the hub measured with jack_iodelay on one client's last
#     channel (half of it is what the hub path adds from capture to mix).
# Each figure is the median of --runs windows of --seconds; both stacks are
# started afresh for every run so a burst of other load hits both alike.
#
# Needs root (apt for jacktrip/jackd2 if missing, and the network namespace:
# JackTrip binds every address, the namespace keeps it on loopback).
set -Eeuo pipefail

usage() {
  cat <<'EOF'
usage: tests/bench/hub_vs_jacktrip.sh [BIN_DIR] [--seconds N] [--channels "2 16 64"]
                                      [--runs N] [--settle S] [--jt-patch P] [--tl-block N] [--keep]
  BIN_DIR     the build's bin folder holding tl-mixer, tl-capture, tlctl
              (default: build/bin under the repository root)
  --seconds   length of each measured window (default 20)
  --channels  channel counts to measure (default "2 16 64"; 8 per node at most)
  --runs      windows per figure; the median is printed (default 3)
  --settle    seconds to let each stack settle before a window (default 2)
  --jt-patch  the JackTrip hub's patch (-p): 1 client loopback (default; the round
              trip is measured), 0 server-to-clients, 2 fan out/in, 4 full mix
  --tl-block  tl-mixer's mix block in frames (default 48, its own default). When it
              is not 128, each run also measures tracklink idle at 128-frame blocks,
              the JACK period the JackTrip hub runs at: the same work per wake-up
  --keep      keep the work folder (logs) after a successful run
Installs jacktrip and jackd2 with apt if they are missing (for this bench only).
EOF
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin_dir=$repo/build/bin
seconds=20
channels="2 16 64"
runs=3
settle=2
jt_patch=1
tl_block=48
tl_hold=2
keep=0

died=0
die() {
  echo "hub_vs_jacktrip: $*" >&2
  died=1
  exit 1
}

while (($#)); do
  case $1 in
    --seconds) seconds=${2:?--seconds needs a value}; shift 2 ;;
    --channels) channels=${2:?--channels needs a value}; shift 2 ;;
    --runs) runs=${2:?--runs needs a value}; shift 2 ;;
    --settle) settle=${2:?--settle needs a value}; shift 2 ;;
    --jt-patch) jt_patch=${2:?--jt-patch needs a value}; shift 2 ;;
    --tl-block) tl_block=${2:?--tl-block needs a value}; shift 2 ;;
    --keep) keep=1; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option $1" ;;
    *) bin_dir=$1; shift ;;
  esac
done

in_range() { [[ $1 =~ ^[0-9]+$ ]] && (($1 >= $2 && $1 <= $3)); }
in_range "$seconds" 1 3600 || die "--seconds must be 1-3600"
in_range "$runs" 1 20 || die "--runs must be 1-20"
in_range "$settle" 0 60 || die "--settle must be 0-60"
[[ $jt_patch =~ ^[0124]$ ]] || die "--jt-patch must be 0, 1, 2 or 4"
in_range "$tl_block" 16 1024 || die "--tl-block must be 16-1024 frames"
for k in $channels; do
  in_range "$k" 1 128 || die "--channels: '$k' is not a count from 1 to 128"
done
[[ -n ${channels// /} ]] || die "--channels is empty"
bin_dir=$(cd "$bin_dir" 2>/dev/null && pwd) || die "no bin folder $bin_dir (build first, or pass BIN_DIR)"
for b in tl-mixer tl-capture tlctl; do
  [[ -x $bin_dir/$b ]] || die "$bin_dir/$b is missing (ninja -C build tl-mixer tl-capture tlctl)"
done
((EUID == 0)) || die "run as root: it may apt-get install jacktrip/jackd2 and creates a network namespace"

# --- JackTrip and JACK, for this bench only -----------------------------------
missing=()
command -v jacktrip >/dev/null || missing+=(jacktrip)
for t in jackd jack_lsp jack_connect jack_iodelay; do
  command -v "$t" >/dev/null || { missing+=(jackd2); break; }
done
if ((${#missing[@]})); then
  echo "installing ${missing[*]} for this bench (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null ||
    { apt-get update >/dev/null && apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; } ||
    die "could not install ${missing[*]}"
fi
for t in unshare nsenter ip python3 stdbuf; do
  command -v "$t" >/dev/null || die "$t is missing"
done

# --- processes: every one started here is stopped by PID ----------------------
work=$(mktemp -d /tmp/tl-hubbench.XXXXXX)
pids=()      # the stack being measured, in start order
ns_pid=""    # holds the private network namespace
ok=0

alive() { # PID: running and not a zombie
  local st
  st=$(cut -d')' -f2- "/proc/$1/stat" 2>/dev/null | awk '{print $1}') || return 1
  [[ -n $st && $st != Z ]]
}

stop_pid() {
  local pid=$1 i
  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  wait "$pid" 2>/dev/null || true
}

stop_stack() { # newest first: clients before servers
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop_pid "${pids[i]}"; done
  pids=()
}

err_at=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM ERR
  if ((rc != 0 && !died)) && [[ -n $err_at ]]; then
    echo "hub_vs_jacktrip: stopped by a failing command at line $err_at" >&2
  fi
  stop_stack
  [[ -n $ns_pid ]] && stop_pid "$ns_pid"
  if ((ok && !keep)); then
    rm -rf "$work"
  else
    echo "hub_vs_jacktrip: logs kept in $work" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'err_at=${err_at:-$LINENO}' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

# A network namespace with only loopback: both stacks run in it.
unshare --net -- sh -c 'ip link set lo up && exec sleep 86400' </dev/null &
ns_pid=$!
for ((i = 0; i < 50; i++)); do
  [[ $(cat "/proc/$ns_pid/comm" 2>/dev/null) == sleep ]] && break
  alive "$ns_pid" || die "could not create a network namespace (unshare --net)"
  sleep 0.1
done
[[ $(cat "/proc/$ns_pid/comm" 2>/dev/null) == sleep ]] || die "network namespace not ready"
in_ns=(nsenter "--net=/proc/$ns_pid/ns/net" --)

start() { # LOG CMD...: start CMD in the namespace; its PID in $started
  local log=$1
  shift
  "${in_ns[@]}" "$@" >"$log" 2>&1 </dev/null &
  started=$!
  pids+=("$started")
}

wait_for() { # SECONDS WHAT CMD...: poll CMD every 0.2 s until it succeeds
  local limit=$1 what=$2 i
  shift 2
  for ((i = 0; i < limit * 5; i++)); do
    "$@" && return 0
    sleep 0.2
  done
  die "timed out after ${limit}s waiting for $what (logs: $work)"
}

export JACK_NO_AUDIO_RESERVATION=1 JACK_NO_START_SERVER=1
head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/token"
rows=$work/rows.tsv # channels, run, key, value
: >"$rows"

# One measured window: SECONDS, then label=PID for each measured process, then
# -- and the PIDs of everything else this bench runs. Prints each measured
# process's CPU in % of one core, then the whole machine's busy CPU and the part
# of it that is not ours (another user's build shows here), both in % of a core.
cat >"$work/window.py" <<'EOF'
import os, sys, time
tck = os.sysconf("SC_CLK_TCK")
secs = float(sys.argv[1])
args = sys.argv[2:]
cut = args.index("--")
measured = [a.split("=", 1)[1] for a in args[:cut]]
ours = args[cut + 1:]

def ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    if rest[0] == "Z":
        sys.exit(f"process {pid} died during the window")
    return int(rest[11]) + int(rest[12])  # utime + stime

def busy():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:8]]
    return v[0] + v[1] + v[2] + v[5] + v[6]  # user nice system irq softirq

def snap():
    return time.monotonic(), {p: ticks(p) for p in ours}, busy()

t0, o0, b0 = snap()
time.sleep(secs)
t1, o1, b1 = snap()
pct = lambda d: 100.0 * d / tck / (t1 - t0)
ours_pct = pct(sum(o1[p] - o0[p] for p in ours))
out = [pct(o1[p] - o0[p]) for p in measured]
out += [pct(b1 - b0), max(0.0, pct(b1 - b0) - ours_pct)]
print(" ".join(f"{x:.2f}" for x in out))
EOF

row() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$rows"; }

node_sizes() { # CHANNELS: the channel count of each node, 8 at most each
  local k=$1
  while ((k > 8)); do printf '8 '; k=$((k - 8)); done
  printf '%s\n' "$k"
}

# --- tracklink -----------------------------------------------------------------
tlctl() { "${in_ns[@]}" "$bin_dir/tlctl" --mixer "127.0.0.1:$port" --token-file "$work/token" "$@"; }

streaming_count() {
  tlctl --json nodes 2>/dev/null |
    python3 -c 'import json,sys; print(sum(n.get("state") == "NODE_STREAMING" for n in json.load(sys.stdin).get("nodes", [])))'
}

all_streaming() { [[ $(streaming_count) == "$1" ]]; }
mixer_listening() { grep -qso 'listening on 127\.0\.0\.1:[0-9]*' "$1"; }
is_recording() { tlctl --json status | python3 -c 'import json,sys; sys.exit(not json.load(sys.stdin).get("recording"))'; }

# Sets health: play-out delay ms, what the neediest node asks ms, mix overruns,
# record drops, packets lost, late packets.
tl_health() {
  local st nd out
  st=$(tlctl --json status) || die "tlctl status failed"
  nd=$(tlctl --json nodes) || die "tlctl nodes failed"
  out=$(python3 -c '
import json, sys
st, nd = json.loads(sys.argv[1]), json.loads(sys.argv[2])
nodes = nd.get("nodes", [])
need = max([n.get("need_ms", 0) for n in nodes] or [0])
p999 = max([n.get("need_p999_ms", 0) for n in nodes] or [0])
print(st.get("latency_ms", 0), round(need, 2), st.get("mix_overruns", "0"), st.get("record_dropped", "0"),
      sum(int(n.get("lost", "0")) for n in nodes), sum(int(n.get("late", "0")) for n in nodes),
      round(p999, 2), st.get("concealed_frames", "0"))' "$st" "$nd") || die "could not parse the mixer's status"
  read -ra health <<<"$out"
  ((${#health[@]} == 8)) || die "could not parse the mixer's status"
}

tl_window() { # K RUN KIND(idle|rec) DIR
  local k=$1 r=$2 kind=$3 dir=$4 out w h0 h1
  tl_health
  h0=("${health[@]}")
  out=$(python3 "$work/window.py" "$seconds" "mixer=$mixer_pid" -- "${pids[@]}") ||
    die "tracklink window failed (logs: $dir)"
  read -ra w <<<"$out"
  tl_health
  h1=("${health[@]}")
  row "$k" "$r" "tl_$kind" "${w[0]}"
  row "$k" "$r" "tl_${kind}_bg" "${w[2]}"
  row "$k" "$r" "tl_${kind}_delay" "${h1[0]}"
  row "$k" "$r" "tl_${kind}_need" "${h1[1]}"
  row "$k" "$r" "tl_${kind}_p999" "${h1[6]}"
  printf '  tracklink %3s ch run %s %-4s: mixer %6.2f%% core, play-out delay %.2f ms (needs: worst %s, 99.9%% %s ms), overruns +%s, record drops +%s, lost +%s, late +%s, mix frames concealed +%s; machine busy %s%%, not ours %s%%\n' \
    "$k" "$r" "$kind" "${w[0]}" "${h1[0]}" "${h1[1]}" "${h1[6]}" $((h1[2] - h0[2])) $((h1[3] - h0[3])) \
    $((h1[4] - h0[4])) $((h1[5] - h0[5])) $((h1[7] - h0[7])) "${w[1]}" "${w[2]}"
}

tl_run() { # K RUN [BLOCK: idle only, at these mix blocks]
  local k=$1 r=$2 block=${3:-$tl_block} dir=$work/tl-$1-$2${3:+-b$3} i=0 c take
  mkdir -p "$dir"
  # A short hold: a new node needs the starting 20 ms for its first hold; the windows
  # should see the delay the host settles at.
  start "$dir/mixer.log" "$bin_dir/tl-mixer" --listen 127.0.0.1:0 --record-dir "$dir/takes" \
    --token-file "$work/token" --block "$block" --latency-hold "$tl_hold"
  mixer_pid=$started
  wait_for 15 "tl-mixer to listen" mixer_listening "$dir/mixer.log"
  port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/mixer.log" | sed -n 1p)
  for c in $(node_sizes "$k"); do
    i=$((i + 1))
    # No spool: JackTrip's clients keep no copy either, and on loopback nothing
    # is lost that a resend would need.
    start "$dir/node$i.log" "$bin_dir/tl-capture" --mixer "127.0.0.1:$port" --name "node$i" \
      --source noise --format pcm24 --frames-per-packet 128 --channels "$c" \
      --token-file "$work/token" --spool-dir none
  done
  wait_for 60 "$i tracklink node(s) streaming" all_streaming "$i"
  sleep "$settle"
  if [[ -n ${3:-} ]]; then
    tl_window "$k" "$r" "b$block" "$dir"
    stop_stack
    return
  fi
  tl_window "$k" "$r" idle "$dir"
  take=$(tlctl record start) || die "tlctl record start failed"
  take=${take%%$'\n'*}
  wait_for 10 "the take to start" is_recording
  sleep "$settle"
  tl_window "$k" "$r" rec "$dir"
  tlctl record stop >"$dir/record-stop.txt" || die "tlctl record stop failed (take $take)"
  stop_stack
  rm -rf "$dir/takes"
}

# --- JackTrip ------------------------------------------------------------------
jt_queue=4 # jacktrip's default queue, in packets of 128 frames
hub_jack=tlbench-hub-$$
cli_jack=tlbench-cli-$$

jack_up() { JACK_DEFAULT_SERVER=$1 "${in_ns[@]}" jack_lsp >/dev/null 2>&1; }
jack_has() { JACK_DEFAULT_SERVER=$1 "${in_ns[@]}" jack_lsp 2>/dev/null | grep -x "$2" >/dev/null; }
hub_waiting() { grep -qs 'Waiting for client connections' "$1"; }

jt_connected() { # DIR NCLIENTS
  local i
  for ((i = 1; i <= $2; i++)); do
    grep -qs 'Received Connection from Peer' "$1/client$i.log" || return 1
    jack_has "$hub_jack" "node$i:receive_1" || return 1
  done
}

jt_run() { # K RUN
  local k=$1 r=$2 dir=$work/jt-$1-$2 i=0 c last out w rtt
  mkdir -p "$dir"
  start "$dir/jackd-hub.log" env JACK_DEFAULT_SERVER="$hub_jack" \
    jackd -n "$hub_jack" -d dummy -r 48000 -p 128 -C 8 -P 8
  local hub_jackd=$started
  start "$dir/jackd-clients.log" env JACK_DEFAULT_SERVER="$cli_jack" \
    jackd -n "$cli_jack" -d dummy -r 48000 -p 128 -C 8 -P 8
  wait_for 15 "the hub's jackd" jack_up "$hub_jack"
  wait_for 15 "the clients' jackd" jack_up "$cli_jack"
  # -p 1 (default): the hub returns each client's channels to it, so audio
  # really goes both ways and the round trip can be measured in the same window.
  start "$dir/hub.log" env JACK_DEFAULT_SERVER="$hub_jack" jacktrip -S -p "$jt_patch" -b 24 -q "$jt_queue"
  local hub=$started
  wait_for 15 "the jacktrip hub server" hub_waiting "$dir/hub.log"
  for c in $(node_sizes "$k"); do
    i=$((i + 1))
    start "$dir/client$i.log" env JACK_DEFAULT_SERVER="$cli_jack" jacktrip -C 127.0.0.1 -n "$c" \
      -b 24 -q "$jt_queue" -J "jtc$i" -K "node$i" -B $((5000 + i))
    last=$c
  done
  wait_for 60 "$i jacktrip client(s) connected" jt_connected "$dir" "$i"
  # Round trip on client 1's last channel: jack_delay -> client -> hub loopback -> client -> jack_delay.
  start "$dir/iodelay.log" env JACK_DEFAULT_SERVER="$cli_jack" stdbuf -o0 jack_iodelay
  wait_for 15 "jack_iodelay" jack_has "$cli_jack" "jack_delay:in"
  JACK_DEFAULT_SERVER=$cli_jack "${in_ns[@]}" jack_connect jack_delay:out "jtc1:send_$last"
  JACK_DEFAULT_SERVER=$cli_jack "${in_ns[@]}" jack_connect "jtc1:receive_$last" jack_delay:in
  sleep "$settle"
  out=$(python3 "$work/window.py" "$seconds" "server=$hub" "jackd=$hub_jackd" -- "${pids[@]}") ||
    die "JackTrip window failed (logs: $dir)"
  read -ra w <<<"$out"
  rtt=$(tr '\r' '\n' <"$dir/iodelay.log" | awk '/total roundtrip latency/ {v = $3} END {print v}')
  row "$k" "$r" jt_server "${w[0]}"
  row "$k" "$r" jt_jackd "${w[1]}"
  row "$k" "$r" jt_bg "${w[3]}"
  local rtt_txt="n/a (no jack_iodelay reading)"
  if [[ -n $rtt ]]; then
    row "$k" "$r" jt_rtt "$rtt"
    rtt_txt="$rtt ms"
  fi
  printf '  JackTrip  %3s ch run %s     : server %6.2f%% core, its jackd %6.2f%%, round trip %s; machine busy %s%%, not ours %s%%\n' \
    "$k" "$r" "${w[0]}" "${w[1]}" "$rtt_txt" "${w[2]}" "${w[3]}"
  stop_stack
}

# --- run -----------------------------------------------------------------------
echo "hub CPU side by side: tracklink vs JackTrip (issue 14)"
echo "  machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), kernel $(uname -r)"
echo "  load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  tracklink: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?') ($bin_dir)," \
  "mixer headless (timer clock, $tl_block-frame mix blocks, adaptive play-out delay, needs held $tl_hold s)"
echo "  JackTrip: $(jacktrip -v 2>/dev/null | grep -m1 -o 'VERSION: .*' | cut -d' ' -f2), jackd $(dpkg-query -W -f '${Version}' jackd2 2>/dev/null || echo '?')," \
  "hub -S -p $jt_patch -b 24 -q $jt_queue, JACK dummy backend 48000 Hz / 128 frames"
echo "  both: 48 kHz, 24-bit, 128 frames per packet, 8 channels per node/client at most," \
  "$runs run(s) of ${seconds}s after ${settle}s settling, each stack started afresh per run"
echo

for k in $channels; do
  for ((r = 1; r <= runs; r++)); do
    tl_run "$k" "$r"
    ((tl_block == 128)) || tl_run "$k" "$r" 128
    jt_run "$k" "$r"
  done
done
echo "  load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

python3 - "$rows" "$channels" "$jt_queue" "$tl_hold" "$tl_block" <<'EOF'
import statistics, sys
from collections import defaultdict
rows, counts, queue = sys.argv[1], [int(c) for c in sys.argv[2].split()], int(sys.argv[3])
tl_hold, tl_block = sys.argv[4], int(sys.argv[5])
vals = defaultdict(list)
for line in open(rows):
    k, _, key, v = line.rstrip("\n").split("\t")
    vals[(int(k), key)].append(float(v))
med = lambda k, key: statistics.median(vals[(k, key)]) if vals[(k, key)] else None

def f(x, fmt="{:.2f}"):
    return "n/a" if x is None else fmt.format(x)

def ratio(a, b):
    return None if a is None or not b else a / b

def nodes(k):
    return f"1x{k}" if k <= 8 else f"{k // 8}x8" + (f"+{k % 8}" if k % 8 else "")

def table(groups, rows):
    """groups: [(title, [(column, width)])]; rows: lists of cell strings."""
    widths = [sum(w for _, w in cols) + len(cols) - 1 for _, cols in groups]
    print(" | ".join(f"{t:^{w}}" for (t, _), w in zip(groups, widths)))
    print(" | ".join(" ".join(f"{c:>{w}}" for c, w in cols) for _, cols in groups))
    for cells in rows:
        it, out = iter(cells), []
        for _, cols in groups:
            out.append(" ".join(f"{next(it):>{w}}" for _, w in cols))
        print(" | ".join(out))

print("hub CPU, % of one core (median of the runs)")
rows_out = []
for k in counts:
    ti, tr = med(k, "tl_idle"), med(k, "tl_rec")
    js, jj = med(k, "jt_server"), med(k, "jt_jackd")
    tl_bg = vals[(k, "tl_idle_bg")] + vals[(k, "tl_rec_bg")]
    jt_bg = vals[(k, "jt_bg")]
    per = lambda x: None if x is None else x / k
    rows_out.append([str(k), nodes(k),
                     f(ti), f(per(ti), "{:.3f}"), f(tr), f(per(tr), "{:.3f}"),
                     f(tr and 100 * k / tr, "{:.0f}"),
                     f(js), f(per(js), "{:.3f}"), f(jj),
                     f(ratio(ti, js), "{:.2f}x"), f(ratio(tr, js), "{:.2f}x"),
                     f(ratio(tr, None if js is None or jj is None else js + jj), "{:.2f}x"),
                     f(max(tl_bg) if tl_bg else None, "{:.1f}"), f(max(jt_bg) if jt_bg else None, "{:.1f}")])
table([("", [("channels", 8), ("nodes", 5)]),
       ("tracklink mixer", [("idle", 6), ("/ch", 6), ("record", 6), ("/ch", 6), ("ch/core", 7)]),
       ("JackTrip hub", [("server", 6), ("/ch", 6), ("jackd", 6)]),
       ("tracklink / JackTrip", [("idle", 6), ("record", 6), ("+jackd", 6)]),
       ("not ours", [("tl", 5), ("jt", 5)])], rows_out)
print("  /ch: per streamed channel. ch/core: channels one core holds for tracklink's whole live path")
print("    (mixer process while recording: receive, jitter buffer, mix, record).")
print("  tracklink / JackTrip: the mixer against the hub server, idle and recording; +jackd: recording")
print("    against the server and its jackd together.")
print("  not ours: the machine's CPU that this bench did not use during the windows (another user's")
print("    load), % of a core, the worst window of each.")
busy = [v for (k, key), vs in vals.items() if key.endswith("_bg") for v in vs]
noisy = sum(v > 25 for v in busy)
if noisy:
    print(f"  {noisy} of {len(busy)} windows had more than 25% of a core of other load: their figures")
    print("    are less sure; more --runs (the median) or a quieter machine firm them up.")
print()
print("capture-to-mix latency each adds, ms (median)")
qms = queue * 128 / 48000 * 1000
rows_out = []
for k in counts:
    rtt = med(k, "jt_rtt")
    rows_out.append([str(k), f(med(k, "tl_idle_delay"), "{:.2f}"), f(med(k, "tl_rec_delay"), "{:.2f}"),
                     f(med(k, "tl_idle_need"), "{:.2f}"), f(med(k, "tl_idle_p999"), "{:.2f}"),
                     f(rtt), f(None if rtt is None else rtt / 2), f"{qms:.2f}"])
table([("", [("channels", 8)]),
       ("tracklink play-out delay", [("idle", 6), ("record", 6), ("worst", 6), ("99.9%", 6)]),
       ("JackTrip via the hub", [("round trip", 10), ("/2", 6), ("queue", 6)])], rows_out)
print("  tracklink: the mixer places audio by capture time, so the play-out delay it ran at is what it")
print("    adds from capture to mix (packetising, network, waiting for the read included). It is the")
print("    worst need of any packet of the neediest node in the hold, + the 1 ms margin; the 99.9%")
print("    need (the packet time + the p99.9 lateness) is beside it: the delay within 99.9% + 1 ms")
print("    means this host made nothing rarer late. Never under --latency-min (5 ms). The bench")
print(f"    holds needs {tl_hold} s (30 s by default) so its windows see the settled delay.")
print("  JackTrip: jack_iodelay's round trip on one client's last channel through the hub's loopback")
print("    patch; /2 estimates capture to hub (client period, network, hub queue, hub period).")
print(f"    queue: -q {queue} x 128 frames, the hub jitter buffer's nominal depth.")
print()
top = max(counts)
ti, tr, js = med(top, "tl_idle"), med(top, "tl_rec"), med(top, "jt_server")
verdict = lambda r, ok: "n/a" if r is None else ("meets" if ok(r) else "misses")
r1, r2 = ratio(ti, js), ratio(tr, js)
print(f"at {top} channels:")
print(f"  not recording: tracklink {f(ti)}% vs JackTrip server {f(js)}% = {f(r1, '{:.2f}x')}"
      f" (target <= 0.5x: {verdict(r1, lambda r: r <= 0.5)})")
print(f"  recording all: tracklink {f(tr)}% vs JackTrip server {f(js)}% = {f(r2, '{:.2f}x')}"
      f" (target < 1x: {verdict(r2, lambda r: r < 1.0)})")
if tl_block != 128:
    tm = med(top, "tl_b128")
    r3 = ratio(tm, js)
    print(f"  not recording, mixing in JackTrip's 128-frame periods (the same wake-ups): tracklink {f(tm)}%"
          f" vs {f(js)}% = {f(r3, '{:.2f}x')} (target <= 0.5x: {verdict(r3, lambda r: r <= 0.5)})")
    print(f"    tracklink's own {tl_block}-frame blocks wake it {128 / tl_block:.1f}x as often as JackTrip's"
          " period for that much less mix latency; the first line is that choice's cost.")
print(f"  tracklink's whole live path holds {f(tr and 100 * top / tr, '{:.0f}')} channels per core")
if len(counts) > 1:
    lo = sorted(counts)[-2]
    a, b = med(lo, "tl_rec"), med(lo, "tl_idle")
    if a is not None and tr is not None and ti is not None:
        print(f"  tracklink marginal cost {lo}->{top} ch: {(ti - b) / (top - lo):.3f}% per channel idle,"
              f" {(tr - a) / (top - lo):.3f}% recording; the rest ({b - (ti - b) / (top - lo) * lo:.1f}% idle)"
              " does not grow with channels")
EOF
ok=1
