// Who is calling the HTTP front: a bearer credential turned into an identity by auth mode, the
// WWW-Authenticate challenge on a refusal, and the RFC 9728 metadata that leads OAuth clients to
// the issuer. Nothing here tells one server name from another before the caller is authenticated.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config/schema.js';
import { OsAuthenticator } from '../identity/os.js';
import { BadTransport, NotAuthenticated, SessionNotFound } from '../protocol/errors.js';
import type { Credentials } from '../protocol/hello.js';
import type { Identity } from '../protocol/identity.js';
import type { Logger } from '../protocol/log.js';
import { bearerOf, sameSecret } from './token.js';

/** Turns a bearer credential into an identity; throws (message for the client) when it is not valid. */
export type FrontAuthenticator = (req: { credentials: Credentials; server: string; remoteAddress?: string }) => Promise<Identity>;

/**
 * The default authenticator for the front. In `os` mode a TCP peer cannot be identified by the
 * kernel, so the caller proves it is the daemon's user by presenting the dashboard token (0600,
 * readable by that user only). In `api_key` and `oauth` modes the identity module decides.
 */
export function frontAuthenticator(opts: {
  config: () => Config;
  dashboardToken: string;
  identity?: (req: { credentials: Credentials; server: string }) => Promise<Identity>;
}): FrontAuthenticator {
  return async ({ credentials, server }) => {
    const auth = opts.config().auth;
    const presented = credentials.apiKey ?? credentials.token;
    if (auth.mode === 'os') {
      if (!sameSecret(presented, opts.dashboardToken)) throw new Error('invalid token (in auth mode os the HTTP front takes the dashboard token)');
      // The token proves the caller is the daemon's own user: it gets exactly the roles the bridge
      // would give that user (users by name or uid, and groups), never fewer.
      const uid = process.getuid?.() ?? -1;
      const gid = process.getgid?.() ?? -1;
      return new OsAuthenticator(auth, uid).identify({ uid, gid });
    }
    if (!opts.identity) throw new Error(`auth mode '${auth.mode}' is not available in this build`);
    return opts.identity({ credentials, server });
  };
}

/** Credentials for the identity module from a bearer value, by auth mode. */
export function credentialsFor(mode: Config['auth']['mode'], bearer: string): Credentials {
  return mode === 'oauth' ? { token: bearer } : { apiKey: bearer };
}

export class FrontAuth {
  constructor(
    private readonly opts: {
      config: () => Config;
      authenticate: FrontAuthenticator;
      log: Logger;
      /** The front's own base URL as the caller reached it. */
      baseUrl: (req: IncomingMessage) => string;
    },
  ) {}

  /** The caller's identity; a session's own token is not verified again on each of its requests. */
  async identify(req: IncomingMessage, server: string, existing?: { identity: Identity; tokenHash: string }): Promise<{ identity: Identity; tokenHash: string }> {
    const bearer = bearerOf(req.headers.authorization);
    if (!bearer) throw new NotAuthenticated('authentication required: send Authorization: Bearer <token>', { headers: this.challenge(req, server) });
    const tokenHash = createHash('sha256').update(bearer).digest('hex');
    // The token that opened a session is not re-verified on every request of that session.
    if (existing && existing.tokenHash === tokenHash) return { identity: existing.identity, tokenHash };
    const mode = this.opts.config().auth.mode;
    let identity: Identity;
    try {
      identity = await this.opts.authenticate({ credentials: credentialsFor(mode, bearer), server, remoteAddress: req.socket.remoteAddress });
    } catch (err) {
      const e = err as { status?: number; message: string };
      if (e.status === 403) throw new NotAuthenticated(`not authorised for server '${server}': ${e.message}`, { forbidden: true });
      this.opts.log.warn('http front: authentication failed', { server, remote: req.socket.remoteAddress, reason: e.message });
      throw new NotAuthenticated(`authentication failed: ${e.message}`, { headers: this.challenge(req, server, 'invalid_token') });
    }
    if (existing && existing.identity.id !== identity.id) throw new SessionNotFound();
    return { identity, tokenHash };
  }

  private challenge(req: IncomingMessage, server: string, error?: string): Record<string, string> {
    const cfg = this.opts.config();
    const parts = ['Bearer realm="mcp-guard"'];
    if (error) parts.push(`error="${error}"`);
    if (cfg.auth.mode === 'oauth') {
      parts.push(`resource_metadata="${this.opts.baseUrl(req)}/.well-known/oauth-protected-resource/mcp/${encodeURIComponent(server)}"`);
      if (cfg.auth.oauth?.scopes.length) parts.push(`scope="${cfg.auth.oauth.scopes.join(' ')}"`);
    }
    return { 'WWW-Authenticate': parts.join(', ') };
  }

  /** RFC 9728 protected-resource metadata, published when OAuth is on. */
  resourceMetadata(req: IncomingMessage, res: ServerResponse, suffix: string): void {
    const cfg = this.opts.config();
    if (cfg.auth.mode !== 'oauth' || !cfg.auth.oauth) throw new BadTransport(404, 'OAuth is not enabled on this mcp-guard');
    if (req.method !== 'GET') throw new BadTransport(405, 'use GET', { Allow: 'GET' });
    const m = /^\/mcp\/([^/]+)\/?$/.exec(suffix);
    // The same answer for every server name: metadata is public, and must not tell which servers exist.
    if (suffix && suffix !== '/' && !m) throw new BadTransport(404, 'no such resource');
    const base = this.opts.baseUrl(req);
    const body = {
      resource: m ? `${base}/mcp/${m[1]}` : base,
      authorization_servers: [cfg.auth.oauth.issuer],
      scopes_supported: cfg.auth.oauth.scopes,
      bearer_methods_supported: ['header'],
      resource_name: 'mcp-guard',
    };
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'max-age=300' });
    res.end(JSON.stringify(body));
  }
}
