# Sourced by the bench scripts: a tracklink session on loopback with the real programs.
#
#   . tests/bench/session.sh
#   tl_session_init "$work" "$bin" KEEP # a token; on exit every process started is stopped
#                                       # and $work removed (kept, and said, when KEEP is 1)
#   tl_start_mixer [tl-mixer options]   # sets TL_PORT, TL_MIXER_PID; exits if it does not start
#   tl_start_node NAME [tl-capture options]
#   tl_wait_streaming COUNT [TRIES]     # until COUNT nodes stream (0.2 s a try)
#   tl_ctl ARGS...                      # tlctl against the session's mixer
#   tl_stop_all                         # SIGTERM every process started, and wait for it
#   tl_wait_closed TAKE_DIR [SECONDS]   # until take.json no longer says "conforming"
#
# Each program's stderr goes to $TL_WORK/<name>.log.

tl_session_init() {
  TL_WORK=$1
  TL_BIN=$2
  TL_KEEP=${3:-0}
  TL_PIDS=()
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$TL_WORK/token"
  trap tl_session_end EXIT
}

tl_session_end() {
  tl_stop_all
  if [ "$TL_KEEP" = 1 ]; then echo "kept $TL_WORK"; else rm -rf "$TL_WORK"; fi
}

tl_stop_all() {
  local p
  for p in "${TL_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${TL_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  TL_PIDS=()
}

tl_start_mixer() {
  "$TL_BIN/tl-mixer" --listen 127.0.0.1:0 --record-dir "$TL_WORK/takes" --token-file "$TL_WORK/token" "$@" \
    2> "$TL_WORK/mixer.log" &
  TL_MIXER_PID=$!
  TL_PIDS+=("$TL_MIXER_PID")
  TL_PORT=""
  local _
  for _ in $(seq 1 100); do
    TL_PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$TL_WORK/mixer.log" | head -n1)
    [ -n "$TL_PORT" ] && return 0
    sleep 0.1
  done
  echo "tl-mixer did not start:" >&2
  cat "$TL_WORK/mixer.log" >&2
  exit 1
}

tl_ctl() {
  "$TL_BIN/tlctl" --mixer "127.0.0.1:$TL_PORT" --token-file "$TL_WORK/token" "$@"
}

tl_start_node() {
  local name=$1
  shift
  "$TL_BIN/tl-capture" --mixer "127.0.0.1:$TL_PORT" --name "$name" --token-file "$TL_WORK/token" "$@" \
    2> "$TL_WORK/$name.log" &
  TL_PIDS+=($!)
}

tl_wait_streaming() {
  local want=$1 tries=${2:-150} streaming=0 _
  for _ in $(seq 1 "$tries"); do
    streaming=$(tl_ctl nodes 2>/dev/null | grep -c streaming || true)
    [ "$streaming" -ge "$want" ] && return 0
    sleep 0.2
  done
  echo "only $streaming of $want nodes stream:" >&2
  tail -n 5 "$TL_WORK"/*.log >&2
  exit 1
}

tl_wait_closed() {
  local dir=$1 limit=${2:-600} waited=0
  while grep -qs '"state": "conforming"' "$dir/take.json"; do
    [ "$waited" -ge $((limit * 10)) ] && { echo "take $dir still conforming after $limit s" >&2; return 1; }
    sleep 0.1
    waited=$((waited + 1))
  done
}
