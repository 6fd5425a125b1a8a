#!/usr/bin/env bash
# Load benchmark of the click redirect: affiliate-server's GET /go/… (verify the signed
# link, check the User-Agent for bots, count the click, issue a token, Set-Cookie, 302)
# against two peers answering the same 302 with the same Location, Set-Cookie and
# Cache-Control: bare hyper served like affiliate-server (bench/bare-hyper: one runtime
# per core, SO_REUSEPORT; what affiliate-server spends on top of it is what tracking
# costs) and nginx `return 302`. Same machine, same run, one worker per core each,
# all driven by wrk.
#
#   affiliate-server/bench/redirect.sh            # 3 alternating rounds of 10 s
#   affiliate-server/bench/redirect.sh --quick    # 1 round of 2 s on the debug build: a
#                                                 # smoke run of the script and of its
#                                                 # no-click-lost check, no measurement
#   affiliate-server/bench/redirect.sh --catalogue  # with 10,000 partners and 100 campaigns
#                                                   # (PARTNERS=... CAMPAIGNS=... for other sizes)
#
# Prints requests/s and p99 latency per round, the medians and the ratios. Target:
# affiliate-server >= 0.95x bare hyper, p99 no worse than nginx's + 1 ms. Rounds
# alternate because a loaded 2-core machine drifts by ±10 % within a minute.
# Installs wrk and nginx from Debian when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

duration=10s
rounds=3
profile=release
partners=${PARTNERS:-1}
campaigns=${CAMPAIGNS:-1}
for arg in "$@"; do
  case "$arg" in
    --quick) duration=2s; rounds=1; profile=debug ;;
    # A catalogue the size of a real program: the clicked link is one of many.
    --catalogue) partners=10000; campaigns=100 ;;
    *) echo "usage: $0 [--quick] [--catalogue]" >&2; exit 2 ;;
  esac
done
connections=${CONNECTIONS:-64}

need() {
  command -v "$1" >/dev/null 2>&1 && return
  echo "installing $2 from Debian" >&2
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null
  else
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null
  fi
}
need wrk wrk
[ -x /usr/sbin/nginx ] || need nginx nginx-light
NGINX=/usr/sbin/nginx

if [ "$profile" = release ]; then
  cargo build --release -q -p affiliate-server -p bare-hyper
else
  cargo build -q -p affiliate-server -p bare-hyper
fi
BIN=${CARGO_TARGET_DIR:-target}/$profile/affiliate-server
BARE=${CARGO_TARGET_DIR:-target}/$profile/bare-hyper

work=$(mktemp -d)
cleanup() {
  [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null || true
  [ -n "${bare_pid:-}" ] && kill "$bare_pid" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
aff_port=$(free_port)
nginx_port=$(free_port)
bare_port=$(free_port)

api_key=$($BIN keygen)
cat >"$work/affiliate.toml" <<EOF
[server]
listen = "127.0.0.1:$aff_port"
public_url = "http://127.0.0.1:$aff_port"
data_dir = "data"
api_keys = ["$api_key"]

[keys]
current = "k1"
k1 = "$($BIN keygen)"

[[campaign]]
code = "haircare"
destination = "https://shop.example/haircare"
currency = "USD"
sale_percent = "10"
click_flat = "0.01"

[[partner]]
code = "abc123"
EOF
# The rest of the catalogue: campaigns c1..., partners p1... in a tree under abc123.
python3 - "$partners" "$campaigns" >>"$work/affiliate.toml" <<'EOF'
import sys
partners, campaigns = int(sys.argv[1]), int(sys.argv[2])
for c in range(1, campaigns):
    print(f'\n[[campaign]]\ncode = "c{c}"\ndestination = "https://shop.example/c{c}"\ncurrency = "USD"\nsale_percent = "10"')
for p in range(1, partners):
    parent = "abc123" if p < 10 else f"p{p // 10}"
    print(f'\n[[partner]]\ncode = "p{p}"\nparent = "{parent}"')
EOF

link=$($BIN link --config "$work/affiliate.toml" --campaign haircare --partner abc123 --ad website2 --sid kw1)
RUST_LOG=warn $BIN serve --config "$work/affiliate.toml" >"$work/server.out" 2>&1 &
server_pid=$!
for _ in $(seq 600); do grep -q "listening on" "$work/server.out" 2>/dev/null && break; sleep 0.1; done

# A browser's user agent: every click goes through the bot check and is a person's
# (wrk sends none, and a request without one is counted as a bot's).
browser_ua="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

# nginx's answer has the same Location and Set-Cookie sizes as ours.
sample=$(curl -s -A "$browser_ua" -o /dev/null -D - "$link")
location=$(printf '%s' "$sample" | tr -d '\r' | sed -n 's/^location: //p')
cookie=$(printf '%s' "$sample" | tr -d '\r' | sed -n 's/^set-cookie: //p')
[ -n "$location" ] && [ -n "$cookie" ] || { echo "no redirect from affiliate-server: $sample" >&2; exit 1; }

mkdir -p "$work/nginx"
cat >"$work/nginx.conf" <<EOF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  server {
    listen 127.0.0.1:$nginx_port;
    location / {
      add_header Set-Cookie '$cookie' always;
      add_header Cache-Control no-store always;
      return 302 '$location';
    }
  }
}
EOF
$NGINX -c "$work/nginx.conf" -e "$work/nginx/error.log"
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$nginx_port/" && break; sleep 0.1; done

$BARE "$bare_port" "$location" "$cookie" >"$work/bare.out" 2>&1 &
bare_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$work/bare.out" 2>/dev/null && break; sleep 0.1; done
# The peer answers what affiliate-server answers (the cookie's value aside).
bare_sample=$(curl -s -o /dev/null -D - "http://127.0.0.1:$bare_port/")
[ "$(printf '%s' "$bare_sample" | tr -d '\r' | sed -n 's/^location: //p')" = "$location" ] ||
  { echo "bare hyper answered another Location: $bare_sample" >&2; exit 1; }

path=${link#http://127.0.0.1:$aff_port}
run_wrk() { wrk -t1 -c"$connections" -d"$duration" --latency -H "User-Agent: $browser_ua" "$1"; }
rps() { sed -n 's/^Requests\/sec: *//p' <<<"$1"; }
p99() { awk '$1 == "99%" {print $2}' <<<"$1"; }
non2xx() { sed -n 's/^ *Non-2xx or 3xx responses: *//p' <<<"$1"; }

[ "$profile" = release ] || echo "smoke run on the debug build: the figures check the script, they measure nothing"
echo "wrk -t1 -c$connections -d$duration, $rounds rounds, $(nproc) cores, $(date -u +%F); catalogue: $partners partners, $campaigns campaigns"
printf '%-6s %-30s %12s %10s\n' "round" "server" "requests/s" "p99"
nginx_all=(); bare_all=(); aff_all=(); aff_p99=(); nginx_p99=(); answered=0
for round in $(seq "$rounds"); do
  nginx_out=$(run_wrk "http://127.0.0.1:$nginx_port$path")
  bare_out=$(run_wrk "http://127.0.0.1:$bare_port$path")
  aff_out=$(run_wrk "http://127.0.0.1:$aff_port$path")
  [ -z "$(non2xx "$aff_out")" ] || { echo "affiliate-server answered non-3xx: $aff_out" >&2; exit 1; }
  nginx_all+=("$(rps "$nginx_out")"); bare_all+=("$(rps "$bare_out")"); aff_all+=("$(rps "$aff_out")")
  nginx_p99+=("$(p99 "$nginx_out")"); aff_p99+=("$(p99 "$aff_out")")
  answered=$((answered + $(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' <<<"$aff_out")))
  printf '%-6s %-30s %12s %10s\n' "$round" "nginx return 302" "$(rps "$nginx_out")" "$(p99 "$nginx_out")"
  printf '%-6s %-30s %12s %10s\n' "$round" "bare hyper 302" "$(rps "$bare_out")" "$(p99 "$bare_out")"
  printf '%-6s %-30s %12s %10s\n' "$round" "affiliate-server GET /go/…" "$(rps "$aff_out")" "$(p99 "$aff_out")"
done
python3 - "${aff_all[*]}" "${bare_all[*]}" "${nginx_all[*]}" "${aff_p99[*]}" "${nginx_p99[*]}" <<'EOF'
import re, statistics, sys
def ms(v):  # wrk prints 812.00us, 1.20ms, 2.00s
    n, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
aff, bare, ngx = (statistics.median(map(float, a.split())) for a in sys.argv[1:4])
aff99, ngx99 = (statistics.median(map(ms, a.split())) for a in sys.argv[4:6])
print(f"median: affiliate-server {aff:,.0f}/s, bare hyper {bare:,.0f}/s, nginx {ngx:,.0f}/s")
print(f"ratio affiliate-server / bare hyper: {aff / bare:.2f}x (target >= 0.95x: {'met' if aff / bare >= 0.95 else 'NOT met'})")
print(f"ratio affiliate-server / nginx: {aff / ngx:.2f}x")
print(f"p99 median: affiliate-server {aff99:.2f} ms, nginx {ngx99:.2f} ms "
      f"(target <= nginx + 1 ms: {'met' if aff99 <= ngx99 + 1 else 'NOT met'})")
EOF

# Every answered request was a counted click: stop (SIGTERM flushes), reopen, count.
kill -TERM "$server_pid"; wait "$server_pid" || true
: >"$work/server.out"
RUST_LOG=warn $BIN serve --config "$work/affiliate.toml" >"$work/server.out" 2>&1 &
server_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$work/server.out" 2>/dev/null && break; sleep 0.1; done
counted=$(curl -s -H "Authorization: Bearer $api_key" "http://127.0.0.1:$aff_port/v1/stats" |
  python3 -c 'import json,sys; r=json.load(sys.stdin)["rows"]; print(r[0]["clicks"] if r else 0)')
# +1: the sample request above.
echo "clicks counted after restart: $counted (wrk saw $answered answers, +1 sample)"
[ "$counted" -ge $((answered + 1)) ] || { echo "clicks were lost" >&2; exit 1; }
