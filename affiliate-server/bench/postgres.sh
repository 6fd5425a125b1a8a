#!/usr/bin/env bash
# Durable conversions per second through affiliate-server's POST /v1/postback: one
# server on PostgreSQL, then two servers on the same database, and (the peer) one
# server on its embedded sled store, in the same run, driven by wrk with a new order id
# per request. Every answer is a durable conversion: the script checks that the
# database holds every conversion answered 201 (and at most the requests still in
# flight when wrk stopped besides).
#
#   affiliate-server/bench/postgres.sh            # 10 s per setup, release build
#   affiliate-server/bench/postgres.sh --quick    # 2 s per setup on the debug build: a
#                                                 # smoke run of the script and of its
#                                                 # durability check, no measurement
#
# Uses the cluster in AFFILIATE_TEST_POSTGRES_URL, or starts a throwaway one with
# scripts/pg-cluster.
set -euo pipefail
cd "$(dirname "$0")/../.."

duration=10s
profile=release
if [ "${1:-}" = "--quick" ]; then duration=2s; profile=debug; fi
connections=${CONNECTIONS:-32}

if [ "$profile" = release ]; then
  cargo build --release -q -p affiliate-server
else
  cargo build -q -p affiliate-server
fi
BIN=${CARGO_TARGET_DIR:-target}/$profile/affiliate-server
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${own_cluster:-}" ] && scripts/pg-cluster stop "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

if [ -n "${AFFILIATE_TEST_POSTGRES_URL:-}" ]; then
  admin_url=$AFFILIATE_TEST_POSTGRES_URL
else
  own_cluster=1
  admin_url=$(scripts/pg-cluster start "$work/pg" "$(free_port)")
fi
db="bench_$$_$RANDOM"
psql -q "$admin_url" -c "CREATE DATABASE $db" >/dev/null
db_url="${admin_url%/*}/$db"

api_key=$($BIN keygen)
signing_key=$($BIN keygen)
config() { # port, store section
  mkdir -p "$work/$1"
  cat >"$work/$1/affiliate.toml" <<TOML
[server]
listen = "127.0.0.1:$1"
public_url = "http://127.0.0.1:$1"
data_dir = "data"
api_keys = ["$api_key"]
$2

[keys]
current = "k1"
k1 = "$signing_key"

[[campaign]]
code = "haircare"
destination = "https://shop.example/"
currency = "USD"
sale_percent = "10"

[[partner]]
code = "abc123"
coupons = ["ABC10"]
TOML
  echo "$work/$1/affiliate.toml"
}
start() { # port, store section
  local cfg
  cfg=$(config "$1" "$2")
  "$BIN" serve --config "$cfg" >"$work/$1.out" 2>"$work/$1.log" &
  pids+=($!)
  for _ in $(seq 100); do grep -q listening "$work/$1.out" 2>/dev/null && return; sleep 0.1; done
  echo "server on $1 did not start: $(cat "$work/$1.log")" >&2; exit 1
}
# wrk against a port with a run prefix; prints requests/s and the "answers:" line.
load() {
  wrk -t1 -c"$connections" -d"$duration" -s affiliate-server/bench/postback.lua \
    "http://127.0.0.1:$1" -- "$2" "$api_key" >"$work/wrk-$2.txt" 2>&1
}
rate() { awk '/^Requests\/sec/ { printf "%d", $2 }' "$work/wrk-$1.txt"; }
created() { awk '/^answers:/ { print $2 }' "$work/wrk-$1.txt"; }
other() { awk '/^answers:/ { print $6 }' "$work/wrk-$1.txt"; }
sales() { curl -s -H "Authorization: Bearer $api_key" "http://127.0.0.1:$1/v1/stats" |
  python3 -c 'import json,sys; r=json.load(sys.stdin)["rows"]; print(r[0]["sales"] if r else 0)'; }

pa=$(free_port); pb=$(free_port); ps=$(free_port)
store="[store]
url = \"$db_url\""

start "$pa" "$store"
load "$pa" one
one=$(rate one)

start "$pb" "$store"
load "$pa" twoA & wa=$!
load "$pb" twoB & wb=$!
wait "$wa" "$wb"
two=$(( $(rate twoA) + $(rate twoB) ))

start "$ps" ""
load "$ps" sled
sled=$(rate sled)

for run in one twoA twoB sled; do
  [ "$(other "$run")" = 0 ] || { echo "run $run: non-2xx answers: $(grep answers: "$work/wrk-$run.txt")" >&2; exit 1; }
done
want=$(( $(created one) + $(created twoA) + $(created twoB) ))
have=$(sales "$pa")
in_flight=$(( 3 * connections ))
if [ "$have" -lt "$want" ] || [ "$have" -gt $(( want + in_flight )) ]; then
  echo "the database holds $have conversions; $want were answered 201 (+ up to $in_flight in flight)" >&2
  exit 1
fi

[ "$profile" = release ] || echo "smoke run on the debug build: the figures check the script, they measure nothing"
printf 'durable conversions/s (POST /v1/postback, %s, %s connections per server)\n' "$duration" "$connections"
printf '  1 server,  PostgreSQL : %8d /s\n' "$one"
printf '  2 servers, PostgreSQL : %8d /s  (%.2fx one server)\n' "$two" "$(echo "$two / $one" | bc -l)"
printf '  1 server,  sled (peer): %8d /s  (PostgreSQL 1 server is %.2fx sled)\n' "$sled" "$(echo "$one / $sled" | bc -l)"
printf '  checked: the database holds %d conversions: all %d answered 201, %d in flight at the end\n' "$have" "$want" $(( have - want ))
