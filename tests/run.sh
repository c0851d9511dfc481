#!/usr/bin/env bash
# Runs every Sluice test on a fresh machine: installs what the tests need when it is
# missing (the wasm target, Debian's influxdb + influxdb-client + redis-server, PyPI's
# moto[server] + boto3), builds the plugins as
# wasm components and everything else once in the release profile (tests and benches
# share it), then runs the whole test suite, the plugins' native tests included.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root to run: $*" >&2; return 1; fi
}

say "toolchain"
if command -v rustup >/dev/null; then
  # rust-toolchain.toml pins the version; make sure its components and target are there.
  rustup component add rustfmt clippy >/dev/null
  rustup target add wasm32-wasip2 >/dev/null
fi
cargo --version

say "services"
need=()
command -v influxd >/dev/null || need+=(influxdb)
command -v influx >/dev/null || need+=(influxdb-client)
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-cli >/dev/null || need+=(redis-tools)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The S3-compatible server (moto) and boto3, which reads objects back, from PyPI.
if ! python3 -c 'import moto.server, boto3' 2>/dev/null; then
  echo "installing moto[server] boto3 (PyPI)"
  python3 -m pip install -q 'moto[server]' boto3 \
    || python3 -m pip install -q --break-system-packages 'moto[server]' boto3
fi
influxd version
redis-server --version
python3 -c 'import moto; print("moto", moto.__version__)'

say "plugins (wasm32-wasip2 components the tests load)"
cargo build --release --target wasm32-wasip2 --manifest-path plugins/Cargo.toml
ls -l plugins/target/wasm32-wasip2/release/*.wasm

say "build"
cargo build --release --workspace --all-targets

say "test"
cargo test --release --workspace
cargo test --release --manifest-path plugins/Cargo.toml
# The line-protocol scans again with their eight-byte loop (what targets without 128-bit
# SIMD, and plugins built without simd128, run): last, as it rebuilds sluice-lineproto.
SLUICE_LINEPROTO_NO_SIMD=1 cargo test --release -p sluice-lineproto
