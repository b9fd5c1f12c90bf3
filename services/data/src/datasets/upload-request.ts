import type { FastifyRequest } from 'fastify';
import { Compile } from 'typebox/compile';
import { AppError } from '@datalab/platform';
import { UploadOptions } from './datasets.schemas.ts';
import type { UploadedFile } from './datasets.service.ts';

const checkOptions = Compile(UploadOptions);

/**
 * The upload's options (query parameters, and multipart fields sent before the
 * file — curl -F keeps the order) and the file as a stream, never buffered.
 */
export async function readUpload(
  request: FastifyRequest,
  maxBytes: number,
): Promise<{ options: UploadOptions; file: UploadedFile }> {
  if (!request.isMultipart()) {
    throw new AppError('invalid', 'Send the file as multipart/form-data in a field named "file"', {
      errors: [{ field: 'file', message: 'is missing' }],
    });
  }
  const part = await request.file({ limits: { fileSize: maxBytes, fields: 30, files: 1 } });
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
  // Past the limit busboy just stops the stream short; make that an error, so nothing half-loaded is kept.
  part.file.once('limit', () => {
    part.file.destroy(new AppError('too_large', `The file is larger than the ${maxBytes} bytes allowed`));
  });
  return { options: fields, file: { stream: part.file, filename: part.filename } };
}
