// `approvals list | approve | deny`: a person's decision on calls an approval rule holds. Talks to
// the running daemon over its control socket; the daemon records the decider as the OS user the
// kernel reports for this connection, and audits every decision.
import type { Command } from 'commander';
import { MAX_APPROVAL_REASON } from '../protocol/hello.js';
import type { ApprovalView } from '../daemon/approvals.js';
import { control } from './control.js';
import { fail, runningOrExit } from './daemon.js';

const age = (s: number) => (s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`);

function render(items: ApprovalView[]): string {
  if (items.length === 0) return 'no calls are waiting for approval\n';
  let out = '';
  for (const a of items) {
    out += `${a.id}  ${a.server}/${a.tool}  by ${a.user} (${a.identity})  held ${age(a.ageS)}, expires in ${age(a.expiresInS)}\n`;
    out += `  why        ${a.rule}: ${a.reason}\n`;
    out += `  arguments  ${a.arguments}\n`;
    out += `  binding    ${a.binding}${a.round > 1 ? `  (round ${a.round} of call ${a.call})` : ''}\n`;
  }
  return out + `\napprove with \`mcp-guard approvals approve ID\`, refuse with \`mcp-guard approvals deny ID --reason "..."\`\n`;
}

export function registerApprovals(program: Command): void {
  const approvals = program.command('approvals').description('calls held for a person\'s decision by an approval rule: list, approve, deny');

  approvals
    .command('list')
    .description('held calls: id, caller, server, tool, arguments (PII and secrets redacted), age')
    .option('-s, --server <name>', 'only this server')
    .option('--json', 'machine-readable output')
    .option('-c, --config <file>', 'config file')
    .action(async (opts: { server?: string; json?: boolean; config?: string }) => {
      const place = await runningOrExit(opts.config);
      const r = await control(place.socketPath, { type: 'approvals', action: 'list' }).catch((err) => fail((err as Error).message));
      if (!r.ok) fail(r.error);
      let items = (r.approvals ?? []) as ApprovalView[];
      if (opts.server) items = items.filter((a) => a.server === opts.server);
      process.stdout.write(opts.json ? JSON.stringify(items, null, 2) + '\n' : render(items));
    });

  for (const action of ['approve', 'deny'] as const) {
    approvals
      .command(`${action} <id>`)
      .description(action === 'approve' ? 'forward the held call once' : 'refuse the held call; the client gets the reason')
      .option('-r, --reason <text>', `why (recorded in the audit log${action === 'deny' ? ' and told to the client' : ''})`)
      .option('--hash <binding>', 'decide only if the call is bound to this SHA-256 (a prefix of 8 or more digits, from `approvals list`)')
      .option('-c, --config <file>', 'config file')
      .action(async (id: string, opts: { reason?: string; hash?: string; config?: string }) => {
        if (opts.reason !== undefined && opts.reason.length > MAX_APPROVAL_REASON) fail(`--reason is longer than ${MAX_APPROVAL_REASON} characters`, 2);
        const place = await runningOrExit(opts.config);
        const r = await control(place.socketPath, { type: 'approvals', action, id, reason: opts.reason, hash: opts.hash }).catch((err) => fail((err as Error).message));
        if (!r.ok) fail(r.error);
        process.stdout.write(`${action === 'approve' ? 'approved' : 'denied'} ${id}: ${String(r.server)}/${String(r.tool)} (decided by ${String(r.by)})\n`);
      });
  }
}
