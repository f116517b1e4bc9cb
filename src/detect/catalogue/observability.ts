// Monitoring, logging and feature flags: Datadog, New Relic, Sentry, Grafana, Dynatrace, Sumo
// Logic, Honeycomb, PagerDuty, Splunk, Rollbar, Bugsnag, Opsgenie, LaunchDarkly, Axiom, Logz.io,
// Mixpanel, Segment, Amplitude, PostHog.
import type { Rule } from '../rules.js';
import { AN, B64, B64U, HEX, LOWER_AN, keyed, re, run, token, uuid } from './shapes.js';
import { withGrafanaChecksum } from './checksums.js';

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64');

export const OBSERVABILITY: readonly Rule[] = [
  keyed({ id: 'datadog_api_key', type: 'datadog_key', description: 'Datadog API key, named in its key', words: ['datadog', 'dd_api', 'dd-api'], value: [run(HEX, 32)] }),
  keyed({ id: 'datadog_app_key', type: 'datadog_key', description: 'Datadog application key, named in its key', words: ['datadog', 'dd_app', 'dd-app', 'dd_application'], value: [run(HEX, 40)] }),
  token({ id: 'newrelic_user_key', type: 'newrelic_key', description: 'New Relic user API key', parts: ['NRAK-', run(AN, 27)] }),
  token({ id: 'newrelic_insert_key', type: 'newrelic_key', description: 'New Relic insert key', parts: ['NRII-', run(B64U, 32)] }),
  token({ id: 'newrelic_query_key', type: 'newrelic_key', description: 'New Relic query key', parts: ['NRIQ-', run(B64U, 32)] }),
  token({ id: 'newrelic_browser_key', type: 'newrelic_key', description: 'New Relic browser API key', parts: ['NRJS-', run(HEX, 19)] }),
  token({ id: 'newrelic_admin_key', type: 'newrelic_key', description: 'New Relic admin API key', parts: ['NRAA-', run(HEX, 27)] }),
  token({ id: 'newrelic_rest_key', type: 'newrelic_key', description: 'New Relic REST API key', parts: ['NRRA-', run(HEX, 42)] }),
  token({ id: 'newrelic_license_key', type: 'newrelic_key', description: 'New Relic ingest license key (ends in NRAL)', parts: [run(HEX, 36), 'NRAL'], keywords: ['nral'], gate: 'NRAL' }),
  token({ id: 'sentry_org_token', type: 'sentry_token', description: 'Sentry organisation auth token (base64 JSON payload and secret)',
    parts: ['sntrys_', run(B64, 60, 400), re('={0,2}', ''), '_', run(B64, 43)], edge: 'A-Za-z0-9+/', ownMatch: true, entropy: 4,
    match: [`sntrys_${b64({ iat: 1718000000.1, url: 'https://sentry.io', region_url: 'https://us.sentry.io', org: 'example-org' })}_${'Qk3vT9xLm2Ry7bWc4NpZ8sHd1FgJ6aKe0VuXo5Yi/Mt'}`], }),
  token({ id: 'sentry_user_token', type: 'sentry_token', description: 'Sentry user auth token', parts: ['sntryu_', run(HEX, 64)] }),
  keyed({ id: 'sentry_legacy_token', type: 'sentry_token', description: 'Sentry auth token of the 64-hex format, named in its key', words: ['sentry'], says: 'token|auth|key', value: [run(HEX, 64)] }),
  token({ id: 'grafana_service_account_token', type: 'grafana_token', description: 'Grafana service-account token (glsa_, CRC32 at the end)',
    parts: ['glsa_', run(AN, 32), '_', run('A-Fa-f0-9', 8)], finish: (s) => withGrafanaChecksum(s.slice(5, 37)) }),
  token({ id: 'grafana_cloud_token', type: 'grafana_token', description: 'Grafana Cloud access policy token (glc_ and base64 JSON)',
    parts: ['glc_', run(B64, 32, 400), re('={0,3}', '')], edge: 'A-Za-z0-9+/', ownMatch: true, entropy: 4,
    match: [`glc_${b64({ o: '1234567', n: 'stack-987654-hm-read-example', k: '7fQ2xLm9Rt4vB1nC8kP3sW6y', m: { r: 'prod-us-east-0' } })}`] }),
  token({ id: 'grafana_api_key', type: 'grafana_token', description: 'Grafana API key (base64 JSON with k, n, id)',
    parts: ['eyJrIjoi', run(B64, 60, 400), re('={0,3}', '')], edge: 'A-Za-z0-9+/', ownMatch: true, entropy: 4,
    match: [b64({ k: 'Xk8pL2qZ9mW4rT7vB1nC3sD6fG0hJ5aE', n: 'deploy-bot', id: 1 })], noMatch: [b64({ k: 12, n: 'not a key' })] }),
  token({ id: 'dynatrace_token', type: 'dynatrace_token', description: 'Dynatrace API token', parts: ['dt0c01.', run(AN, 24), '.', run(AN, 64)], entropy: 4 }),
  keyed({ id: 'sumologic_access_id', type: 'sumologic_key', description: 'Sumo Logic access id, named in its key', words: ['sumo'], says: 'id|key|access', value: ['su', run(AN, 12)] }),
  keyed({ id: 'sumologic_access_key', type: 'sumologic_key', description: 'Sumo Logic access key, named in its key', words: ['sumo'], value: [run(AN, 64)] }),
  keyed({ id: 'honeycomb_api_key', type: 'honeycomb_key', description: 'Honeycomb API or ingest key, named in its key', words: ['honeycomb'], value: [re('(?:hc[a-z]{2}k_)?', 'hcaik_'), run(AN, 22, 64)] }),
  keyed({ id: 'pagerduty_token', type: 'pagerduty_token', description: 'PagerDuty API token, named in its key', words: ['pagerduty', 'pager_duty', 'pd_api'], value: [run('A-Za-z0-9_+-', 20)] }),
  keyed({ id: 'splunk_hec_token', type: 'splunk_token', description: 'Splunk HTTP Event Collector token, named in its key', words: ['splunk', 'hec_token'], value: uuid('A-Fa-f0-9') }),
  keyed({ id: 'rollbar_token', type: 'rollbar_token', description: 'Rollbar access token, named in its key', words: ['rollbar'], value: [run(HEX, 32)] }),
  keyed({ id: 'bugsnag_key', type: 'bugsnag_key', description: 'Bugsnag API key, named in its key', words: ['bugsnag'], value: [run(HEX, 32)] }),
  keyed({ id: 'opsgenie_key', type: 'opsgenie_key', description: 'Opsgenie API key, named in its key', words: ['opsgenie', 'genie'], value: uuid() }),
  keyed({ id: 'launchdarkly_token', type: 'launchdarkly_token', description: 'LaunchDarkly API, SDK or mobile key, named in its key', words: ['launchdarkly', 'launch_darkly', 'ld_sdk', 'ld_api'],
    value: [re('(?:api|sdk|mob)-', 'sdk-'), ...uuid()] }),
  token({ id: 'axiom_token', type: 'axiom_token', description: 'Axiom API or personal token', parts: [re('xa[ap]t-', 'xaat-'), ...uuid()], gate: 'xa[ap]t-', keywords: ['xaat-', 'xapt-'] }),
  keyed({ id: 'logzio_token', type: 'logzio_token', description: 'Logz.io shipping or API token, named in its key', words: ['logzio', 'logz'], value: [run('A-Za-z', 32)] }),
  keyed({ id: 'mixpanel_secret', type: 'mixpanel_secret', description: 'Mixpanel API secret, named in its key', words: ['mixpanel'], says: 'secret', value: [run(HEX, 32)] }),
  keyed({ id: 'segment_write_key', type: 'segment_key', description: 'Segment write key, named in its key', words: ['segment'], says: 'write_key|writekey|secret|token', value: [run(AN, 32)], entropy: 3.5 }),
  keyed({ id: 'amplitude_secret', type: 'amplitude_key', description: 'Amplitude secret key, named in its key', words: ['amplitude'], says: 'secret', value: [run(HEX, 32)] }),
  token({ id: 'posthog_personal_key', type: 'posthog_key', description: 'PostHog personal API key', parts: ['phx_', run(AN, 43)] }),
  keyed({ id: 'newrelic_legacy_key', type: 'newrelic_key', description: 'New Relic key of an older format, named in its key', words: ['newrelic', 'new_relic', 'new-relic'], value: [run(LOWER_AN, 40, 64)] }),
];
