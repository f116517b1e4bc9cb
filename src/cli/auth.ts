// `auth login | status | logout`: the OAuth login of auth.mode oauth; tokens live in <home>/tokens.json.
import { spawn } from 'node:child_process';
import { Option, type Command } from 'commander';
import type { AuthConfig } from '../config/auth-schema.js';
import { decodeJwt } from 'jose';
import { currentAccessToken, deleteTokens, login, readTokens, tokensPath } from '../identity/oauth-login.js';

/** May be async (the config loader can fetch an `extends` base). */
type Resolve = (opts: { config?: string }) => { home: string; auth: AuthConfig } | Promise<{ home: string; auth: AuthConfig }>;

const configOpt = () => new Option('-c, --config <file>', 'config file (auth.oauth and daemon.home)');

function oauthOf(auth: AuthConfig) {
  if (!auth.oauth) throw new Error('the config has no auth.oauth section (issuer, client_id, audience)');
  return auth.oauth;
}

/** Best effort: a browser may not exist (ssh, CI); the URL is always printed too. */
function openBrowser(url: string): void {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(cmd, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {
    // the printed URL is the fallback
  }
}

export function registerAuth(program: Command, resolve: Resolve): void {
  const auth = program.command('auth').description('log in to the OAuth issuer (auth.mode: oauth)');

  auth
    .command('login')
    .description('authorization code flow with PKCE in the browser; stores tokens 0600 in the daemon home')
    .option('--no-browser', 'only print the URL to open')
    .option('--timeout <seconds>', 'how long to wait for the browser', '300')
    .addOption(configOpt())
    .action(async (opts: { browser: boolean; timeout: string; config?: string }) => {
      const { home, auth: cfg } = await resolve(opts);
      const stored = await login({
        cfg: oauthOf(cfg),
        home,
        timeoutMs: Number(opts.timeout) * 1000,
        onAuthorizationUrl: (url) => {
          process.stderr.write(`Open this URL to log in:\n\n  ${url.href}\n\n`);
          if (opts.browser) openBrowser(url.href);
        },
      });
      process.stdout.write(`logged in to ${stored.issuer}${stored.expires_at ? `; access token valid until ${new Date(stored.expires_at).toISOString()}` : ''}\n`);
    });

  auth
    .command('status')
    .description('show the stored login (never the tokens); refreshes the access token if it is about to expire')
    .addOption(configOpt())
    .action(async (opts: { config?: string }) => {
      const { home, auth: cfg } = await resolve(opts);
      const oauth = oauthOf(cfg);
      if (!readTokens(home)) {
        process.stdout.write(`not logged in (no ${tokensPath(home)}); run \`mcp-guard auth login\`\n`);
        process.exitCode = 1;
        return;
      }
      try {
        const token = await currentAccessToken(oauth, home);
        const t = readTokens(home)!;
        let subject = '';
        try {
          const c = decodeJwt(token);
          subject = ` as ${String(c.sub)}${c[oauth.role_claim] !== undefined ? ` (${oauth.role_claim}: ${JSON.stringify(c[oauth.role_claim])})` : ''}`;
        } catch {
          // opaque token: the daemon will refuse it, say so below
          subject = ' (the access token is not a JWT; the daemon will refuse it)';
        }
        process.stdout.write(`logged in to ${t.issuer}${subject}\n`);
        process.stdout.write(`access token expires ${t.expires_at ? new Date(t.expires_at).toISOString() : 'never (no expires_in)'}; refresh token ${t.refresh_token ? 'present' : 'absent'}\n`);
      } catch (err) {
        process.stdout.write(`${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });

  auth
    .command('logout')
    .description('delete the stored tokens')
    .addOption(configOpt())
    .action(async (opts: { config?: string }) => {
      const { home } = await resolve(opts);
      process.stdout.write(deleteTokens(home) ? 'logged out\n' : 'not logged in\n');
    });
}
