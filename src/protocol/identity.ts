// Who is calling: established by the daemon from the kernel or from a verified credential,
// never from anything the client says about itself.
export interface Identity {
  /** Stable key used for rate limits and audit, e.g. `uid:1000`, `key:ci-bot`, `oauth:sub`. */
  id: string;
  /** Human-readable name for audit and logs. */
  name: string;
  kind: 'os' | 'api_key' | 'oauth' | 'anonymous';
  roles: string[];
  uid?: number;
  gid?: number;
  pid?: number;
  /** When the credential stops being valid (ms since the epoch): an OAuth token's `exp`. */
  expiresAt?: number;
  /** The credential behind this identity (an API key's id), so live sessions can be checked against revocation. */
  credentialId?: string;
}
