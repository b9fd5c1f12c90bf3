import type { FastifyRequest } from 'fastify';
import { Compile } from 'typebox/compile';
import { AppError } from '@datalab/platform';
import { UploadFields } from './models.schemas.ts';

const checkFields = Compile(UploadFields);

/** The .onnx file of a multipart upload (fields first, then `file`), read whole: onnxruntime loads from memory. */
export async function readModelUpload(
  request: FastifyRequest,
  maxBytes: number,
): Promise<{ fields: UploadFields; bytes: Buffer; filename: string }> {
  if (!request.isMultipart()) {
    throw new AppError('invalid', 'Send the model as multipart/form-data in a field named "file"', {
      errors: [{ field: 'file', message: 'is missing' }],
    });
  }
  const part = await request.file({ limits: { fileSize: maxBytes, fields: 10, files: 1 } });
  if (!part || part.fieldname !== 'file') {
    throw new AppError('invalid', 'No file: send the .onnx file in a multipart field named "file"', {
      errors: [{ field: 'file', message: 'is missing' }],
    });
  }
  const fields: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(part.fields)) {
    const value = Array.isArray(field) ? field[0] : field;
    if (value && value.type === 'field') fields[name] = value.value;
  }
  if (!checkFields.Check(fields)) {
    part.file.resume();
    const errors = [...checkFields.Errors(fields)].map((error) => ({
      field: error.instancePath.replace(/^\//, '') || 'fields',
      message: error.message,
    }));
    throw new AppError(
      'invalid',
      `Upload fields are invalid: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`,
      {
        errors,
      },
    );
  }
  const chunks: Buffer[] = [];
  for await (const chunk of part.file) chunks.push(chunk as Buffer);
  if (part.file.truncated) {
    throw new AppError(
      'too_large',
      `The file is larger than the ${maxBytes} bytes allowed (AI_MAX_MODEL_BYTES)`,
      {
        errors: [{ field: 'file', message: `is larger than ${maxBytes} bytes` }],
      },
    );
  }
  const bytes = Buffer.concat(chunks);
  if (bytes.byteLength === 0)
    throw new AppError('invalid', 'The file is empty', { errors: [{ field: 'file', message: 'is empty' }] });
  return { fields, bytes, filename: part.filename };
}
