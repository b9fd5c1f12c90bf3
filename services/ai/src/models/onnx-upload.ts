import type { Principal } from '@datalab/platform';
import { loadOnnxModel, type OnnxRuntimeOptions } from '../inference/onnx-model.ts';
import type { ModelVersion, UploadFields } from './models.schemas.ts';
import type { ModelsService } from './models.service.ts';

/** An uploaded .onnx file: loaded once to prove it runs and to read its inputs and outputs, then stored. */
export function createOnnxUploads(models: ModelsService, runtime: OnnxRuntimeOptions) {
  return {
    async upload(
      principal: Principal,
      { fields, bytes, filename }: { fields: UploadFields; bytes: Buffer; filename: string },
    ): Promise<ModelVersion> {
      const target = fields.model_id
        ? { modelId: fields.model_id }
        : {
            name: fields.name ?? (filename.replace(/\.onnx$/i, '') || 'model'),
            description: fields.description ?? '',
            visibility: fields.visibility ?? 'private',
          };
      await models.assertCanPublish(principal, target);
      const loaded = await loadOnnxModel(bytes, runtime);
      await loaded.release();
      return models.publish(
        principal,
        target,
        {
          kind: 'onnx',
          algorithm: 'onnx',
          task: 'onnx',
          inputSchema: loaded.inputSchema,
          outputSchema: loaded.outputSchema,
          metrics: {},
          lineage: { uploaded_file: filename, uploaded_by: principal.userId },
        },
        bytes,
      );
    },
  };
}

export type OnnxUploads = ReturnType<typeof createOnnxUploads>;
