// Cloud and hosting providers: AWS (beyond rules.ts), Google, Firebase, Azure's identifiable keys
// (a service signature at a fixed place, from Microsoft's published formats), Alibaba, Tencent, IBM,
// DigitalOcean, Heroku, Cloudflare, Fastly, Netlify, Vercel, Fly.io, Render, Scaleway, Linode,
// Vultr, Hetzner, Supabase, PlanetScale, Databricks, Confluent, Okta, Auth0.
import type { Rule } from '../rules.js';
import { AN, B64, B64U, HEX, UPPER_AN, keyed, re, run, token, uuid } from './shapes.js';

/** An Azure identifiable key: `n` base64 characters, the service signature, then its fixed tail. */
const azure88 = (id: string, type: string, service: string, sig: string): Rule =>
  token({ id, type, description: `Azure ${service} key (88 characters, ${sig} signature)`, edge: 'A-Za-z0-9+/_-',
    parts: [run(B64, 76), sig, run(B64, 5), run('AQgw', 1), '=='], keywords: [sig.toLowerCase()] });
const azure44 = (id: string, type: string, service: string, sig: string): Rule =>
  token({ id, type, description: `Azure ${service} key (44 characters, ${sig} signature)`, edge: 'A-Za-z0-9+/_-',
    parts: [run(B64, 33), sig, run('A-P', 1), run(B64, 5), '='], keywords: [sig.toLowerCase()] });

export const CLOUD: readonly Rule[] = [
  // ------------------------------------------------------------ AWS
  token({ id: 'aws_bedrock_api_key', type: 'aws_bedrock_key', description: 'Amazon Bedrock long-term API key (ABSK and base64)',
    parts: ['ABSK', run(B64, 109, 269), re('={0,2}', '')], edge: 'A-Za-z0-9+/', entropy: 3.5 }),
  token({ id: 'aws_bedrock_short_term_key', type: 'aws_bedrock_key', description: 'Amazon Bedrock short-term API key (a presigned token)',
    parts: ['bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t', run('A-Za-z0-9+/=%', 40, 4000)], entropy: 3.5 }),
  token({ id: 'aws_mws_token', type: 'aws_mws_token', description: 'Amazon Marketplace Web Service auth token', parts: ['amzn.mws.', ...uuid()] }),
  // ------------------------------------------------------------ Google and Firebase
  token({ id: 'google_oauth_refresh_token', type: 'google_oauth', description: 'Google OAuth refresh token', parts: ['1//0', run(B64U, 40, 512)], entropy: 3.5 }),
  token({ id: 'firebase_cloud_messaging_key', type: 'firebase_key', description: 'Firebase Cloud Messaging legacy server key',
    parts: ['AAAA', run(B64U, 7), ':APA91b', run(B64U, 134)], gate: ':APA91b', keywords: [':apa91b'] }),
  // ------------------------------------------------------------ Azure identifiable keys
  azure88('azure_storage_identifiable_key', 'azure_storage_key', 'storage account', '+ASt'),
  azure88('azure_cosmos_identifiable_key', 'azure_cosmos_key', 'Cosmos DB', 'ACDb'),
  azure88('azure_batch_identifiable_key', 'azure_batch_key', 'Batch', '+ABa'),
  azure88('azure_ml_identifiable_key', 'azure_ml_key', 'Machine Learning web service', '+AMC'),
  azure88('azure_apim_identifiable_key', 'azure_apim_key', 'API Management', 'APIM'),
  azure44('azure_relay_identifiable_key', 'azure_relay_key', 'Relay', '+ARm'),
  azure44('azure_event_hub_identifiable_key', 'azure_event_hub_key', 'Event Hubs', '+AEh'),
  azure44('azure_service_bus_identifiable_key', 'azure_service_bus_key', 'Service Bus', '+ASb'),
  azure44('azure_iot_identifiable_key', 'azure_iot_key', 'IoT Hub or device', 'AIoT'),
  azure44('azure_redis_identifiable_key', 'azure_redis_key', 'Cache for Redis', 'AzCa'),
  azure44('azure_event_grid_identifiable_key', 'azure_event_grid_key', 'Event Grid', 'AZEG'),
  token({ id: 'azure_function_identifiable_key', type: 'azure_function_key', description: 'Azure Functions access key (AzFu signature)', edge: 'A-Za-z0-9_-',
    parts: [run(B64U, 44), 'AzFu', run(B64U, 5), run('AQgw', 1), '=='], keywords: ['azfu'] }),
  token({ id: 'azure_search_identifiable_key', type: 'azure_search_key', description: 'Azure AI Search query or admin key (AzSe signature)', edge: 'A-Za-z0-9+/_-',
    parts: [run(AN, 42), 'AzSe', run('A-D', 1), run(AN, 5)], keywords: ['azse'] }),
  token({ id: 'azure_container_registry_identifiable_key', type: 'azure_container_registry_key', description: 'Azure Container Registry access key (+ACR signature)', edge: 'A-Za-z0-9+/_-',
    parts: [run(B64, 42), '+ACR', run('A-D', 1), run(B64, 5)], keywords: ['+acr'] }),
  token({ id: 'azure_cask_key', type: 'azure_cask_key', description: 'Azure common annotated security key (84 characters, JQQJ9 signature: Cognitive Services, OpenAI, Maps, Communication…)',
    parts: [run(AN, 52), 'JQQJ9', run('9DH', 1), run(AN, 1), run('A-L', 1), run(AN, 16), run('A-Za-z', 1), run(AN, 7), re('(?:[A-Za-z0-9]{2}==)?', '')], keywords: ['jqqj9'] }),
  token({ id: 'azure_shared_access_key', type: 'azure_service_bus_key', description: 'Azure Service Bus, Event Hubs or IoT Hub SharedAccessKey in a connection string',
    parts: ['SharedAccessKey=', run(B64, 43), '='], edge: 'A-Za-z0-9+/', keywords: ['sharedaccesskey='] }),
  token({ id: 'azure_connection_secret', type: 'azure_app_config_key', description: 'Azure App Configuration or SignalR connection string secret',
    parts: [re('(?:;Secret=|;AccessKey=)', ';Secret='), run(B64, 43), '='], gate: ';(?:Secret|AccessKey)=', keywords: [';secret=', ';accesskey='], edge: 'A-Za-z0-9+/' }),
  keyed({ id: 'azure_openai_key', type: 'azure_openai_key', description: 'Azure OpenAI or Cognitive Services key of the 32-hex format, named in its key',
    words: ['azure_openai', 'azure-openai', 'azureopenai', 'aoai', 'cognitive_services', 'azure_ai'], value: [run(HEX, 32)] }),
  // ------------------------------------------------------------ Alibaba, Tencent, IBM
  token({ id: 'alibaba_access_key_id', type: 'alibaba_key', description: 'Alibaba Cloud AccessKey id', parts: ['LTAI', run(AN, 12, 20)] }),
  keyed({ id: 'alibaba_secret_key', type: 'alibaba_key', description: 'Alibaba Cloud AccessKey secret, named in its key', words: ['alibaba', 'aliyun'], says: 'secret|key', value: [run(AN, 30)] }),
  token({ id: 'tencent_secret_id', type: 'tencent_key', description: 'Tencent Cloud SecretId', parts: ['AKID', run(AN, 32)] }),
  keyed({ id: 'tencent_secret_key', type: 'tencent_key', description: 'Tencent Cloud SecretKey, named in its key', words: ['tencent', 'qcloud'], says: 'secret|key', value: [run(AN, 32)] }),
  keyed({ id: 'ibm_cloud_api_key', type: 'ibm_cloud_key', description: 'IBM Cloud API key, named in its key', words: ['ibm', 'ibmcloud', 'bluemix'], value: [run(B64U, 44)], entropy: 3.5 }),
  // ------------------------------------------------------------ hosting
  token({ id: 'digitalocean_pat', type: 'digitalocean_token', description: 'DigitalOcean personal access token', parts: ['dop_v1_', run(HEX, 64)] }),
  token({ id: 'digitalocean_oauth_token', type: 'digitalocean_token', description: 'DigitalOcean OAuth access token', parts: ['doo_v1_', run(HEX, 64)] }),
  token({ id: 'digitalocean_refresh_token', type: 'digitalocean_token', description: 'DigitalOcean OAuth refresh token', parts: ['dor_v1_', run(HEX, 64)] }),
  token({ id: 'heroku_api_key_v2', type: 'heroku_api_key', description: 'Heroku API key (HRKU-AA…)', parts: ['HRKU-AA', run(B64U, 58)] }),
  keyed({ id: 'heroku_api_key', type: 'heroku_api_key', description: 'Heroku API key of the UUID format, named in its key', words: ['heroku'], value: uuid() }),
  keyed({ id: 'cloudflare_api_token', type: 'cloudflare_token', description: 'Cloudflare API token, named in its key', words: ['cloudflare', 'cf_api', 'cf_token'], value: [run(B64U, 40)] }),
  keyed({ id: 'cloudflare_global_api_key', type: 'cloudflare_token', description: 'Cloudflare global API key, named in its key', words: ['cloudflare', 'cf_api'], value: [run(HEX, 37)] }),
  token({ id: 'cloudflare_origin_ca_key', type: 'cloudflare_token', description: 'Cloudflare Origin CA key', parts: ['v1.0-', run(HEX, 24), '-', run(HEX, 146)] }),
  keyed({ id: 'fastly_api_token', type: 'fastly_token', description: 'Fastly API token, named in its key', words: ['fastly'], value: [run(B64U, 32)] }),
  token({ id: 'netlify_pat', type: 'netlify_token', description: 'Netlify personal access token', parts: ['nfp_', run(AN, 36)] }),
  keyed({ id: 'netlify_token', type: 'netlify_token', description: 'Netlify access token, named in its key', words: ['netlify'], value: [run(B64U, 40, 46)] }),
  keyed({ id: 'vercel_token', type: 'vercel_token', description: 'Vercel access token, named in its key', words: ['vercel', 'now_token'], value: [run(AN, 24)] }),
  token({ id: 'flyio_token', type: 'flyio_token', description: 'Fly.io access token (fo1_, fm1a_, fm1r_, fm2_ macaroons)',
    parts: [re('(?:fo1_[A-Za-z0-9_-]{43}|fm1[ar]_[A-Za-z0-9+/]{100,}={0,3}|fm2_[A-Za-z0-9+/]{100,}={0,3})', 'fo1_' + 'Qk3vT9xLm2Ry7bWc4NpZ8sHd1FgJ6aKe0VuXo5Yi_Mt')],
    gate: 'f(?:o1|m1[ar]|m2)_', keywords: ['fo1_', 'fm1a_', 'fm1r_', 'fm2_'], edge: 'A-Za-z0-9+/', entropy: 3.5,
    match: ['fm2_' + 'lJPECAAAAAAAAmXkxEBxoDqAXbGF0W5nJmV0aWEeAi6e3P8iZ3Vuc2hpcC9saW1pdGVkL2Zvcm1hdAEuc3ZjLwoQbW9jaw9vcGVyYXRpb25zBg1'], noMatch: ['fm2_short', 'fo1_' + 'x'.repeat(43)] }),
  token({ id: 'render_api_key', type: 'render_token', description: 'Render API key', parts: ['rnd_', run(AN, 32)] }),
  token({ id: 'scaleway_access_key', type: 'scaleway_key', description: 'Scaleway access key id', parts: ['SCW', run(UPPER_AN, 17)] }),
  keyed({ id: 'scaleway_secret_key', type: 'scaleway_key', description: 'Scaleway secret key, named in its key', words: ['scaleway', 'scw'], says: 'secret|key|token', value: uuid() }),
  keyed({ id: 'linode_token', type: 'linode_token', description: 'Linode (Akamai) personal access token, named in its key', words: ['linode'], value: [run(HEX, 64)] }),
  keyed({ id: 'vultr_api_key', type: 'vultr_key', description: 'Vultr API key, named in its key', words: ['vultr'], value: [run(UPPER_AN, 36)] }),
  keyed({ id: 'hetzner_token', type: 'hetzner_token', description: 'Hetzner Cloud API token, named in its key', words: ['hetzner', 'hcloud'], value: [run(AN, 64)] }),
  // ------------------------------------------------------------ data platforms and identity
  token({ id: 'supabase_management_token', type: 'supabase_key', description: 'Supabase management API access token', parts: ['sbp_', run(HEX, 40)] }),
  token({ id: 'supabase_secret_key', type: 'supabase_key', description: 'Supabase secret API key', parts: ['sb_secret_', run(B64U, 20, 64)], entropy: 3.5 }),
  token({ id: 'planetscale_token', type: 'planetscale_token', description: 'PlanetScale service token', parts: ['pscale_tkn_', run('A-Za-z0-9_=.-', 32, 64)], entropy: 3.5 }),
  token({ id: 'planetscale_oauth_token', type: 'planetscale_token', description: 'PlanetScale OAuth token', parts: ['pscale_oauth_', run('A-Za-z0-9_=.-', 32, 64)], entropy: 3.5 }),
  token({ id: 'planetscale_password', type: 'planetscale_token', description: 'PlanetScale database password', parts: ['pscale_pw_', run('A-Za-z0-9_=.-', 32, 64)], entropy: 3.5 }),
  token({ id: 'databricks_token', type: 'databricks_token', description: 'Databricks personal access token', parts: ['dapi', run(HEX, 32), re('(?:-[0-9])?', '-2')] }),
  token({ id: 'databricks_oauth_secret', type: 'databricks_token', description: 'Databricks OAuth client secret', parts: ['dose', run(HEX, 32)] }),
  keyed({ id: 'confluent_secret', type: 'confluent_key', description: 'Confluent Cloud API secret, named in its key', words: ['confluent', 'ccloud', 'kafka'], says: 'secret', value: [run(B64, 64)], entropy: 4 }),
  keyed({ id: 'okta_token', type: 'okta_token', description: 'Okta API token (00…), named in its key', words: ['okta'], value: ['00', run(B64U, 40)] }),
  token({ id: 'okta_ssws_header', type: 'okta_token', description: 'Okta API token in an SSWS authorization header', parts: ['SSWS 00', run(B64U, 40)] }),
  keyed({ id: 'auth0_client_secret', type: 'auth0_secret', description: 'Auth0 client secret, named in its key', words: ['auth0'], says: 'secret', value: [run(B64U, 64)], entropy: 3.5 }),
  keyed({ id: 'snowflake_password', type: 'snowflake_credentials', description: 'Snowflake password or key passphrase, named in its key', words: ['snowflake'], says: 'passw|pwd|passphrase', value: [run('A-Za-z0-9!#%&*+._~^-', 12, 128)], entropy: 2.5 }),
  keyed({ id: 'mongodb_atlas_private_key', type: 'mongodb_atlas_key', description: 'MongoDB Atlas API private key, named in its key', words: ['mongodb_atlas', 'atlas'], says: 'private|secret', value: uuid() }),
  keyed({ id: 'railway_token', type: 'railway_token', description: 'Railway API token, named in its key', words: ['railway'], value: uuid() }),
  keyed({ id: 'cloudinary_secret', type: 'cloudinary_secret', description: 'Cloudinary API secret, named in its key', words: ['cloudinary'], says: 'secret', value: [run(B64U, 27)] }),
  keyed({ id: 'backblaze_application_key', type: 'backblaze_key', description: 'Backblaze B2 application key, named in its key', words: ['backblaze', 'b2_application', 'b2_app'], value: [run(B64, 31)] }),
];
