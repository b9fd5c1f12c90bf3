import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { repoRoot } from '../../../test/processes.ts';

/**
 * CloudNativePG's Cluster and ScheduledBackup checked against the OpenAPI schema of the operator's
 * CRDs (infrastructure/test/schemas/postgresql.cnpg.io-v1.yaml says what was copied and why): no
 * kubernetes-models package exists for postgresql.cnpg.io. Ajv compiles the schema as JSON Schema;
 * OpenAPI's `format: int32`-style annotations are left out of the copy, x-kubernetes-* are not used.
 */
const schemas = parse(
  readFileSync(path.join(repoRoot, 'infrastructure/test/schemas/postgresql.cnpg.io-v1.yaml'), 'utf8'),
  { merge: true },
) as Record<string, object>;

const ajv = new Ajv({ allErrors: true, strict: true });
const validators = new Map<string, ValidateFunction>(
  Object.entries(schemas).map(([kind, schema]) => [kind, ajv.compile(schema)]),
);

export const CNPG_KINDS = [...validators.keys()];

/** Throws with every schema complaint (path and message) about a postgresql.cnpg.io/v1 object. */
export function validateCnpg(object: { kind: string }): void {
  const validate = validators.get(object.kind);
  if (!validate) throw new Error(`no CloudNativePG schema for ${object.kind}`);
  if (!validate(object)) {
    const problems = (validate.errors ?? []).map(
      (error) => `${error.instancePath || '/'} ${error.message ?? ''}${formatParams(error.params)}`,
    );
    throw new Error(problems.join('; '));
  }
}

function formatParams(params: Record<string, unknown>): string {
  if ('additionalProperty' in params) return ` (${String(params.additionalProperty)})`;
  if ('allowedValues' in params) return ` (${(params.allowedValues as unknown[]).join(', ')})`;
  return '';
}
