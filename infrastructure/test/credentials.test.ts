import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '../../test/processes.ts';
import { CREDENTIAL_NAME, CREDENTIAL_VALUE } from './lib/config-variables.ts';

/** Every deployment file in git's view of these folders (local secrets are git-ignored and skipped). */
function files(folder: string): string[] {
  const absolute = path.join(repoRoot, folder);
  return readdirSync(absolute).flatMap((name) => {
    const relative = path.posix.join(folder, name);
    if (['infrastructure/test', 'infrastructure/secrets', 'infrastructure/.env'].includes(relative))
      return [];
    return statSync(path.join(repoRoot, relative)).isDirectory() ? files(relative) : [relative];
  });
}

/** Keys of every mapping in a YAML document, with their scalar values. */
function* scalars(node: unknown): Generator<[string, unknown]> {
  if (Array.isArray(node)) for (const item of node) yield* scalars(item);
  else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (value === null || typeof value !== 'object') yield [key, value];
      else yield* scalars(value);
    }
  }
}

const all = [...files('infrastructure'), ...files('.github'), '.dockerignore'];

describe('no credential is written in any deployment file', () => {
  it('holds no private key and no URL with a password', () => {
    expect(all.length).toBeGreaterThan(20);
    const offending = all.filter((file) =>
      CREDENTIAL_VALUE.test(readFileSync(path.join(repoRoot, file), 'utf8')),
    );
    expect(offending).toEqual([]);
  });

  it('gives credential-named settings no literal value: only ${…} interpolation, secret references or files', () => {
    // `{{ .key }}`: an ExternalSecret template naming a value fetched from the secret manager.
    const literal = (value: unknown) =>
      typeof value === 'string' &&
      value !== '' &&
      !/^\$[({]/.test(value) &&
      !/^\{\{ *\.[A-Za-z_]+ *\}\}$/.test(value) &&
      !value.startsWith('/run/secrets/');
    const problems: string[] = [];
    for (const file of all.filter((f) => /\.ya?ml$/.test(f))) {
      for (const document of parseAllDocuments(readFileSync(path.join(repoRoot, file), 'utf8'))) {
        const object = document.toJS({ maxAliasCount: -1 }) as unknown;
        const asObject = object as { kind?: string; data?: unknown; stringData?: unknown } | null;
        if (asObject?.kind === 'Secret' && (asObject.data ?? asObject.stringData) !== undefined) {
          problems.push(`${file}: a Secret with data`);
        }
        for (const [key, value] of scalars(object)) {
          if (
            /^[A-Z0-9_]+$/.test(key) &&
            CREDENTIAL_NAME.test(key) &&
            !key.endsWith('_FILE') &&
            literal(value)
          ) {
            // A URL is a credential only when it carries a password that is not interpolated.
            if (/_URL$/.test(key) && !/:\/\/[^/:@]*:(?!\$[{(])[^/@]*@/.test(String(value))) continue;
            problems.push(`${file}: ${key}`);
          }
          if (/^(password|token|secret|api_?key)$/i.test(key) && literal(value))
            problems.push(`${file}: ${key}`);
        }
      }
    }
    for (const file of all.filter((f) => /(^|\/)\.env[^/]*$/.test(f))) {
      for (const [, key, value] of readFileSync(path.join(repoRoot, file), 'utf8').matchAll(
        /^([A-Z0-9_]+)=(.*)$/gm,
      )) {
        if (CREDENTIAL_NAME.test(key!) && value !== '') problems.push(`${file}: ${key}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
