// The built-in rule catalogue, as data (gitleaks style): each rule carries its RE2 pattern, context
// keywords, validator, default actions and the examples that must and must not match, all checked
// by one generic test (test/unit/detect-rules.test.ts). Patterns are RE2 source, linear time.
import type { Action } from '../config/pii-schema.js';
import { literalPrefixes } from './literals.js';
import { CATALOGUE } from './catalogue/index.js';
import { breakLast, withGithubChecksum } from './catalogue/checksums.js';
import { keyedFamilyGate, vendorFamilyGates } from './catalogue/shapes.js';

export interface DirectionActions {
  request: Action;
  response: Action;
}

export interface Rule {
  id: string;
  /** The PII/secret type reported in findings and used as the key of `pii.actions`. */
  type: string;
  description: string;
  /** RE2 source. Avoid `\s`/`.` spanning JSON escapes; see `gate`. */
  pattern: string;
  flags?: 'i';
  /** Capture group holding the sensitive value (default 0, the whole match). */
  group?: number;
  /** The value is group 1 and at most one (boundary) character precedes it in the match. */
  boundaryGroup?: boolean;
  /**
   * Skip a value that is a strict part of a digest or UUID (a run of 24 or more hex digits and
   * dashes with at least 6 hex letters): an md5 or a UUID has a Luhn-valid stretch of 12 to 19
   * digits now and then, which digit boundaries alone would let through (they must, for `card4111…`).
   */
  notInHexRun?: boolean;
  /**
   * The value is a whole run of digits: skip a match that is a piece of a longer run written with
   * the same separators (`boundaries.ts`, `inLongerRun`): `5678 9012 3456` inside `1234 5678 9012 3456`.
   */
  wholeRun?: boolean;
  /**
   * Every match holds six characters in a row of digits and `( ) . -` or space, the first a digit
   * (gate.ts `DIGIT_RUN`): the gate runs this rule's condition only on messages where that holds,
   * so that the counting automata of number formats stay out of the pass every message pays.
   */
  digitDense?: boolean;
  /**
   * Lowercase literals. With `context`, one must appear in the field's path keys or text; without,
   * one appears (case-insensitively) in every match (a vendor prefix or signature): the prefilters
   * look for them instead of the pattern, and a token split in two is joined where one is seen.
   */
  keywords?: string[];
  context?: boolean;
  /** Also scan `key=value` built from the field's own key and value (assignment-style secrets). */
  assignment?: boolean;
  /** Name of a built-in validator (validators.ts). */
  validator?: string;
  /** Minimum Shannon entropy (bits/char) of the value. */
  entropy?: number;
  /**
   * RE2 source of a necessary condition, used by the gate over the raw message bytes and by the
   * detector's prefilter over the text of each field (fields joined by newlines): it must match
   * within every match of the rule, also where the text is raw JSON (escapes) or where a newline
   * stands before or after the field. Short and led by literals, so that a set of them stays a small
   * DFA. Default: the pattern without assertions (or the keywords when `context`).
   */
  gate?: string;
  /**
   * Rules of one family share one necessary condition, `FAMILY_GATES[family]`, in the gate and the
   * prefilter instead of one each: eight card brands are eight counting automata over the same
   * digits, and together they multiply the states of a set's DFA.
   */
  family?: string;
  /**
   * What the values look like when no rare literal leads them: `number` (digits, with separators
   * or a few letters: cards, national ids, phones, IPv4) or `token` (a wide alphabet: emails, keys
   * without a distinctive prefix). The detector's prefilter scans shaped rules with one RE2.Set and
   * literal-led rules with another: one set tracking all of them at once has too many DFA states for
   * its cache on random text (base64, hashes), and slows down tenfold.
   */
  shape?: 'number' | 'token';
  actions: DirectionActions;
  examples: { match: string[]; noMatch: string[] };
}

/**
 * The shared necessary condition of each `family` (see `Rule.family`), over raw JSON and over text.
 * It must match at the start of every match of every member (the scanner starts members there).
 */
export const FAMILY_GATES: Readonly<Record<string, string>> = {
  // Every brand: 12 to 19 digits, the first 2-6, the prefix digits adjacent, separators after.
  card: '(?:^|[^0-9])[2-6](?:[ .-]?\\d){11,18}(?:$|[^0-9])',
  // Every vendor-named value of the catalogue (catalogue/shapes.ts `keyed`): a vendor name, then a credential word.
  keyed: keyedFamilyGate(),
  // Literal-led vendor tokens, by the first character of their prefix (catalogue/shapes.ts `token`).
  ...vendorFamilyGates(),
};

const SECRET: DirectionActions = { request: 'block', response: 'block' };
const FINANCIAL: DirectionActions = { request: 'block', response: 'redact' };
const CONTACT: DirectionActions = { request: 'redact', response: 'redact' };
const NETWORK: DirectionActions = { request: 'warn', response: 'warn' };

const SEP = '[ .-]?';

// Boundaries of numbers and ids. `\b` is wrong for them: `_` is a word character, so `\b` fails in
// `lookup_4111111111111111` (and before a digit after any letter). A number starts where the
// previous character is not a digit and ends where the next one is not; RE2 has no look-around, so
// the boundary is a consumed group and the value is capture group 1 (the scanner resumes right
// after the value, so adjacent values separated by one character are all found).
const NOT_DIGIT_BEFORE = '(?:^|[^0-9])';
const NOT_DIGIT_AFTER = '(?:$|[^0-9])';
const NOT_ALNUM_BEFORE = '(?:^|[^A-Za-z0-9])';
const NOT_ALNUM_AFTER = '(?:$|[^A-Za-z0-9])';
/**
 * A number-shaped value `core` between non-digits. The gate (over raw JSON) is the same: in raw
 * bytes the character before the value is the same non-digit or the last character of an escape
 * (`\n` -> `n`, `\"` -> `"`); escapes that end in a digit (`\u0031`) fire the gate's own trigger.
 */
const digits = (core: string): Pick<Rule, 'pattern' | 'group' | 'boundaryGroup' | 'notInHexRun' | 'wholeRun' | 'digitDense' | 'gate' | 'shape'> => ({
  pattern: `${NOT_DIGIT_BEFORE}(${core})${NOT_DIGIT_AFTER}`,
  group: 1,
  boundaryGroup: true,
  notInHexRun: true,
  wholeRun: true,
  digitDense: true,
  shape: 'number',
  gate: `${NOT_DIGIT_BEFORE}${core}${NOT_DIGIT_AFTER}`,
});
/** An alphanumeric id `core` not inside a longer alphanumeric run (`_` and `-` are separators). */
const alnumId = (core: string): Pick<Rule, 'pattern' | 'group' | 'boundaryGroup' | 'gate' | 'shape'> => ({
  pattern: `${NOT_ALNUM_BEFORE}(${core})${NOT_ALNUM_AFTER}`,
  group: 1,
  boundaryGroup: true,
  shape: 'number',
  // In raw JSON a letter before the id may be the end of a `\n`, `\r` or `\t` escape.
  gate: `(?:^|[^A-Za-z0-9]|\\\\[nrt])${core}${NOT_ALNUM_AFTER}`,
});

const card = (id: string, brand: string, prefix: string, rest: string, match: string[], noMatch: string[]): Rule => ({
  id: `credit_card_${id}`,
  type: 'credit_card',
  description: `${brand} payment card number (Luhn-checked; spaces, dashes or dots allowed)`,
  ...digits(`${prefix}${rest}`),
  family: 'card',
  validator: 'card',
  actions: FINANCIAL,
  examples: { match, noMatch },
});

const pem = (id: string, label: string, header: string): Rule => ({
  id: `private_key_${id}`,
  type: 'private_key',
  description: `${label} private key block`,
  pattern: `-----BEGIN ${header}-----(?:[\\s\\S]*?-----END ${header}-----|[\\s\\S]*)`,
  gate: `-----BEGIN ${header}-----`,
  actions: SECRET,
  examples: {
    match: [`-----BEGIN ${header}-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n-----END ${header}-----`],
    noMatch: [`-----BEGIN ${header.replace('PRIVATE', 'PUBLIC')}-----`, 'BEGIN PRIVATE KEY'],
  },
});

/**
 * `\b` counts `_` as part of a word, so a token glued into an identifier (`ref_ghp_…_end`,
 * `backup_AKIA…`) had no boundary and went through whole. A token is cut out of its surroundings
 * at any character that is not a letter or a digit instead: a leading `\b` becomes a consumed
 * boundary with the token as group 1, a trailing one a consumed boundary after it. The necessary
 * condition (gate) stays the token itself, which also holds in raw JSON after a `\n` escape.
 */
function separatorBounded(pattern: string): Pick<Rule, 'pattern' | 'group' | 'boundaryGroup' | 'gate'> | undefined {
  if (!pattern.startsWith('\\b')) return undefined;
  let core = pattern.slice(2);
  const trailing = core.endsWith('\\b') && !core.endsWith('\\\\b');
  if (trailing) core = core.slice(0, -2);
  return { pattern: `${NOT_ALNUM_BEFORE}(${core})${trailing ? NOT_ALNUM_AFTER : ''}`, group: 1, boundaryGroup: true, gate: core };
}

/**
 * A secret rule; its `keywords`, when not given, are the literal prefixes of its pattern
 * (literals.ts), so that a rule led by `ghp_` is looked for where `ghp_` occurs.
 */
const prefixed = (
  id: string, type: string, description: string, pattern: string, match: string[], noMatch: string[], extra: Partial<Rule> = {},
): Rule => {
  const keywords = extra.keywords ?? (extra.context ? undefined : literalPrefixes(pattern));
  return {
    id, type, description, pattern, actions: SECRET, examples: { match, noMatch },
    ...(extra.group === undefined && extra.gate === undefined ? separatorBounded(pattern) : undefined),
    ...(keywords ? { keywords } : {}),
    ...extra,
  };
};

const A36 = 'aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xY2zA4';

export const RULES: readonly Rule[] = [
  // ---------------------------------------------------------------- contact PII
  {
    id: 'email',
    type: 'email',
    description: 'Email address',
    // Bounded by any character that is not a letter or digit (`_` too: `ref_jane@acme.io_end`).
    pattern: `${NOT_ALNUM_BEFORE}([A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\\.[A-Za-z]{2,24})${NOT_ALNUM_AFTER}`,
    group: 1,
    boundaryGroup: true,
    gate: '[A-Za-z0-9._%+-]@[A-Za-z0-9][A-Za-z0-9.-]*\\.[A-Za-z]{2}',
    shape: 'token',
    validator: 'email',
    actions: CONTACT,
    examples: {
      match: ['alice.smith@example.com', 'contact me: bob+tag@mail.co.uk today', 'x_y-z@sub.domain.io'],
      noMatch: ['@modelcontextprotocol/sdk', 'lodash@4.17.21', 'icon@2x.png', 'user at example dot com', 'git@', 'a@b'],
    },
  },
  {
    id: 'phone_international',
    type: 'phone',
    description: 'Phone number in international +CC form (validated by libphonenumber-js)',
    pattern: '\\+[1-9][0-9 ().-]{5,20}[0-9]',
    shape: 'number',
    validator: 'phone',
    digitDense: true,
    actions: CONTACT,
    examples: {
      match: ['+1 415 867 5309', 'call +44 20 7946 0958 now', '+4930901820', '+33 1 42 68 53 00', '+91 98765 43210'],
      noMatch: ['+1234567', 'version +2.0.1', '+1 000 000 0000', 'score +12345'],
    },
  },
  {
    id: 'phone_us_formatted',
    type: 'phone',
    description: 'North American phone number written (NPA) NXX-XXXX',
    // North American area and exchange codes start with 2-9 (the validator checks the rest).
    pattern: `(\\([2-9]\\d{2}\\)[ ]?[2-9]\\d{2}[ .-]\\d{4})${NOT_DIGIT_AFTER}`,
    group: 1,
    boundaryGroup: true,
    gate: `\\([2-9]\\d{2}\\)[ ]?[2-9]\\d{2}[ .-]\\d{4}${NOT_DIGIT_AFTER}`,
    shape: 'number',
    validator: 'phone_us',
    digitDense: true,
    actions: CONTACT,
    examples: { match: ['(415) 867-5309', 'tel (212)555-2368', 'x(415) 867-5309y'], noMatch: ['(123) 456-7890', 'f(123) 000-0000', '(415) 867-53091'] },
  },
  {
    id: 'phone_us_dashed',
    type: 'phone',
    description: 'North American phone number NPA-NXX-XXXX, with or without the country code 1',
    // With the country code the whole run is the number (a value is never a piece of a longer run).
    ...digits('(?:1[-.])?[2-9]\\d{2}[-.][2-9]\\d{2}[-.]\\d{4}'),
    validator: 'phone_us',
    actions: CONTACT,
    examples: { match: ['415-867-5309', 'ring 212.555.2368', 'tel_415-867-5309', 'call 1-415-867-5309'], noMatch: ['2024-01-15', '123-456-7890', '1.2.3.4567', '1415-867-53091', '7-415-867-5309'] },
  },
  {
    id: 'phone_national',
    type: 'phone',
    description: 'National-format phone number next to a phone keyword (validated by libphonenumber-js)',
    pattern: `${NOT_DIGIT_BEFORE}(\\(?0?\\d{2,4}\\)?[ .-]?\\d{3,4}[ .-]?\\d{3,4})${NOT_DIGIT_AFTER}`,
    group: 1,
    boundaryGroup: true,
    keywords: ['phone', 'tel', 'mobile', 'cell', 'fax', 'sms', 'whatsapp', 'call me', 'contact', 'telefon', 'handy', 'portable', 'numéro'],
    context: true,
    validator: 'phone',
    actions: CONTACT,
    examples: { match: ['phone: 020 7946 0958', 'mobile 4158675309', 'Tel. 030 901820', 'phone: ext_4158675309'], noMatch: ['order 4158675309', 'phone: 12345', 'phone: 41586753091234'] },
  },
  // ---------------------------------------------------------------- government ids
  {
    id: 'ssn_dashed',
    type: 'ssn',
    description: 'US Social Security number AAA-GG-SSSS',
    ...digits('\\d{3}-\\d{2}-\\d{4}'),
    validator: 'ssn',
    actions: FINANCIAL,
    examples: { match: ['123-45-6789', 'SSN 536-90-4321', 'ssn_536-90-4321'], noMatch: ['000-12-3456', '666-12-3456', '900-12-3456', '123-00-4567', '2024-01-1234', '1536-90-4321'] },
  },
  {
    id: 'ssn_plain',
    type: 'ssn',
    description: 'US Social Security number without dashes, next to an SSN keyword',
    ...digits('\\d{3}[ ]?\\d{2}[ ]?\\d{4}'),
    keywords: ['ssn', 'social security', 'ss#', 'ss no', 'soc sec', 'taxpayer'],
    context: true,
    validator: 'ssn',
    actions: FINANCIAL,
    examples: { match: ['ssn: 536904321', 'Social Security 536 90 4321'], noMatch: ['536904321', 'ssn: 000904321', 'ssn 1234'] },
  },
  {
    id: 'us_itin',
    type: 'us_itin',
    description: 'US Individual Taxpayer Identification Number 9XX-7X-XXXX',
    ...digits('9\\d{2}-\\d{2}-\\d{4}'),
    validator: 'itin',
    actions: FINANCIAL,
    examples: { match: ['912-70-1234', '999-88-0000'], noMatch: ['912-40-1234', '812-70-1234'] },
  },
  {
    id: 'uk_nhs',
    type: 'uk_nhs',
    description: 'UK NHS number (mod 11) next to an NHS keyword',
    ...digits('\\d{3}[ -]?\\d{3}[ -]?\\d{4}'),
    keywords: ['nhs', 'health', 'patient', 'chi number'],
    context: true,
    validator: 'nhs',
    actions: FINANCIAL,
    examples: { match: ['NHS number 943 476 5919', 'patient nhs: 9434765919'], noMatch: ['nhs 9434765918', '9434765919', 'nhs 1111111111'] },
  },
  {
    id: 'ca_sin',
    type: 'ca_sin',
    description: 'Canadian Social Insurance Number (Luhn) next to a SIN keyword',
    ...digits('\\d{3}[ -]?\\d{3}[ -]?\\d{3}'),
    keywords: ['sin', 'social insurance', 'nas', 'assurance sociale'],
    context: true,
    validator: 'sin',
    actions: FINANCIAL,
    examples: { match: ['SIN: 046 454 286', 'social insurance number 046-454-286'], noMatch: ['SIN 046 454 287', '046454286', 'sin 846 454 286'] },
  },
  {
    id: 'uk_nino',
    type: 'uk_nino',
    description: 'UK National Insurance number',
    ...alnumId('[A-Za-z]{2}[ ]?\\d{2}[ ]?\\d{2}[ ]?\\d{2}[ ]?[A-Da-d]'),
    validator: 'nino',
    digitDense: true,
    actions: FINANCIAL,
    examples: { match: ['AB123456C', 'ni: JG 10 37 25 A', 'ni_AB123456C'], noMatch: ['QQ123456C', 'GB123456A', 'AB123456E', 'ABC123456C', 'AB123456C7'] },
  },
  {
    id: 'es_dni',
    type: 'es_dni',
    description: 'Spanish DNI (8 digits) or NIE (X/Y/Z and 7 digits) with its upper-case control letter',
    // Not inside a longer alphanumeric run, upper case only, 8 digits (or X/Y/Z and 7): hex ids
    // (short git SHAs, UUID groups such as `1234567a-`) are 7 digits and a lower-case letter.
    ...alnumId('(?:[XYZ]\\d{7}|\\d{8})[- ]?[TRWAGMYFPDXBNJZSQVHLCKE]'),
    validator: 'dni',
    digitDense: true,
    actions: FINANCIAL,
    examples: {
      match: ['12345678Z', 'NIE X1234567L', 'dni 12345678-Z', 'dni_12345678Z'],
      noMatch: ['12345678A', 'X1234567A', '1234567', 'commit=1234567f', 'req=1234567a-9d4a-4b7e-8f21-6c0d5a9e3b12', '12345678z', 'a12345678Z', '12345678Zb', '0123456789Z'],
    },
  },
  {
    id: 'de_tax_id',
    type: 'de_tax_id',
    description: 'German tax identification number (ISO 7064 mod 11,10) next to a keyword',
    ...digits('[1-9]\\d[ ]?\\d{3}[ ]?\\d{3}[ ]?\\d{3}'),
    keywords: ['steuer', 'tax id', 'taxid', 'tax_id', 'idnr', 'identifikationsnummer', 'tin'],
    context: true,
    validator: 'de_tax_id',
    actions: FINANCIAL,
    examples: { match: ['Steuer-IdNr 86095742719', 'tax id: 86 095 742 719'], noMatch: ['steuer 86095742718', '86095742719', 'tin 12345678901'] },
  },
  {
    id: 'nl_bsn',
    type: 'nl_bsn',
    description: 'Dutch citizen service number (BSN, 11-proef) next to a keyword',
    ...digits('\\d{4}[ .]?\\d{2}[ .]?\\d{3}'),
    keywords: ['bsn', 'burgerservicenummer', 'sofinummer'],
    context: true,
    validator: 'bsn',
    actions: FINANCIAL,
    examples: { match: ['BSN 111222333', 'burgerservicenummer: 1112.22.333'], noMatch: ['bsn 111222334', '111222333'] },
  },
  {
    id: 'au_tfn',
    type: 'au_tfn',
    description: 'Australian tax file number next to a keyword',
    ...digits('\\d{3}[ ]?\\d{3}[ ]?\\d{3}'),
    keywords: ['tfn', 'tax file'],
    context: true,
    validator: 'tfn',
    actions: FINANCIAL,
    examples: { match: ['TFN 123 456 782', 'tax file number: 123456782'], noMatch: ['tfn 123456789', '123456782'] },
  },
  {
    id: 'in_aadhaar',
    type: 'in_aadhaar',
    description: 'Indian Aadhaar number (Verhoeff) next to a keyword',
    ...digits('[2-9]\\d{3}[ -]?\\d{4}[ -]?\\d{4}'),
    keywords: ['aadhaar', 'aadhar', 'uidai', 'uid'],
    context: true,
    validator: 'aadhaar',
    actions: FINANCIAL,
    examples: { match: ['Aadhaar: 2341 2341 2346'], noMatch: ['aadhaar 2341 2341 2345', '234123412346'] },
  },
  {
    id: 'br_cpf',
    type: 'br_cpf',
    description: 'Brazilian CPF NNN.NNN.NNN-NN with check digits',
    ...digits('\\d{3}\\.\\d{3}\\.\\d{3}-\\d{2}'),
    validator: 'cpf',
    actions: FINANCIAL,
    examples: { match: ['111.444.777-35', 'cpf 529.982.247-25'], noMatch: ['111.444.777-36', '111.111.111-11'] },
  },
  // ---------------------------------------------------------------- financial
  card('visa', 'Visa', '4', `(?:${SEP}\\d){12,18}`, ['4111 1111 1111 1111', '4012-8888-8888-1881', '4242.4242.4242.4242', '4222222222222', 'lookup_4111111111111111', 'card4111111111111111x', 'cafe4111111111111111'], ['4111 1111 1111 1112', '4111111111111111111111', '14111111111111111', 'sha 9fceb02d4111111111111111e95dc970b74767f1']),
  card('mastercard', 'Mastercard', '(?:5[1-5]|2[2-7])', `(?:${SEP}\\d){14}`, ['5555 5555 5555 4444', '5105105105105100', '2223003122003222'], ['5555555555554445', '5055555555554444']),
  card('amex', 'American Express', '3[47]', `(?:${SEP}\\d){13}`, ['3782 822463 10005', '371449635398431'], ['378282246310006', '3882822463100057']),
  card('discover', 'Discover', '6(?:011|5\\d{2}|4[4-9]\\d)', `(?:${SEP}\\d){12,15}`, ['6011 1111 1111 1117', '6011000990139424', '6543210000000006'], ['6011111111111118']),
  card('jcb', 'JCB', '35(?:2[89]|[3-8]\\d)', `(?:${SEP}\\d){12,15}`, ['3530 1113 3330 0000', '3566002020360505'], ['3566002020360506']),
  card('diners', 'Diners Club', '3(?:0[0-5]|[689]\\d)', `(?:${SEP}\\d){11,16}`, ['3056 9309 0259 04', '38520000023237'], ['38520000023238', 'x-request-id c3695415-3538-4273-b431-5fe9dd1d0e0f']),
  card('unionpay', 'UnionPay', '62', `(?:${SEP}\\d){14,17}`, ['6212 3456 7890 1232', '6200000000000005'], ['6212345678901233']),
  card('maestro', 'Maestro', '(?:5[06-8]|6\\d)', `(?:${SEP}\\d){10,17}`, ['6759 6498 2643 8453', '501820000000005'], ['6759649826438454', 'md5 64426d57a132c12b642857258239dac6']),
  {
    id: 'iban',
    type: 'iban',
    description: 'International Bank Account Number (mod-97 and country length)',
    ...alnumId('[A-Z]{2}\\d{2}(?:[ ]?[A-Z0-9]){11,30}'),
    validator: 'iban',
    actions: FINANCIAL,
    examples: {
      match: ['DE89370400440532013000', 'GB82 WEST 1234 5698 7654 32', 'iban: FR1420041010050500013M02606', 'NL91ABNA0417164300', 'iban_DE89370400440532013000'],
      noMatch: ['DE89370400440532013001', 'XX89370400440532013000', 'DE8937040044'],
    },
  },
  {
    id: 'us_routing_number',
    type: 'bank_account',
    description: 'US bank routing number (ABA checksum) next to a routing keyword',
    ...digits('\\d{9}'),
    keywords: ['routing', 'aba', 'rtn'],
    context: true,
    validator: 'aba',
    actions: FINANCIAL,
    examples: { match: ['routing number 021000021', 'ABA: 011401533'], noMatch: ['routing 021000022', '021000021'] },
  },
  // ---------------------------------------------------------------- network
  {
    id: 'ipv4',
    type: 'ip_address',
    description: 'IPv4 address',
    pattern: '(?:^|[^0-9.])((?:(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d))(?:$|[^0-9.])',
    group: 1,
    boundaryGroup: true,
    gate: '\\d\\.\\d{1,3}\\.\\d{1,3}\\.\\d',
    shape: 'number',
    validator: 'ipv4',
    digitDense: true,
    actions: NETWORK,
    examples: { match: ['host 192.168.1.20 up', '8.8.8.8', 'ip=203.0.113.7;'], noMatch: ['version 1.2.3', '1.2.3.4.5', '127.0.0.1', '256.1.1.1', '0.0.0.0'] },
  },
  {
    id: 'ipv6',
    type: 'ip_address',
    description: 'IPv6 address',
    pattern: '(?:^|[^0-9A-Za-z:.])((?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4})(?:$|[^0-9A-Za-z:.])',
    group: 1,
    boundaryGroup: true,
    // A valid address of 3 groups or more (the validator) has `::` or eight groups: times such as
    // 12:00:03 have neither.
    gate: '::|(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]',
    shape: 'token',
    validator: 'ipv6',
    actions: NETWORK,
    examples: { match: ['2001:db8:85a3::8a2e:370:7334', 'addr 2001:0db8:0000:0000:0000:ff00:0042:8329 ok'], noMatch: ['12:30:45', '00:1a:2b:3c:4d:5e', 'std::vector', '::1'] },
  },
  // ---------------------------------------------------------------- cloud and SaaS secrets
  prefixed('aws_access_key_id', 'aws_access_key', 'AWS access key id', '\\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA)[A-Z2-7]{16}\\b',
    ['AKIAIOSFODNN7EXAMPLE', 'key=ASIAY34FZKBOKMUTVV7A'], ['AKIAIOSFODNN7EXAMPL', 'akiaiosfodnn7example', 'AKIAIOSFODNN7EXAMPLE1'], { shape: 'token' }),
  prefixed('aws_secret_access_key', 'aws_secret_key', 'AWS secret access key next to its name',
    // The key may end in / or +, where \\b would need a letter after it: bounded by any other character.
    '(?:aws.{0,20}(?:secret|key)|secret_?access_?key)[^A-Za-z0-9/+]{1,6}([A-Za-z0-9/+]{40})(?:$|[^A-Za-z0-9/+])',
    ['aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'AWS_SECRET_ACCESS_KEY: "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"'],
    ['aws_secret_access_key = ${AWS_SECRET_ACCESS_KEY}', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
    { flags: 'i', group: 1, entropy: 3.5, assignment: true, gate: '(?:aws|secret_?access_?key)' }),
  prefixed('aws_session_token', 'aws_secret_key', 'AWS session token next to its name',
    'aws_?session_?token[^A-Za-z0-9/+]{1,6}([A-Za-z0-9/+=]{100,})',
    ['aws_session_token=' + 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD'.repeat(3)], ['aws_session_token=short'],
    { flags: 'i', group: 1, assignment: true, gate: 'aws_?session_?token' }),
  // 30 random base62 characters and their CRC32 in base62 (catalogue/checksums.ts).
  ...(['ghp', 'gho', 'ghu', 'ghs', 'ghr'] as const).map((p) =>
    prefixed(`github_${p}`, 'github_token', `GitHub ${p}_ token (CRC32-checked)`, `\\b${p}_[A-Za-z0-9]{36}\\b`,
      [withGithubChecksum(p, A36.slice(0, 30)), `token: ${withGithubChecksum(p, A36.slice(6, 36))}`],
      [`${p}_short`, `${p}-${A36}`, `${p}_${A36}`, breakLast(withGithubChecksum(p, A36.slice(0, 30))), withGithubChecksum(p, A36.slice(0, 30)) + 'x'],
      { validator: 'github_checksum', keywords: [`${p}_`] })),
  prefixed('github_fine_grained_pat', 'github_token', 'GitHub fine-grained personal access token', '\\bgithub_pat_[A-Za-z0-9_]{82}\\b',
    ['github_pat_11ABCDEFG0' + 'aB3dE5fG7h'.repeat(7) + 'aB'], ['github_pat_short']),
  prefixed('gitlab_pat', 'gitlab_token', 'GitLab personal access token', '\\bglpat-[A-Za-z0-9_-]{20,}', ['glpat-xYz12AbCdEf34GhIjK5L', 'glpat-Ab1Cd2Ef3Gh4Ij5Kl6Mn'], ['glpat-short', 'glpat_xYz12AbCdEf34GhIjK5L']),
  prefixed('gitlab_deploy_token', 'gitlab_token', 'GitLab deploy token', '\\bgldt-[A-Za-z0-9_-]{20,}', ['gldt-Ab1Cd2Ef3Gh4Ij5Kl6Mn'], ['gldt-abc']),
  prefixed('gitlab_pipeline_trigger', 'gitlab_token', 'GitLab pipeline trigger token', '\\bglptt-[0-9a-f]{40}\\b', ['glptt-0123456789abcdef0123456789abcdef01234567'], ['glptt-xyz']),
  prefixed('gitlab_runner_token', 'gitlab_token', 'GitLab runner token', '\\b(?:glrt-|GR1348941)[A-Za-z0-9_-]{20,}', ['glrt-Ab1Cd2Ef3Gh4Ij5Kl6Mn', 'GR1348941Ab1Cd2Ef3Gh4Ij5Kl6Mn'], ['glrt-abc']),
  prefixed('gitlab_other_token', 'gitlab_token', 'GitLab feed, OAuth, CI job or incoming-mail token', '\\bgl(?:ft|soat|cbt|imt|oas)-[A-Za-z0-9_-]{20,}', ['glft-Ab1Cd2Ef3Gh4Ij5Kl6Mn', 'glsoat-Ab1Cd2Ef3Gh4Ij5Kl6Mn'], ['glft-abc']),
  prefixed('slack_bot_token', 'slack_token', 'Slack bot token', '\\bxoxb-[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{20,32}\\b', ['xoxb-1234567890123-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx'], ['xoxb-123-456-abc']),
  prefixed('slack_user_token', 'slack_token', 'Slack user token', '\\bxox[pe]-[0-9]{10,13}-[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{28,34}\\b', ['xoxp-1234567890123-1234567890123-1234567890123-0123456789abcdef0123456789abcdef'], ['xoxp-1-2-3-abc']),
  prefixed('slack_legacy_token', 'slack_token', 'Slack legacy/workspace/refresh token', '\\bxox[aros]-(?:\\d+-)?[0-9A-Za-z-]{20,}', ['xoxa-2-AbCdEfGhIjKlMnOpQrStUvWx1234', 'xoxr-AbCdEfGhIjKlMnOpQrStUvWx1234'], ['xoxa-short']),
  prefixed('slack_app_token', 'slack_token', 'Slack app-level token', '\\bxapp-\\d-[A-Z0-9]+-\\d+-[a-z0-9]{32,}', ['xapp-1-A0123456789-1234567890123-0123456789abcdef0123456789abcdef0123'], ['xapp-1-abc']),
  prefixed('slack_webhook', 'slack_webhook', 'Slack incoming webhook URL', 'hooks\\.slack\\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{20,}',
    ['https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX', 'https://hooks.slack.com/workflows/T0123ABCD/A0123ABCD/123456789/AbCdEf'], ['https://hooks.slack.com/', 'https://slack.com/services']),
  prefixed('stripe_secret_key', 'stripe_key', 'Stripe secret or restricted key', '\\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{20,247}\\b', ['sk_live_' + '4eC39HqLyjWDarjtT1zdp7dc', 'rk_test_' + '51HxAbCdEfGhIjKlMnOpQr'], ['sk_live_short', 'pk_live_4eC39HqLyjWDarjtT1zdp7dc']),
  prefixed('stripe_webhook_secret', 'stripe_key', 'Stripe webhook signing secret', '\\bwhsec_[A-Za-z0-9]{32,}\\b', ['whsec_' + 'AbCdEfGhIjKlMnOpQrStUvWxYz012345'], ['whsec_abc']),
  prefixed('google_api_key', 'google_api_key', 'Google API key', '\\bAIza[0-9A-Za-z_-]{35}', ['AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY'], ['AIzaShort', 'AIza'], { shape: 'token' }),
  prefixed('google_oauth_client_secret', 'google_oauth', 'Google OAuth client secret', '\\bGOCSPX-[A-Za-z0-9_-]{28}', ['GOCSPX-AbCdEfGhIjKlMnOpQrStUvWxYz01'], ['GOCSPX-abc']),
  prefixed('google_oauth_access_token', 'google_oauth', 'Google OAuth access token', '\\bya29\\.[0-9A-Za-z_-]{30,}', ['ya29.a0AfH6SMBx1234567890abcdefghijKLMNOP'], ['ya29.short']),
  prefixed('gcp_service_account_key_id', 'gcp_service_account', 'Google service-account key id (private_key_id)', 'private_key_id[^A-Za-z0-9]{1,6}([a-f0-9]{40})\\b',
    ['"private_key_id": "0123456789abcdef0123456789abcdef01234567"', 'private_key_id=0123456789abcdef0123456789abcdef01234567'], ['private_key_id: null'],
    { group: 1, assignment: true, gate: 'private_key_id' }),
  prefixed('openai_project_key', 'openai_api_key', 'OpenAI project, service-account or admin key', '\\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}',
    ['sk-proj-' + 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCdEfGh'], ['sk-proj-short']),
  prefixed('openai_legacy_key', 'openai_api_key', 'OpenAI legacy API key', '\\bsk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}\\b',
    ['sk-' + 'AbCdEfGhIjKlMnOpQrSt' + 'T3BlbkFJ' + 'AbCdEfGhIjKlMnOpQrSt'], ['sk-AbCdEfGhIjKlMnOpQrSt']),
  prefixed('anthropic_api_key', 'anthropic_api_key', 'Anthropic API or admin key', '\\bsk-ant-(?:api|admin|oat|ort)\\d{2}-[A-Za-z0-9_-]{32,}',
    ['sk-ant-api03-' + 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxAA'], ['sk-ant-short']),
  prefixed('npm_token', 'npm_token', 'npm access token (CRC32-checked like GitHub tokens)', '\\bnpm_[A-Za-z0-9]{36}\\b', [withGithubChecksum('npm', A36.slice(0, 30))],
    ['npm_install', 'npm_config_cache', `npm_${A36}`, breakLast(withGithubChecksum('npm', A36.slice(0, 30)))], { validator: 'github_checksum', keywords: ['npm_'], shape: 'token' }),
  prefixed('npmrc_auth', 'npm_token', 'npm _authToken in .npmrc', '_authToken=([A-Za-z0-9_-]{20,}|[0-9a-f-]{36})', ['//registry.npmjs.org/:_authToken=abcd1234-ab12-cd34-ef56-abcdef123456'], ['_authToken=${NPM_TOKEN}'], { group: 1 }),
  prefixed('pypi_token', 'pypi_token', 'PyPI upload token', '\\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}', ['pypi-AgEIcHlwaS5vcmc' + 'CJGFiY2RlZmdoLWlqa2wtbW5vcC1xcnN0LXV2d3h5ejAxMjM0NTY'], ['pypi-AgEIcHlwaS5vcmc']),
  prefixed('twilio_api_key', 'twilio_key', 'Twilio API key SID', '\\bSK[0-9a-fA-F]{32}\\b', ['SK0123456789abcdef0123456789abcdef'], ['SK0123', 'SKU0123456789abcdef0123456789abcde'], { entropy: 3, shape: 'token' }),
  prefixed('twilio_auth_token', 'twilio_key', 'Twilio auth token next to a Twilio keyword', '\\b[0-9a-f]{32}\\b',
    ['twilio auth token 0123456789abcdef0123456789abcdef'], ['0123456789abcdef0123456789abcdef', 'twilio 0123'], { keywords: ['twilio'], context: true, entropy: 3 }),
  prefixed('sendgrid_api_key', 'sendgrid_key', 'SendGrid API key', '\\bSG\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}\\b',
    ['SG.' + 'AbCdEfGhIjKlMnOpQrStUv' + '.' + 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCde'], ['SG.short.key']),
  prefixed('mailgun_api_key', 'mailgun_key', 'Mailgun API key', '\\bkey-[0-9a-f]{32}\\b', ['key-0123456789abcdef0123456789abcdef'], ['key-0123', 'monkey-business'], { shape: 'token' }),
  prefixed('mailgun_private_key', 'mailgun_key', 'Mailgun private API key', '\\b[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8}\\b',
    ['mailgun key 0123456789abcdef0123456789abcdef-01234567-89abcdef'], ['0123456789abcdef0123456789abcdef-01234567-89abcdef'], { keywords: ['mailgun'], context: true }),
  prefixed('azure_storage_connection_string', 'azure_storage_key', 'Azure storage connection string with AccountKey', 'AccountKey=([A-Za-z0-9+/]{86}==)',
    ['DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=' + 'AbCdEfGhIj'.repeat(8) + 'AbCdEf==;EndpointSuffix=core.windows.net'], ['AccountKey=;'], { group: 1 }),
  prefixed('azure_storage_key', 'azure_storage_key', 'Azure storage account key next to its name', '([A-Za-z0-9+/]{86}==)',
    ['storage account key: PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA/2O76UMFxFkM/R5Kjp1vRt+1fjORS/6ilI8ihN5KXSc7Tvo=='], ['PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA/2O76UMFxFkM/R5Kjp1vRt+1fjORS/6ilI8ihN5KXSc7Tvo=='], { group: 1, keywords: ['azure', 'storage', 'accountkey', 'account_key'], context: true, entropy: 3.5 }),
  prefixed('azure_sas_token', 'azure_storage_key', 'Azure shared access signature', '\\bsv=\\d{4}-\\d{2}-\\d{2}&[^ "\']*sig=([A-Za-z0-9%+/=]{40,})',
    ['https://acct.blob.core.windows.net/c?sv=2021-06-08&ss=b&srt=o&sp=r&se=2030-01-01&sig=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789%2BAbCd%3D'], ['sv=2021-06-08&sig=short'], { group: 1, gate: 'sv=\\d{4}-\\d{2}-\\d{2}&' }),
  prefixed('azure_ad_client_secret', 'azure_client_secret', 'Azure AD (Entra) client secret', '\\b[A-Za-z0-9_~.]{3}\\dQ~[A-Za-z0-9_~.-]{31,34}', ['abc8Q~AbCdEfGhIjKlMnOpQrStUvWxYz0123456'], ['abc8Q~short'], { shape: 'token' }),
  prefixed('jwt', 'jwt', 'JSON Web Token (base64url JSON header with alg)', '\\bey[A-Za-z0-9_-]{8,}\\.ey[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]*',
    ['eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c'],
    ['eyJmb28iOiJiYXIifQ.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc', 'eyJhbGciOiJIUzI1NiJ9.notbase64json.abc'], { validator: 'jwt', shape: 'token' }),
  pem('rsa', 'RSA', 'RSA PRIVATE KEY'),
  pem('ec', 'EC', 'EC PRIVATE KEY'),
  pem('dsa', 'DSA', 'DSA PRIVATE KEY'),
  pem('openssh', 'OpenSSH', 'OPENSSH PRIVATE KEY'),
  pem('pkcs8', 'PKCS#8', 'PRIVATE KEY'),
  pem('encrypted', 'Encrypted PKCS#8', 'ENCRYPTED PRIVATE KEY'),
  pem('pgp', 'PGP', 'PGP PRIVATE KEY BLOCK'),
  prefixed('private_key_escaped', 'private_key', 'PEM private key header inside escaped JSON text (service-account files)', '-----BEGIN[A-Z ]{0,20} PRIVATE KEY[A-Z ]{0,6}-----(?:\\\\n|[A-Za-z0-9+/=])+',
    ['{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----\\\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\\\n-----END PRIVATE KEY-----\\\\n"}'], ['-----BEGIN PUBLIC KEY-----'],
    { gate: '-----BEGIN[A-Z ]{0,20} PRIVATE KEY' }),
  prefixed('putty_private_key', 'private_key', 'PuTTY private key file', 'PuTTY-User-Key-File-\\d: [a-z0-9-]+', ['PuTTY-User-Key-File-2: ssh-rsa'], ['PuTTY User Key']),
  // ---------------------------------------------------------------- connection strings and assignments
  prefixed('database_url', 'database_url', 'Database URL with an embedded password',
    // Not \\b before the scheme: `_` counts as a word character, and `ref_postgres://…` must match too.
    '(?:^|[^A-Za-z0-9])(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\\+srv)?|redis|rediss|amqps?|mssql|sqlserver|clickhouse|cockroachdb|couchdb|neo4j(?:\\+s)?|jdbc:[a-z]+)://[^:/@ "\'<>]{1,128}:([^@/ "\'<>]{1,256})@[A-Za-z0-9.-]+',
    ['postgres://app:s3cr3tPa55@db.internal:5432/app', 'mongodb+srv://admin:Xy7%40pq2@cluster0.ab1cd.mongodb.net/test', 'redis://default:hunter2secret@cache:6379'],
    ['postgres://localhost:5432/app', 'postgres://user:password@localhost/db', 'mysql://root:${DB_PASSWORD}@db/app'],
    { group: 1, validator: 'url_password', gate: '(?:postgres|mysql|mariadb|mongodb|redis|amqp|mssql|sqlserver|clickhouse|cockroachdb|couchdb|neo4j|jdbc:[a-z]+)[a-z+]*://[^/@ "\'<>]{1,400}@' }),
  prefixed('url_credentials', 'url_credentials', 'HTTP(S)/FTP URL with user:password', '(?:^|[^A-Za-z0-9])(?:https?|ftps?|sftp|ssh|git)://[^:/@ "\'<>]{1,128}:([^@/ "\'<>]{3,256})@[A-Za-z0-9.-]+',
    ['https://deploy:gh7Kq2mZ9x@git.example.com/repo.git'], ['https://example.com:8443/path', 'https://user:pass@example.com'],
    { group: 1, validator: 'url_password', gate: '(?:https?|ftps?|sftp|ssh|git)://[^/@ "\'<>]{1,400}@' }),
  prefixed('generic_password_assignment', 'password', 'password / passwd / pwd assignment with a credential-like value',
    // The value has no spaces or control characters (so every match holds six text characters in a
    // row, which the gate's hex trigger relies on).
    '(?:password|passwd|passwort|pwd|passphrase)["\']?[ ]{0,4}[:=][ ]{0,4}["\']?([^\\x00-\\x20"\',;}{]{8,200})',
    ['password=Tr0ub4dor&3x', 'DB_PASSWORD: "v9#Lm2$qXz"', '{"password": "Xk8#pL2q!z"}'],
    ['password: string', 'password=${PASSWORD}', 'password = getPassword()', 'password: "********"', 'password=changeme123'],
    { flags: 'i', group: 1, validator: 'secret', assignment: true, gate: '(?:password|passwd|passwort|pwd|passphrase)' }),
  prefixed('generic_secret_assignment', 'generic_secret', 'secret / token / api key assignment with a high-entropy value',
    '(?:secret|api[_-]?key|apikey|access[_-]?token|auth[_-]?token|client[_-]?secret|private[_-]?key|bearer|credentials?)["\']?[ ]{0,4}[:= ][ ]{0,4}["\']?([A-Za-z0-9_./+=~$!@#%^&*-]{16,200})',
    ['api_key=Zx8Qp2Lm9Kd7Rt4Vb1Nc', 'client_secret: "a8F3kL0pQ2zX9mN4bV7c"', 'Authorization: Bearer 7fG2kP9qX4mZ8wL1rT5vN3bY'],
    ['api_key = os.environ["API_KEY"]', 'secret: process.env.CLIENT_SECRET', 'apiKey: "your-api-key-here"', 'the secret garden'],
    { flags: 'i', group: 1, validator: 'secret', entropy: 3.2, assignment: true, gate: '(?:secret|api[_-]?key|apikey|access[_-]?token|auth[_-]?token|private[_-]?key|bearer|credential)' }),
  // ---------------------------------------------------------------- the vendor catalogue (catalogue/)
  ...CATALOGUE,
];

/**
 * Words that name a sensitive value, for short base64 (normalize.ts `shortBase64Form`): a run of
 * 8-15 base64 characters right after one of them (`ssn: NTM2OTA0MzIx`, `"password":"…"`) is decoded
 * even in a message that nothing else sends to inspection. The context keywords of the rules, and
 * the names of cards, accounts, ids and credentials.
 */
export const SHORT_BASE64_NAMES: readonly string[] = [
  ...new Set([
    ...RULES.filter((r) => r.context).flatMap((r) => r.keywords ?? []),
    'card', 'cc', 'ccn', 'cardnumber', 'card_number', 'pan', 'cvv', 'cvc', 'iban', 'account', 'acct', 'ssn', 'nino', 'dni', 'nie', 'cpf',
    'passport', 'license', 'token', 'secret', 'password', 'passwd', 'pwd', 'passphrase', 'pin', 'key', 'apikey', 'api_key', 'credential',
    'credentials', 'auth', 'email', 'mail',
  ]),
];
