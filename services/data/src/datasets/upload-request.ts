import type { FastifyRequest } from 'fastify';
import { Compile } from 'typebox/compile';
import { AppError } from '@datalab/platform';
import { UploadOptions } from './datasets.schemas.ts';
import type { UploadedFile } from './datasets.service.ts';
import { spoolUpload, type UploadLimits } from './upload-spool.ts';

const checkOptions = Compile(UploadOptions);

/**
 * The upload's options (query parameters, and multipart fields sent before the
 * file — curl -F keeps the order) and the file, received whole into a temporary
 * file (never into memory): `remove` deletes it once the upload is answered.
 */
export async function readUpload(
  request: FastifyRequest,
  limits: UploadLimits,
): Promise<{ options: UploadOptions; file: UploadedFile; remove: () => Promise<void> }> {
  if (!request.isMultipart()) {
    throw new AppError('invalid', 'Send the file as multipart/form-data in a field named "file"', {
      errors: [{ field: 'file', message: 'is missing' }],
    });
  }
  const part = await request.file({ limits: { fileSize: limits.maxBytes, fields: 30, files: 1 } });
  if (!part || part.fieldname !== 'file') {
    throw new AppError('invalid', 'No file: send it in a multipart field named "file"', {
      errors: [{ field: 'file', message: 'is missing' }],
    });
  }
  const fields: Record<string, unknown> = { ...(request.query as Record<string, unknown>) };
  for (const [name, field] of Object.entries(part.fields)) {
    const value = Array.isArray(field) ? field[0] : field;
    if (value && value.type === 'field') fields[name] = value.value;
  }
  if (!checkOptions.Check(fields)) {
    const errors = [...checkOptions.Errors(fields)].map((error) => ({
      field: error.instancePath.replace(/^\//, '') || 'options',
      message: error.message,
    }));
    part.file.resume();
    throw new AppError(
      'invalid',
      `Upload options are invalid: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`,
      {
        errors,
      },
    );
  }
  const spooled = await spoolUpload(part.file, limits);
  return {
    options: fields,
    file: { stream: spooled.open(), filename: part.filename },
    remove: () => spooled.remove(),
  };
}
