# Shared by the bench/*.sh scripts (sourced): free loopback ports, waiting for a
# service, and reading `sluice bench --json`'s last line.

# A free TCP port on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Polls `$@` for up to 20 s until it succeeds.
wait_for() {
    for _ in $(seq 200); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "timed out waiting for: $*" >&2
    return 1
}

# The value of key $1 in the JSON object $2 (sluice bench --json's last line).
json_field() {
    python3 -c 'import json, sys; print(json.loads(sys.argv[2])[sys.argv[1]])' "$1" "$2"
}
