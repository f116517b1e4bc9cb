// `connect --server NAME`: the stdio bridge an MCP client launches instead of the upstream server.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { runBridge } from '../bridge/bridge.js';
import { loadOrExit, fail } from './daemon.js';
import { daemonOf } from './control.js';
import { locate, resolveConfigPath, authModeOf, readLeniently, type Located } from '../config/locate.js';
import type { Credentials } from '../protocol/hello.js';

export function registerConnect(program: Command): void {
  program
    .command('connect')
    .description('bridge stdio to the daemon for one server (starts the daemon if needed)')
    .requiredOption('-s, --server <name>', 'server name from the config')
    .option('-c, --config <file>', 'config file')
    .option('--key-file <file>', 'file holding an API key (api_key auth); default $MCP_GUARD_API_KEY')
    .option('--timeout <seconds>', 'how long to wait for the daemon to start', '30')
    .action(async (opts: { server: string; config?: string; keyFile?: string; timeout: string }) => {
      // Only the socket's location is read here, leniently: the daemon validates the whole config,
      // and a file broken by an edit must not stop new sessions of the daemon that runs the last good one.
      const path = resolveConfigPath(opts.config);
      if (typeof path !== 'string') {
        await loadOrExit(opts.config); // reports the precise problem and exits
        fail('cannot read the config');
      }
      const located = locate(path);
      let unavailable: string | undefined;
      if (!located.exact) {
        // The file does not say where its daemon is: connect only to one that runs this very file.
        await daemonOf(located).catch((err: Error) => (unavailable = `the config is invalid, and ${err.message}`));
      }
      const timeout = Number(opts.timeout);
      if (!Number.isFinite(timeout) || timeout <= 0) fail(`--timeout must be a positive number of seconds, not '${opts.timeout}'`, 2);
      const credentials: Credentials = {};
      // A credential that cannot be loaded is answered as an unauthenticated refusal on the client's
      // pending requests by the bridge, not by exiting before the client hears anything.
      let refuse: string | undefined;
      if (opts.keyFile) {
        try {
          credentials.apiKey = readFileSync(opts.keyFile, 'utf8').trim();
        } catch (err) {
          refuse = `cannot read --key-file ${opts.keyFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
        }
      } else if (process.env.MCP_GUARD_API_KEY) {
        credentials.apiKey = process.env.MCP_GUARD_API_KEY;
      }
      if (process.env.MCP_GUARD_TOKEN) credentials.token = process.env.MCP_GUARD_TOKEN;
      else if (authModeOf(located.path) === 'oauth') {
        // The token from `mcp-guard auth login`, refreshed when it is about to expire.
        const { currentAccessToken } = await import('../identity/oauth-login.js');
        try {
          const oauth = await oauthSettings(located);
          credentials.token = await currentAccessToken(oauth, located.home);
        } catch (err) {
          const m = (err as Error).message;
          refuse = /auth login|config/.test(m) ? m : `${m} (run \`mcp-guard auth login\`)`;
        }
      }
      const code = await runBridge({
        loaded: located,
        server: opts.server,
        credentials: Object.keys(credentials).length ? credentials : undefined,
        refuse,
        unavailable,
        timeoutMs: timeout * 1000,
      });
      process.exit(code);
    });
}

/**
 * `auth.oauth` of the config: validated with the whole file, or, while the file is broken, read
 * from its `auth` section alone (expanded and checked against the same schema).
 */
async function oauthSettings(located: Located) {
  const { loadConfig, ConfigError } = await import('../config/loader.js');
  try {
    return (await loadConfig(located.path)).config.auth.oauth!;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const { AuthSchema } = await import('../config/auth-schema.js');
    const { expandVars } = await import('../config/expand.js');
    const raw = readLeniently(located.path).data.auth?.oauth;
    const broken = new Error(`the config is invalid and its auth.oauth cannot be read on its own:\n${err.message}`);
    let ok = true;
    const expand = (v: unknown): unknown => {
      if (typeof v === 'string') {
        const x = expandVars(v);
        if (x.problems.length) ok = false;
        return x.value;
      }
      if (Array.isArray(v)) return v.map(expand);
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, expand(x)]));
      return v;
    };
    const parsed = AuthSchema.shape.oauth.unwrap().safeParse(expand(raw));
    if (!ok || !parsed.success) throw broken;
    return parsed.data;
  }
}
