#!/usr/bin/env bash
# The program at scale, on sled (a fresh data directory):
#   * start time and memory with PARTNERS (default 100,000) partners and 100 campaigns
#     in the configuration: the first start, which writes them all to the store, a
#     restart, which finds them there, and a restart with them in the store only (a
#     file without entries, as when they were made through the API);
#   * creating partners through the API (POST /v1/partners, durable before the answer)
#     one after another over a kept-alive connection, p50/p99, against the server's own
#     durable write of a conversion (POST /v1/postback) in the same run, as the ratio.
#
#   affiliate-server/bench/program.sh              # 100,000 partners, 2,000 creations
#   PARTNERS=10000 CREATES=500 affiliate-server/bench/program.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
partners=${PARTNERS:-100000}
creates=${CREATES:-2000}

cargo build --release -q -p affiliate-server
BIN=${CARGO_TARGET_DIR:-target}/release/affiliate-server
work=$(mktemp -d)
cleanup() {
  [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
key=bench-key-0123456789abcdef
cat >"$work/affiliate.toml" <<EOF
[server]
listen = "127.0.0.1:$port"
public_url = "http://127.0.0.1:$port"
data_dir = "data"
api_keys = ["$key"]

[keys]
current = "k1"
k1 = "$($BIN keygen)"
EOF
python3 - "$partners" >>"$work/affiliate.toml" <<'EOF'
import sys
partners = int(sys.argv[1])
for c in range(100):
    print(f'\n[[campaign]]\ncode = "c{c}"\ndestination = "https://shop.example/c{c}"\ncurrency = "USD"\nsale_percent = "10"')
for p in range(partners):
    parent = f'parent = "p{p // 10}"\n' if p >= 10 else ""
    print(f'\n[[partner]]\ncode = "p{p}"\n{parent}coupons = ["CP{p}"]')
EOF

# Starts the server; sets server_pid and took (seconds until it listens).
start_server() {
  : >"$work/server.out"
  local t0; t0=$(date +%s.%N)
  RUST_LOG=warn $BIN serve --config "$work/affiliate.toml" >"$work/server.out" 2>&1 &
  server_pid=$!
  for _ in $(seq 12000); do grep -q "listening on" "$work/server.out" 2>/dev/null && break; sleep 0.01; done
  grep -q "listening on" "$work/server.out" || { cat "$work/server.out" >&2; exit 1; }
  took=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$t0" "$(date +%s.%N)")
}
rss() { awk '/VmRSS/ {printf "%.0f MiB", $2 / 1024}' "/proc/$server_pid/status"; }

echo "program bench: $partners partners (each with a coupon, in a tree of 10 children each), 100 campaigns, sled, $(nproc) cores, $(date -u +%F)"
start_server
echo "first start (writes the program to the store): ${took} s, RSS $(rss)"
kill -TERM "$server_pid"; wait "$server_pid" || true
start_server
echo "restart (the program is in the store):         ${took} s, RSS $(rss)"
# Most of that memory is the TOML parse of 100,000 entries. A program kept in the
# store (made through the API) needs no file: the same store with a file of no entries.
kill -TERM "$server_pid"; wait "$server_pid" || true
cp "$work/affiliate.toml" "$work/full.toml"
sed -n '1,/^\[\[campaign\]\]/p' "$work/full.toml" | sed '$d' >"$work/affiliate.toml"
start_server
echo "restart, the program in the store only:        ${took} s, RSS $(rss)"

python3 - "$port" "$key" "$creates" <<'EOF'
import http.client, json, statistics, sys, time
port, key, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
conn = http.client.HTTPConnection("127.0.0.1", port)
headers = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}
def timed(path, body):
    t0 = time.perf_counter()
    conn.request("POST", path, json.dumps(body), headers)
    r = conn.getresponse()
    r.read()
    took = time.perf_counter() - t0
    if r.status != 201:
        sys.exit(f"{path}: {r.status}")
    return took * 1000
def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]
create = [timed("/v1/partners", {"code": f"new{i}", "parent": f"p{i % 1000}", "name": f"New {i}"}) for i in range(n)]
postback = [timed("/v1/postback", {"order_id": f"B-{i}", "amount": "10.00", "currency": "USD", "coupon": f"CP{i}", "campaign": "c0"}) for i in range(n)]
c50, c99 = statistics.median(create), pct(create, 0.99)
p50, p99 = statistics.median(postback), pct(postback, 0.99)
print(f"POST /v1/partners x{n}: p50 {c50:.2f} ms, p99 {c99:.2f} ms ({n / (sum(create) / 1000):,.0f}/s one at a time)")
print(f"POST /v1/postback x{n} (peer: a durable conversion): p50 {p50:.2f} ms, p99 {p99:.2f} ms")
print(f"ratio create partner / postback: p50 {c50 / p50:.2f}x, p99 {c99 / p99:.2f}x")
EOF
