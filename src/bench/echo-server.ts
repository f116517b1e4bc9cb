// The bench's built-in upstream: a minimal MCP server over stdio on raw newline JSON-RPC, in both
// protocol eras. It answers initialize, server/discover, ping, tools/list and tools/call `echo`
// (returns its `text` argument as text content; a 2026 request gets `resultType` as that era
// requires), with as little work as possible so that what the bench measures is the path.
const tools = [{ name: 'echo', description: 'returns its text argument', inputSchema: { type: 'object', properties: { text: { type: 'string' } } } }];

let carry = '';
let out: string[] = [];
let scheduled = false;

const flush = () => {
  scheduled = false;
  if (out.length === 0) return;
  const s = out.join('');
  out = [];
  process.stdout.write(s);
};

const reply = (id: unknown, result: Record<string, unknown>, modern = false) => {
  out.push('{"jsonrpc":"2.0","id":' + JSON.stringify(id) + ',"result":' + JSON.stringify(modern ? { resultType: 'complete', ...result } : result) + '}\n');
};

function onLine(line: string): void {
  if (line.length === 0) return;
  let m: any;
  try {
    m = JSON.parse(line);
  } catch {
    return;
  }
  if (m.id === undefined || m.id === null || typeof m.method !== 'string') return; // notifications, responses
  const modern = m.params?._meta?.['io.modelcontextprotocol/protocolVersion'] !== undefined;
  switch (m.method) {
    case 'server/discover':
      return reply(m.id, { supportedVersions: ['2026-07-28'], capabilities: { tools: {} }, _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'mcp-guard-bench-echo', version: '1.0.0' } } }, true);
    case 'initialize':
      return reply(m.id, {
        protocolVersion: m.params?.protocolVersion ?? '2025-06-18',
        capabilities: { tools: {} },
        serverInfo: { name: 'mcp-guard-bench-echo', version: '1.0.0' },
      });
    case 'ping':
      return reply(m.id, {});
    case 'tools/list':
      return reply(m.id, { tools }, modern);
    case 'tools/call': {
      if (m.params?.name === 'echo') return reply(m.id, { content: [{ type: 'text', text: String(m.params?.arguments?.text ?? '') }] }, modern);
      out.push('{"jsonrpc":"2.0","id":' + JSON.stringify(m.id) + ',"error":{"code":-32602,"message":"unknown tool"}}\n');
      return;
    }
    default:
      out.push('{"jsonrpc":"2.0","id":' + JSON.stringify(m.id) + ',"error":{"code":-32601,"message":"method not found"}}\n');
  }
}

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  let start = 0;
  let nl: number;
  const s = carry.length ? carry + chunk : chunk;
  carry = '';
  while ((nl = s.indexOf('\n', start)) !== -1) {
    onLine(s.slice(start, nl));
    start = nl + 1;
  }
  if (start < s.length) carry = s.slice(start);
  // Answer everything that arrived in this read with one write.
  if (!scheduled) {
    scheduled = true;
    flush();
  }
});
process.stdin.on('end', () => process.exit(0));
