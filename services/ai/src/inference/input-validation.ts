import type { ProblemFieldError } from '@datalab/contracts';
import { AppError } from '@datalab/platform';
import type { FieldSpec, IoSchema } from '../models/models.schemas.ts';
import type { Row } from './loaded-model.ts';

/** Enough to fix a request; a million bad cells would only make the answer huge. */
const MAX_ERRORS = 20;

const INTEGER_RANGES: Record<string, [number, number]> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

function elementProblem(value: unknown, dtype: string): string | undefined {
  if (dtype === 'bool') return typeof value === 'boolean' ? undefined : 'must be true or false';
  if (typeof value !== 'number' || !Number.isFinite(value)) return `must be a finite number (${dtype})`;
  const range = INTEGER_RANGES[dtype];
  if (range && (!Number.isInteger(value) || value < range[0] || value > range[1]))
    return `must be an integer in [${range[0]}, ${range[1]}] (${dtype})`;
  return undefined;
}

/** Checks one tensor value: nested arrays of the field's per-row shape, every element of its type. */
function checkTensor(value: unknown, field: FieldSpec, path: string, errors: ProblemFieldError[]): void {
  const shape = field.shape ?? [];
  const dims: number[] = [];
  const walk = (node: unknown, depth: number, at: string): void => {
    if (errors.length >= MAX_ERRORS) return;
    if (depth === shape.length) {
      const problem = elementProblem(node, field.dtype ?? 'float32');
      if (problem) errors.push({ field: at, message: problem });
      return;
    }
    const expected = shape[depth] ?? null;
    if (!Array.isArray(node)) {
      errors.push({
        field: at,
        message: `must be an array (shape [${shape.map((d) => d ?? '*').join(', ')}])`,
      });
      return;
    }
    // A free dimension takes its size from the first array met at that depth; the rest must agree.
    dims[depth] ??= expected ?? node.length;
    if (node.length !== dims[depth]) {
      errors.push({ field: at, message: `must have ${dims[depth]} values, not ${node.length}` });
      return;
    }
    node.forEach((item, i) => walk(item, depth + 1, `${at}/${i}`));
  };
  walk(value, 0, path);
}

function checkScalar(value: unknown, field: FieldSpec, path: string, errors: ProblemFieldError[]): void {
  if (value === null || value === undefined) {
    if (!field.nullable) errors.push({ field: path, message: 'is required' });
    return;
  }
  if (field.type === 'number' && (typeof value !== 'number' || !Number.isFinite(value)))
    errors.push({ field: path, message: 'must be a finite number' });
  if (field.type === 'string' && !['string', 'number', 'boolean'].includes(typeof value))
    errors.push({ field: path, message: 'must be a string' });
}

/** Every row checked against the model's input schema: 400 naming each field at fault (`/body/rows/<i>/<name>`). */
export function validateRows(schema: IoSchema, rows: readonly unknown[]): Row[] {
  const errors: ProblemFieldError[] = [];
  const known = new Set(schema.fields.map((field) => field.name));
  rows.forEach((row, i) => {
    if (errors.length >= MAX_ERRORS) return;
    const at = `/body/rows/${i}`;
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      errors.push({ field: at, message: 'must be an object of input name → value' });
      return;
    }
    const values = row as Record<string, unknown>;
    for (const field of schema.fields) {
      const value = values[field.name];
      const path = `${at}/${field.name}`;
      if (field.type === 'tensor') {
        if (value === undefined || value === null) errors.push({ field: path, message: 'is required' });
        else checkTensor(value, field, path, errors);
      } else checkScalar(value, field, path, errors);
    }
    for (const name of Object.keys(values))
      if (!known.has(name)) errors.push({ field: `${at}/${name}`, message: 'is not an input of this model' });
  });
  if (errors.length > 0) {
    throw new AppError(
      'invalid',
      `Rows do not match the model's input schema: ${errors
        .slice(0, 3)
        .map((error) => `${error.field} ${error.message}`)
        .join('; ')}${errors.length > 3 ? '; …' : ''}`,
      { errors: errors.slice(0, MAX_ERRORS) },
    );
  }
  return rows as Row[];
}
