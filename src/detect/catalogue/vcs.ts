// Source hosting and code platforms: GitHub (beyond the prefixed tokens in rules.ts), GitLab,
// Atlassian (Jira, Confluence, Bitbucket), Azure DevOps, Sourcegraph, Gitea, Gitter.
import type { Rule } from '../rules.js';
import { AN, B64, B64U, HEX, keyed, re, run, token } from './shapes.js';
import { atlassianIdTokenSample, withAtlassianChecksum } from './checksums.js';

export const VCS: readonly Rule[] = [
  keyed({ id: 'github_legacy_token', type: 'github_token', description: 'GitHub token of the 40-hex format (before 2021) or an OAuth client secret, named in its key',
    words: ['github', 'gh_token', 'gh_pat', 'gh_oauth'], says: 'key|secret|token|pat|auth|cred|pass', value: [re('(?:v1\\.)?', ''), run(HEX, 40)] }),
  token({ id: 'gitlab_pat_routable', type: 'gitlab_token', description: 'GitLab routable personal access token (payload, version and CRC)',
    parts: ['glpat-', run(B64U, 27, 300), '.', run('0-9a-z', 2), run('0-9a-z', 7)], entropy: 3.5 }),
  token({ id: 'gitlab_agent_token', type: 'gitlab_token', description: 'GitLab agent for Kubernetes token', parts: ['glagent-', run(B64U, 50)] }),
  token({ id: 'gitlab_feature_flag_token', type: 'gitlab_token', description: 'GitLab feature-flags client token', parts: ['glffct-', run(B64U, 20)] }),
  token({ id: 'gitlab_session_cookie', type: 'gitlab_token', description: 'GitLab session cookie', parts: ['_gitlab_session=', run('0-9a-z', 32)], edge: 'A-Za-z0-9' }),
  // Atlassian tokens end in a CRC32 of the rest, which Atlassian does not document: the shape alone decides.
  token({ id: 'atlassian_api_token', type: 'atlassian_token', description: 'Atlassian cloud API token (ATATT3…)',
    parts: ['ATATT3', run('A-Za-z0-9_=-', 150, 250)], entropy: 3.5, finish: (s) => withAtlassianChecksum(s.slice(0, -8)) }),
  token({ id: 'atlassian_admin_api_key', type: 'atlassian_token', description: 'Atlassian organisation admin API key (ATCTT3…)',
    parts: ['ATCTT3', run('A-Za-z0-9_=-', 150, 250)], entropy: 3.5, finish: (s) => withAtlassianChecksum(s.slice(0, -8)) }),
  token({ id: 'bitbucket_app_password', type: 'atlassian_token', description: 'Bitbucket app password (ATBB…)',
    parts: ['ATBB', run(AN, 24, 60)], finish: (s) => withAtlassianChecksum(s.slice(0, -8)) }),
  token({ id: 'bitbucket_dc_token', type: 'atlassian_token', description: 'Bitbucket Data Center HTTP access token (BBDC- and base64 of id:secret)',
    parts: ['BBDC-', run(B64, 40, 48)], match: [`BBDC-${atlassianIdTokenSample('bbdc')}`] }),
  keyed({ id: 'atlassian_dc_pat', type: 'atlassian_token', description: 'Jira or Confluence Data Center personal access token (base64 of id:secret), named in its key',
    words: ['jira', 'confluence', 'atlassian', 'bitbucket'], value: [run(B64, 43, 44)], entropy: 3.5,
    match: [`JIRA_PAT=${atlassianIdTokenSample('jira')}`] }),
  keyed({ id: 'atlassian_legacy_token', type: 'atlassian_token', description: 'Atlassian API token of the 24-character format, named in its key',
    words: ['jira', 'confluence', 'atlassian'], value: [run(AN, 20), run(HEX, 4)] }),
  keyed({ id: 'bitbucket_client_secret', type: 'atlassian_token', description: 'Bitbucket OAuth consumer secret, named in its key',
    words: ['bitbucket'], says: 'secret', value: [run('A-Za-z0-9_=-', 32, 64)] }),
  token({ id: 'azure_devops_pat', type: 'azure_devops_pat', description: 'Azure DevOps personal access token (84 characters, JQQJ99 and AZDO signatures)',
    parts: [run(AN, 52), 'JQQJ99', run(AN, 1), run('A-L', 1), run(AN, 12), 'AAAAAZDO', run(AN, 4)], keywords: ['jqqj99'] }),
  keyed({ id: 'azure_devops_legacy_pat', type: 'azure_devops_pat', description: 'Azure DevOps personal access token of the 52-character base32 format, named in its key',
    words: ['azure_devops', 'azuredevops', 'ado_pat', 'ado_token', 'vsts', 'devops'], value: [run('a-z2-7', 52)] }),
  token({ id: 'sourcegraph_token', type: 'sourcegraph_token', description: 'Sourcegraph access token',
    parts: ['sgp_', re('(?:[a-fA-F0-9]{16}_|local_)?', '0123456789abcdef_'), run('a-fA-F0-9', 40)] }),
  keyed({ id: 'gitea_token', type: 'gitea_token', description: 'Gitea or Forgejo access token, named in its key', words: ['gitea', 'forgejo', 'codeberg'], value: [run(HEX, 40)] }),
  keyed({ id: 'gitter_token', type: 'gitter_token', description: 'Gitter access token, named in its key', words: ['gitter'], value: [run(B64U, 40)] }),
  keyed({ id: 'github_app_webhook_secret', type: 'github_token', description: 'GitHub webhook secret, named in its key', words: ['github_webhook', 'gh_webhook'], says: 'secret', value: [run(AN, 20, 64)], entropy: 3.2 }),
];
