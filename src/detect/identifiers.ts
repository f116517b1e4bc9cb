// Numbers that are identifiers, not PII: an account id inside a resource name, a chat platform's
// object id, a barcode, a device or tracking number. Each shape is data: the digit counts it has, the
// structure that places it (a pattern around it) or the words that name it (its field's key or the
// words just before it), and its own check where it has one. A card-shaped finding (the card rules)
// that is such an id is dropped. The shapes only cover digit counts at which real cards and national ids are rare
// (12-13 and 17-20 digits) unless a check of their own or a name says what they are: a 16-digit
// card under a key called `id` is still a card.
import RE2 from 're2';

export interface IdentifierShape {
  id: string;
  description: string;
  /** Digit counts of the identifier. */
  lengths: readonly number[];
  /** RE2 source: the value is this id when it lies within group 1 of a match around it. */
  pattern?: string;
  /** Lowercase words that name the id: a word of the field's key, or one of the three words before the value. */
  names?: readonly string[];
  /** The words that name it when they come before it in text, if fewer (prose says `the user's card`). */
  before?: readonly string[];
  /** The id's own check on its digits (a check digit). */
  check?: (digits: string) => boolean;
  /** Texts with the value marked by «…»: `id` where the value is this id, `notId` where it is not. */
  examples: { id: string[]; notId: string[] };
}

/** GS1 check digit (EAN-8, UPC-A, EAN-13, GTIN-14): weights 3 and 1 from the right. */
export function gs1(d: string): boolean {
  let sum = 0;
  for (let i = d.length - 2, w = 3; i >= 0; i--, w = 4 - w) sum += (d.charCodeAt(i) - 48) * w;
  return (10 - (sum % 10)) % 10 === d.charCodeAt(d.length - 1) - 48;
}

const ID_WORDS = ['id', 'ids', 'gid', 'account', 'accountid', 'owner', 'ownerid', 'project', 'tenant', 'org', 'guild', 'channel', 'message', 'thread', 'tweet', 'status', 'snowflake', 'user', 'author', 'order', 'invoice', 'ticket', 'transaction', 'txn', 'ref', 'reference'];

export const IDENTIFIER_SHAPES: readonly IdentifierShape[] = [
  {
    id: 'aws_arn_account',
    description: 'AWS account id in an ARN (arn:partition:service:region:account:resource)',
    lengths: [12],
    pattern: 'arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:([0-9]{12})(?:$|[:/])',
    examples: { id: ['arn:aws:iam::«512345678904»:role/deploy', 'arn:aws:sns:us-east-1:«512345678904»:topic'], notId: ['card «512345678904»'] },
  },
  {
    id: 'aws_ecr_registry',
    description: 'AWS account id leading an ECR registry host',
    lengths: [12],
    pattern: '(?:^|[^0-9])([0-9]{12})\\.dkr\\.ecr(?:-fips)?\\.[a-z0-9-]+\\.amazonaws\\.com',
    examples: { id: ['«512345678904».dkr.ecr.eu-west-1.amazonaws.com/app:1'], notId: ['«512345678904».example.com'] },
  },
  {
    id: 'gcp_project_number',
    description: 'Google Cloud project number in a resource name (projects/NUMBER/…)',
    lengths: [10, 11, 12, 13],
    pattern: '(?:^|[^A-Za-z0-9])projects/([0-9]{10,13})(?:$|[^0-9])',
    examples: { id: ['projects/«512345678904»/locations/us'], notId: ['project «5123456789041234»'] },
  },
  {
    id: 'gid_url',
    description: 'Global id URL (Shopify and other GraphQL APIs): gid://app/Type/NUMBER',
    lengths: [12, 13, 17, 18, 19, 20],
    pattern: 'gid://[A-Za-z0-9-]+/[A-Za-z]+/([0-9]+)',
    examples: { id: ['gid://shopify/Order/«5243120345125»'], notId: ['see «5243120345125»'] },
  },
  {
    id: 'chat_mention',
    description: 'Discord mention or custom emoji: <@id>, <@!id>, <@&role>, <#channel>, <:name:id>',
    lengths: [17, 18, 19, 20],
    pattern: '<(?:@[!&]?|#|a?:[A-Za-z0-9_]+:)([0-9]{17,20})>',
    examples: { id: ['hi <@«613425648685547541»>', 'in <#«613425648685547541»>'], notId: ['«613425648685547541»'] },
  },
  {
    id: 'chat_url',
    description: 'Discord or Twitter/X URL path holding object ids',
    lengths: [15, 16, 17, 18, 19, 20],
    pattern: '(?:discord(?:app)?\\.(?:com|net)/(?:channels|api|attachments|emojis|avatars|icons|users|guilds|invite)|(?:twitter|x)\\.com/[A-Za-z0-9_]+/status(?:es)?)(/[0-9/]+)',
    examples: { id: ['https://discord.com/channels/«613425648685547541»/1/2', 'https://x.com/jack/status/«6134256486855475»'], notId: ['https://example.com/«6134256486855475»'] },
  },
  {
    id: 'uuid',
    description: 'Digits inside a UUID (a UUID with few hex letters holds digit runs a digest check would not call a digest)',
    lengths: [12, 13, 14, 15, 16, 17, 18, 19],
    pattern: '(?:^|[^0-9A-Fa-f-])([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})(?:$|[^0-9A-Fa-f-])',
    examples: { id: ['req=6ce«61507-8174-476»f-bd78-215454180223'], notId: ['card «6150-7817-4476-2154»'] },
  },
  {
    id: 'iban_shaped',
    description: 'Digits inside an IBAN-shaped string (two capitals, two digits, 11-30 capitals and digits) whose check fails: an account number, not a card',
    lengths: [12, 13, 14, 15, 16, 17, 18, 19],
    pattern: '(?:^|[^A-Za-z0-9])([A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]){11,30})(?:$|[^A-Za-z0-9])',
    examples: { id: ['iban GB85ILQC«65384984678326»'], notId: ['ref ab12cd«65384984678326»'] },
  },
  {
    id: 'named_id',
    description: 'Object id named as one (a key ending in id, account, channel…): 12-13 or 17-20 digits, lengths at which cards are rare',
    lengths: [12, 13, 17, 18, 19, 20],
    names: ID_WORDS,
    before: ['id', 'ids', 'gid', 'account', 'accountid', 'owner', 'ownerid', 'project', 'tenant', 'org', 'guild', 'channel', 'snowflake'],
    examples: {
      id: ['{"id":"«613425648685547541»"}', '{"user_id":"«613425648685547541»"}', 'account «512345678904»'],
      notId: ['{"id":"«4111111111111111»"}', 'card «512345678904»', 'for the user: «4222222222222»', 'order ref «6212345678901232123»'],
    },
  },
  {
    id: 'gs1_barcode',
    description: 'EAN-8, UPC-A, EAN-13 or GTIN-14 barcode named as one, with a valid GS1 check digit',
    lengths: [8, 12, 13, 14],
    names: ['ean', 'ean8', 'ean13', 'gtin', 'gtin8', 'gtin12', 'gtin13', 'gtin14', 'upc', 'barcode', 'isbn', 'isbn13'],
    check: gs1,
    examples: { id: ['EAN «4006381333931»', '{"gtin":"«4006381333931»"}'], notId: ['«4006381333931»', 'EAN «4006381333932»'] },
  },
  {
    id: 'imei',
    description: 'IMEI (15 digits, Luhn) named as one',
    lengths: [15],
    names: ['imei', 'imei1', 'imei2', 'imeisv', 'meid'],
    examples: { id: ['IMEI «352099001761481»'], notId: ['«352099001761481»'] },
  },
  {
    id: 'tracking_number',
    description: 'Parcel tracking number named as one (FedEx 12/15/20, USPS 20-22, DHL 10-11)',
    lengths: [10, 11, 12, 15, 20, 22],
    names: ['tracking', 'track', 'awb', 'waybill', 'shipment', 'parcel', 'consignment', 'fedex', 'usps', 'dhl', 'ups'],
    examples: { id: ['tracking number «621591461473»', 'FedEx #«621591461473»'], notId: ['card «621591461473»'] },
  },
];

const compiled = IDENTIFIER_SHAPES.map((s) => ({ shape: s, re: s.pattern === undefined ? undefined : new RE2(s.pattern, 'gd') }));

/** Words of an object key: `AccountId` -> account, id; `admin_graphql_api_id` -> admin, graphql, api, id; `gtin13` -> gtin13, gtin. */
function keyWords(key: string): string[] {
  const parts = key.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
  const out = [...parts, parts.join('')];
  for (const p of parts) {
    const letters = p.replace(/[0-9]+$/, '');
    if (letters !== p && letters) out.push(letters);
  }
  return out;
}

/** The last three words before `at` (within 40 characters), lower case. */
function wordsBefore(text: string, at: number): string[] {
  const win = text.slice(Math.max(0, at - 40), at).toLowerCase();
  return win.split(/[^a-z0-9]+/).filter((w) => w && !/^[0-9]+$/.test(w)).slice(-3);
}

/**
 * Whether text[start, end), a number-shaped match, is one of the identifier shapes: placed by its
 * structure, or named by the field's key or by the words before it.
 */
export function isIdentifier(text: string, start: number, end: number, key: string | undefined): boolean {
  let digits = '';
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) digits += text[i];
  }
  let keyW: string[] | undefined;
  let before: string[] | undefined;
  for (const { shape, re } of compiled) {
    if (!shape.lengths.includes(digits.length)) continue;
    if (shape.check && !shape.check(digits)) continue;
    if (shape.names) {
      keyW ??= key === undefined ? [] : keyWords(key);
      before ??= wordsBefore(text, start);
      const prior = shape.before ?? shape.names;
      if (keyW.some((w) => shape.names!.includes(w)) || before.some((w) => prior.includes(w))) return true;
    }
    if (re) {
      // A window around the value: the structures are short.
      const from = Math.max(0, start - 160);
      const win = text.slice(from, Math.min(text.length, end + 160));
      re.lastIndex = 0;
      for (let m = re.exec(win); m !== null; m = re.exec(win)) {
        const span = (m as RegExpExecArray & { indices?: [number, number][] }).indices?.[1];
        if (span && from + span[0] <= start && from + span[1] >= end) return true;
        if (m[0].length === 0) re.lastIndex++;
      }
    }
  }
  return false;
}
