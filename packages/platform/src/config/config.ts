/**
 * Typed configuration: each field names its environment variable, documents
 * itself, carries its default and parses its raw string. `loadConfig` reads
 * them all once and fails fast naming the variable at fault.
 */

export type Env = Readonly<Record<string, string | undefined>>;

export interface Field<T> {
  /** Environment variable read for this field. */
  readonly env: string;
  /** One line for the README's configuration table. */
  readonly doc: string;
  /** Shown in the README; `undefined` means the field is optional and unset by default. */
  readonly defaultText: string;
  readonly default: T;
  readonly parse: (raw: string) => T;
}

export type ConfigSchema = Readonly<Record<string, Field<unknown>>>;
export type ConfigOf<S extends ConfigSchema> = {
  readonly [K in keyof S]: S[K] extends Field<infer T> ? T : never;
};

/** A configuration variable that is present but wrong. The message is one line meant for a person. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig<S extends ConfigSchema>(schema: S, env: Env): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(schema)) {
    const raw = env[field.env];
    // A variable set to blanks (`PORT=` or `PORT=" "` in a compose file) means "not set", not "invalid".
    if (raw === undefined || raw.trim() === '') {
      out[key] = field.default;
      continue;
    }
    try {
      out[key] = field.parse(raw.trim());
    } catch (error) {
      const problem = error instanceof Error ? error.message : String(error);
      throw new ConfigError(field.env, `${problem} (got ${JSON.stringify(truncate(redact(raw)))})`);
    }
  }
  return Object.freeze(out) as ConfigOf<S>;
}

/** The message ends up in logs: a URL's password is replaced before the value is echoed. */
function redact(raw: string): string {
  return raw.replace(/(\/\/[^/?#@\s:]*:)[^/?#@\s]*@/g, '$1***@');
}

function truncate(raw: string): string {
  return raw.length > 80 ? `${raw.slice(0, 77)}...` : raw;
}

function field<T>(
  env: string,
  doc: string,
  fallback: T,
  parse: (raw: string) => T,
  defaultText?: string,
): Field<T> {
  return { env, doc, default: fallback, parse, defaultText: defaultText ?? (String(fallback) || '(empty)') };
}

function parseInteger(raw: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(raw)) throw new Error(`must be a whole number between ${min} and ${max}`);
  const value = Number(raw);
  if (value < min || value > max) throw new Error(`must be a whole number between ${min} and ${max}`);
  return value;
}

function parseUrl(raw: string, protocols: readonly string[]): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`must be a URL (${protocols.join(', ')})`);
  }
  if (!protocols.includes(url.protocol.replace(/:$/, ''))) {
    throw new Error(`must use one of the schemes ${protocols.join(', ')}`);
  }
  return raw;
}

/** Field constructors. Each takes the variable, a one-line doc and the default. */
export const f = {
  string: (env: string, doc: string, fallback: string) => field(env, doc, fallback, (raw) => raw),

  optionalString: (env: string, doc: string) =>
    field<string | undefined>(env, doc, undefined, (raw) => raw, '(unset)'),

  integer: (env: string, doc: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
    field(env, doc, fallback, (raw) => parseInteger(raw, min, max)),

  port: (env: string, doc: string, fallback: number) =>
    field(env, doc, fallback, (raw) => parseInteger(raw, 0, 65535)),

  optionalPort: (env: string, doc: string, defaultText: string) =>
    field<number | undefined>(env, doc, undefined, (raw) => parseInteger(raw, 0, 65535), defaultText),

  boolean: (env: string, doc: string, fallback: boolean) =>
    field(env, doc, fallback, (raw) => {
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      throw new Error('must be true or false');
    }),

  oneOf: <const T extends string>(env: string, doc: string, fallback: T, choices: readonly T[]) =>
    field(env, doc, fallback, (raw) => {
      if (!(choices as readonly string[]).includes(raw))
        throw new Error(`must be one of ${choices.join(', ')}`);
      return raw as T;
    }),

  url: (env: string, doc: string, fallback: string, protocols: readonly string[]) =>
    field(env, doc, fallback, (raw) => parseUrl(raw, protocols)),

  optionalUrl: (env: string, doc: string, protocols: readonly string[]) =>
    field<string | undefined>(env, doc, undefined, (raw) => parseUrl(raw, protocols), '(unset)'),

  /** Comma-separated URLs; each one validated. */
  urlList: (env: string, doc: string, fallback: readonly string[], protocols: readonly string[]) =>
    field<readonly string[]>(
      env,
      doc,
      fallback,
      (raw) =>
        raw
          .split(',')
          .map((part) => part.trim())
          .filter((part) => part !== '')
          .map((part) => parseUrl(part, protocols)),
      fallback.join(','),
    ),

  /** Comma-separated `host:port` pairs. */
  hostPortList: (env: string, doc: string) =>
    field<readonly { host: string; port: number }[]>(
      env,
      doc,
      [],
      (raw) =>
        raw
          .split(',')
          .filter((part) => part.trim() !== '')
          .map((part) => {
            const match = /^\s*([^:\s]+):(\d+)\s*$/.exec(part);
            if (!match?.[1] || !match[2]) throw new Error('must be a comma-separated list of host:port');
            return { host: match[1], port: parseInteger(match[2], 1, 65535) };
          }),
      '(unset)',
    ),
};
