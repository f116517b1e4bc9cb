// Fresh values of the vendor formats of the catalogue, for the generated variants (generated.ts):
// written from each vendor's public format in a small template language, not from the detector's
// patterns, with the checksums computed here (node's zlib CRC32, a bech32 of our own), so that a
// pattern written wrong, too narrow or with a broken validator shows up as a missed attack.
// `{an:36}` is 36 letters and digits (mixed, as real tokens are), `{hex:64}` lower-case hex,
// `{uuid}` a UUID; a value a vendor names in a key is written as the key and the value.
import { crc32 } from 'node:zlib';

export interface Draw {
  int(lo: number, hi: number): number;
  pick<T>(xs: readonly T[]): T;
  str(alphabet: string, n: number): string;
  token(n: number, alphabet?: string): string;
}

const UP = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LO = 'abcdefghijklmnopqrstuvwxyz';
const DG = '0123456789';
export const ALPHABETS: Readonly<Record<string, string>> = {
  an: UP + LO + DG,
  hex: DG + 'abcdef',
  HEX: DG + 'ABCDEF',
  ld: LO + DG,
  ud: UP + DG,
  up: UP,
  lo: LO,
  alpha: UP + LO,
  digits: DG,
  b64: UP + LO + DG + '+/',
  b64u: UP + LO + DG + '-_',
  b32: LO + '234567',
  ah: 'abcdefgh' + DG,
  pw: UP + LO + DG + '!#%&*+._~^-',
  bech: 'qpzry9x8gf2tvdw0s3jn54khce6mua7l',
};

/** Expands `{name:n}`, `{name:n-m}`, `{uuid}`, `{UUID}` and `{set:ABC}` (one of the characters). */
export function expand(g: Draw, template: string): string {
  return template.replace(/\{(\w+)(?::([^}]+))?\}/g, (_, name: string, arg: string | undefined) => {
    if (name === 'uuid' || name === 'UUID') {
      const h = ALPHABETS[name === 'uuid' ? 'hex' : 'HEX']!;
      return [8, 4, 4, 4, 12].map((n) => g.str(h, n)).join('-');
    }
    if (name === 'set') return g.pick([...arg!]);
    const alphabet = ALPHABETS[name];
    if (!alphabet) throw new Error(`unknown alphabet ${name}`);
    const [lo, hi] = arg!.split('-').map(Number) as [number, number | undefined];
    const n = hi === undefined ? lo : g.int(lo, hi);
    // Letters-and-digits alphabets: one of each class, as issued tokens have.
    return (name === 'an' || name === 'b64' || name === 'b64u') && n >= 8 ? g.token(n, alphabet) : g.str(alphabet, n);
  });
}

const BASE62 = DG + UP + LO;
function base62(n: number, width: number): string {
  let s = '';
  for (; n > 0; n = Math.floor(n / 62)) s = BASE62[n % 62] + s;
  return s.padStart(width, '0');
}
/** GitHub's and npm's format: 30 random base62 characters, then their CRC32 in base62 (6). */
export const githubStyle = (g: Draw, prefix: string): string => {
  const random = g.str(BASE62, 30);
  return `${prefix}_${random}${base62(crc32(random), 6)}`;
};
/** Grafana service account: glsa_ + 32, _, the CRC32 of what precedes in hex, little-endian. */
export function grafanaServiceAccount(g: Draw): string {
  const head = `glsa_${g.token(32)}`;
  const b = Buffer.alloc(4);
  b.writeUInt32LE(crc32(head));
  return `${head}_${b.toString('hex')}`;
}
/** Atlassian: the token ends in the hex CRC32 of everything before it. */
export const atlassianStyle = (head: string): string => head + crc32(head).toString(16).toUpperCase().padStart(8, '0');

// Bech32 (BIP 173), for age keys.
const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
function polymod(vs: number[]): number {
  let c = 1;
  for (const v of vs) {
    const b = c >>> 25;
    c = (((c & 0x1ffffff) << 5) ^ v) >>> 0;
    GEN.forEach((gen, i) => {
      if ((b >> i) & 1) c = (c ^ gen) >>> 0;
    });
  }
  return c;
}
export function bech32(hrp: string, bytes: number[]): string {
  const five: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const x of bytes) {
    acc = ((acc << 8) | x) & 0xfffff;
    bits += 8;
    while (bits >= 5) five.push((acc >> (bits -= 5)) & 31);
  }
  if (bits) five.push((acc << (5 - bits)) & 31);
  const hx = [...hrp].map((c) => c.charCodeAt(0) >> 5).concat(0, [...hrp].map((c) => c.charCodeAt(0) & 31));
  const pm = polymod([...hx, ...five, 0, 0, 0, 0, 0, 0]) ^ 1;
  const check = [0, 1, 2, 3, 4, 5].map((i) => (pm >> (5 * (5 - i))) & 31);
  return hrp + '1' + [...five, ...check].map((v) => ALPHABETS.bech![v]).join('');
}

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');
const b64json = (o: unknown): string => b64(JSON.stringify(o));

export interface VendorFormat {
  type: string;
  /** The README family of the type. */
  family: string;
  format: string;
  make: (g: Draw) => string;
  /** For a value its vendor names in a key: the secret part alone (looked for where it must not arrive). */
  core?: (value: string) => string;
}

/** The value of `NAME=value` or `Name: value`. */
const afterKey = (v: string): string => v.slice(v.search(/[=:]/) + 1).trimStart();

/** Catalogue formats: [type, family, format, template or maker]. */
function formats(): VendorFormat[] {
  const out: VendorFormat[] = [];
  const fam = (family: string, list: [string, string, string | ((g: Draw) => string)][]) => {
    for (const [type, format, t] of list) {
      const keyedValue = typeof t === 'string' && /^(?:[A-Z][A-Z0-9_]*=|X-RapidAPI-Key: )/.test(t);
      out.push({ type, family, format, make: typeof t === 'string' ? (g) => expand(g, t) : t, ...(keyedValue ? { core: afterKey } : {}) });
    }
  };
  fam('source hosting', [
    ['github_token', 'github-legacy-named', 'GITHUB_TOKEN={hex:40}'],
    ['gitlab_token', 'gitlab-agent', 'glagent-{b64u:50}'],
    ['gitlab_token', 'gitlab-routable-pat', 'glpat-{b64u:27-60}.01{ld:7}'],
    ['gitlab_token', 'gitlab-session', '_gitlab_session={ld:32}'],
    ['atlassian_token', 'atlassian-api-token', (g) => atlassianStyle(`ATATT3${g.token(178, ALPHABETS.b64u + '=')}`)],
    ['atlassian_token', 'bitbucket-app-password', (g) => atlassianStyle(`ATBB${g.token(28)}`)],
    ['atlassian_token', 'bitbucket-dc-token', (g) => `BBDC-${b64(Buffer.concat([Buffer.from(`${g.int(100000000000, 999999999999)}:`), Buffer.from(g.str(ALPHABETS.an, 20))]))}`],
    ['azure_devops_pat', 'azure-devops-pat', '{an:52}JQQJ99{an:1}{set:ABCDEFGHIJKL}{an:12}AAAAAZDO{an:4}'],
    ['azure_devops_pat', 'azure-devops-legacy-named', 'AZURE_DEVOPS_PAT={b32:52}'],
    ['sourcegraph_token', 'sourcegraph', 'sgp_{hex:16}_{hex:40}'],
    ['gitea_token', 'gitea-named', 'GITEA_TOKEN={hex:40}'],
    ['gitter_token', 'gitter-named', 'GITTER_TOKEN={b64u:40}'],
  ]);
  fam('cloud and hosting', [
    ['aws_bedrock_key', 'aws-bedrock', (g) => `ABSK${b64(`BedrockAPIKey-${g.str(LO + DG, 4)}-at-${g.str(DG, 12)}:${g.token(60)}`)}`],
    ['aws_mws_token', 'aws-mws', 'amzn.mws.{uuid}'],
    ['google_oauth', 'google-refresh-token', '1//0{b64u:100}'],
    ['firebase_key', 'firebase-fcm', 'AAAA{b64u:7}:APA91b{b64u:134}'],
    ['azure_storage_key', 'azure-storage-identifiable', '{b64:76}+ASt{b64:5}{set:AQgw}=='],
    ['azure_cosmos_key', 'azure-cosmos', '{b64:76}ACDb{b64:5}{set:AQgw}=='],
    ['azure_batch_key', 'azure-batch', '{b64:76}+ABa{b64:5}{set:AQgw}=='],
    ['azure_ml_key', 'azure-ml', '{b64:76}+AMC{b64:5}{set:AQgw}=='],
    ['azure_apim_key', 'azure-apim', '{b64:76}APIM{b64:5}{set:AQgw}=='],
    ['azure_relay_key', 'azure-relay', '{b64:33}+ARm{set:ABCDEFGHIJKLMNOP}{b64:5}='],
    ['azure_event_hub_key', 'azure-event-hub', '{b64:33}+AEh{set:ABCDEFGHIJKLMNOP}{b64:5}='],
    ['azure_service_bus_key', 'azure-service-bus', '{b64:33}+ASb{set:ABCDEFGHIJKLMNOP}{b64:5}='],
    ['azure_iot_key', 'azure-iot', '{b64:33}AIoT{set:ABCDEFGHIJKLMNOP}{b64:5}='],
    ['azure_redis_key', 'azure-redis', '{b64:33}AzCa{set:ABCDEFGHIJKLMNOP}{b64:5}='],
    ['azure_event_grid_key', 'azure-event-grid', '{b64:33}AZEG{set:ABCDEFGHIJKLMNOP}{b64:5}='],
    ['azure_function_key', 'azure-function', '{b64u:44}AzFu{b64u:5}{set:AQgw}=='],
    ['azure_search_key', 'azure-search', '{an:42}AzSe{set:ABCD}{an:5}'],
    ['azure_container_registry_key', 'azure-acr', '{b64:42}+ACR{set:ABCD}{b64:5}'],
    ['azure_cask_key', 'azure-cask', '{an:52}JQQJ9{set:9DH}{an:1}{set:ABCDEFGHIJKL}{an:16}{alpha:1}{an:7}'],
    ['azure_app_config_key', 'azure-app-config', 'Endpoint=https://{lo:8}.azconfig.io;Id={an:4}-{an:2}-{an:2}:{an:20};Secret={b64:43}='],
    ['azure_service_bus_key', 'azure-sb-connection', 'Endpoint=sb://{lo:8}.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={b64:43}='],
    ['azure_openai_key', 'azure-openai-named', 'AZURE_OPENAI_API_KEY={hex:32}'],
    ['azure_client_secret', 'azure-entra-secret', '{an:3}8Q~{b64u:34}'],
    ['alibaba_key', 'alibaba', 'LTAI{an:20}'],
    ['tencent_key', 'tencent', 'AKID{an:32}'],
    ['ibm_cloud_key', 'ibm-named', 'IBM_CLOUD_API_KEY={b64u:44}'],
    ['digitalocean_token', 'digitalocean-pat', 'dop_v1_{hex:64}'],
    ['digitalocean_token', 'digitalocean-oauth', 'doo_v1_{hex:64}'],
    ['heroku_api_key', 'heroku-v2', 'HRKU-AA{b64u:58}'],
    ['heroku_api_key', 'heroku-named', 'HEROKU_API_KEY={uuid}'],
    ['cloudflare_token', 'cloudflare-named', 'CLOUDFLARE_API_TOKEN={b64u:40}'],
    ['cloudflare_token', 'cloudflare-origin-ca', 'v1.0-{hex:24}-{hex:146}'],
    ['fastly_token', 'fastly-named', 'FASTLY_API_TOKEN={b64u:32}'],
    ['netlify_token', 'netlify', 'nfp_{an:36}'],
    ['vercel_token', 'vercel-named', 'VERCEL_TOKEN={an:24}'],
    ['flyio_token', 'flyio', 'fo1_{b64u:43}'],
    ['render_token', 'render', 'rnd_{an:32}'],
    ['scaleway_key', 'scaleway', 'SCW{ud:17}'],
    ['linode_token', 'linode-named', 'LINODE_TOKEN={hex:64}'],
    ['vultr_key', 'vultr-named', 'VULTR_API_KEY={ud:36}'],
    ['hetzner_token', 'hetzner-named', 'HCLOUD_TOKEN={an:64}'],
    ['supabase_key', 'supabase', 'sbp_{hex:40}'],
    ['planetscale_token', 'planetscale', 'pscale_tkn_{an:43}'],
    ['databricks_token', 'databricks', 'dapi{hex:32}'],
    ['confluent_key', 'confluent-named', 'CONFLUENT_API_SECRET={b64:64}'],
    ['okta_token', 'okta-named', 'OKTA_API_TOKEN=00{b64u:40}'],
    ['auth0_secret', 'auth0-named', 'AUTH0_CLIENT_SECRET={b64u:64}'],
    ['snowflake_credentials', 'snowflake-named', 'SNOWFLAKE_PASSWORD={pw:12-20}'],
    ['mongodb_atlas_key', 'atlas-named', 'MONGODB_ATLAS_PRIVATE_KEY={uuid}'],
    ['railway_token', 'railway-named', 'RAILWAY_TOKEN={uuid}'],
    ['cloudinary_secret', 'cloudinary-named', 'CLOUDINARY_API_SECRET={b64u:27}'],
    ['backblaze_key', 'backblaze-named', 'B2_APPLICATION_KEY={b64:31}'],
    ['gcp_service_account', 'gcp-private-key-id', '"private_key_id": "{hex:40}"'],
  ]);
  fam('CI/CD, registries, secret managers', [
    ['pypi_token', 'testpypi', 'pypi-AgENdGVzdC5weXBpLm9yZw{b64u:70-120}'],
    ['rubygems_token', 'rubygems', 'rubygems_{hex:48}'],
    ['nuget_key', 'nuget', 'oy2{b32:43}'],
    ['clojars_token', 'clojars', 'CLOJARS_{ld:60}'],
    ['docker_hub_token', 'docker-hub-pat', 'dckr_pat_{b64u:27}'],
    ['jfrog_token', 'jfrog-api-key', 'AKCp{an:69}'],
    ['jfrog_token', 'jfrog-reference', 'cmVmd{an:59}'],
    ['circleci_token', 'circleci', 'CCIPAT_{an:22}_{hex:40}'],
    ['travisci_token', 'travis-named', 'TRAVIS_API_TOKEN={an:22}'],
    ['droneci_token', 'drone-named', 'DRONE_TOKEN={an:32}'],
    ['buildkite_token', 'buildkite', 'bkua_{hex:40}'],
    ['codecov_token', 'codecov-named', 'CODECOV_TOKEN={uuid}'],
    ['sonarqube_token', 'sonarqube', 'squ_{hex:40}'],
    ['snyk_token', 'snyk-named', 'SNYK_TOKEN={uuid}'],
    ['octopus_deploy_key', 'octopus', 'API-{ud:26}'],
    ['harness_token', 'harness', 'pat.{b64u:22}.{an:24}.{an:20}'],
    ['infracost_token', 'infracost', 'ico-{an:32}'],
    ['prefect_token', 'prefect', 'pnu_{an:36}'],
    ['scalingo_token', 'scalingo', 'tk-us-{b64u:48}'],
    ['readme_token', 'readme', 'rdme_{ld:70}'],
    ['frameio_token', 'frameio', 'fio-u-{b64u:64}'],
    ['settlemint_token', 'settlemint', 'sm_pat_{an:16}'],
    ['sidekiq_credentials', 'sidekiq-url', 'https://{hex:8}:{hex:8}@gems.contribsys.com/'],
    ['defined_networking_token', 'dnkey', 'dnkey-{b64u:26}-{b64u:52}'],
    ['tailscale_key', 'tailscale', 'tskey-auth-{an:12}-{an:32}'],
    ['openshift_token', 'openshift', 'sha256~{b64u:43}'],
    ['ngrok_token', 'ngrok-named', 'NGROK_AUTHTOKEN={an:27}_{an:21}'],
    ['vault_token', 'vault-service', 'hvs.{b64u:90}'],
    ['terraform_token', 'terraform', '{an:14}.atlasv1.{b64u:67}'],
    ['doppler_token', 'doppler', 'dp.pt.{an:43}'],
    ['pulumi_token', 'pulumi', 'pul-{hex:40}'],
    ['postman_token', 'postman', 'PMAK-{hex:24}-{hex:34}'],
  ]);
  fam('messaging and email', [
    ['slack_token', 'slack-legacy-user', 'xoxp-{digits:10}-{digits:10}-{digits:11}-{hex:32}'],
    ['slack_token', 'slack-config', 'xoxe.xoxp-1-{an:166}'],
    ['slack_token', 'slack-client', 'xoxc-{digits:12}-{digits:12}-{digits:13}-{hex:64}'],
    ['discord_token', 'discord-bot', (g) => `${Buffer.from(String(g.int(100000000000000000, 999999999999999999))).toString('base64url')}.${g.str(ALPHABETS.b64u!, 6)}.${g.token(38, ALPHABETS.b64u)}`],
    ['discord_webhook', 'discord-webhook', 'https://discord.com/api/webhooks/{digits:18}/{b64u:68}'],
    ['telegram_bot_token', 'telegram', (g) => `${g.int(100000000, 9999999999)}:AA${g.token(33, ALPHABETS.b64u)}`],
    ['teams_webhook', 'teams-webhook', 'https://{lo:7}.webhook.office.com/webhookb2/{uuid}@{uuid}/IncomingWebhook/{hex:32}/{uuid}'],
    ['mattermost_token', 'mattermost-named', 'MATTERMOST_TOKEN={ld:26}'],
    ['brevo_key', 'brevo', 'xkeysib-{hex:64}-{an:16}'],
    ['mailchimp_key', 'mailchimp', '{hex:32}-us{digits:2}'],
    ['postmark_token', 'postmark-named', 'POSTMARK_SERVER_TOKEN={uuid}'],
    ['messagebird_key', 'messagebird-named', 'MESSAGEBIRD_API_KEY={an:25}'],
    ['intercom_token', 'intercom-named', 'INTERCOM_ACCESS_TOKEN={b64u:60}'],
    ['sendbird_token', 'sendbird-named', 'SENDBIRD_API_TOKEN={hex:40}'],
    ['pusher_secret', 'pusher-named', 'PUSHER_APP_SECRET={hex:20}'],
    ['ably_key', 'ably-named', 'ABLY_API_KEY={b64u:6}.{b64u:6}:{b64u:43}'],
    ['resend_key', 'resend', 're_{an:8}_{an:24}'],
    ['mailersend_token', 'mailersend', 'mlsn.{hex:64}'],
    ['mailjet_key', 'mailjet-named', 'MJ_APIKEY_PRIVATE={hex:32}'],
    ['sparkpost_key', 'sparkpost-named', 'SPARKPOST_API_KEY={hex:40}'],
    ['zendesk_token', 'zendesk-named', 'ZENDESK_API_TOKEN={an:40}'],
    ['vonage_secret', 'vonage-named', 'VONAGE_API_SECRET={an:16}'],
  ]);
  fam('payments', [
    ['square_token', 'square-access', 'sq0atp-{b64u:22}'],
    ['square_token', 'square-production', 'EAAA{b64u:60}'],
    ['braintree_token', 'braintree', 'access_token$production${ld:16}${hex:32}'],
    ['paypal_secret', 'paypal-named', 'PAYPAL_CLIENT_SECRET={b64u:80}'],
    ['shopify_token', 'shopify', 'shpat_{hex:32}'],
    ['plaid_token', 'plaid', 'access-production-{uuid}'],
    ['gocardless_token', 'gocardless-named', 'GOCARDLESS_ACCESS_TOKEN=live_{b64u:40}'],
    ['flutterwave_key', 'flutterwave', 'FLWSECK_TEST-{ah:32}-X'],
    ['coinbase_token', 'coinbase-named', 'COINBASE_API_SECRET={b64u:64}'],
    ['kraken_key', 'kraken-named', 'KRAKEN_PRIVATE_KEY={b64:86}=='],
    ['kucoin_key', 'kucoin-named', 'KUCOIN_API_SECRET={uuid}'],
    ['bittrex_key', 'bittrex-named', 'BITTREX_API_SECRET={hex:32}'],
    ['binance_key', 'binance-named', 'BINANCE_API_SECRET={an:64}'],
    ['duffel_token', 'duffel', 'duffel_live_{b64u:43}'],
    ['shippo_token', 'shippo', 'shippo_live_{hex:40}'],
    ['easypost_key', 'easypost', 'EZAK{an:54}'],
    ['lob_key', 'lob-named', 'LOB_API_KEY=live_{hex:35}'],
    ['razorpay_key', 'razorpay-named', 'RAZORPAY_KEY_SECRET={an:24}'],
    ['paddle_key', 'paddle', 'pdl_live_apikey_{ld:26}_{an:22}_{an:3}'],
    ['mollie_key', 'mollie-named', 'MOLLIE_API_KEY=live_{an:30}'],
    ['finicity_key', 'finicity-named', 'FINICITY_APP_KEY={an:20}'],
    ['adyen_key', 'adyen-named', 'ADYEN_API_KEY=AQE{b64:140}'],
    ['checkout_key', 'checkout-named', 'CHECKOUT_SECRET_KEY=sk_sbox_{ld:26}'],
    ['wise_token', 'wise-named', 'WISE_API_TOKEN={uuid}'],
  ]);
  fam('AI platforms', [
    ['huggingface_token', 'huggingface', 'hf_{an:34}'],
    ['cohere_key', 'cohere-named', 'COHERE_API_KEY={an:40}'],
    ['perplexity_key', 'perplexity', 'pplx-{an:48}'],
    ['groq_key', 'groq', 'gsk_{an:52}'],
    ['replicate_token', 'replicate', 'r8_{an:37}'],
    ['xai_key', 'xai', 'xai-{an:80}'],
    ['openrouter_key', 'openrouter', 'sk-or-v1-{hex:64}'],
    ['langsmith_key', 'langsmith', 'lsv2_pt_{hex:32}_{hex:10}'],
    ['langfuse_key', 'langfuse', 'sk-lf-{uuid}'],
    ['mistral_key', 'mistral-named', 'MISTRAL_API_KEY={an:32}'],
    ['deepseek_key', 'deepseek-named', 'DEEPSEEK_API_KEY=sk-{hex:32}'],
    ['tavily_key', 'tavily', 'tvly-dev-{an:32}'],
    ['firecrawl_key', 'firecrawl', 'fc-{hex:32}'],
    ['nvidia_key', 'nvidia', 'nvapi-{b64u:64}'],
    ['wandb_key', 'wandb-named', 'WANDB_API_KEY={hex:40}'],
    ['together_key', 'together-named', 'TOGETHER_API_KEY={hex:64}'],
    ['assemblyai_key', 'assemblyai-named', 'ASSEMBLYAI_API_KEY={hex:32}'],
    ['deepgram_key', 'deepgram-named', 'DEEPGRAM_API_KEY={hex:40}'],
    ['elevenlabs_key', 'elevenlabs-named', 'ELEVENLABS_API_KEY=sk_{hex:48}'],
    ['pinecone_key', 'pinecone', 'pcsk_{an:5}_{an:60}'],
  ]);
  fam('observability', [
    ['datadog_key', 'datadog-named', 'DD_API_KEY={hex:32}'],
    ['newrelic_key', 'newrelic-user', 'NRAK-{ud:27}'],
    ['newrelic_key', 'newrelic-license', '{hex:36}NRAL'],
    ['sentry_token', 'sentry-user', 'sntryu_{hex:64}'],
    ['sentry_token', 'sentry-org', (g) => `sntrys_${b64json({ iat: g.int(1.6e9, 1.8e9), url: 'https://sentry.io', region_url: 'https://us.sentry.io', org: g.str(LO, 8) })}_${g.token(43, ALPHABETS.b64)}`],
    ['grafana_token', 'grafana-service-account', grafanaServiceAccount],
    ['grafana_token', 'grafana-cloud', (g) => `glc_${b64json({ o: g.str(DG, 7), n: `stack-${g.str(DG, 6)}-${g.str(LO, 6)}`, k: g.token(24), m: { r: 'prod-us-east-0' } })}`],
    ['dynatrace_token', 'dynatrace', 'dt0c01.{ud:24}.{ud:64}'],
    ['sumologic_key', 'sumo-named', 'SUMO_ACCESS_KEY={an:64}'],
    ['honeycomb_key', 'honeycomb-named', 'HONEYCOMB_API_KEY={an:32}'],
    ['pagerduty_token', 'pagerduty-named', 'PAGERDUTY_API_TOKEN=u+{b64u:18}'],
    ['splunk_token', 'splunk-named', 'SPLUNK_HEC_TOKEN={UUID}'],
    ['rollbar_token', 'rollbar-named', 'ROLLBAR_ACCESS_TOKEN={hex:32}'],
    ['bugsnag_key', 'bugsnag-named', 'BUGSNAG_API_KEY={hex:32}'],
    ['opsgenie_key', 'opsgenie-named', 'OPSGENIE_API_KEY={uuid}'],
    ['launchdarkly_token', 'launchdarkly-named', 'LAUNCHDARKLY_SDK_KEY=sdk-{uuid}'],
    ['axiom_token', 'axiom', 'xaat-{uuid}'],
    ['logzio_token', 'logzio-named', 'LOGZIO_TOKEN={alpha:32}'],
    ['mixpanel_secret', 'mixpanel-named', 'MIXPANEL_API_SECRET={hex:32}'],
    ['segment_key', 'segment-named', 'SEGMENT_WRITE_KEY={an:32}'],
    ['amplitude_key', 'amplitude-named', 'AMPLITUDE_SECRET_KEY={hex:32}'],
    ['posthog_key', 'posthog', 'phx_{an:43}'],
  ]);
  fam('SaaS and social', [
    ['linear_token', 'linear', 'lin_api_{an:40}'],
    ['notion_token', 'notion', 'ntn_{digits:11}{an:35}'],
    ['asana_token', 'asana', '2/{digits:16}/{digits:16}:{hex:32}'],
    ['airtable_token', 'airtable', 'pat{an:14}.{hex:64}'],
    ['figma_token', 'figma', 'figd_{b64u:43}'],
    ['dropbox_token', 'dropbox-short-lived', 'sl.{b64u:140}'],
    ['adobe_secret', 'adobe', 'p8e-{an:32}'],
    ['algolia_key', 'algolia-named', 'ALGOLIA_ADMIN_API_KEY={hex:32}'],
    ['contentful_token', 'contentful', 'CFPAT-{b64u:43}'],
    ['hubspot_token', 'hubspot', 'pat-na1-{uuid}'],
    ['typeform_token', 'typeform', 'tfp_{b64u:59}'],
    ['mapbox_token', 'mapbox', (g) => `sk.${Buffer.from(JSON.stringify({ u: g.str(LO, 8), a: g.token(20) })).toString('base64url')}.${g.token(22, ALPHABETS.b64u)}`],
    ['twitter_token', 'twitter-bearer', (g) => `${'A'.repeat(22)}${g.token(90)}`],
    ['twitter_token', 'twitter-secret-named', 'TWITTER_API_SECRET={an:50}'],
    ['facebook_token', 'facebook', 'EAA{set:BCDGIMQZ}{an:150}'],
    ['linkedin_secret', 'linkedin-named', 'LINKEDIN_CLIENT_SECRET={an:16}'],
    ['twitch_token', 'twitch-named', 'TWITCH_CLIENT_SECRET={ld:30}'],
    ['yandex_token', 'yandex', 'AQVN{b64u:36}'],
    ['onepassword_secret', '1password-secret-key', 'A3-{ud:6}-{ud:11}-{ud:5}-{ud:5}-{ud:5}'],
    ['stytch_secret', 'stytch', 'secret-live-{b64u:36}'],
    ['maxmind_key', 'maxmind', '{an:6}_{an:29}_mmk'],
    ['etsy_token', 'etsy-named', 'ETSY_API_KEY={ld:24}'],
    ['flickr_token', 'flickr-named', 'FLICKR_API_KEY={hex:32}'],
    ['nytimes_token', 'nytimes-named', 'NYTIMES_API_KEY={an:32}'],
    ['finnhub_token', 'finnhub-named', 'FINNHUB_API_KEY={ld:20}'],
    ['rapidapi_key', 'rapidapi-header', 'X-RapidAPI-Key: {b64u:50}'],
    ['beamer_token', 'beamer-named', 'BEAMER_API_KEY=b_{b64u:44}'],
    ['freshbooks_token', 'freshbooks-named', 'FRESHBOOKS_ACCESS_TOKEN={ld:64}'],
    ['looker_secret', 'looker-named', 'LOOKER_CLIENT_SECRET={an:24}'],
    ['squarespace_token', 'squarespace-named', 'SQUARESPACE_API_KEY={uuid}'],
    ['privateai_token', 'privateai-named', 'PRIVATE_AI_API_KEY={ld:32}'],
    ['authress_key', 'authress', 'sc_{ld:10}.{ld:5}.acc_{ld:20}.{b64u:60}'],
    ['clickhouse_key', 'clickhouse', '4b1d{an:38}'],
    ['meraki_key', 'meraki-named', 'MERAKI_API_KEY={hex:40}'],
    ['intra42_secret', 'intra42', 's-s4t2ud-{hex:64}'],
    ['zoom_secret', 'zoom-named', 'ZOOM_CLIENT_SECRET={an:32}'],
    ['calendly_token', 'calendly-named', (g) => `CALENDLY_TOKEN=${Buffer.from(JSON.stringify({ kid: g.token(8), typ: 'PAT', alg: 'ES512' })).toString('base64url')}.${Buffer.from(JSON.stringify({ iss: 'https://auth.calendly.com', iat: g.int(1.6e9, 1.8e9), jti: g.token(24) })).toString('base64url')}.${g.token(86, ALPHABETS.b64u)}`],
    ['sanity_token', 'sanity-named', 'SANITY_API_TOKEN=sk{an:120}'],
    ['storyblok_token', 'storyblok-named', 'STORYBLOK_TOKEN={an:24}'],
    ['adafruit_key', 'adafruit', 'aio_{an:28}'],
    ['freemius_key', 'freemius', "'secret_key' => 'sk_{an:29}'"],
  ]);
  fam('keys, credentials, connection strings', [
    ['age_secret_key', 'age', (g) => bech32('age-secret-key-', Array.from({ length: 32 }, () => g.int(0, 255))).toUpperCase()],
    ['jwt', 'jwe', (g) => [b64json({ alg: 'RSA-OAEP-256', enc: 'A256GCM' }), g.token(342, ALPHABETS.b64u), g.token(16, ALPHABETS.b64u), g.token(60, ALPHABETS.b64u), g.token(22, ALPHABETS.b64u)].map((p) => p.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')).join('.')],
    ['private_key', 'pem-ed25519', (g) => `-----BEGIN ED25519 PRIVATE KEY-----\n${g.token(64, ALPHABETS.b64)}\n-----END ED25519 PRIVATE KEY-----`],
    ['kubernetes_secret', 'k8s-secret', (g) => `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${g.str(LO, 6)}\ntype: Opaque\ndata:\n  password: ${b64(g.token(18))}\n`],
    ['docker_registry_auth', 'docker-config', (g) => `{"auths":{"registry.example.com":{"auth":"${b64(`${g.str(LO, 6)}:${g.token(16)}`)}"}}}`],
    ['basic_auth', 'basic-header', (g) => `Authorization: Basic ${b64(`${g.str(LO, 6)}:${g.token(14)}`)}`],
    ['connection_string', 'ado-net', (g) => `Server=tcp:${g.str(LO, 6)}.database.windows.net,1433;Database=${g.str(LO, 5)};User ID=${g.str(LO, 5)};Password=${g.token(14)}!;Encrypt=True;`],
    ['generic_secret', 'client-secret-assignment', 'client_secret: "{an:32}"'],
    ['prefixed_token', 'vendor-prefix', (g) => `${g.pick(['zpka_', 'ory_pat_', 'vcp_', 'hcaik_', 'napi_', 'polar_pat_', 'jina_'])}${g.token(32)}`],
  ]);
  return out;
}

export const VENDOR_FORMATS: readonly VendorFormat[] = formats();
