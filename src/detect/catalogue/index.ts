// The vendor catalogue: token formats of gitleaks' default set and of the secret-scanning partner
// formats GitHub documents, each written from the vendor's public format, grouped by family. rules.ts
// spreads them into RULES after its own rules; the README's Detection section lists the families.
import type { Rule } from '../rules.js';
import { AI } from './ai.js';
import { CHAT } from './chat.js';
import { CLOUD } from './cloud.js';
import { DEVOPS } from './devops.js';
import { KEYS } from './keys.js';
import { OBSERVABILITY } from './observability.js';
import { PAYMENTS } from './payments.js';
import { SAAS } from './saas.js';
import { VCS } from './vcs.js';

/** Family name (as the README's table names it) -> its rules. */
export const CATALOGUE_FAMILIES: Readonly<Record<string, readonly Rule[]>> = {
  'source hosting': VCS,
  'cloud and hosting': CLOUD,
  'CI/CD, registries, secret managers': DEVOPS,
  'messaging and email': CHAT,
  payments: PAYMENTS,
  'AI platforms': AI,
  observability: OBSERVABILITY,
  'SaaS and social': SAAS,
  'keys, credentials, connection strings': KEYS,
};

export const CATALOGUE: readonly Rule[] = Object.values(CATALOGUE_FAMILIES).flat();
