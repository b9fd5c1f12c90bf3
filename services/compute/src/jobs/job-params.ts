import { Compile, type Validator } from 'typebox/compile';
import { Value } from 'typebox/value';
import type { ProblemFieldError } from '@datalab/contracts';
import { AppError } from '@datalab/platform';
import type { JobType } from '@datalab/platform';
import type { JobTypeRegistry } from '../job-types/registry.ts';

/** TypeBox says "schema is false" for a key the schema does not allow; a person needs more. */
function messageOf(error: { keyword: string; message: string }): string {
  return error.keyword === 'boolean' ? 'is not a parameter of this job type' : error.message;
}

/** The type called `name`, or 400 naming `field` (`/body/type` for a job, `/body/job/type` for a schedule). */
export function knownType(types: JobTypeRegistry, name: string, field = '/body/type'): JobType {
  const type = types.get(name);
  if (type) return type;
  const known = types.names().join(', ');
  throw new AppError('invalid', `Unknown job type "${name}" (known: ${known})`, {
    errors: [{ field, message: `must be one of: ${known}` }],
  });
}

/** Each type's params schema compiled once: checking params that fit is then a plain function call. */
const compiled = new WeakMap<JobType['params'], Validator>();

function fits(type: JobType, params: Record<string, unknown>): boolean {
  let validator = compiled.get(type.params);
  if (!validator) {
    validator = Compile(type.params);
    compiled.set(type.params, validator);
  }
  return validator.Check(params);
}

/** The params if they fit the type's schema; otherwise 400 naming each field at fault under `field`. */
export function checkParams(
  type: JobType,
  params: Record<string, unknown>,
  field = '/body/params',
): Record<string, unknown> {
  if (fits(type, params)) return params;
  const errors: ProblemFieldError[] = [...Value.Errors(type.params, params)]
    // The parent's "must not have additional properties" repeats what the key's own error says.
    .filter((error) => error.keyword !== 'additionalProperties')
    .map((error) => ({ field: `${field}${error.instancePath}`, message: messageOf(error) }));
  if (errors.length === 0) return params;
  throw new AppError(
    'invalid',
    `Params do not fit job type "${type.type}": ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`,
    { errors },
  );
}
