#!/usr/bin/env bash
# End to end: a hosted hive (`cohsh serve`), the real dashboard in a detached tmux pane,
# 1,000 workers spawned with cohsh; the pane must show them ONLINE, and `/`, `?`, `esc` and
# `q` must do what the help says.
#
# usage: tmux_e2e.sh <dashboard> <cohsh> <workdir> <console-port> <ninep-port>
set -euo pipefail

DASH=$1 COHSH=$2 WORK=$3 CPORT=$4 NPORT=$5
SOCK="dash-e2e-$$"
SESSION=dash
T() { tmux -L "$SOCK" "$@"; }
SERVE_PID=

cleanup() {
    T kill-server 2>/dev/null || true
    if [ -n "$SERVE_PID" ]; then kill "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    echo "---- last screen ----" >&2
    T capture-pane -p -t "$SESSION" >&2 2>/dev/null || true
    echo "---- cohsh serve log ----" >&2
    tail -n 20 "$WORK/serve.log" >&2 || true
    exit 1
}

# Waits until the pane shows $1 (a fixed string), for at most $2 seconds.
wait_screen() {
    local want=$1 secs=$2 i
    for ((i = 0; i < secs * 5; i++)); do
        if T capture-pane -p -t "$SESSION" 2>/dev/null | grep -qF -- "$want"; then return 0; fi
        sleep 0.2
    done
    fail "screen never showed: $want"
}

# Waits until the pane no longer shows $1, for at most $2 seconds.
wait_gone() {
    local gone=$1 secs=$2 i
    for ((i = 0; i < secs * 5; i++)); do
        if ! T capture-pane -p -t "$SESSION" 2>/dev/null | grep -qF -- "$gone"; then return 0; fi
        sleep 0.2
    done
    fail "screen still shows: $gone"
}

mkdir -p "$WORK/state"
"$COHSH" serve --state-dir "$WORK/state" --quiet \
    --console-addr "127.0.0.1:$CPORT" --ninep-addr "127.0.0.1:$NPORT" \
    >"$WORK/serve.log" 2>&1 &
SERVE_PID=$!

COH=("$COHSH" --state-dir "$WORK/state" --port "$CPORT")
for ((i = 0; i < 100; i++)); do
    if [ -s "$WORK/state/queen.ticket" ] && "${COH[@]}" -c ping >/dev/null 2>&1; then break; fi
    kill -0 "$SERVE_PID" 2>/dev/null || fail "cohsh serve exited"
    sleep 0.2
done
"${COH[@]}" -c ping >/dev/null || fail "hosted hive never answered ping"

T new-session -d -s "$SESSION" -x 200 -y 50 \
    "$DASH attach --addr 127.0.0.1:$NPORT --state-dir $WORK/state --refresh-ms 200; echo \$? >$WORK/exit; sleep 30"
wait_screen "LIVE 127.0.0.1:$NPORT" 20
wait_screen "ROOT ● reachable" 20

"${COH[@]}" -c "spawn heartbeat count=1000" | grep -q "^OK" || fail "spawn refused"
wait_screen "workers=1000" 60
wait_screen "● ONLINE 1000" 90
wait_screen "● w0001" 10

# `/` filters as you type.
T send-keys -t "$SESSION" "/"
T send-keys -t "$SESSION" -l "w0999"
wait_screen "Workers 1/1000  filter: w0999" 10
wait_screen "● w0999" 5
T send-keys -t "$SESSION" Enter
wait_screen "filter: w0999" 5

# `?` opens the help overlay, `esc` closes it, a second `esc` clears the filter.
T send-keys -t "$SESSION" "?"
wait_screen " Help " 10
T send-keys -t "$SESSION" Escape
wait_gone " Help " 10
T send-keys -t "$SESSION" Escape
wait_screen "Workers 1000 " 10

# `:` command line: goto selects a worker and shows its panel.
T send-keys -t "$SESSION" ":"
T send-keys -t "$SESSION" -l "goto w0500"
T send-keys -t "$SESSION" Enter
wait_screen "Worker w0500" 10
wait_screen "● ONLINE  reason=" 10

T capture-pane -p -t "$SESSION" >"$WORK/screen.txt"

# `q` quits: the dashboard exits and the pane falls through to `sleep`.
T send-keys -t "$SESSION" "q"
for ((i = 0; i < 50; i++)); do
    if [ -s "$WORK/exit" ]; then
        [ "$(cat "$WORK/exit")" = 0 ] || fail "dashboard exited with status $(cat "$WORK/exit")"
        echo "tmux e2e: 1000 workers ONLINE; filter, help, goto and quit behave"
        exit 0
    fi
    sleep 0.2
done
fail "q did not quit"
