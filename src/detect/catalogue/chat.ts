// Messaging and email: Slack (the older and configuration shapes beside rules.ts), Discord,
// Telegram, Microsoft Teams, Mattermost, Twilio, Brevo (Sendinblue), Mailchimp, Postmark,
// MessageBird, Intercom, Sendbird, Pusher, Ably, Resend, MailerSend, Mailjet, SparkPost, Zendesk.
import type { Rule } from '../rules.js';
import { AN, B64U, HEX, LOWER_AN, keyed, re, run, token, uuid } from './shapes.js';

/** A Discord bot token for examples: base64 of a snowflake id, a timestamp part and an HMAC part. */
const discordSample = (id: string, ts: string, hmac: string): string => `${Buffer.from(id).toString('base64').replace(/=+$/, '')}.${ts}.${hmac}`;

export const CHAT: readonly Rule[] = [
  // ------------------------------------------------------------ Slack
  token({ id: 'slack_config_access_token', type: 'slack_token', description: 'Slack app configuration access token', parts: [re('xoxe\\.xox[bp]-', 'xoxe.xoxp-'), run('0-9', 1), '-', run(AN, 140, 200)], gate: 'xoxe\\.xox[bp]-', keywords: ['xoxe.xoxb-', 'xoxe.xoxp-'], entropy: 4 }),
  token({ id: 'slack_config_refresh_token', type: 'slack_token', description: 'Slack app configuration refresh token', parts: ['xoxe-', run('0-9', 1), '-', run(AN, 120, 200)], entropy: 4 }),
  token({ id: 'slack_legacy_bot_token', type: 'slack_token', description: 'Slack bot token of the older two-part shape', parts: ['xoxb-', run('0-9', 8, 14), '-', run(AN, 18, 26)] }),
  token({ id: 'slack_older_user_token', type: 'slack_token', description: 'Slack user, workspace or legacy token of the older shapes (one to three numeric parts, a hex or alphanumeric tail)',
    parts: [re('xox[psoa]-', 'xoxp-'), re('(?:[0-9]{4,15}-){1,3}', '4882712123-4882712125-'), run(AN, 8, 64)], gate: 'xox[psoa]-[0-9]{4}', keywords: ['xoxp-', 'xoxs-', 'xoxo-', 'xoxa-'], entropy: 3.3, edge: 'A-Za-z0-9-' }),
  token({ id: 'slack_client_token', type: 'slack_token', description: 'Slack browser session token (xoxc) or session cookie (xoxd)',
    parts: [re('xox[cd]-', 'xoxc-'), run('A-Za-z0-9%/+=-', 30, 400)], gate: 'xox[cd]-', keywords: ['xoxc-', 'xoxd-'], entropy: 3.5 }),
  token({ id: 'slack_any_token', type: 'slack_token', description: 'Any other Slack token shape (xox?- and a long tail)',
    parts: [re('xox[a-z]-', 'xoxq-'), run('A-Za-z0-9-', 24, 400)], gate: 'xox[a-z]-', keywords: ['xox'], entropy: 3.5 }),
  // ------------------------------------------------------------ Discord, Telegram, Teams, Mattermost
  // The first part is the base64 of the bot's numeric id (hence M, N or O first); Discord does not
  // document the structure, so the shape decides (`discord_bot_token` checks the id for custom types).
  token({ id: 'discord_bot_token', type: 'discord_token', description: 'Discord bot token (base64 of the bot id, timestamp, HMAC)',
    parts: [run('MNO', 1), run(B64U, 22, 26), '.', run(B64U, 6), '.', run(B64U, 27, 40)], entropy: 3.5, shape: 'token',
    // Led by the dots: a class run first (`[MNO][A-Za-z0-9_-]{22,26}`) makes a DFA state per M, N or O
    // of a base64 blob, and the prefilter set ten times slower on images.
    gate: '\\.[A-Za-z0-9_-]{6}\\.[A-Za-z0-9_-]{27}', keywords: [],
    match: [discordSample('123456789012345678', 'GQx8bA', 'Kd8vX2mQp4Rt6Yw9Zb1Nc3Lf5Hj7Gk0Ss'), `bot token ${discordSample('98765432109876543', 'ZZ1x-_', 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7')}`],
    noMatch: ['MTIzNDU2Nzg5MDEyMzQ1Njc4.GQx8bA.short', 'Microsoft.Extensions.DependencyInjection.Abstractions'] }),
  token({ id: 'discord_webhook', type: 'discord_webhook', description: 'Discord webhook URL',
    parts: [re('https://(?:ptb\\.|canary\\.)?discord(?:app)?\\.com/api/webhooks/', 'https://discord.com/api/webhooks/'), run('0-9', 17, 20), '/', run(B64U, 60, 68)],
    gate: 'discord(?:app)?\\.com/api/webhooks/', keywords: ['discord'] }),
  keyed({ id: 'discord_api_key', type: 'discord_token', description: 'Discord application public key or API key of the 64-hex format, named in its key', words: ['discord'], says: 'key|token|secret', value: [run(HEX, 64)] }),
  keyed({ id: 'discord_client_secret', type: 'discord_token', description: 'Discord OAuth client secret or bot token, named in its key', words: ['discord'], says: 'secret|token', value: [run(B64U, 32)] }),
  token({ id: 'telegram_bot_token', type: 'telegram_bot_token', description: 'Telegram bot token (bot id, colon, AA and 33 characters)',
    parts: [run('0-9', 5, 16), ':A', run(B64U, 34)], keywords: [':a'], gate: ':A[A-Za-z0-9_-]{16}' }),
  token({ id: 'teams_webhook', type: 'teams_webhook', description: 'Microsoft Teams incoming webhook URL',
    parts: [re('https://[a-z0-9-]+\\.webhook\\.office\\.com/webhookb2/', 'https://contoso.webhook.office.com/webhookb2/'), ...uuid(LOWER_AN), '@', ...uuid(LOWER_AN), '/IncomingWebhook/', run(LOWER_AN, 32), '/', ...uuid(LOWER_AN)],
    gate: '\\.webhook\\.office\\.com/webhookb2/', keywords: ['webhook.office.com'], entropy: false }),
  token({ id: 'teams_workflow_webhook', type: 'teams_webhook', description: 'Power Automate / Teams workflow webhook URL with its signature',
    parts: [re('https://[a-z0-9.-]+\\.logic\\.azure\\.com(?::443)?/workflows/', 'https://prod-12.westus.logic.azure.com:443/workflows/'), run(HEX, 32), re('/triggers/[^ "\'<>]{1,200}?[?&]sig=', '/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig='), run(B64U, 43)],
    gate: '\\.logic\\.azure\\.com', keywords: ['logic.azure.com'], entropy: false }),
  keyed({ id: 'mattermost_token', type: 'mattermost_token', description: 'Mattermost access token, named in its key', words: ['mattermost'], value: [run(LOWER_AN, 26)] }),
  // ------------------------------------------------------------ SMS and email
  keyed({ id: 'twilio_api_secret', type: 'twilio_key', description: 'Twilio API key secret, named in its key', words: ['twilio'], says: 'secret', value: [run(AN, 32)] }),
  token({ id: 'brevo_api_key', type: 'brevo_key', description: 'Brevo (Sendinblue) API key', parts: ['xkeysib-', run(HEX, 64), '-', run(AN, 16)] }),
  token({ id: 'brevo_smtp_key', type: 'brevo_key', description: 'Brevo (Sendinblue) SMTP key', parts: ['xsmtpsib-', run(HEX, 64), '-', run(AN, 16)] }),
  token({ id: 'mailchimp_api_key', type: 'mailchimp_key', description: 'Mailchimp API key (32 hex and the data centre)',
    parts: [run(HEX, 32), '-us', run('0-9', 1, 2)], keywords: ['-us'], gate: '-us[0-9]', shape: 'token' }),
  keyed({ id: 'postmark_token', type: 'postmark_token', description: 'Postmark server or account token, named in its key', words: ['postmark'], value: uuid() }),
  keyed({ id: 'messagebird_key', type: 'messagebird_key', description: 'MessageBird (Bird) API key, named in its key', words: ['messagebird', 'message_bird', 'message-bird'], value: [run(AN, 25)] }),
  keyed({ id: 'intercom_token', type: 'intercom_token', description: 'Intercom access token, named in its key', words: ['intercom'], value: [run('A-Za-z0-9=_-', 60)] }),
  keyed({ id: 'sendbird_token', type: 'sendbird_token', description: 'Sendbird API token, named in its key', words: ['sendbird'], value: [run(HEX, 40)] }),
  keyed({ id: 'pusher_secret', type: 'pusher_secret', description: 'Pusher Channels app secret, named in its key', words: ['pusher'], says: 'secret', value: [run(HEX, 20)] }),
  keyed({ id: 'ably_api_key', type: 'ably_key', description: 'Ably API key (app.key:secret), named in its key', words: ['ably'], value: [run(B64U, 6), '.', run(B64U, 6), ':', run(B64U, 43)] }),
  token({ id: 'resend_api_key', type: 'resend_key', description: 'Resend API key', parts: ['re_', run(AN, 8), '_', run(AN, 24)] }),
  token({ id: 'mailersend_token', type: 'mailersend_token', description: 'MailerSend API token', parts: ['mlsn.', run(HEX, 64)] }),
  keyed({ id: 'mailjet_secret', type: 'mailjet_key', description: 'Mailjet API secret key, named in its key', words: ['mailjet', 'mj_apikey', 'mj_api'], says: 'secret|private|key', value: [run(HEX, 32)] }),
  keyed({ id: 'sparkpost_key', type: 'sparkpost_key', description: 'SparkPost API key, named in its key', words: ['sparkpost'], value: [run(HEX, 40)] }),
  keyed({ id: 'zendesk_token', type: 'zendesk_token', description: 'Zendesk API token, named in its key', words: ['zendesk'], value: [run(AN, 40)] }),
  keyed({ id: 'vonage_secret', type: 'vonage_secret', description: 'Vonage (Nexmo) API secret, named in its key', words: ['vonage', 'nexmo'], says: 'secret', value: [run(AN, 16)] }),
];
