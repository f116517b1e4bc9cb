#!/usr/bin/env bash
# Runs the official MCP conformance suite (npm @modelcontextprotocol/conformance, server mode) against
# an upstream directly and through mcp-guard's Streamable HTTP front, and prints a per-scenario table
# (direct vs proxied). The suite needs Node 22: it is run with a Node 22 binary from the npm package
# `node@22`, installed into a temp dir, so the system Node (20) is untouched. Not part of `npm test`
# (network installs).
#
#   npx tsc -p . && test/conformance/run.sh [upstream-command...]
#
# Default upstream: our fixture test/fixtures/http/conformance-server.ts (SDK McpServer over
# StreamableHTTPServerTransport, implementing the suite's test_* tools, test:// resources and
# prompts). Any other command works if it serves Streamable HTTP on 127.0.0.1:$PORT/mcp, e.g.
#   test/conformance/run.sh node node_modules/@modelcontextprotocol/server-everything/dist/index.js streamableHttp
#
# Environment: SUITE_VERSION (default 0.1.16), SUITE (active|all, default all: includes the
# pending scenarios json-schema-2020-12 and server-sse-polling), CONFORMANCE_WORK (reuse a dir
# with the suite installed). Output in $WORK: direct.txt, proxied.txt (suite output), checks-direct/,
# checks-proxied/ (checks.json per scenario), sep1699-*.json (our probe), table.md, guard.log.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${CONFORMANCE_WORK:-$(mktemp -d /tmp/mg-conformance-XXXX)}
SUITE_VERSION=${SUITE_VERSION:-0.1.16}
SUITE_SET=${SUITE:-all}
mkdir -p "$WORK"
cd "$WORK"
if [ ! -x node_modules/node/bin/node ] || [ ! -f node_modules/@modelcontextprotocol/conformance/dist/index.js ]; then
  [ -f package.json ] || npm init -y >/dev/null
  npm install --no-save --no-audit --no-fund node@22 "@modelcontextprotocol/conformance@$SUITE_VERSION" >/dev/null
fi
NODE22="$WORK/node_modules/node/bin/node"
SUITE="$WORK/node_modules/@modelcontextprotocol/conformance/dist/index.js"
echo "suite @modelcontextprotocol/conformance@$(node -p "require('$WORK/node_modules/@modelcontextprotocol/conformance/package.json').version") on node $("$NODE22" --version)"

FIXTURE="$ROOT/dist/test/fixtures/http/conformance-server.js"
if [ $# -eq 0 ] && [ ! -f "$FIXTURE" ]; then echo "build first: npx tsc -p . (missing $FIXTURE)" >&2; exit 2; fi

free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

UP_PORT=$(free_port)
rm -f "$WORK"/sep1699-*.json
# The upstream command runs from the repository root (relative paths in it are the repo's).
if [ $# -gt 0 ]; then (cd "$ROOT" && PORT=$UP_PORT exec "$@") >"$WORK/upstream.log" 2>&1 & else PORT=$UP_PORT node "$FIXTURE" >"$WORK/upstream.log" 2>&1 & fi
PIDS+=($!)
for _ in $(seq 150); do curl -s -o /dev/null "http://127.0.0.1:$UP_PORT/mcp" && break; sleep 0.1; done
curl -s -o /dev/null "http://127.0.0.1:$UP_PORT/mcp" || { echo "the upstream did not come up on port $UP_PORT:" >&2; cat "$WORK/upstream.log" >&2; exit 1; }

# mcp-guard in front of it: the fixture is a streamable-http upstream of the daemon's HTTP front.
# Sampling and elicitation are off by default in mcp-guard's policy; the suite's scenarios need them.
GUARD_PORT=$(free_port)
rm -rf "$WORK/home" && mkdir -p "$WORK/home"
cat >"$WORK/mcp-guard.yaml" <<YAML
servers:
  up:
    transport: streamable-http
    url: http://127.0.0.1:$UP_PORT/mcp
    policy:
      sampling: { enabled: true }
      elicitation: { enabled: true }
daemon:
  dashboard_port: 0
  http:
    listen: 127.0.0.1:$GUARD_PORT
YAML
MCP_GUARD_HOME="$WORK/home" node "$ROOT/dist/src/cli/main.js" start --config "$WORK/mcp-guard.yaml" >"$WORK/guard.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do grep -q 'http front listening' "$WORK/guard.log" && break; sleep 0.2; done
grep -q 'http front listening' "$WORK/guard.log" || { echo "mcp-guard did not start:" >&2; cat "$WORK/guard.log" >&2; exit 1; }
TOKEN=$(cat "$WORK/home/dashboard.token")

# The front requires a bearer token (auth mode os: the dashboard token) and the suite has no option
# for static headers, so a loopback shim adds `Authorization` and forwards everything else as sent
# (Host and Origin included, so the DNS-rebinding scenario tests the front, not the shim).
SHIM_PORT=$(free_port)
node -e "
const http=require('http');const T=process.argv[1];
http.createServer((q,s)=>{const h={...q.headers,authorization:'Bearer '+T};
const r=http.request({host:'127.0.0.1',port:$GUARD_PORT,path:q.url,method:q.method,headers:h,setHost:false},(u)=>{s.writeHead(u.statusCode,u.headers);u.pipe(s);s.on('close',()=>u.destroy())});
r.on('error',()=>s.destroy());q.pipe(r)}).listen($SHIM_PORT,'127.0.0.1')" "$TOKEN" &
PIDS+=($!)
sleep 0.5

run_suite() { rm -rf "$3"; "$NODE22" "$SUITE" server --suite "$SUITE_SET" --url "$1" -o "$3" >"$2" 2>&1 || true; }
echo "== direct: http://127.0.0.1:$UP_PORT/mcp"
run_suite "http://127.0.0.1:$UP_PORT/mcp" "$WORK/direct.txt" "$WORK/checks-direct"
sed -n '/=== SUMMARY ===/,$p' "$WORK/direct.txt"
echo "== through mcp-guard: http://127.0.0.1:$SHIM_PORT/mcp/up (front on $GUARD_PORT)"
run_suite "http://127.0.0.1:$SHIM_PORT/mcp/up" "$WORK/proxied.txt" "$WORK/checks-proxied"
sed -n '/=== SUMMARY ===/,$p' "$WORK/proxied.txt"

# SEP-1699 probe at protocol 2025-11-25 (the suite's server-sse-polling sends 2025-03-26, so it never
# sees a stream closed mid-call): direct and through mcp-guard, only against our fixture.
if [ $# -eq 0 ]; then
  echo "== SEP-1699 probe (test_reconnection at 2025-11-25)"
  node "$ROOT/test/conformance/sep1699-probe.mjs" "http://127.0.0.1:$UP_PORT/mcp" | tee "$WORK/sep1699-direct.json"
  node "$ROOT/test/conformance/sep1699-probe.mjs" "http://127.0.0.1:$GUARD_PORT/mcp/up" "$TOKEN" | tee "$WORK/sep1699-proxied.json"
fi

# Per-scenario table from each scenario's checks.json (SUCCESS / FAILURE / WARNING counts, and the
# first failure or warning message); exit 1 if a scenario passes directly but not through the proxy.
STATUS=0
node - "$WORK/checks-direct" "$WORK/checks-proxied" "$WORK/direct.txt" "$WORK/sep1699-direct.json" "$WORK/sep1699-proxied.json" >"$WORK/table.md" <<'JS' || STATUS=$?
const fs = require('fs');
const path = require('path');
const load = (dir) => {
  const out = new Map();
  for (const d of fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []) {
    const m = /^server-(.+)-\d{4}-\d\d-\d\dT[\d-]+Z$/.exec(d);
    if (!m) continue;
    const checks = JSON.parse(fs.readFileSync(path.join(dir, d, 'checks.json'), 'utf8'));
    const n = (s) => checks.filter((c) => c.status === s).length;
    const note = checks.find((c) => c.status === 'FAILURE') ?? checks.find((c) => c.status === 'WARNING');
    out.set(m[1], { pass: n('SUCCESS'), fail: n('FAILURE'), warn: n('WARNING'), note: note ? `${note.id}: ${note.errorMessage ?? ''}`.slice(0, 160) : '' });
  }
  return out;
};
const [d, p] = process.argv.slice(2, 4).map(load);
// Scenarios in the order the suite ran them.
const order = [...fs.readFileSync(process.argv[4], 'utf8').matchAll(/=== Running scenario: (\S+) ===/g)].map((m) => m[1]);
const cell = (r) => (r ? `${r.fail === 0 ? '✓' : '✗'} ${r.pass} passed, ${r.fail} failed${r.warn ? `, ${r.warn} warnings` : ''}` : 'not run');
const esc = (s) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
console.log('| scenario | direct | through mcp-guard | notes |\n|---|---|---|---|');
let regressions = 0;
for (const name of new Set([...order, ...d.keys(), ...p.keys()])) {
  const a = d.get(name), b = p.get(name);
  if (a && a.fail === 0 && !(b && b.fail === 0)) regressions++;
  const notes = [a?.note && `direct: ${a.note}`, b?.note && `proxied: ${b.note}`].filter(Boolean).join('; ');
  console.log(`| ${name} | ${cell(a)} | ${cell(b)} | ${esc(notes)} |`);
}
// Our SEP-1699 probe, when it ran: not a suite scenario, so it is not counted below.
const [pd, pp] = process.argv.slice(5, 7).map((f) => (f && fs.existsSync(f) && fs.statSync(f).size ? JSON.parse(fs.readFileSync(f, 'utf8')) : undefined));
if (pd && pp) {
  const c = (r) => `${r.delivered ? '✓' : '✗'} ${r.resultOnPost ? 'result on the POST stream' : r.resultAfterResume ? 'stream closed; result after GET Last-Event-ID' : 'no result'}${r.primingEvent ? '; priming event' : ''}`;
  console.log(`| (probe) sep1699-reconnection at 2025-11-25 | ${c(pd)} | ${c(pp)} | ours, not a suite scenario (test/conformance/sep1699-probe.mjs) |`);
  if (pd.delivered && !pp.delivered) regressions++;
}
const ok = (m) => [...m.values()].filter((r) => r.fail === 0).length;
console.log(`\nDirect: ${ok(d)}/${d.size} scenarios pass; through mcp-guard: ${ok(p)}/${p.size}; passing directly but not through mcp-guard: ${regressions}`);
process.exitCode = regressions ? 1 : 0;
JS
cat "$WORK/table.md"
echo "results in $WORK (direct.txt, proxied.txt, table.md, guard.log, upstream.log)"
exit $STATUS
