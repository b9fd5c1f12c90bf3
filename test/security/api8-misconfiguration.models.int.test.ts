import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../helpers.ts';
import { repoRoot } from '../processes.ts';
import { fileReadingModel, plusOneModel } from './onnx-bytes.ts';
import { bearer, expectProblem, startStack, type Stack } from './stack.ts';

/**
 * API8:2023 Security Misconfiguration — files a model could read. onnxruntime follows an ONNX
 * tensor's "external data" location to any file, relative to the process's working directory.
 * Issue 17: an editor uploaded a Cast + Mul model whose weight "lived" in the gateway's private
 * key, and /predict answered the key one byte per number; with it anyone can sign admin tokens.
 */

const MODELS = '/api/v1/ai/models';

describe('a model whose weights point at the server’s files', () => {
  let stack: Stack;
  let editor: string;
  // As `npm start` keeps it: a data directory relative to the working directory, `./.datalab`.
  const dataDir = path.join('.datalab', uniqueName('security'));
  const keyFile = path.join(dataDir, 'keys', 'auth-ed25519.pem');

  beforeAll(async () => {
    stack = await startStack({ DATALAB_DATA_DIR: dataDir });
    editor = (await stack.signedIn('editor')).token;
  }, 180_000);
  afterAll(async () => {
    await stack?.close();
    await rm(path.join(repoRoot, dataDir), { recursive: true, force: true });
  });

  const upload = (bytes: Uint8Array, name: string) => {
    const form = new FormData();
    form.append('name', name);
    form.append('file', new Blob([bytes]), `${name}.onnx`);
    return fetch(`${stack.url}${MODELS}/onnx`, { method: 'POST', headers: bearer(editor), body: form });
  };

  const modelCount = async (): Promise<number> => {
    const response = await fetch(`${stack.url}${MODELS}`, { headers: bearer(editor) });
    expect(response.status).toBe(200);
    return ((await response.json()) as { total: number }).total;
  };

  it('refuses the key-reading model of issue 17, however the key’s path is written, before it runs', async () => {
    const key = await readFile(keyFile);
    const before = await modelCount();
    // The process runs in the repository: the key is reachable relative to it, and absolutely.
    for (const location of [
      path.relative(repoRoot, keyFile),
      `./${path.relative(repoRoot, keyFile)}`,
      keyFile,
    ]) {
      const response = await upload(fileReadingModel(location, key.length), 'key-reader');
      const problem = await expectProblem(response, 400);
      expect(problem.detail).toMatch(
        /Tensor graph\.initializer\[0\] "K" keeps its data outside the model file/,
      );
      expect(problem.detail).toContain(location);
      expect(problem.errors).toEqual([
        { field: 'file', message: 'graph.initializer[0] "K": refers to external data' },
      ]);
    }
    expect(await modelCount()).toBe(before);
    stack.assertAlive();
  });

  it('still takes an ordinary model and serves it', async () => {
    const response = await upload(plusOneModel(), 'plus-one');
    expect(response.status).toBe(201);
    const { model_id: id } = (await response.json()) as { model_id: string };
    const predicted = await fetch(`${stack.url}${MODELS}/${id}/predict`, {
      method: 'POST',
      headers: bearer(editor, true),
      body: JSON.stringify({ rows: [{ x: [41] }] }),
    });
    expect(predicted.status).toBe(200);
    expect(await predicted.json()).toMatchObject({ predictions: [{ y: [42] }] });
  });
});
