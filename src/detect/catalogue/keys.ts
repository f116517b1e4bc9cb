// Keys and credentials of no single vendor: age keys (bech32), JWE, private keys beyond the PEM
// blocks of rules.ts (other PEM labels, SSH2, OpenVPN, WireGuard, PKCS#12 in base64), Kubernetes
// secrets and kubeconfig keys, Docker registry auth, HTTP Basic credentials (headers, curl, .netrc),
// connection strings, and the generic rule for a documented vendor prefix without a rule of its own.
import type { Rule } from '../rules.js';
import { B64, B64U, SECRET, re, run, token } from './shapes.js';
import { bech32Encode } from './checksums.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const bytes = (seed: number, n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (seed * 131 + i * 197 + ((i * i) % 251)) & 0xff);
const ageKey = (seed: number): string => bech32Encode('age-secret-key-', bytes(seed, 32)).toUpperCase();

/**
 * Documented prefixes of vendors without a rule of their own (or whose tail is not fully
 * documented), each followed by `_` or `-` and a random tail. New vendors go here first.
 */
export const VENDOR_PREFIXES: readonly string[] = [
  'tskey-auth', 'tskey-api', 'tskey-client', 'tskey-scim', 'tskey-webhook', // Tailscale
  'zpka', // Zuplo
  'ory_pat', 'ory_at', 'ory_rt', 'ory_ac', 'ory_st', // Ory
  'vcp', 'vci', 'vca', 'vcr', 'vck', // Vercel
  'nfc', 'nfo', 'nfu', // Netlify (other than personal tokens)
  'hcaik', 'hcxik', 'hcxlk', 'hcamk', // Honeycomb
  'polar_pat', 'polar_oat', 'polar_at', 'polar_rt', // Polar
  'jina', // Jina AI
  'napi', // Neon
  'glwt', // GitLab workspace tokens
  'rzp_live', 'rzp_test', // Razorpay
  'sk_sbox', // Checkout.com
  'secret-token:mercury_production', 'secret-token:mercury_sandbox', // Mercury
  'bkat', // Buildkite agent tokens
  'figu', 'figo', // Figma (other than personal tokens)
];

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
const PREFIXES_RE = [...VENDOR_PREFIXES].sort((a, b) => b.length - a.length).map(escape).join('|');

export const KEYS: readonly Rule[] = [
  // A bech32 string; the shape decides (a key written by hand from the format may not carry a valid
  // checksum, and one that does not is no less a key); `bech32` checks it for custom types.
  token({ id: 'age_secret_key', type: 'age_secret_key', description: 'age secret key (AGE-SECRET-KEY-1 and 58 bech32 characters)',
    parts: ['AGE-SECRET-KEY-1', run('QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L', 58)], ownMatch: true,
    match: [ageKey(7), `key: ${ageKey(11)}`], noMatch: [ageKey(7).toLowerCase(), ageKey(7).slice(0, 20) + 'B' + ageKey(7).slice(21)] }),
  token({ id: 'age_plugin_key', type: 'age_secret_key', description: 'age plugin identity (bech32-checked)',
    parts: ['AGE-PLUGIN-', run('A-Z0-9', 2, 32), '-1', run('QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L', 20, 400)], ownMatch: true,
    match: [bech32Encode('age-plugin-yubikey-', bytes(3, 24)).toUpperCase()] }),
  token({ id: 'jwe', type: 'jwt', description: 'JSON Web Encryption token (five base64url parts, header with alg and enc)',
    parts: ['eyJ', run(B64U, 10, 2000), '.', run(B64U, 0, 2000), '.', run(B64U, 10, 200), '.', run(B64U, 10, 100000), '.', run(B64U, 10, 200)], validator: 'jwe', ownMatch: true,
    gate: 'eyJ[A-Za-z0-9_-]{10}', keywords: ['eyj'],
    match: [`${Buffer.from('{"alg":"RSA-OAEP","enc":"A256GCM"}').toString('base64url')}.OKOawDo13gRp2ojaHV7LFpZcgV7T6DVZKTyKOMTYUmKoTCVJRgckCL9kiMT03JGeipsEdY3mx_etLbbWSrFr05kLzcSr4qKAq7YN7e9jwQRb23nfa6c9d-StnImGyFDbSv04uVuxIp5Zms1gNxKKK2Da14B8S4rzVRltdYwam_lDp5XnZAYpQdb76FdIKLaVmqgfwX7XWRxv2322i-vDxRfqNzo_tETKzpVLzfiwQyeyPGLBIO56YJ7eObdv0je81860ppamavo35UgoRdbYaBcoh9QcfylQr66oc6vFWXRcZ_ZT2LawVCWTIy3brGPi6UklfCpIMfIjf7iGdXKHzg.48V1_ALb6US04U3b.5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6jiSdiwkIr3ajwQzaBtQD_A.XFBoMYUZodetZdvTiFvSkQ`],
    noMatch: [`${Buffer.from('{"alg":"RS256","typ":"JWT"}').toString('base64url')}.aaaaaaaaaaaa.bbbbbbbbbbbb.cccccccccccc.dddddddddddd`] }),
  token({ id: 'private_key_other', type: 'private_key', description: 'PEM private key block of any other label (ED25519, X25519, SSH2, OpenVPN…)',
    parts: [re('-----BEGIN [A-Z0-9 _-]{1,40}PRIVATE KEY(?: BLOCK)?-----', '-----BEGIN ED25519 PRIVATE KEY-----')], gate: '-----BEGIN [A-Z0-9 _-]{1,40}PRIVATE KEY', keywords: ['-----begin'], edge: 'A-Za-z0-9', entropy: false,
    noMatch: ['-----BEGIN PUBLIC KEY-----', '-----BEGIN CERTIFICATE-----'] }),
  token({ id: 'ssh2_private_key', type: 'private_key', description: 'SSH2 (RFC 4716, Tectia) encrypted private key block', parts: ['---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----'], entropy: false, noMatch: ['---- BEGIN SSH2 PUBLIC KEY ----'] }),
  token({ id: 'openvpn_static_key', type: 'private_key', description: 'OpenVPN static key block', parts: ['-----BEGIN OpenVPN Static key V1-----'], entropy: false, noMatch: ['-----BEGIN CERTIFICATE-----'] }),
  {
    id: 'wireguard_private_key', type: 'private_key', description: 'WireGuard private key in a config (PrivateKey = base64 of 32 bytes)',
    pattern: '(?:^|[^A-Za-z])PrivateKey["\']?[ \\t]{0,4}[=:][ \\t]{0,4}["\']?([A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=)(?:$|[^A-Za-z0-9+/=])', group: 1,
    gate: 'PrivateKey', keywords: ['privatekey'], assignment: true, entropy: 3.5, actions: SECRET,
    examples: { match: [`[Interface]\nPrivateKey = ${Buffer.from(bytes(5, 32)).toString('base64')}\nAddress = 10.0.0.1/24`], noMatch: ['PrivateKey = <your key here>', `PublicKey = ${Buffer.from(bytes(9, 32)).toString('base64')}`] },
  },
  token({ id: 'pkcs12_base64', type: 'private_key', description: 'PKCS#12 (PFX) key bundle in base64',
    parts: ['MI', run('I-L', 1), run(B64, 2), run('AQgw', 1), 'IBAzCC', run(B64, 40, 100000)], gate: 'IBAzCC', keywords: ['ibazcc'], edge: 'A-Za-z0-9+/', entropy: 4 }),
  {
    id: 'kubernetes_secret_manifest', type: 'kubernetes_secret', description: 'Kubernetes Secret manifest with data (kind: Secret and a data block)',
    pattern: '(?i:kind:[ \\t]*["\']?secret["\']?)[\\s\\S]{0,400}?\\n[ \\t]*(?:data|stringData):[ \\t]*\\r?\\n(?:[ \\t]+[A-Za-z0-9_.-]+:[ \\t]*["\']?[^\\s"\']{4,}["\']?[ \\t]*\\r?\\n?)+|(?:^|\\n)[ \\t]*(?:data|stringData):[ \\t]*\\r?\\n(?:[ \\t]+[A-Za-z0-9_.-]+:[ \\t]*["\']?[^\\s"\']{4,}["\']?[ \\t]*\\r?\\n?)+[\\s\\S]{0,400}?(?i:kind:[ \\t]*["\']?secret["\']?)',
    gate: '(?i:kind:[ \\t]*[^A-Za-z]{0,3}secret)', keywords: ['kind:'], actions: SECRET,
    examples: {
      match: ['apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\ndata:\n  password: c3VwZXJzZWNyZXQxMjM=\n  username: YWRtaW4=\n', 'data:\n  token: ZXhhbXBsZS10b2tlbi12YWx1ZQ==\nkind: Secret\n'],
      noMatch: ['apiVersion: v1\nkind: ConfigMap\ndata:\n  mode: production\n', 'kind: Secret\nmetadata:\n  name: empty\n'],
    },
  },
  {
    id: 'kubeconfig_client_key', type: 'kubernetes_secret', description: 'Kubernetes client key in a kubeconfig (client-key-data)',
    pattern: 'client-key-data["\']?[ \\t]{0,4}[:=][ \\t]{0,4}["\']?([A-Za-z0-9+/]{40,}={0,2})', group: 1, gate: 'client-key-data', keywords: ['client-key-data'], assignment: true, entropy: 3.5, actions: SECRET,
    examples: { match: [`users:\n- name: admin\n  user:\n    client-key-data: ${b64('-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun')}`], noMatch: ['client-key-data: ""', `client-certificate-data: ${b64('-----BEGIN CERTIFICATE-----\nMIIDBTCCAe2gAwIBAgIIabcdefabcdefabcdefabcdef')}`] },
  },
  {
    id: 'docker_registry_auth', type: 'docker_registry_auth', description: 'Docker config registry auth (base64 of user:password)',
    pattern: '(?:^|[^A-Za-z0-9_])auth["\']?[ \\t]{0,4}[:=][ \\t]{0,4}["\']?([A-Za-z0-9+/]{8,}={0,2})(?:$|[^A-Za-z0-9+/=])', group: 1, gate: 'auth(?:\\\\?["\'])?[ \\t]{0,4}[:=]', keywords: ['auth'],
    assignment: true, validator: 'basic_credentials', actions: SECRET,
    examples: { match: [`{"auths":{"registry.example.com":{"auth":"${b64('deploy:Xk8pL2qZ9mW4')}"}}}`], noMatch: [`{"auth":"${b64('deploy:password')}"}`, `auth: ${b64('no colon here at all')}`, 'auth: bearer'] },
  },
  {
    id: 'basic_auth_header', type: 'basic_auth', description: 'HTTP Basic credentials (Basic and base64 of user:password)',
    pattern: '(?:^|[^A-Za-z0-9])Basic[ \\t]+([A-Za-z0-9+/]{6,}={0,2})(?:$|[^A-Za-z0-9+/=])', group: 1, gate: '(?i:basic)[ \\t]+[A-Za-z0-9+/]{6}', keywords: ['basic'], flags: 'i',
    validator: 'basic_credentials', actions: SECRET,
    examples: { match: [`Authorization: Basic ${b64('svc-backup:Tr0ub4dor&3x')}`, `curl -H "Authorization: basic ${b64('ci:Zq8vX2mKp4')}"`], noMatch: ['Basic Authentication is supported', `Authorization: Basic ${b64('user:password')}`, 'Basic realm="api"'] },
  },
  {
    id: 'curl_user_credentials', type: 'basic_auth', description: 'curl -u / --user with user:password',
    pattern: '\\bcurl\\b[^\\n]{0,300}?[ \\t](?:-u|--user)(?:=|[ \\t]{1,4})["\']?[^\\s"\':]{1,64}:([^\\s"\']{3,128})', group: 1, gate: 'curl', keywords: ['curl'],
    validator: 'url_password', actions: SECRET,
    examples: { match: ['curl -s -u deploy:h7Kq2mZ9xLp https://api.example.com/v1', 'curl --user "ci-bot:Zq8vX2mKp4" -X POST https://x.example'], noMatch: ['curl -u "$USER:$PASS" https://x', 'curl -u user:password https://x', 'curl https://example.com -o out'] },
  },
  {
    id: 'netrc_password', type: 'password', description: '.netrc entry with a password',
    pattern: '\\bmachine[ \\t\\r\\n]+[^\\s]+[ \\t\\r\\n]+login[ \\t\\r\\n]+[^\\s]+[ \\t\\r\\n]+password[ \\t\\r\\n]+([^\\s]{3,128})', group: 1, gate: 'machine', keywords: ['machine'],
    validator: 'url_password', actions: SECRET,
    examples: { match: ['machine api.example.com login deploy password h7Kq2mZ9xLp', 'machine github.com\n  login octo\n  password Zq8vX2mKp4'], noMatch: ['machine api.example.com login deploy password password', 'a machine learning password course'] },
  },
  {
    id: 'connection_string_password', type: 'connection_string', description: 'ADO.NET / ODBC connection string with a password',
    // One unbounded run (no nested counts): a DFA-friendly pattern for the code where password= is common.
    pattern: '(?i:(?:server|data source|host|address|addr)[ \\t]*=[^"\'\\n]*?;[ \\t]*(?:password|pwd)[ \\t]*=)[ \\t]*([^;"\'\\s]{3,128})',
    group: 1, gate: '(?i:password|pwd)[ \\t]*=', keywords: ['password', 'pwd'], validator: 'url_password', actions: SECRET,
    examples: { match: ['Server=tcp:db.example.net,1433;Database=app;User ID=sqladmin;Password=Hq7#kPz2;Encrypt=True;', 'Driver={ODBC Driver 18};Server=db;UID=sa;PWD=x9Lm2Qv!'], noMatch: ['Server=db;Database=app;Trusted_Connection=True;', 'Server=db;User ID=sa;Password=password;'] },
  },
  {
    id: 'jdbc_password', type: 'database_url', description: 'JDBC URL with a password parameter',
    pattern: 'jdbc:[a-z0-9]+:[^\\s"\'<>]{0,300}?[;?&](?i:password)=([^;&\\s"\'<>]{3,128})', group: 1, gate: 'jdbc:[a-z0-9]+:', keywords: ['jdbc:'], validator: 'url_password', actions: SECRET,
    examples: { match: ['jdbc:postgresql://db:5432/app?user=app&password=s3cr3tPa55', 'jdbc:sqlserver://db:1433;databaseName=app;user=sa;password=Zq8vX2mKp4;'], noMatch: ['jdbc:postgresql://db:5432/app?user=app', 'jdbc:mysql://db/app?password=${DB_PASSWORD}'] },
  },
  {
    id: 'service_url_credentials', type: 'url_credentials', description: 'Service URL (LDAP, SMTP, IMAP, Kafka, NATS, MQTT, WebSocket, S3…) with user:password',
    pattern: '(?:^|[^A-Za-z0-9])(?:ldaps?|smtps?|imaps?|pop3s?|nats|kafka|mqtts?|wss?|s3|snowflake|oracle|db2|cassandra|memcached|elasticsearch|influxdb|rtsp|svn\\+ssh|telnet|vnc|rdp|webdav|dav|sqs|stomp|xmpp|sip|socks5h?)://[^:/@ "\'<>]{1,128}:([^@/ "\'<>]{3,256})@[A-Za-z0-9.-]+',
    group: 1, gate: '(?:ldap|smtp|imap|pop3|nats|kafka|mqtt|ws|s3|snowflake|oracle|db2|cassandra|memcached|elasticsearch|influxdb|rtsp|ssh|telnet|vnc|rdp|dav|sqs|stomp|xmpp|sip|socks5)[a-z+]*://[^/@ "\'<>]{1,400}@', keywords: ['://'],
    validator: 'url_password', actions: SECRET,
    examples: { match: ['ldaps://cn=admin:Hq7kPz2x@ldap.example.net:636', 'smtp://mailer:Zq8vX2mKp4@smtp.example.com:587'], noMatch: ['ldap://ldap.example.net:389', 'smtp://user:password@smtp.example.com'] },
  },
  {
    id: 'database_url_password_only', type: 'database_url', description: 'Database URL with a password and no user name (redis://:password@host)',
    pattern: '(?:^|[^A-Za-z0-9])(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\\+srv)?|rediss?|valkey|amqps?|mssql|sqlserver|clickhouse|cockroachdb|couchdb|neo4j(?:\\+s)?)://:([^@/ "\'<>]{3,256})@[A-Za-z0-9.-]+',
    group: 1, gate: '://:[^/@ "\'<>]{1,400}@', keywords: ['://:'], validator: 'url_password', actions: SECRET,
    examples: { match: ['redis://:hunter2secret@cache.internal:6379/0', 'rediss://:Zq8vX2mKp4@redis.example.net:6380'], noMatch: ['redis://cache.internal:6379', 'redis://:password@cache:6379'] },
  },
  token({ id: 'generic_prefixed_token', type: 'prefixed_token', description: 'Token with a documented vendor prefix, _ or -, and a random tail (vendors without a rule of their own)',
    parts: [re(`(?:${PREFIXES_RE})[_-]`, 'tskey-auth-'), run('A-Za-z0-9_-', 16, 512)], validator: 'prefixed_token_tail', entropy: 3.5, edge: 'A-Za-z0-9', ownMatch: true,
    gate: `(?:${PREFIXES_RE})[_-][A-Za-z0-9_-]{8}`, keywords: VENDOR_PREFIXES.map((p) => p.toLowerCase()),
    match: ['zpka_' + 'd8Fq2LmX9vTz4Rk7Wn3Pb6Yc1Hs5Ja0G', 'ory_pat_' + 'Qk3vT9xLm2Ry7bWc4NpZ8sHd1FgJ6aKe'],
    noMatch: ['tskey-auth-' + 'old_value_from_docs', 'zpka_' + 'this_is_not_a_real_key', 'vcp_' + 'xxxxxxxxxxxxxxxxxxxxxxxx', 'unknownvendor_' + 'd8Fq2LmX9vTz4Rk7Wn3Pb6Yc1Hs5Ja0G'] }),
];
