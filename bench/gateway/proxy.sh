#!/usr/bin/env bash
# The MCP gateway as a proxy (issue 15): what `warrant gateway serve` adds to a `tools/call`
# over loopback, beside nginx proxying the same upstream (the floor of what any proxy costs).
#
# An rmcp upstream over Streamable HTTP (crates/warrant-gateway-proxy/examples/bench_upstream.rs:
# stateless, JSON answers, 25 tools) is called by `oha` (crates.io; installed when missing)
#   direct   POST /mcp on the upstream
#   nginx    nginx (Debian package; installed when missing) → the upstream, keep-alive
#   gateway  `warrant gateway serve` → the upstream: 1,000 Cedar policies (the generator of
#            bench/gateway/decision_bench.rs, as a .cedar file), 20 upstream names, a task token
#            from `warrant jit grant`, revocations and grant uses in a SQLite store
# with the same 2026-07-28 stateless request (no session; Mcp-Method, Mcp-Name and
# MCP-Protocol-Version headers) at each CONCURRENCY for DURATION. Prints calls/s, p50 and p99
# per target and the gateway's added p50/p99 (gateway minus direct at the same concurrency).
# oha, the proxy and the upstream share the machine's cores.
#
#   bench/gateway/proxy.sh
#   DURATION=20s CONCURRENCY="1 16 64" WARRANT_BIN=… UPSTREAM_BIN=… bench/gateway/proxy.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${DURATION:-15s}
concurrency=${CONCURRENCY:-1 16 64}
warmup=${WARMUP:-3s}
out=bench/out/gateway-proxy
rm -rf "$out"
mkdir -p "$out/nginx"
out=$(realpath "$out")

target_dir=${CARGO_TARGET_DIR:-target}
if [ -n "${WARRANT_BIN:-}" ]; then
  bin=$(realpath "$WARRANT_BIN")
else
  cargo build --release -q -p warrant-cli
  bin=$target_dir/release/warrant
fi
if [ -n "${UPSTREAM_BIN:-}" ]; then
  upstream_bin=$(realpath "$UPSTREAM_BIN")
else
  cargo build --release -q -p warrant-gateway-proxy --example bench_upstream
  upstream_bin=$target_dir/release/examples/bench_upstream
fi
command -v oha > /dev/null || { echo "installing oha (crates.io)"; cargo install oha --locked; }
if ! command -v nginx > /dev/null && [ ! -x /usr/sbin/nginx ]; then
  echo "installing nginx (Debian)"
  if [ "$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nginx > /dev/null
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2> /dev/null || true; done
}
trap cleanup EXIT

wait_for() { # URL: until something answers there (any HTTP status)
  for _ in $(seq 100); do
    curl -s -o /dev/null "$1" && return 0
    sleep 0.1
  done
  echo "nothing answers at $1" >&2
  return 1
}

# The upstream.
upstream_port=$(free_port)
"$upstream_bin" "127.0.0.1:$upstream_port" > "$out/upstream.out" 2> "$out/upstream.log" &
pids+=($!)
upstream_pid=$!
upstream="http://127.0.0.1:$upstream_port/mcp"
wait_for "$upstream"

# nginx in front of it: one worker per core, keep-alive connections to the upstream, no logs.
nginx_port=$(free_port)
cat > "$out/nginx/nginx.conf" <<EOF
daemon off;
worker_processes auto;
pid $out/nginx/nginx.pid;
error_log $out/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $out/nginx/body;
  proxy_temp_path $out/nginx/proxy;
  fastcgi_temp_path $out/nginx/fastcgi;
  uwsgi_temp_path $out/nginx/uwsgi;
  scgi_temp_path $out/nginx/scgi;
  upstream mcp { server 127.0.0.1:$upstream_port; keepalive 128; }
  server {
    listen 127.0.0.1:$nginx_port;
    location /mcp {
      proxy_pass http://mcp;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
    }
  }
}
EOF
"$nginx_bin" -p "$out/nginx" -c "$out/nginx/nginx.conf" -e "$out/nginx/error.log" &
pids+=($!)
wait_for "http://127.0.0.1:$nginx_port/mcp"

# The gateway: the decision benchmark's 1,000 policies over 20 servers of 25 tools, every
# server name pointing at the one upstream (connections are opened on first use).
python3 - "$out" <<'PY'
import sys
out = sys.argv[1]
servers, tools = 20, 25
lines, n = [], 0
for s in range(servers):
    for t in range(tools):
        tool = f"srv{s}::tool{t}"
        lines.append(f'@id("p{n}") permit (principal, action == Action::"tools/call", resource == Tool::"{tool}") when {{ context.args has repo && context.args.repo like "org{s}/*" }};')
        n += 1
        if n >= 990:
            break
        if t % 2 == 0:
            forbid = f'unless {{ context.args has path && context.args.path like "/workspace/{t}/*" }}'
        else:
            forbid = "unless { principal.owner_active && principal.risk < 90 }"
        lines.append(f'@id("p{n}") @reason("tool {tool} is restricted") forbid (principal, action == Action::"tools/call", resource == Tool::"{tool}") {forbid};')
        n += 1
    if n >= 990:
        break
while n < 1000:
    s = n % servers
    lines.append(f'@id("p{n}") @approval forbid (principal, action == Action::"tools/call", resource in Server::"srv{s}") when {{ context.args has amount && context.args.amount > {n} }};')
    n += 1
with open(f"{out}/policies.cedar", "w") as f:
    f.write("\n".join(lines) + "\n")
with open(f"{out}/gateway.cedarschema", "w") as f:
    f.write("type Args = { repo?: String, path?: String, amount?: Long };\n")
PY
gateway_port=$(free_port)
{
  cat <<EOF
version = 1
[server]
listen = "127.0.0.1:$gateway_port"
[policy]
schema = "gateway.cedarschema"
files = ["policies.cedar"]
[tokens]
root_key_file = "root.key"
# The benchmark's own upstream: its tools are pinned as first seen.
[pinning]
new_tools = "pin-first-seen"
[agents."bench-agent"]
owner = "bench@example.org"
owner_active = true
tier = "prod"
risk = 10
EOF
  for s in $(seq 0 19); do
    printf '[[upstream]]\nname = "srv%s"\nurl = "%s"\n' "$s" "$upstream"
  done
} > "$out/gateway.toml"
export WARRANT_STORE="$out/store.db" WARRANT_USER=bench@example.org
"$bin" -q jit keygen "$out/root.key" > /dev/null
token=$("$bin" -q --config "$out/gateway.toml" --format json jit grant --agent bench-agent \
  --task "proxy benchmark" --tools srv3::tool4 --args 'repo=org3/*' --ttl 1h |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
"$bin" -q --config "$out/gateway.toml" gateway serve 2> "$out/gateway.log" &
pids+=($!)
gateway_pid=$!
wait_for "http://127.0.0.1:$gateway_port/.well-known/oauth-protected-resource"

# One call, allowed by the token and the policies (permit p on the repo; the path satisfies the
# tool's forbid), in the 2026-07-28 stateless form.
cat > "$out/call.json" <<'EOF'
{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"tool4","arguments":{"repo":"org3/api","path":"/workspace/4/a.rs"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"oha","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}
EOF
headers=(
  -H "Accept: application/json, text/event-stream"
  -H "Content-Type: application/json"
  -H "MCP-Protocol-Version: 2026-07-28"
  -H "Mcp-Method: tools/call"
  -H "Mcp-Name: tool4"
)
declare -A urls=(
  [direct]="$upstream"
  [nginx]="http://127.0.0.1:$nginx_port/mcp"
  [gateway]="http://127.0.0.1:$gateway_port/mcp/srv3"
)
auth=(-H "Authorization: Bearer $token")
for name in direct nginx gateway; do
  answer=$(curl -sS -X POST "${headers[@]}" "${auth[@]}" --data-binary "@$out/call.json" "${urls[$name]}")
  if ! grep -q '"tool4 done"' <<< "$answer" || grep -q '"error"' <<< "$answer"; then
    echo "$name: the call did not succeed: $answer" >&2
    exit 1
  fi
done

measure() { # NAME CONCURRENCY DURATION → $out/NAME-C.json
  oha -z "$3" -c "$2" -w --no-tui --output-format json -m POST "${headers[@]}" "${auth[@]}" \
    -D "$out/call.json" "${urls[$1]}" > "$out/$1-$2.json"
}
echo "upstream $upstream, nginx :$nginx_port, gateway :$gateway_port ($bin)"
echo "oha $(oha --version | awk '{print $2}'), $duration per run, $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for c in $concurrency; do
  for name in direct nginx gateway; do
    measure "$name" "$c" "$warmup"
    measure "$name" "$c" "$duration"
  done
done
gateway_rss=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$gateway_pid/status")
upstream_rss=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$upstream_pid/status")

python3 - "$out" "$concurrency" <<'PY'
import json, sys
out, levels = sys.argv[1], sys.argv[2].split()
def load(name, c):
    doc = json.load(open(f"{out}/{name}-{c}.json"))
    codes = doc.get("statusCodeDistribution", {})
    errors = sum(n for code, n in codes.items() if not code.startswith("2"))
    errors += sum(doc.get("errorDistribution", {}).values())
    pct = doc["latencyPercentiles"]
    return doc["summary"]["requestsPerSec"], pct["p50"] * 1e3, pct["p99"] * 1e3, errors
print(f"{'target':<9} {'conc':>5} {'calls/s':>10} {'p50 ms':>9} {'p99 ms':>9} {'errors':>7}")
for c in levels:
    rows = {name: load(name, c) for name in ("direct", "nginx", "gateway")}
    for name, (rps, p50, p99, errors) in rows.items():
        print(f"{name:<9} {c:>5} {rps:10.1f} {p50:9.3f} {p99:9.3f} {errors:7d}")
    for name in ("nginx", "gateway"):
        d, r = rows["direct"], rows[name]
        print(f"  {name} adds p50 {r[1] - d[1]:+.3f} ms, p99 {r[2] - d[2]:+.3f} ms, "
              f"{r[0] / d[0]:.2f}× direct calls/s")
PY
echo "peak RSS: gateway $gateway_rss MiB, upstream $upstream_rss MiB"
