// The floor: a bare byte relay over the same path as the real proxy (client → relay bridge process
// → Unix socket → relay daemon process → upstream's stdio), parsing nothing. No proxy that keeps
// this process layout can be faster than this.
//   node relay.js daemon SOCKET -- COMMAND ARGS...   spawn COMMAND per connection and pipe bytes
//   node relay.js bridge SOCKET                       pipe stdin/stdout to SOCKET
import { spawn } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { unlinkSync } from 'node:fs';
import { hop } from '../protocol/hops.js';

const TRACING = !!process.env.MCP_GUARD_HOPS_DIR;

const [mode, socketPath, ...rest] = process.argv.slice(2);
if (!socketPath || (mode !== 'daemon' && mode !== 'bridge')) {
  process.stderr.write('usage: relay.js daemon SOCKET -- COMMAND ARGS... | relay.js bridge SOCKET\n');
  process.exit(2);
}

if (mode === 'daemon') {
  const sep = rest.indexOf('--');
  const [command, ...args] = sep >= 0 ? rest.slice(sep + 1) : rest;
  if (!command) process.exit(2);
  try {
    unlinkSync(socketPath);
  } catch {
    /* none */
  }
  const server = createServer((sock) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    // Hop notes (bench/hops.ts) only when asked for: the floor stays a bare pipe otherwise.
    if (TRACING) {
      sock.on('data', () => hop('daemon-from-client'));
      child.stdout!.on('data', () => hop('daemon-from-upstream'));
    }
    sock.pipe(child.stdin!);
    child.stdout!.pipe(sock);
    if (TRACING) {
      // pipe() writes inside its own 'data' listener, registered before these: they run after the write.
      sock.on('data', () => hop('daemon-to-upstream'));
      child.stdout!.on('data', () => hop('daemon-to-client'));
    }
    sock.on('error', () => child.kill());
    sock.on('close', () => child.kill());
    child.on('exit', () => sock.destroy());
  });
  server.listen(socketPath, () => process.stdout.write('ready\n'));
  const stop = () => {
    server.close();
    try {
      unlinkSync(socketPath);
    } catch {
      /* gone */
    }
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  const sock = createConnection(socketPath);
  sock.on('connect', () => {
    if (TRACING) {
      process.stdin.on('data', () => hop('bridge-from-client'));
      sock.on('data', () => hop('bridge-from-daemon'));
    }
    process.stdin.pipe(sock);
    sock.pipe(process.stdout);
  });
  sock.on('error', (err) => {
    process.stderr.write(`relay bridge: ${err.message}\n`);
    process.exit(1);
  });
  sock.on('close', () => process.exit(0));
}
