// The bench's built-in upstream: a minimal MCP server over stdio on raw newline JSON-RPC. It answers
// initialize, ping, tools/list and tools/call `echo` (returns its `text` argument as text content),
// with as little work as possible so that what the bench measures is the path, not the server.
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

const reply = (id: unknown, result: unknown) => {
  out.push('{"jsonrpc":"2.0","id":' + JSON.stringify(id) + ',"result":' + JSON.stringify(result) + '}\n');
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
  switch (m.method) {
    case 'initialize':
      return reply(m.id, {
        protocolVersion: m.params?.protocolVersion ?? '2025-06-18',
        capabilities: { tools: {} },
        serverInfo: { name: 'mcp-guard-bench-echo', version: '1.0.0' },
      });
    case 'ping':
      return reply(m.id, {});
    case 'tools/list':
      return reply(m.id, { tools });
    case 'tools/call': {
      if (m.params?.name === 'echo') return reply(m.id, { content: [{ type: 'text', text: String(m.params?.arguments?.text ?? '') }] });
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
