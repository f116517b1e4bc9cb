#!/usr/bin/env bash
# Runs the official MCP conformance suite (npm @modelcontextprotocol/conformance, server mode) against
# an upstream directly and through mcp-guard's Streamable HTTP front, and prints both result sets.
# The suite needs Node 22: it is run with a Node 22 binary from the npm package `node@22`, installed
# into a temp dir, so the system Node (20) is untouched. Not part of `npm test` (network installs).
#
#   test/conformance/run.sh [upstream-command...]
# default upstream: server-everything in streamableHttp mode (until our conformance fixture lands:
# test/fixtures/http/conformance-server.ts, which must implement the suite's test_* tools,
# test:// resources and prompts).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${CONFORMANCE_WORK:-$(mktemp -d /tmp/mg-conformance-XXXX)}
SUITE_VERSION=${SUITE_VERSION:-0.1.16}
cd "$WORK"
if [ ! -x node_modules/node/bin/node ]; then
  npm init -y >/dev/null
  npm install --no-save --no-audit --no-fund node@22 "@modelcontextprotocol/conformance@$SUITE_VERSION" >/dev/null
fi
NODE22="$WORK/node_modules/node/bin/node"
SUITE="$WORK/node_modules/@modelcontextprotocol/conformance/dist/index.js"
"$NODE22" --version

free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
UP_PORT=$(free_port)
if [ $# -gt 0 ]; then PORT=$UP_PORT "$@" & else PORT=$UP_PORT node "$ROOT/node_modules/@modelcontextprotocol/server-everything/dist/index.js" streamableHttp >"$WORK/upstream.log" 2>&1 & fi
UP_PID=$!
trap 'kill $UP_PID ${GUARD_PID:-} 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$UP_PORT/mcp" && break; sleep 0.2; done

# mcp-guard in front of it (auth mode os: the front takes the dashboard token; the suite sends no
# Authorization header, so the proxied run uses a token-injecting shim: see RESULTS.md).
GUARD_PORT=$(free_port)
mkdir -p "$WORK/home"
cat >"$WORK/mcp-guard.yaml" <<YAML
servers:
  up:
    transport: streamable-http
    url: http://127.0.0.1:$UP_PORT/mcp
    policy:
      sampling: { enabled: true }
daemon:
  dashboard_port: 0
  http:
    listen: 127.0.0.1:$GUARD_PORT
YAML
MCP_GUARD_HOME="$WORK/home" node "$ROOT/dist/src/cli/main.js" start --config "$WORK/mcp-guard.yaml" >"$WORK/guard.log" 2>&1 &
GUARD_PID=$!
for _ in $(seq 50); do grep -q 'http front listening' "$WORK/guard.log" && break; sleep 0.2; done
TOKEN=$(cat "$WORK/home/dashboard.token")
# A loopback shim that adds the bearer token (the suite has no option for static headers).
SHIM_PORT=$(free_port)
node -e "
const http=require('http');const T='$TOKEN';
http.createServer((q,s)=>{const h={...q.headers,authorization:'Bearer '+T};delete h.host;
const r=http.request({host:'127.0.0.1',port:$GUARD_PORT,path:q.url,method:q.method,headers:h},(u)=>{s.writeHead(u.statusCode,u.headers);u.pipe(s)});
r.on('error',()=>s.destroy());q.pipe(r)}).listen($SHIM_PORT,'127.0.0.1')" &
SHIM_PID=$!
trap 'kill $UP_PID $GUARD_PID $SHIM_PID 2>/dev/null || true' EXIT
sleep 0.5

echo "== direct: http://127.0.0.1:$UP_PORT/mcp"
"$NODE22" "$SUITE" server --url "http://127.0.0.1:$UP_PORT/mcp" 2>&1 | tee "$WORK/direct.txt" | tail -60 || true
echo "== through mcp-guard: http://127.0.0.1:$SHIM_PORT/mcp/up"
"$NODE22" "$SUITE" server --url "http://127.0.0.1:$SHIM_PORT/mcp/up" 2>&1 | tee "$WORK/proxied.txt" | tail -60 || true
echo "results in $WORK (direct.txt, proxied.txt, guard.log)"
