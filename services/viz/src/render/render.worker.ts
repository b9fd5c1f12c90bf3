import { parentPort } from 'node:worker_threads';
import { AppError } from '@datalab/platform';
import type { ChartSpec } from '../charts/charts.spec.ts';
import { renderSvg, type EngineLimits, type SvgChart } from './render.engine.ts';
import { encode, resize, type ImageFormat, type OutputSize } from './render.output.ts';

/** What the pool asks a render thread to do. */
export type WorkerTask =
  | {
      kind: 'chart';
      spec: ChartSpec;
      pointer: string;
      format: ImageFormat;
      size: OutputSize;
      limits: EngineLimits;
      maxPixels: number;
    }
  | { kind: 'svg'; spec: ChartSpec; pointer: string; limits: EngineLimits }
  | { kind: 'encode'; chart: SvgChart; format: ImageFormat; size: OutputSize; maxPixels: number };

export type WorkerReply =
  | { id: number; ok: true; bytes?: Uint8Array; chart?: SvgChart }
  | {
      id: number;
      ok: false;
      kind: AppError['kind'] | 'internal';
      message: string;
      errors?: AppError['errors'];
    };

async function run(task: WorkerTask): Promise<{ bytes?: Uint8Array; chart?: SvgChart }> {
  switch (task.kind) {
    case 'chart': {
      const chart = await renderSvg(task.spec, task.limits, task.pointer);
      return { bytes: await encode(resize(chart, task.size, task.maxPixels), task.format) };
    }
    case 'svg':
      return { chart: await renderSvg(task.spec, task.limits, task.pointer) };
    case 'encode':
      return { bytes: await encode(resize(task.chart, task.size, task.maxPixels), task.format) };
  }
}

parentPort?.postMessage('ready');
parentPort?.on('message', (message: { id: number; task: WorkerTask }) => {
  void run(message.task).then(
    (result) => {
      const reply: WorkerReply = { id: message.id, ok: true, ...result };
      parentPort!.postMessage(reply, result.bytes ? [result.bytes.buffer as ArrayBuffer] : []);
    },
    (error: unknown) => {
      const reply: WorkerReply =
        error instanceof AppError
          ? {
              id: message.id,
              ok: false,
              kind: error.kind,
              message: error.message,
              ...(error.errors ? { errors: error.errors } : {}),
            }
          : { id: message.id, ok: false, kind: 'internal', message: (error as Error).message };
      parentPort!.postMessage(reply);
    },
  );
});
