// SEP-1699 probe (what the suite's `server-sse-polling` scenario cannot show: it sends
// MCP-Protocol-Version 2025-03-26, so an SDK server never primes or closes the stream). Negotiates
// 2025-11-25, calls `test_reconnection` (the fixture closes the POST SSE stream mid-call), and
// resumes with GET + Last-Event-ID if the result did not come on the POST stream.
//   node test/conformance/sep1699-probe.mjs <url> [bearer-token]  → prints one JSON line
const [url, token] = process.argv.slice(2);
const base = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) };
const PV = '2025-11-25';

async function* sse(res, ms) {
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const timer = setTimeout(() => reader.cancel().catch(() => {}), ms);
  let buf = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      let i;
      while ((i = buf.indexOf('\n\n')) !== -1) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const ev = { id: undefined, data: '', retry: undefined };
        for (const line of block.split('\n')) {
          if (line.startsWith('id:')) ev.id = line.slice(3).trim();
          else if (line.startsWith('data:')) ev.data += line.slice(5).trimStart();
          else if (line.startsWith('retry:')) ev.retry = Number(line.slice(6));
        }
        yield ev;
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

const out = { url, postStatus: 0, primingEvent: false, retry: undefined, resultOnPost: false, streamClosedBeforeResult: false, resumeStatus: undefined, resultAfterResume: false, ms: 0 };
const t0 = Date.now();
try {
  const init = await fetch(url, { method: 'POST', headers: base, body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: PV, capabilities: {}, clientInfo: { name: 'sep1699-probe', version: '1' } } }) });
  const sid = init.headers.get('mcp-session-id');
  await init.text();
  const h = { ...base, 'mcp-session-id': sid, 'mcp-protocol-version': PV };
  await (await fetch(url, { method: 'POST', headers: h, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })).text();
  const res = await fetch(url, { method: 'POST', headers: h, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'test_reconnection', arguments: {} } }) });
  out.postStatus = res.status;
  let lastId;
  if ((res.headers.get('content-type') ?? '').includes('text/event-stream')) {
    for await (const ev of sse(res, 10_000)) {
      if (ev.id) lastId = ev.id;
      if (ev.retry !== undefined) out.retry = ev.retry;
      if (ev.id && ev.data === '') out.primingEvent = true;
      if (ev.data && JSON.parse(ev.data).id === 1) out.resultOnPost = true;
    }
  } else {
    out.resultOnPost = (await res.json()).id === 1;
  }
  if (!out.resultOnPost) {
    out.streamClosedBeforeResult = true;
    if (lastId) {
      const get = await fetch(url, { method: 'GET', headers: { ...h, accept: 'text/event-stream', 'last-event-id': lastId } });
      out.resumeStatus = get.status;
      if (get.ok) for await (const ev of sse(get, 5_000)) if (ev.data && JSON.parse(ev.data).id === 1) { out.resultAfterResume = true; break; }
    }
  }
  await fetch(url, { method: 'DELETE', headers: h }).catch(() => {});
} catch (err) {
  out.error = String(err);
}
out.ms = Date.now() - t0;
out.delivered = out.resultOnPost || out.resultAfterResume;
console.log(JSON.stringify(out));
