// Records a differential test corpus for River's server-side schema
// validation: for every (schema, value) pair below it writes
//
//   - `schema`: the schema exactly as River's `serializeSchema` emits it,
//     i.e. `JSON.parse(JSON.stringify(schema))` (TypeBox's `~kind`,
//     `~optional`, `~refine`, ... markers are non-enumerable or functions
//     and vanish),
//   - `value`: the value, tagged where JSON cannot carry it (see CONVENTION),
//   - `valid`: `Value.Check(schema, value)` on the *live* TypeBox schema,
//   - `errors`: `Value.Errors(schema, value)` flattened the way River's
//     `castTypeboxValueErrors` / `validationErrorToRiverErrors`
//     (router/errors.ts in @replit/river 0.220.1) turns them into the
//     `{ path, message }` list sent in INVALID_REQUEST extras (River sends
//     only the first 5 plus `totalErrors`; all of them are recorded here).
//
// Usage: npm ci && node record.mjs > ../../fixtures/validation/typebox-cases.json
//
// Run it with a different TypeBox install (e.g. copy this file next to a
// `node_modules/typebox@1.4.3`) to compare versions: the output names the
// TypeBox version it was recorded with.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Type } from 'typebox';
import { Value } from 'typebox/value';

const TYPEBOX_VERSION = JSON.parse(
  readFileSync(
    fileURLToPath(new URL('../package.json', import.meta.resolve('typebox'))),
    'utf8',
  ),
).version;

const CONVENTION =
  'Values JSON cannot carry are tagged objects: {"$bytes": "<standard base64, padded>"} is a Uint8Array, ' +
  '{"$bigint": "<decimal>"} is a bigint, {"$date": <epoch ms number>} is a Date ({"$date": null} is an invalid Date, new Date(NaN)), ' +
  '{"$undefined": true} is undefined (as an object property value it means the key is present with value undefined). ' +
  'No untagged value in this corpus is an object whose only key starts with "$". ' +
  'The same tags are used inside "schema" only where JSON.stringify(schema) throws (bigint-valued keywords); those cases carry "serializeThrows": true ' +
  'because River\'s serializeSchema would throw on them. "valid" is Value.Check(schema, value) on the live TypeBox schema; "errors" is ' +
  'Value.Errors(schema, value) mapped like River\'s castTypeboxValueErrors: for keyword required/additionalProperties/propertyNames/unevaluatedProperties ' +
  'one entry per property name with path = instancePath + "/" + name (~ -> ~0, / -> ~1), otherwise {path: instancePath, message}. ' +
  'River sends only the first 5 of these plus totalErrors.';

// ---------------------------------------------------------------------------
// River's custom schemas (customSchemas/index.ts in @replit/river 0.220.1).
// TypeBox 1.x has no Type.Uint8Array / Type.Date; River builds them as a
// Type.Unsafe carrying `{ type: 'Uint8Array' | 'Date', ...bounds }` (so the
// serialized form stays compatible with TypeBox 0.34) plus a Type.Refine
// doing the real check. These builders reproduce that schema shape, check
// and error messages; the @replit/river package itself is not on the
// registry this project can reach.
// ---------------------------------------------------------------------------

function riverUint8Array({ minByteLength, maxByteLength } = {}) {
  const shape = { type: 'Uint8Array' };
  if (minByteLength !== undefined) shape.minByteLength = minByteLength;
  if (maxByteLength !== undefined) shape.maxByteLength = maxByteLength;
  const problem = (value) => {
    if (!(value instanceof Uint8Array)) return 'expected Uint8Array';
    if (minByteLength !== undefined && value.byteLength < minByteLength)
      return `Uint8Array byteLength must be >= ${minByteLength}`;
    if (maxByteLength !== undefined && value.byteLength > maxByteLength)
      return `Uint8Array byteLength must be <= ${maxByteLength}`;
    return undefined;
  };
  return Type.Refine(
    Type.Unsafe(shape),
    (value) => problem(value) === undefined,
    (value) => problem(value) ?? 'invalid Uint8Array',
  );
}

function riverDate({ minimumTimestamp, maximumTimestamp } = {}) {
  const shape = { type: 'Date' };
  if (minimumTimestamp !== undefined) shape.minimumTimestamp = minimumTimestamp;
  if (maximumTimestamp !== undefined) shape.maximumTimestamp = maximumTimestamp;
  const problem = (value) => {
    if (!(value instanceof Date)) return 'expected Date';
    if (isNaN(value.getTime())) return 'expected valid Date';
    if (typeof minimumTimestamp === 'number' && value.getTime() < minimumTimestamp)
      return `Date timestamp must be >= ${minimumTimestamp}`;
    if (typeof maximumTimestamp === 'number' && value.getTime() > maximumTimestamp)
      return `Date timestamp must be <= ${maximumTimestamp}`;
    return undefined;
  };
  return Type.Refine(
    Type.Unsafe(shape),
    (value) => problem(value) === undefined,
    (value) => problem(value) ?? 'invalid Date',
  );
}

// ---------------------------------------------------------------------------
// River's error mapping (validationErrorToRiverErrors).
// ---------------------------------------------------------------------------

const PROPERTY_NAME_PARAMS = {
  required: 'requiredProperties',
  additionalProperties: 'additionalProperties',
  propertyNames: 'propertyNames',
  unevaluatedProperties: 'unevaluatedProperties',
};

function toRiverErrors(error) {
  const param = PROPERTY_NAME_PARAMS[error.keyword];
  const names = param === undefined ? undefined : error.params[param];
  if (names) {
    return names.map((name) => ({
      path: `${error.instancePath}/${String(name).replace(/~/g, '~0').replace(/\//g, '~1')}`,
      message: error.message,
    }));
  }
  return [{ path: error.instancePath, message: error.message }];
}

// ---------------------------------------------------------------------------
// Tagged encoding of values (and of schemas JSON.stringify cannot handle).
// ---------------------------------------------------------------------------

function encode(value) {
  if (value === undefined) return { $undefined: true };
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('base64') };
  if (value instanceof Date) {
    const t = value.getTime();
    return { $date: Number.isNaN(t) ? null : t };
  }
  if (typeof value === 'number' && !Number.isFinite(value))
    throw new Error(`non-finite number ${value} cannot be recorded`);
  if (typeof value === 'number' && Object.is(value, -0))
    throw new Error('-0 cannot be recorded (JSON.stringify writes 0)');
  if (Array.isArray(value)) return value.map(encode);
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0].startsWith('$'))
      throw new Error(`untagged object ${JSON.stringify(keys)} would look like a tag`);
    const out = {};
    for (const key of keys) out[key] = encode(value[key]);
    return out;
  }
  return value;
}

function serializeSchema(schema) {
  try {
    return { schema: JSON.parse(JSON.stringify(schema)), serializeThrows: false };
  } catch {
    const tagged = JSON.parse(
      JSON.stringify(schema, (_key, v) => (typeof v === 'bigint' ? { $bigint: v.toString() } : v)),
    );
    return { schema: tagged, serializeThrows: true };
  }
}

// ---------------------------------------------------------------------------
// Case collection
// ---------------------------------------------------------------------------

const cases = [];
const names = new Set();
const problems = [];

function group(groupName, schema, entries) {
  const { schema: serialized, serializeThrows } = serializeSchema(schema);
  for (const [label, value] of entries) {
    const name = `${groupName} / ${label}`;
    if (names.has(name)) throw new Error(`duplicate case name: ${name}`);
    names.add(name);
    const valid = Value.Check(schema, value);
    const raw = [...Value.Errors(schema, value)];
    const errors = raw.flatMap(toRiverErrors);
    if (valid !== (raw.length === 0))
      problems.push(`${name}: Check=${valid} but Errors has ${raw.length} entries`);
    const record = { name, schema: serialized };
    if (serializeThrows) record.serializeThrows = true;
    record.value = encode(value);
    record.valid = valid;
    record.errors = errors;
    cases.push(record);
  }
}

const bytes = (...b) => new Uint8Array(b);
const S = Type.String;
const N = Type.Number;

// ---------------------------------------------------------------- strings --
group('string', S(), [
  ['empty', ''],
  ['ascii', 'abc'],
  ['number', 1],
  ['null', null],
  ['boolean', true],
  ['array', ['a']],
  ['object', {}],
  ['bytes', bytes(97)],
]);

group('string minLength 2', S({ minLength: 2 }), [
  ['empty', ''],
  ['one ascii', 'a'],
  ['two ascii', 'ab'],
  ['one astral (2 UTF-16 units)', '😀'],
  ['two astral', '😀😀'],
  ['e + combining acute (2 code points, 1 grapheme)', 'e\u0301'],
  ['precomposed é (1 code point)', '\u00e9'],
  ['flag (2 regional indicators)', '🇺🇸'],
  ['CJK one char', '中'],
]);

group('string maxLength 3', S({ maxLength: 3 }), [
  ['empty', ''],
  ['three ascii', 'abc'],
  ['four ascii', 'abcd'],
  ['three astral (6 UTF-16 units)', '😀😀😀'],
  ['four astral', '😀😀😀😀'],
  ['mixed a😀b', 'a😀b'],
  ['two e+combining (4 code points, 2 graphemes)', 'e\u0301e\u0301'],
  ['ZWJ family (5 code points, 1 grapheme)', '👨\u200d👩\u200d👧'],
  ['flag + 1 ascii (3 code points)', '🇺🇸a'],
  ['emoji + variation selector (2 code points)', '❤\ufe0f'],
  ['three CJK', '中文字'],
]);

group('string minLength 1 maxLength 1', S({ minLength: 1, maxLength: 1 }), [
  ['empty', ''],
  ['one', 'x'],
  ['astral', '𝄞'],
  ['two', 'xy'],
  ['a + combining ring', 'a\u030a'],
]);

group('string maxLength 0', S({ maxLength: 0 }), [
  ['empty', ''],
  ['one', ' '],
]);

group('string pattern anchored ^[a-z]+$', S({ pattern: '^[a-z]+$' }), [
  ['match', 'abc'],
  ['uppercase', 'Abc'],
  ['empty', ''],
  ['trailing newline', 'abc\n'],
  ['accented', 'ábc'],
  ['not a string', 5],
]);

group('string pattern unanchored a', S({ pattern: 'a' }), [
  ['contains', 'xay'],
  ['missing', 'xyz'],
  ['empty', ''],
]);

group('string pattern \\d phone', S({ pattern: '^\\d{3}-\\d{4}$' }), [
  ['match', '555-1234'],
  ['too many digits', '5555-1234'],
  ['arabic-indic digits', '٥٥٥-١٢٣٤'],
  ['fullwidth digits', '５５５-１２３４'],
]);

group('string pattern \\w', S({ pattern: '^\\w+$' }), [
  ['ascii word', 'hello_1'],
  ['accented letter', 'héllo'],
  ['space', 'a b'],
]);

group('string pattern \\s', S({ pattern: '^\\s+$' }), [
  ['space and tab', ' \t'],
  ['nbsp', '\u00a0'],
  ['BOM U+FEFF', '\ufeff'],
  ['line separator U+2028', '\u2028'],
  ['letter', 'a'],
]);

group('string pattern dot (unicode flag)', S({ pattern: '^.$' }), [
  ['ascii', 'a'],
  ['astral is one char', '😀'],
  ['newline', '\n'],
  ['two chars', 'ab'],
]);

group('string pattern character class', S({ pattern: '^[A-Z][a-z]*(-[A-Z][a-z]*)?$' }), [
  ['simple', 'Alice'],
  ['hyphenated', 'Mary-Jane'],
  ['lowercase start', 'alice'],
  ['trailing hyphen', 'Mary-'],
]);

group('string pattern negated class', S({ pattern: '^[^/~]*$' }), [
  ['plain', 'abc'],
  ['slash', 'a/b'],
  ['tilde', 'a~b'],
]);

group('string pattern unicode property', S({ pattern: '^\\p{L}+$' }), [
  ['latin', 'abc'],
  ['accented', 'héllo'],
  ['greek', 'αβγ'],
  ['digit', 'a1'],
]);

group('string pattern alternation unanchored', S({ pattern: 'cat|dog' }), [
  ['cat inside', 'concatenate'],
  ['dog', 'dog'],
  ['neither', 'bird'],
]);

group('string pattern + length', S({ pattern: '^[0-9a-f]+$', minLength: 2, maxLength: 4 }), [
  ['ok', 'beef'],
  ['too long and ok pattern', 'deadbeef'],
  ['too short and bad pattern', 'z'],
  ['bad pattern', 'xyz'],
]);

// ---------------------------------------------------------------- formats --
const formatSamples = {
  'date-time': [
    ['valid Z', '2024-01-15T10:30:00Z'],
    ['valid offset + fraction', '2024-01-15T10:30:00.123+05:30'],
    ['lowercase t and z', '2024-01-15t10:30:00z'],
    ['no timezone', '2024-01-15T10:30:00'],
    ['leap second at 23:59:60Z', '2016-12-31T23:59:60Z'],
    ['bad leap second', '2016-12-31T12:00:60Z'],
    ['feb 30', '2024-02-30T00:00:00Z'],
    ['space separator', '2024-01-15 10:30:00Z'],
  ],
  date: [
    ['valid', '2024-02-29'],
    ['not leap year', '2023-02-29'],
    ['month 13', '2024-13-01'],
    ['no padding', '2024-1-1'],
  ],
  time: [
    ['valid Z', '10:30:00Z'],
    ['valid offset', '10:30:00.5-08:00'],
    ['no timezone', '10:30:00'],
    ['hour 24', '24:00:00Z'],
  ],
  duration: [
    ['valid', 'P1Y2M3DT4H5M6S'],
    ['weeks', 'P2W'],
    ['empty P', 'P'],
    ['T without time', 'P1DT'],
  ],
  email: [
    ['valid', 'user.name+tag@example.com'],
    ['no at', 'user.example.com'],
    ['two ats', 'a@b@c.com'],
    ['unicode local part', 'ñ@example.com'],
    ['ip literal', 'user@[192.168.0.1]'],
  ],
  'idn-email': [
    ['unicode', 'ñandú@ejemplo.es'],
    ['no at', 'nope'],
  ],
  hostname: [
    ['valid', 'api.example.com'],
    ['single label', 'localhost'],
    ['underscore', 'my_host.com'],
    ['leading hyphen', '-bad.com'],
    ['label 64 chars', `${'a'.repeat(64)}.com`],
  ],
  'idn-hostname': [
    ['unicode', 'bücher.example'],
    ['bad', 'a..b'],
  ],
  ipv4: [
    ['valid', '192.168.1.1'],
    ['out of range', '256.1.1.1'],
    ['leading zero', '01.2.3.4'],
    ['three parts', '1.2.3'],
  ],
  ipv6: [
    ['valid compressed', '::1'],
    ['valid full', '2001:0db8:85a3:0000:0000:8a2e:0370:7334'],
    ['ipv4 mapped', '::ffff:192.168.1.1'],
    ['double ::', '1::2::3'],
    ['bad hex', 'gggg::1'],
  ],
  uri: [
    ['valid', 'https://example.com/path?q=1#frag'],
    ['urn', 'urn:isbn:0451450523'],
    ['relative', '/just/a/path'],
    ['space', 'https://exa mple.com'],
  ],
  'uri-reference': [
    ['relative', '../a/b?c'],
    ['absolute', 'http://x.y/z'],
    ['backslash', '\\\\server\\share'],
  ],
  'uri-template': [
    ['valid', 'https://example.com/{id}/items{?page,size}'],
    ['unclosed', 'https://example.com/{id'],
  ],
  iri: [
    ['unicode', 'https://例え.jp/パス'],
    ['relative', 'a/b'],
  ],
  'iri-reference': [
    ['relative unicode', '../ファイル'],
    ['space', 'a b'],
  ],
  url: [
    ['valid', 'https://example.com:8080/x'],
    ['no scheme', 'example.com'],
    ['custom scheme', 'foo:bar'],
  ],
  uuid: [
    ['lowercase', '123e4567-e89b-12d3-a456-426614174000'],
    ['uppercase', '123E4567-E89B-12D3-A456-426614174000'],
    ['no hyphens', '123e4567e89b12d3a456426614174000'],
    ['braces', '{123e4567-e89b-12d3-a456-426614174000}'],
  ],
  'json-pointer': [
    ['valid', '/a/b~0c/d~1e'],
    ['empty', ''],
    ['bad escape', '/a~2'],
    ['no leading slash', 'a/b'],
  ],
  'json-pointer-uri-fragment': [
    ['valid', '#/a/b'],
    ['no hash', '/a/b'],
  ],
  'relative-json-pointer': [
    ['valid', '1/a/b'],
    ['hash', '0#'],
    ['leading zero', '01/a'],
  ],
  regex: [
    ['valid', '^[a-z]+$'],
    ['unbalanced', '(abc'],
    ['lookbehind', '(?<=a)b'],
  ],
};
for (const [format, samples] of Object.entries(formatSamples)) {
  group(`format ${format}`, S({ format }), samples);
}
group('format unknown (not registered)', S({ format: 'not-a-known-format' }), [
  ['any string passes', 'whatever'],
  ['still must be string', 12],
]);
group('format on a non-string type (ignored)', N({ format: 'email' }), [
  ['number', 42],
]);

// ---------------------------------------------------------------- numbers --
group('number', N(), [
  ['zero', 0],
  ['negative fraction', -1.5],
  ['max double', 1.7976931348623157e308],
  ['min subnormal', 5e-324],
  ['string', '1'],
  ['null', null],
  ['boolean', false],
  ['bigint', 1n],
]);

group('number minimum 0 maximum 10', N({ minimum: 0, maximum: 10 }), [
  ['below', -0.0001],
  ['at minimum', 0],
  ['at maximum', 10],
  ['above', 10.0001],
  ['middle', 5.5],
]);

group('number exclusiveMinimum 0 exclusiveMaximum 10', N({ exclusiveMinimum: 0, exclusiveMaximum: 10 }), [
  ['at exclusive minimum', 0],
  ['just above', 1e-9],
  ['at exclusive maximum', 10],
  ['just below', 9.999999],
  ['below both', -5],
]);

group('number minimum + exclusiveMaximum negative', N({ minimum: -1.5, exclusiveMaximum: -0.5 }), [
  ['at minimum', -1.5],
  ['below', -1.5000001],
  ['at exclusive maximum', -0.5],
]);

group('number multipleOf 0.1', N({ multipleOf: 0.1 }), [
  ['0.3 (0.1*3 != 0.3 in binary)', 0.3],
  ['0.7', 0.7],
  ['1.1', 1.1],
  ['0.35', 0.35],
  ['integer 100', 100],
  ['1e-11 (within 1e-10 tolerance)', 1e-11],
  ['0.30000000001 (within tolerance)', 0.30000000001],
  ['0.3001', 0.3001],
  ['negative -0.2', -0.2],
  ['large 123456789.1', 123456789.1],
]);

group('number multipleOf 0.01', N({ multipleOf: 0.01 }), [
  ['1.15', 1.15],
  ['19.99', 19.99],
  ['0.001', 0.001],
  ['4.35', 4.35],
]);

group('number multipleOf 3', N({ multipleOf: 3 }), [
  ['9', 9],
  ['10', 10],
  ['-3', -3],
  ['0', 0],
  ['4.5', 4.5],
]);

group('number multipleOf 0.5', N({ multipleOf: 0.5 }), [
  ['2.5', 2.5],
  ['2.25', 2.25],
  ['7 (integer)', 7],
]);

group('number multipleOf 0.07', N({ multipleOf: 0.07 }), [
  ['0.21', 0.21],
  ['7 (integer, 1/0.07 not integral)', 7],
  ['1', 1],
]);

group('integer', Type.Integer(), [
  ['one', 1],
  ['one point zero (same as 1 in JS)', 1.0],
  ['one point five', 1.5],
  ['negative', -42],
  ['2^53', 2 ** 53],
  ['2^53 + 2', 2 ** 53 + 2],
  ['1e21 (integral double)', 1e21],
  ['max double (integral)', 1.7976931348623157e308],
  ['0.1', 0.1],
  ['min subnormal', 5e-324],
  ['string', '1'],
  ['bigint', 1n],
  ['null', null],
]);

group('integer minimum 1 maximum 100', Type.Integer({ minimum: 1, maximum: 100 }), [
  ['zero', 0],
  ['one', 1],
  ['hundred', 100],
  ['hundred and one', 101],
  ['fraction in range', 50.5],
]);

group('integer exclusiveMinimum 0', Type.Integer({ exclusiveMinimum: 0 }), [
  ['zero', 0],
  ['one', 1],
]);

group('integer multipleOf 2', Type.Integer({ multipleOf: 2 }), [
  ['even', 4],
  ['odd', 5],
  ['negative even', -8],
]);

// ----------------------------------------------------------------- bigint --
group('bigint', Type.BigInt(), [
  ['small', 1n],
  ['zero', 0n],
  ['huge negative', -(2n ** 70n)],
  ['number', 1],
  ['string', '1'],
]);

group('bigint bounds as numbers', Type.BigInt({ minimum: 0, maximum: 100 }), [
  ['in range', 50n],
  ['below', -1n],
  ['above', 101n],
  ['at maximum', 100n],
]);

group('bigint bounds as bigints (schema not JSON-serializable)', Type.BigInt({ minimum: 0n, exclusiveMaximum: 10n, multipleOf: 3n }), [
  ['nine', 9n],
  ['zero', 0n],
  ['twelve', 12n],
  ['four', 4n],
  ['negative', -3n],
]);

// ----------------------------------------------------------- bool / null --
group('boolean', Type.Boolean(), [
  ['true', true],
  ['false', false],
  ['zero', 0],
  ['string true', 'true'],
  ['null', null],
]);

group('null', Type.Null(), [
  ['null', null],
  ['undefined', undefined],
  ['zero', 0],
  ['empty string', ''],
  ['empty object', {}],
]);

// --------------------------------------------------- any / unknown / never --
group('any', Type.Any(), [
  ['null', null],
  ['object', { a: [1, 'x'] }],
  ['undefined', undefined],
  ['bytes', bytes(1, 2)],
]);

group('unknown', Type.Unknown(), [
  ['string', 's'],
  ['bigint', 5n],
  ['undefined', undefined],
]);

group('never', Type.Never(), [
  ['number', 1],
  ['null', null],
  ['object', {}],
  ['undefined', undefined],
]);

group('object with optional never property', Type.Object({ a: Type.Optional(Type.Never()) }), [
  ['absent', {}],
  ['present', { a: 1 }],
  ['present null', { a: null }],
]);

// ------------------------------------------------------ void / undefined --
group('void', Type.Void(), [
  ['undefined', undefined],
  ['null', null],
  ['empty object', {}],
]);

group('undefined', Type.Undefined(), [
  ['undefined', undefined],
  ['null', null],
]);

group('object with required undefined property', Type.Object({ a: Type.Undefined() }), [
  ['key present with undefined', { a: undefined }],
  ['key absent', {}],
  ['key null', { a: null }],
]);

// --------------------------------------------------------------- literals --
group('literal string', Type.Literal('ok'), [
  ['equal', 'ok'],
  ['different case', 'OK'],
  ['number', 1],
]);

group('literal number', Type.Literal(42), [
  ['equal', 42],
  ['42.0', 42.0],
  ['string', '42'],
  ['other', 43],
]);

group('literal zero', Type.Literal(0), [
  ['zero', 0],
  ['false', false],
  ['null', null],
]);

group('literal boolean', Type.Literal(true), [
  ['true', true],
  ['false', false],
  ['one', 1],
]);

// ------------------------------------------------------------------ enums --
group('enum of strings', Type.Enum(['red', 'green', 'blue']), [
  ['member', 'green'],
  ['non member', 'yellow'],
  ['wrong case', 'Red'],
  ['number', 0],
]);

group('enum from object (mixed values)', Type.Enum({ A: 'a', B: 1 }), [
  ['string member', 'a'],
  ['number member', 1],
  ['key not value', 'A'],
  ['string one', '1'],
]);

// Compiled TypeScript numeric enum: { 0: 'Up', 1: 'Down', Up: 0, Down: 1 }
const Direction = {};
Direction[(Direction.Up = 0)] = 'Up';
Direction[(Direction.Down = 1)] = 'Down';
group('enum from TS numeric enum object', Type.Enum(Direction), [
  ['value 0', 0],
  ['value 1', 1],
  ['name Up', 'Up'],
  ['value 2', 2],
]);

group('union of literals', Type.Union([Type.Literal('a'), Type.Literal('b'), Type.Literal(3)]), [
  ['a', 'a'],
  ['3', 3],
  ['c', 'c'],
  ['string 3', '3'],
]);

// ----------------------------------------------------------------- arrays --
group('array of numbers', Type.Array(N()), [
  ['empty', []],
  ['numbers', [1, 2.5, -3]],
  ['second bad', [1, '2']],
  ['two bad', ['a', 2, null]],
  ['object', {}],
  ['array-like object', { 0: 1, length: 1 }],
  ['bytes', bytes(1, 2)],
  ['string', '12'],
]);

group('array minItems 1 maxItems 3', Type.Array(Type.String(), { minItems: 1, maxItems: 3 }), [
  ['empty', []],
  ['one', ['a']],
  ['three', ['a', 'b', 'c']],
  ['four', ['a', 'b', 'c', 'd']],
  ['four with bad item', ['a', 'b', 'c', 4]],
]);

group('array uniqueItems numbers', Type.Array(N(), { uniqueItems: true }), [
  ['distinct', [1, 2, 3]],
  ['duplicate', [1, 2, 1]],
  ['1 and 1.0', [1, 1.0]],
  ['three copies', [7, 7, 7]],
  ['empty', []],
]);

group('array uniqueItems any', Type.Array(Type.Any(), { uniqueItems: true }), [
  ['objects same keys different order', [{ a: 1, b: 2 }, { b: 2, a: 1 }]],
  ['objects different values', [{ a: 1 }, { a: 2 }]],
  ['object subset', [{ a: 1 }, { a: 1, b: 2 }]],
  ['arrays equal', [[1, 2], [1, 2]]],
  ['arrays different order', [[1, 2], [2, 1]]],
  ['number vs string', [1, '1']],
  ['true vs 1', [true, 1]],
  ['null twice', [null, null]],
  ['empty object vs empty array', [{}, []]],
  ['nested deep equal', [{ a: [{ b: null }] }, { a: [{ b: null }] }]],
  ['nested deep different', [{ a: [{ b: null }] }, { a: [{ b: 0 }] }]],
  ['strings', ['x', 'y', 'x']],
]);

group('array of objects with nested errors', Type.Array(Type.Object({ id: Type.Integer(), tags: Type.Array(S()) })), [
  ['valid', [{ id: 1, tags: [] }, { id: 2, tags: ['x'] }]],
  ['bad id in second', [{ id: 1, tags: [] }, { id: 2.5, tags: [] }]],
  ['bad tag deep', [{ id: 1, tags: ['ok', 3] }]],
  ['missing tags', [{ id: 1 }]],
  ['element null', [null]],
]);

group('array of arrays', Type.Array(Type.Array(Type.Integer(), { maxItems: 2 })), [
  ['valid', [[1, 2], [], [3]]],
  ['inner too long', [[1], [1, 2, 3]]],
  ['inner bad element', [[1, 'x']]],
]);

// ----------------------------------------------------------------- tuples --
group('tuple [number, string]', Type.Tuple([N(), S()]), [
  ['valid', [1, 'a']],
  ['too short', [1]],
  ['too long', [1, 'a', 3]],
  ['swapped', ['a', 1]],
  ['empty', []],
  ['not array', { 0: 1, 1: 'a' }],
]);

group('tuple empty', Type.Tuple([]), [
  ['empty', []],
  ['one element', [1]],
]);

group('tuple with optional element (ignored in 1.x)', Type.Tuple([N(), Type.Optional(S())]), [
  ['both', [1, 'a']],
  ['only first', [1]],
]);

group('tuple of objects', Type.Tuple([Type.Object({ x: N() }), Type.Boolean()]), [
  ['valid', [{ x: 1 }, true]],
  ['nested bad', [{ x: 'no' }, true]],
]);

// ---------------------------------------------------------------- objects --
const Person = Type.Object({ name: S({ minLength: 1 }), age: Type.Integer({ minimum: 0 }) });
group('object required props', Person, [
  ['valid', { name: 'Ann', age: 30 }],
  ['extra key allowed by default', { name: 'Ann', age: 30, extra: true }],
  ['missing age', { name: 'Ann' }],
  ['missing both', {}],
  ['wrong types', { name: 1, age: 'x' }],
  ['empty name negative age', { name: '', age: -1 }],
  ['null', null],
  ['array', []],
  ['string', 'Ann'],
  ['date instance (object with no own keys)', new Date(0)],
]);

group('empty object schema', Type.Object({}), [
  ['empty', {}],
  ['anything', { a: 1 }],
  ['array', []],
  ['null', null],
  ['bytes are an object', bytes(1, 2)],
  ['date is an object', new Date(5)],
]);

group('object additionalProperties false', Type.Object({ a: N() }, { additionalProperties: false }), [
  ['exact', { a: 1 }],
  ['one extra', { a: 1, b: 2 }],
  ['two extra', { a: 1, b: 2, c: 3 }],
  ['missing and extra', { b: 2 }],
  ['extra keys with / and ~', { a: 1, 'x/y': 2, 'z~': 3, '~1': 4 }],
]);

group('object additionalProperties schema', Type.Object({ a: N() }, { additionalProperties: S() }), [
  ['extra string', { a: 1, b: 'x' }],
  ['extra number', { a: 1, b: 2 }],
  ['no extra', { a: 1 }],
]);

group('object min/max properties', Type.Object({ a: Type.Optional(N()), b: Type.Optional(N()), c: Type.Optional(N()) }, { minProperties: 1, maxProperties: 2 }), [
  ['none', {}],
  ['one', { a: 1 }],
  ['two', { a: 1, b: 2 }],
  ['three', { a: 1, b: 2, c: 3 }],
  ['one unknown key counts', { z: 1 }],
]);

group('object optional property', Type.Object({ a: Type.Optional(S()) }), [
  ['absent', {}],
  ['present', { a: 'x' }],
  ['null (not nullable)', { a: null }],
  ['undefined', { a: undefined }],
  ['wrong type', { a: 1 }],
]);

group('object nullable property', Type.Object({ a: Type.Union([S(), Type.Null()]) }), [
  ['null', { a: null }],
  ['string', { a: 'x' }],
  ['absent (still required)', {}],
  ['number', { a: 1 }],
]);

group('object optional nullable property', Type.Object({ a: Type.Optional(Type.Union([S(), Type.Null()])) }), [
  ['absent', {}],
  ['null', { a: null }],
  ['undefined', { a: undefined }],
  ['number', { a: 2 }],
]);

group('object optional + required mix', Type.Object({ id: S(), note: Type.Optional(S()), count: Type.Optional(Type.Integer()) }), [
  ['only required', { id: 'x' }],
  ['all', { id: 'x', note: 'n', count: 1 }],
  ['optional wrong', { id: 'x', count: 1.5 }],
  ['missing required, optional present', { note: 'n' }],
]);

group('object keys needing escaping', Type.Object({ 'a/b': N(), 'c~d': N(), '~1': N(), '': N() }), [
  ['valid', { 'a/b': 1, 'c~d': 2, '~1': 3, '': 4 }],
  ['all missing', {}],
  ['wrong types', { 'a/b': 'x', 'c~d': 'y', '~1': 'z', '': null }],
]);

group('nested object deep errors', Type.Object({
  a: Type.Array(Type.Object({ b: N(), c: Type.Object({ 'd/e': Type.Boolean() }) })),
}), [
  ['valid', { a: [{ b: 1, c: { 'd/e': true } }] }],
  ['bad b at /a/0/b', { a: [{ b: 'x', c: { 'd/e': true } }] }],
  ['bad deep key at /a/1/c/d~1e', { a: [{ b: 1, c: { 'd/e': true } }, { b: 2, c: { 'd/e': 'no' } }] }],
  ['missing deep key', { a: [{ b: 1, c: {} }] }],
  ['many errors', { a: [{ c: 1 }, 'x', { b: null, c: { 'd/e': 0 } }] }],
]);

group('nested additionalProperties false', Type.Object({
  outer: Type.Object({ inner: N() }, { additionalProperties: false }),
}), [
  ['valid', { outer: { inner: 1 } }],
  ['extra inside', { outer: { inner: 1, 'bad/key': 2 } }],
]);

// ---------------------------------------------------------------- records --
group('record string -> number', Type.Record(S(), N()), [
  ['empty', {}],
  ['valid', { a: 1, b: 2 }],
  ['bad value', { a: 1, b: 'x' }],
  ['escaped key bad value', { 'x/y~z': 'bad' }],
  ['array', [1, 2]],
  ['null', null],
  ['bytes (own index keys are numbers)', bytes(1, 2)],
]);

group('record pattern key ^x', Type.Record(S({ pattern: '^x' }), N()), [
  ['matching key', { x1: 1 }],
  ['matching key bad value', { x1: 'no' }],
  ['non-matching key unconstrained', { y: 'anything' }],
]);

group('record number key', Type.Record(N(), S()), [
  ['numeric keys', { 1: 'a', '-2': 'b', '1.5': 'c' }],
  ['numeric key bad value', { 1: 2 }],
  ['non-numeric key unconstrained', { abc: 1 }],
  ['leading zero key unconstrained', { '01': 1 }],
  ['exponent key unconstrained', { '1e3': 1 }],
]);

group('record integer key', Type.Record(Type.Integer(), Type.Boolean()), [
  ['integer key', { 7: true }],
  ['integer key bad', { 7: 'x' }],
  ['fraction key unconstrained', { '1.5': 'x' }],
  ['negative integer key bad', { '-3': 0 }],
]);

group('record literal-union keys (becomes object)', Type.Record(Type.Union([Type.Literal('a'), Type.Literal('b')]), N()), [
  ['both', { a: 1, b: 2 }],
  ['missing b', { a: 1 }],
  ['extra key', { a: 1, b: 2, c: 'x' }],
]);

group('record additionalProperties false', Type.Record(S({ pattern: '^[a-z]+$' }), N(), { additionalProperties: false }), [
  ['matching', { abc: 1 }],
  ['non-matching key', { ABC: 1 }],
  ['non-matching key with slash', { 'a/b': 1 }],
]);

group('record of objects nested errors', Type.Record(S(), Type.Object({ v: Type.Integer() })), [
  ['valid', { k1: { v: 1 } }],
  ['nested', { k1: { v: 1 }, 'k/2': { v: 'x' } }],
  ['missing nested', { k1: {} }],
]);

group('object propertyNames', Type.Object({}, { propertyNames: { pattern: '^[a-z_]+$' } }), [
  ['valid', { ok: 1, also_ok: 2 }],
  ['invalid names', { Ab: 1, 'c/d': 2, ok: 3 }],
  ['empty', {}],
]);

group('object patternProperties + additionalProperties false', Type.Object({ id: S() }, {
  patternProperties: { '^x-': S() },
  additionalProperties: false,
}), [
  ['id only', { id: 'a' }],
  ['pattern prop', { id: 'a', 'x-trace': 't' }],
  ['pattern prop bad value', { id: 'a', 'x-trace': 1 }],
  ['other extra', { id: 'a', y: 1 }],
]);

// ----------------------------------------------------------------- unions --
group('union string | number', Type.Union([S(), N()]), [
  ['string', 'a'],
  ['number', 1],
  ['boolean', true],
  ['null', null],
]);

group('union nested', Type.Union([Type.Union([Type.Literal('a'), Type.Literal('b')]), Type.Union([N({ minimum: 10 }), Type.Null()])]), [
  ['inner literal', 'b'],
  ['inner number', 11],
  ['null', null],
  ['number too small', 5],
  ['other string', 'c'],
]);

const Shape = Type.Union([
  Type.Object({ kind: Type.Literal('circle'), radius: N({ exclusiveMinimum: 0 }) }),
  Type.Object({ kind: Type.Literal('rect'), w: N(), h: N() }),
]);
group('discriminated union of objects', Shape, [
  ['circle', { kind: 'circle', radius: 1 }],
  ['rect', { kind: 'rect', w: 1, h: 2 }],
  ['circle zero radius', { kind: 'circle', radius: 0 }],
  ['unknown kind', { kind: 'tri' }],
  ['rect missing h', { kind: 'rect', w: 1 }],
  ['not object', 'circle'],
]);

group('union empty', Type.Union([]), [
  ['anything', 1],
]);

group('array of union', Type.Array(Type.Union([S(), Type.Object({ n: N() })])), [
  ['mixed valid', ['a', { n: 1 }]],
  ['bad member at index 1', ['a', { n: 'x' }]],
]);

// ------------------------------------------------------------- intersects --
group('intersect of objects', Type.Intersect([Type.Object({ a: N() }), Type.Object({ b: S() })]), [
  ['both', { a: 1, b: 'x' }],
  ['missing b', { a: 1 }],
  ['missing both', {}],
  ['extra allowed', { a: 1, b: 'x', c: true }],
  ['wrong a', { a: 'x', b: 'x' }],
]);

group('intersect unevaluatedProperties false', Type.Intersect([Type.Object({ a: N() }), Type.Object({ b: S() })], { unevaluatedProperties: false }), [
  ['exact', { a: 1, b: 'x' }],
  ['extra', { a: 1, b: 'x', c: 2 }],
  ['extra with slash', { a: 1, b: 'x', 'c/d': 2 }],
]);

group('intersect of string constraints', Type.Intersect([S({ minLength: 2 }), S({ maxLength: 3 })]), [
  ['ok', 'ab'],
  ['too short', 'a'],
  ['too long', 'abcd'],
  ['number', 5],
]);

// ----------------------------------------------------------------- cyclic --
const LinkedList = Type.Cyclic({
  Node: Type.Object({ value: N(), next: Type.Union([Type.Ref('Node'), Type.Null()]) }),
}, 'Node');
group('cyclic linked list', LinkedList, [
  ['single', { value: 1, next: null }],
  ['three deep', { value: 1, next: { value: 2, next: { value: 3, next: null } } }],
  ['bad deep value', { value: 1, next: { value: 2, next: { value: 'x', next: null } } }],
  ['missing next', { value: 1 }],
]);

const Tree = Type.Cyclic({
  Tree: Type.Object({ name: S(), children: Type.Array(Type.Ref('Tree')) }),
}, 'Tree');
group('cyclic tree', Tree, [
  ['leaf', { name: 'a', children: [] }],
  ['nested', { name: 'a', children: [{ name: 'b', children: [{ name: 'c', children: [] }] }] }],
  ['bad nested', { name: 'a', children: [{ name: 'b', children: [{ name: 3, children: [] }] }] }],
]);

// ------------------------------------------------- River custom: Uint8Array --
group('river Uint8Array', riverUint8Array(), [
  ['empty bytes', bytes()],
  ['some bytes', bytes(0, 255, 128)],
  ['number array', [1, 2, 3]],
  ['base64 string', 'AQID'],
  ['null', null],
]);

group('river Uint8Array min 1 max 3', riverUint8Array({ minByteLength: 1, maxByteLength: 3 }), [
  ['0 bytes', bytes()],
  ['1 byte', bytes(1)],
  ['3 bytes', bytes(1, 2, 3)],
  ['4 bytes', bytes(1, 2, 3, 4)],
  ['not bytes', 'abc'],
]);

group('river Uint8Array max 2 in object', Type.Object({ data: riverUint8Array({ maxByteLength: 2 }), name: S() }), [
  ['valid', { data: bytes(9), name: 'f' }],
  ['too long', { data: bytes(1, 2, 3), name: 'f' }],
  ['missing data', { name: 'f' }],
  ['array instead', { data: [1], name: 1 }],
]);

group('array of river Uint8Array', Type.Array(riverUint8Array({ minByteLength: 1 })), [
  ['valid', [bytes(1), bytes(2, 3)]],
  ['second empty', [bytes(1), bytes()]],
]);

// ------------------------------------------------------- River custom: Date --
group('river Date', riverDate(), [
  ['epoch', new Date(0)],
  ['now-ish', new Date(1700000000000)],
  ['invalid date', new Date(NaN)],
  ['iso string', '2024-01-01T00:00:00Z'],
  ['number', 0],
]);

group('river Date bounds', riverDate({ minimumTimestamp: 1000, maximumTimestamp: 2000 }), [
  ['at minimum', new Date(1000)],
  ['below', new Date(999)],
  ['at maximum', new Date(2000)],
  ['above', new Date(2001)],
]);

group('object with optional river Date', Type.Object({ at: Type.Optional(riverDate()) }), [
  ['absent', {}],
  ['date', { at: new Date(1) }],
  ['null', { at: null }],
]);

group('nullable river Uint8Array', Type.Object({ blob: Type.Union([riverUint8Array({ maxByteLength: 1 }), Type.Null()]) }), [
  ['bytes', { blob: bytes(1) }],
  ['null', { blob: null }],
  ['too long', { blob: bytes(1, 2) }],
  ['string', { blob: 'x' }],
]);

// ------------------------------------------ TypeBox error cap (maxErrors 8) --
group('error cap: array of 12 bad items', Type.Array(N()), [
  ['twelve strings', ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l']],
  ['eight strings', ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']],
]);

group('error cap: 10 missing required properties', Type.Object(Object.fromEntries(
  ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9'].map((k) => [k, N()]),
)), [
  ['empty object', {}],
  ['all wrong types', Object.fromEntries(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9'].map((k) => [k, 'x']))],
]);

group('error cap: union of many failing members', Type.Union(
  ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].map((k) => Type.Object({ [k]: N() })),
), [
  ['matches none', { z: 1 }],
  ['matches last', { j: 1 }],
]);

// ------------------------------------- property keys with regex metachars --
group('property key with regex metacharacters + additionalProperties false', Type.Object({ 'a.b': N(), 'c+': Type.Optional(N()) }, { additionalProperties: false }), [
  ['exact', { 'a.b': 1 }],
  ['dot not a wildcard', { 'a.b': 1, axb: 2 }],
  ['plus literal', { 'a.b': 1, 'c+': 2 }],
  ['plus not a quantifier', { 'a.b': 1, cc: 2 }],
]);

group('record template literal key', Type.Record(Type.TemplateLiteral('user-${number}'), S()), [
  ['matching key', { 'user-1': 'a' }],
  ['matching key bad value', { 'user-2': 3 }],
  ['non-matching key unconstrained', { admin: 3 }],
]);

// ------------------------------------------------------- raw const / enum --
group('const object via options', Type.Unknown({ const: { a: [1, 2] } }), [
  ['equal', { a: [1, 2] }],
  ['different', { a: [2, 1] }],
]);

// --------------------------------------------------- River-shaped schemas --
const ReaderErrorLike = Type.Union([
  Type.Object({ code: Type.Literal('UNCAUGHT_ERROR'), message: S() }),
  Type.Object({
    code: Type.Literal('INVALID_REQUEST'),
    message: S(),
    extras: Type.Optional(Type.Object({
      firstValidationErrors: Type.Array(Type.Object({ path: S(), message: S() })),
      totalErrors: N(),
    })),
  }),
]);
group('river-style error union', ReaderErrorLike, [
  ['uncaught', { code: 'UNCAUGHT_ERROR', message: 'boom' }],
  ['invalid request with extras', { code: 'INVALID_REQUEST', message: 'm', extras: { firstValidationErrors: [{ path: '/a', message: 'x' }], totalErrors: 1 } }],
  ['invalid request bad extras', { code: 'INVALID_REQUEST', message: 'm', extras: { firstValidationErrors: [{ path: 1 }], totalErrors: 'one' } }],
  ['unknown code', { code: 'NOPE', message: 'm' }],
]);

group('request payload typical', Type.Object({
  userId: S({ minLength: 1, maxLength: 64 }),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  filter: Type.Optional(Type.Object({ tags: Type.Array(S(), { maxItems: 2, uniqueItems: true }) })),
}), [
  ['minimal', { userId: 'u' }],
  ['full', { userId: 'u', limit: 10, filter: { tags: ['a', 'b'] } }],
  ['several errors', { userId: '', limit: 0, filter: { tags: ['a', 'a', 'b'] } }],
  ['more than five errors', { userId: 5, limit: 1.5, filter: { tags: [1, 2, 3] }, x: null }],
]);

// ---------------------------------------------------------------- output --
if (problems.length > 0) {
  for (const p of problems) console.error(`inconsistent: ${p}`);
  throw new Error(`${problems.length} case(s) where Value.Check disagrees with Value.Errors`);
}

// Every serialized (schema, value) pair must determine the result, or the
// corpus would be contradictory for a validator that only sees JSON.
const seen = new Map();
for (const c of cases) {
  const key = JSON.stringify([c.schema, c.value]);
  const prev = seen.get(key);
  if (prev && (prev.valid !== c.valid || JSON.stringify(prev.errors) !== JSON.stringify(c.errors)))
    throw new Error(`contradictory cases: ${prev.name} vs ${c.name}`);
  seen.set(key, c);
}

// Invisible / combining characters are written as \uXXXX escapes so that
// diffs stay readable (they can only occur inside JSON strings, so this is
// a pure re-spelling of the same JSON text).
const INVISIBLE = /[\u0080-\u00a0\u00ad\u0300-\u036f\u200b-\u200f\u2028\u2029\u2060\ufe00-\ufe0f\ufeff]/g;
const escapeInvisible = (text) =>
  text.replace(INVISIBLE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
const lines = cases.map((c) => `    ${escapeInvisible(JSON.stringify(c))}`);
process.stdout.write(
  '{\n' +
  `  "typebox": ${JSON.stringify(TYPEBOX_VERSION)},\n` +
  `  "convention": ${JSON.stringify(CONVENTION)},\n` +
  `  "count": ${JSON.stringify({ total: cases.length, valid: cases.filter((c) => c.valid).length, invalid: cases.filter((c) => !c.valid).length })},\n` +
  '  "cases": [\n' +
  lines.join(',\n') +
  '\n  ]\n}\n',
);
console.error(`recorded ${cases.length} cases with typebox ${TYPEBOX_VERSION}`);
