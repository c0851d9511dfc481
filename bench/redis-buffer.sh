#!/usr/bin/env bash
# The Redis Streams buffer by hand (issue 19), in one run. Run by hand, not in CI, from the
# repository root, after `cargo build --release`:
#
#   bench/redis-buffer.sh [LOAD_SECONDS] [PRELOAD_POINTS]     # defaults: 10 2000000
#   SLUICE=/path/to/sluice bench/redis-buffer.sh                # another binary
#
# Starts a counting sink (bench/count-sink.py) and redis-servers on free loopback ports, then:
#
# 1. Ingest: for each of `disk` ([buffer] kind = "disk", fdatasync'd), `redis` (Redis with
#    --save '' --appendonly no) and `redis-aof` (a second Redis with --appendonly yes
#    --appendfsync everysec), a relay forwarding to the sink, loaded with
#    `sluice bench --nodes 8 --batch 5000 --duration LOAD_SECONDS`; waits (at most 120 s
#    after the load) until the sink has every acknowledged point. Prints acknowledged
#    points/s (sluice bench's figure) and end-to-end points/s (points counted / time from
#    the start of the load until the last one arrived).
# 2. Forwarders: preloads a stream with PRELOAD_POINTS through a relay P whose only output
#    (`other`) points at a dead port, so group {group}:other never acknowledges and nothing
#    is trimmed; stops P; starts ONE relay with output `sink` (group created at 0: it reads
#    the whole backlog) and times it until the sink counted every point; destroys the
#    group {group}:sink, then starts TWO such relays (each its own default consumer
#    name, host-pid) and times them the same way. Prints points/s, the ratio, and the
#    CPU seconds each process used (utime+stime from /proc/PID/stat) over the run.
#
# Outputs are sent without gzip so the sink's Python does not compete for the cores more
# than it must. Everything runs under a temporary directory, removed on exit.
set -euo pipefail

LOAD_SECONDS=${1:-10}
PRELOAD_POINTS=${2:-2000000}
SLUICE=$(realpath "${SLUICE:-target/release/sluice}") # SLUICE=path: another build
DRAIN_MAX=120          # s to wait for the sink after an ingest load
FORWARD_MAX=300        # s to wait for the sink in a forwarder run
TICKS=$(getconf CLK_TCK)
unset RUST_LOG      # the configured level (info) applies
export NO_COLOR=1   # plain logs, to grep

[ -x "$SLUICE" ] || { echo "no $SLUICE: cargo build --release first" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
now() { date +%s.%N; }
# CPU seconds (user + system) process $1 has used so far.
cpu_s() { awk -v t="$TICKS" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"; }
alive() { local s; s=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [ "$s" != Z ]; }
# SIGTERM, then SIGKILL if $1 has not exited within 20 s.
stop() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 200); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then
        echo "  note: pid $pid still running 20 s after SIGTERM; SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

sink_port=$(free_port)
python3 bench/count-sink.py "$sink_port" &
sink_pid=$!
pids+=("$sink_pid")
sink_count() { curl -sf "http://127.0.0.1:$sink_port/count"; }

# A redis-server on a free port, files in $work/$1; extra arguments appended. Sets
# redis_port and redis_pid.
start_redis() {
    local name=$1
    shift
    mkdir -p "$work/$name"
    redis_port=$(free_port)
    redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$work/$name" --save '' "$@" \
        >"$work/$name/redis.log" 2>&1 &
    redis_pid=$!
    pids+=("$redis_pid")
    wait_for redis-cli -p "$redis_port" ping
}
start_redis redis --appendonly no
rport=$redis_port
rpid=$redis_pid
start_redis redis-aof --appendonly yes --appendfsync everysec
aport=$redis_port
apid=$redis_pid
wait_for curl -sf "http://127.0.0.1:$sink_port/ping"

# relay_config PORT DIR BUFFER OUTPUT_NAME OUTPUT_URL [REDIS_PORT STREAM]
relay_config() {
    local port=$1 dir=$2 buffer=$3 output=$4 url=$5
    printf '[server]\nhttp = "127.0.0.1:%s"\nmax_body = "32MiB"\n\n' "$port"
    if [ "$buffer" = disk ]; then
        printf '[buffer]\nkind = "disk"\ndir = "%s/buffer"\nmax_size = "16GiB"\n\n' "$dir"
    else
        printf '[buffer]\nkind = "redis"\nurl = "redis://127.0.0.1:%s"\nstream = "%s"\ngroup = "%s"\n\n' \
            "$6" "$7" "$7"
    fi
    printf '[dead_letter]\ndir = "%s/dead-letter"\n\n' "$dir"
    printf '[[outputs]]\nname = "%s"\nurl = "%s"\napi = "v1"\ngzip = false\n\n' "$output" "$url"
    printf '[log]\nlevel = "info"\n'
}

# start_relay NAME ARGS-OF-relay_config-AFTER-PORT-AND-DIR...: sets relay_pid, relay_port.
# Runs in its own directory so nothing defaulted lands in the repository.
start_relay() {
    local name=$1 dir="$work/$1"
    shift
    mkdir -p "$dir"
    relay_port=$(free_port)
    relay_config "$relay_port" "$dir" "$@" >"$dir/sluice.toml"
    (cd "$dir" && exec "$SLUICE" run -c sluice.toml >sluice.log 2>&1) &
    relay_pid=$!
    pids+=("$relay_pid")
    logs+=("$dir/sluice.log")
}
logs=()

bench() {
    "$SLUICE" bench --url "http://127.0.0.1:$1" --nodes "$2" --batch 5000 --duration "$3" \
        --json 2>/dev/null | tail -n 1
}
field() { json_field "$1" "$2"; }

echo "== 1. ingest: sluice bench --nodes 8 --batch 5000 --duration $LOAD_SECONDS, output to the count sink"
printf '%-10s %10s %10s %10s %7s %8s %9s %9s %9s\n' mode acked acked/s e2e/s e2e_s p99_ms \
    cpu_relay cpu_redis cpu_sink
ingest() {
    local mode=$1 rpid_=$2
    shift 2
    start_relay "ingest-$mode" "$@"
    local relay=$relay_pid
    wait_for curl -sf "http://127.0.0.1:$relay_port/health"
    local before start report acked count end c_relay c_redis=- c_sink
    before=$(sink_count)
    c_sink=$(cpu_s "$sink_pid")
    [ "$rpid_" = - ] || c_redis=$(cpu_s "$rpid_")
    start=$(now)
    report=$(bench "$relay_port" 8 "$LOAD_SECONDS")
    acked=$(field acked "$report")
    while true; do
        count=$(($(sink_count) - before))
        end=$(now)
        [ "$count" -ge "$acked" ] && break
        if (($(echo "$end - $start > $LOAD_SECONDS + $DRAIN_MAX" | bc))); then
            echo "  $mode: gave up waiting for the sink ($count of $acked)" >&2
            break
        fi
        sleep 0.05
    done
    c_relay=$(cpu_s "$relay")
    c_sink=$(echo "$(cpu_s "$sink_pid") - $c_sink" | bc)
    [ "$rpid_" = - ] || c_redis=$(echo "$(cpu_s "$rpid_") - $c_redis" | bc)
    stop "$relay"
    local wall
    wall=$(echo "$end - $start" | bc)
    printf '%-10s %10s %10.0f %10.0f %7.1f %8s %9s %9s %9s\n' "$mode" "$acked" \
        "$(field points_per_s "$report")" "$(echo "$count / $wall" | bc -l)" "$wall" \
        "$(field p99_ms "$report")" "$c_relay" "$c_redis" "$c_sink"
    [ "$(field errors "$report")" = 0 ] || echo "  $mode: $report"
}
ingest disk - disk sink "http://127.0.0.1:$sink_port"
ingest redis "$rpid" redis sink "http://127.0.0.1:$sink_port" "$rport" ingest
ingest redis-aof "$apid" redis sink "http://127.0.0.1:$sink_port" "$aport" ingest
echo "  (cpu_* = CPU seconds over the load and drain; the load generator's own CPU is not shown)"

echo
echo "== 2. forwarders on one stream (Redis without AOF), backlog of ~$PRELOAD_POINTS points"
dead_port=$(free_port)
start_relay preload redis other "http://127.0.0.1:$dead_port" "$rport" fwd
wait_for curl -sf "http://127.0.0.1:$relay_port/health"
total=0
t0=$(now)
while [ "$total" -lt "$PRELOAD_POINTS" ]; do
    report=$(bench "$relay_port" 4 1)
    total=$((total + $(field acked "$report")))
done
stop "$relay_pid"
xlen=$(redis-cli -p "$rport" XLEN fwd)
echo "preload: $total points acknowledged in $(printf '%.1f' "$(echo "$(now) - $t0" | bc)") s," \
    "XLEN fwd = $xlen entries, Redis used_memory =" \
    "$(redis-cli -p "$rport" INFO memory | sed -n 's/^used_memory_human:\(.*\)\r$/\1/p')"

# forward NAME N: starts N relays reading fwd as output `sink`, waits until the sink has
# counted $total more points; sets fwd_rate. first_s: until the sink saw the first point;
# after1st/s: points/s from then on (start-up excluded).
forward() {
    local name=$1 n=$2 i before start end count c_sink c_redis relays=() ports=() cpus=()
    before=$(sink_count)
    c_sink=$(cpu_s "$sink_pid")
    c_redis=$(cpu_s "$rpid")
    start=$(now)
    for i in $(seq "$n"); do
        start_relay "$name-$i" redis sink "http://127.0.0.1:$sink_port" "$rport" fwd
        relays+=("$relay_pid")
        ports+=("$relay_port")
    done
    local first=
    while true; do
        count=$(($(sink_count) - before))
        end=$(now)
        [ -n "$first" ] || [ "$count" -eq 0 ] || first=$end
        [ "$count" -ge "$total" ] && break
        for i in "${relays[@]}"; do
            alive "$i" || { echo "  $name: relay $i exited; see its log below" >&2; break 2; }
        done
        if (($(echo "$end - $start > $FORWARD_MAX" | bc))); then
            echo "  $name: gave up waiting for the sink ($count of $total)" >&2
            break
        fi
        sleep 0.05
    done
    local sum=0
    for i in "${relays[@]}"; do
        cpus+=("$(cpu_s "$i" 2>/dev/null || echo 0)")
        sum=$(echo "$sum + ${cpus[-1]}" | bc)
    done
    c_sink=$(echo "$(cpu_s "$sink_pid") - $c_sink" | bc)
    c_redis=$(echo "$(cpu_s "$rpid") - $c_redis" | bc)
    sleep 1 # anything beyond $total (duplicates) shows here
    local late=$(($(sink_count) - before)) split=()
    for i in "${ports[@]}"; do
        split+=("$(curl -sf "http://127.0.0.1:$i/metrics" | awk '/^[a-z_]*output_points[a-z_]*{/ { n += $NF } END { print n + 0 }')")
    done
    for i in "${relays[@]}"; do stop "$i"; done
    local wall
    wall=$(echo "$end - $start" | bc)
    fwd_rate=$(echo "$count / $wall" | bc -l)
    first=${first:-$end}
    fwd_after=$(echo "d = $end - $first; if (d > 0) $count / d else 0" | bc -l)
    printf '%-8s %10s %8.2f %10.0f %8.2f %10.0f\n' "$name" "$late" "$wall" "$fwd_rate" \
        "$(echo "$first - $start" | bc)" "$fwd_after"
    printf '         cpu_s: sluice %s, redis %s, sink %s (sum %.1f of %.1f core-s); points per relay: %s\n' \
        "${cpus[*]}" "$c_redis" "$c_sink" "$(echo "$sum + $c_redis + $c_sink" | bc)" \
        "$(echo "$(nproc) * $wall" | bc)" "${split[*]}"
    echo "         XPENDING fwd fwd:sink: $(redis-cli -p "$rport" XPENDING fwd fwd:sink | head -1)," \
        "XLEN fwd: $(redis-cli -p "$rport" XLEN fwd)"
}
# The sink's own ceiling, loaded directly (the load generator shares the cores with it).
c0=$(cpu_s "$sink_pid")
report=$(bench "$sink_port" 8 5)
echo "sink alone (sluice bench --nodes 8 --batch 5000 --duration 5 straight at it):" \
    "$(printf '%.0f' "$(field points_per_s "$report")") points/s, sink CPU" \
    "$(echo "$(cpu_s "$sink_pid") - $c0" | bc) s in $(field elapsed_s "$report") s"
printf '%-8s %10s %8s %10s %8s %10s\n' run delivered wall_s points/s first_s after1st/s
forward one 1
one=$fwd_rate
one_after=$fwd_after
redis-cli -p "$rport" XGROUP DESTROY fwd fwd:sink >/dev/null
forward two 2
printf 'ratio two/one = %.2f (issue 19 goal: >= 1.7); after the first point: %.2f\n' \
    "$(echo "$fwd_rate / $one" | bc -l)" "$(echo "if ($one_after > 0) $fwd_after / $one_after else 0" | bc -l)"

echo
echo "== sluice logs: WARN/ERROR lines (count, message without its fields)"
for log in "${logs[@]}"; do
    name=$(basename "$(dirname "$log")")
    lines=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E ' (WARN|ERROR) ' | sed -E 's/^[0-9T:.Z-]+ +//; s/ [a-z_.]+=.*$//' \
        | sort | uniq -c | sort -rn | head -5 || true)
    [ -z "$lines" ] || { echo "$name:"; echo "$lines"; }
done

echo
echo "== machine and commands"
echo "nproc: $(nproc); $(redis-server --version | cut -d' ' -f1-3); $("$SLUICE" --version)" \
    "($SLUICE, $(sha256sum "$SLUICE" | cut -c1-12), built $(stat -c %y "$SLUICE" | cut -d. -f1); tree: git $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- gateway || echo '+dirty'))"
echo "ingest load:   sluice bench --url RELAY --nodes 8 --batch 5000 --duration $LOAD_SECONDS"
echo "preload:       sluice bench --url P --nodes 4 --batch 5000 --duration 1  (repeated to $PRELOAD_POINTS points)"
echo "redis:         redis-server --save '' --appendonly no | --appendonly yes --appendfsync everysec"
echo "between runs:  redis-cli XGROUP DESTROY fwd fwd:sink"
