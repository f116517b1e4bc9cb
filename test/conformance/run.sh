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
# checks-proxied/ (checks.json per scenario), sep1699-*.json (our probe), table.md, home.log (the daemon), and the same with -2026 for the 2026 leg.
#
# The 2026 leg (LEGS, default "2025 2026"; LEGS=2026 runs it alone): suite SUITE26_VERSION (default
# 0.2.0-alpha.12) with `--requirements 2026-07-28` (the server scenarios that revision requires,
# run at its stateless wire, plus the not-scored extension and pending ones) against our 2026
# fixture test/fixtures/http/conformance-server-2026.ts (SDK v2 createMcpHandler), directly.
# Output: direct-2026.txt, checks26-direct/, table-2026.md. The column through mcp-guard's front is
# wired by the front's 2026 mode; until then it reads "not run" and is not counted.
set -euo pipefail
LEGS=${LEGS:-2025 2026}
leg() { [[ " $LEGS " == *" $1 "* ]]; }
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${CONFORMANCE_WORK:-$(mktemp -d /tmp/mg-conformance-XXXX)}
SUITE_VERSION=${SUITE_VERSION:-0.1.16}
SUITE_SET=${SUITE:-all}
mkdir -p "$WORK"
cd "$WORK"
STATUS=0
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

# Per-scenario table from each scenario's checks.json (SUCCESS / FAILURE / WARNING counts, and the
# first failure or warning message); exit 1 if a scenario passes directly but not through the proxy.
# Arguments: checks dir direct, checks dir proxied, suite output (direct), [probe json direct, proxied].
cat >"$WORK/table.js" <<'JS'
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
// No proxied run at all (a leg whose front is not wired yet): shown as "not run", not counted.
const proxiedRan = fs.existsSync(process.argv[3]);
// Scenarios the suite ran but does not score for a requirement set ("Not scored for ...: ✗ name (reason)").
const notScored = new Map([...fs.readFileSync(process.argv[4], 'utf8').matchAll(/^\s+[✓✗] (\S+) \(([^)]+)\)$/gm)].map((m) => [m[1], m[2]]));
// Scenarios in the order the suite ran them.
const order = [...fs.readFileSync(process.argv[4], 'utf8').matchAll(/=== Running scenario: (\S+) ===/g)].map((m) => m[1]);
const cell = (r) => (r ? `${r.fail === 0 ? '✓' : '✗'} ${r.pass} passed, ${r.fail} failed${r.warn ? `, ${r.warn} warnings` : ''}` : 'not run');
const esc = (s) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
console.log('| scenario | direct | through mcp-guard | notes |\n|---|---|---|---|');
let regressions = 0;
for (const name of new Set([...order, ...d.keys(), ...p.keys()])) {
  const a = d.get(name), b = p.get(name);
  if (proxiedRan && a && a.fail === 0 && !(b && b.fail === 0)) regressions++;
  const notes = [a?.note && `direct: ${a.note}`, b?.note && `proxied: ${b.note}`].filter(Boolean).join('; ');
  const label = notScored.has(name) ? `${name} *(not scored: ${notScored.get(name)})*` : name;
  console.log(`| ${label} | ${cell(a)} | ${cell(b)} | ${esc(notes)} |`);
}
// Our SEP-1699 probe, when it ran: not a suite scenario, so it is not counted below.
const [pd, pp] = process.argv.slice(5, 7).map((f) => (f && fs.existsSync(f) && fs.statSync(f).size ? JSON.parse(fs.readFileSync(f, 'utf8')) : undefined));
if (pd && pp) {
  const c = (r) => `${r.delivered ? '✓' : '✗'} ${r.resultOnPost ? 'result on the POST stream' : r.resultAfterResume ? 'stream closed; result after GET Last-Event-ID' : 'no result'}${r.primingEvent ? '; priming event' : ''}`;
  console.log(`| (probe) sep1699-reconnection at 2025-11-25 | ${c(pd)} | ${c(pp)} | ours, not a suite scenario (test/conformance/sep1699-probe.mjs) |`);
  if (pd.delivered && !pp.delivered) regressions++;
}
const ok = (m) => [...m.entries()].filter(([n, r]) => r.fail === 0 && !notScored.has(n)).length;
const scored = (m) => [...m.keys()].filter((n) => !notScored.has(n)).length;
const through = proxiedRan ? `${ok(p)}/${scored(p)}` : 'not run';
console.log(`\nDirect: ${ok(d)}/${scored(d)} scored scenarios pass; through mcp-guard: ${through}; passing directly but not through mcp-guard: ${proxiedRan ? regressions : 'n/a'}${notScored.size ? `; ${notScored.size} not scored (extension or pending), shown for visibility` : ''}`);
process.exitCode = regressions ? 1 : 0;
JS

# mcp-guard in front of an upstream: it is a streamable-http upstream of the daemon's HTTP front.
# Sampling and elicitation are off by default in mcp-guard's policy; the suite's scenarios need them.
# Sets GUARD_PORT, TOKEN and SHIM_PORT. Arguments: upstream URL, home/log name.
start_guard() {
GUARD_PORT=$(free_port)
rm -rf "$WORK/$2" && mkdir -p "$WORK/$2"
cat >"$WORK/$2.yaml" <<YAML
servers:
  up:
    transport: streamable-http
    url: $1
    policy:
      sampling: { enabled: true }
      elicitation: { enabled: true }
daemon:
  dashboard_port: 0
  http:
    listen: 127.0.0.1:$GUARD_PORT
YAML
MCP_GUARD_HOME="$WORK/$2" node "$ROOT/dist/src/cli/main.js" start --config "$WORK/$2.yaml" >"$WORK/$2.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do grep -q 'http front listening' "$WORK/$2.log" && break; sleep 0.2; done
grep -q 'http front listening' "$WORK/$2.log" || { echo "mcp-guard did not start:" >&2; cat "$WORK/$2.log" >&2; exit 1; }
TOKEN=$(cat "$WORK/$2/dashboard.token")

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
}

if leg 2025; then
if [ ! -x node_modules/node/bin/node ] || [ ! -f node_modules/@modelcontextprotocol/conformance/dist/index.js ]; then
  [ -f package.json ] || npm init -y >/dev/null
  npm install --no-save --no-audit --no-fund node@22 "@modelcontextprotocol/conformance@$SUITE_VERSION" >/dev/null
fi
NODE22="$WORK/node_modules/node/bin/node"
SUITE="$WORK/node_modules/@modelcontextprotocol/conformance/dist/index.js"
echo "suite @modelcontextprotocol/conformance@$(node -p "require('$WORK/node_modules/@modelcontextprotocol/conformance/package.json').version") on node $("$NODE22" --version)"

FIXTURE="$ROOT/dist/test/fixtures/http/conformance-server.js"
if [ $# -eq 0 ] && [ ! -f "$FIXTURE" ]; then echo "build first: npx tsc -p . (missing $FIXTURE)" >&2; exit 2; fi

UP_PORT=$(free_port)
rm -f "$WORK"/sep1699-*.json
# The upstream command runs from the repository root (relative paths in it are the repo's).
if [ $# -gt 0 ]; then (cd "$ROOT" && PORT=$UP_PORT exec "$@") >"$WORK/upstream.log" 2>&1 & else PORT=$UP_PORT node "$FIXTURE" >"$WORK/upstream.log" 2>&1 & fi
PIDS+=($!)
for _ in $(seq 150); do curl -s -o /dev/null "http://127.0.0.1:$UP_PORT/mcp" && break; sleep 0.1; done
curl -s -o /dev/null "http://127.0.0.1:$UP_PORT/mcp" || { echo "the upstream did not come up on port $UP_PORT:" >&2; cat "$WORK/upstream.log" >&2; exit 1; }

start_guard "http://127.0.0.1:$UP_PORT/mcp" home

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

node "$WORK/table.js" "$WORK/checks-direct" "$WORK/checks-proxied" "$WORK/direct.txt" "$WORK/sep1699-direct.json" "$WORK/sep1699-proxied.json" >"$WORK/table.md" || STATUS=$?
cat "$WORK/table.md"
echo "results in $WORK (direct.txt, proxied.txt, table.md, home.log, upstream.log)"
cleanup
PIDS=()
fi

# ---- 2026 leg: --requirements 2026-07-28 against the 2026 fixture ------------------------------
if leg 2026; then
  SUITE26_VERSION=${SUITE26_VERSION:-0.2.0-alpha.12}
  S26="$WORK/suite26"
  mkdir -p "$S26"
  if [ ! -x "$S26/node_modules/node/bin/node" ] || [ "$(node -p "try{require('$S26/node_modules/@modelcontextprotocol/conformance/package.json').version}catch{''}")" != "$SUITE26_VERSION" ]; then
    (cd "$S26" && { [ -f package.json ] || npm init -y >/dev/null; } && npm install --no-save --no-audit --no-fund node@22 "@modelcontextprotocol/conformance@$SUITE26_VERSION" >/dev/null)
  fi
  echo "2026 leg: suite @modelcontextprotocol/conformance@$SUITE26_VERSION --requirements 2026-07-28"
  FIXTURE26="$ROOT/dist/test/fixtures/http/conformance-server-2026.js"
  [ -f "$FIXTURE26" ] || { echo "build first: npx tsc -p . (missing $FIXTURE26)" >&2; exit 2; }
  UP26_PORT=$(free_port)
  PORT=$UP26_PORT node "$FIXTURE26" >"$WORK/upstream-2026.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 150); do grep -q 'listening on port' "$WORK/upstream-2026.log" && break; sleep 0.1; done
  grep -q 'listening on port' "$WORK/upstream-2026.log" || { echo "the 2026 fixture did not come up:" >&2; cat "$WORK/upstream-2026.log" >&2; exit 1; }
  echo "== 2026 direct: http://127.0.0.1:$UP26_PORT/mcp"
  rm -rf "$WORK/checks26-direct" "$WORK/checks26-proxied"
  "$S26/node_modules/node/bin/node" "$S26/node_modules/@modelcontextprotocol/conformance/dist/index.js" server --url "http://127.0.0.1:$UP26_PORT/mcp" \
    --requirements 2026-07-28 -o "$WORK/checks26-direct" >"$WORK/direct-2026.txt" 2>&1 || true
  sed -n '/^Total:/,$p' "$WORK/direct-2026.txt"
  start_guard "http://127.0.0.1:$UP26_PORT/mcp" home-2026
  echo "== 2026 through mcp-guard: http://127.0.0.1:$SHIM_PORT/mcp/up (front on $GUARD_PORT)"
  "$S26/node_modules/node/bin/node" "$S26/node_modules/@modelcontextprotocol/conformance/dist/index.js" server --url "http://127.0.0.1:$SHIM_PORT/mcp/up" \
    --requirements 2026-07-28 -o "$WORK/checks26-proxied" >"$WORK/proxied-2026.txt" 2>&1 || true
  sed -n '/^Total:/,$p' "$WORK/proxied-2026.txt"
  node "$WORK/table.js" "$WORK/checks26-direct" "$WORK/checks26-proxied" "$WORK/direct-2026.txt" >"$WORK/table-2026.md" || STATUS=$?
  cat "$WORK/table-2026.md"
fi
exit $STATUS
