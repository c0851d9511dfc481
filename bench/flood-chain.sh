#!/usr/bin/env bash
# End-to-end points/s through the Flood chain vs no plugins, in one run (issue 17). Run by
# hand, not in CI, from the repository root, after
#   cargo build --release --workspace
#   cargo build --release --target wasm32-wasip2 --manifest-path plugins/Cargo.toml
#
#   bench/flood-chain.sh [NODES] [BATCH] [SECONDS]      # defaults: 100 5000 20
#
# Starts a counting sink (bench/count-sink.py) and a redis-server on free loopback ports,
# then, for each of `none` (no plugins) and `flood` (the [[plugins]] of
# examples/flood-relay.toml, kv in that Redis, blobs in a temporary directory), a relay
# with a disk buffer forwarding to the sink, loads it with `sluice bench` for SECONDS and
# waits (at most 300 s) until the sink has every acknowledged point. Prints per mode:
# acknowledged points/s (sluice bench's figure) and end-to-end points/s (points the sink
# counted / time from the start of the load until the last one arrived). The output is
# sent without gzip (gzip = false) so the sink's Python does not compete for the cores.
set -euo pipefail

NODES=${1:-100}
BATCH=${2:-5000}
LOAD_SECONDS=${3:-20}
SLUICE=target/release/sluice
EXAMPLE=examples/flood-relay.toml

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

sink_port=$(free_port)
python3 bench/count-sink.py "$sink_port" &
pids+=($!)
redis_port=$(free_port)
redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no >"$work/redis.log" &
pids+=($!)
wait_for curl -sf "http://127.0.0.1:$sink_port/ping"
wait_for redis-cli -p "$redis_port" ping
sink_count() { curl -sf "http://127.0.0.1:$sink_port/count"; }
export DEDUP_KEY=flood-chain-bench-secret

# The relay's config for mode $1 listening on port $2, its files under $3.
relay_config() {
    local mode=$1 port=$2 dir=$3
    printf '[server]\nhttp = "127.0.0.1:%s"\nmax_body = "32MiB"\n\n' "$port"
    if [ "$mode" = flood ]; then
        # The example's [[plugins]] entries, as they are.
        awk '/^\[\[plugins\]\]/ { on = 1 } /^\[(kv|blob|buffer|dead_letter)\]|^\[\[outputs\]\]/ { on = 0 } on' "$EXAMPLE"
        printf '[kv]\nkind = "redis"\nurl = "redis://127.0.0.1:%s"\nkey_prefix = "sluice:"\n\n' "$redis_port"
        printf '[blob]\nkind = "fs"\ndir = "%s/blobs"\n\n' "$dir"
    fi
    printf '[buffer]\nkind = "disk"\ndir = "%s/buffer"\nmax_size = "8GiB"\n\n' "$dir"
    printf '[dead_letter]\ndir = "%s/dead-letter"\n\n' "$dir"
    printf '[[outputs]]\nname = "sink"\nurl = "http://127.0.0.1:%s"\napi = "v1"\ngzip = false\n\n' "$sink_port"
    printf '[log]\nlevel = "warn"\n'
}

run_mode() {
    local mode=$1 dir="$work/$1" port
    port=$(free_port)
    mkdir -p "$dir"
    relay_config "$mode" "$port" "$dir" >"$dir/sluice.toml"
    "$SLUICE" run -c "$dir/sluice.toml" >"$dir/sluice.log" 2>&1 &
    local relay=$!
    pids+=("$relay")
    wait_for curl -sf "http://127.0.0.1:$port/health"
    local before start report acked count end
    before=$(sink_count)
    start=$(date +%s.%N)
    report=$("$SLUICE" bench --url "http://127.0.0.1:$port" --nodes "$NODES" --batch "$BATCH" \
        --duration "$LOAD_SECONDS" --json 2>/dev/null | tail -n 1)
    acked=$(json_field acked "$report")
    # Delivered: until the sink has every acknowledged point (or 300 s have passed).
    while true; do
        count=$(($(sink_count) - before))
        end=$(date +%s.%N)
        [ "$count" -ge "$acked" ] && break
        if (($(echo "$end - $start > $LOAD_SECONDS + 300" | bc))); then
            echo "$mode: gave up waiting for the sink" >&2
            break
        fi
        sleep 0.05
    done
    kill "$relay"
    wait "$relay" 2>/dev/null || true
    echo "$mode: $report"
    echo "$mode: delivered=$count in $(echo "$end - $start" | bc) s: end_to_end_points_per_s=$(echo "$count / ($end - $start)" | bc)"
}

echo "nodes=$NODES batch=$BATCH seconds=$LOAD_SECONDS, $(nproc) cores"
run_mode none
run_mode flood
