import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, startStack, type Stack } from './stack.ts';

/** API1:2023 Broken Object Level Authorization — another user's private dataset does not exist for them. */
describe('another user’s private dataset', () => {
  let stack: Stack;
  let owner: string;
  let stranger: string;
  let viewer: string;
  let datasetId: string;

  beforeAll(async () => {
    stack = await startStack();
    owner = (await stack.signedIn('editor')).token;
    stranger = (await stack.signedIn('editor')).token;
    viewer = (await stack.signedIn('viewer')).token;
    const form = new FormData();
    form.append('name', `secret_${Date.now()}`);
    form.append('file', new Blob(['id,salary\n1,100\n2,200\n']), 'secret.csv');
    const created = await fetch(`${stack.url}/api/v1/data/datasets`, {
      method: 'POST',
      headers: bearer(owner),
      body: form,
    });
    expect(created.status).toBe(201);
    datasetId = ((await created.json()) as { dataset: { id: string } }).dataset.id;
  });
  afterAll(() => stack?.close());

  it.each(['', '/rows', '/profile', '/export?format=csv', '/versions'])(
    'answers 404 to another editor and to a viewer at GET …%s',
    async (suffix) => {
      for (const token of [stranger, viewer]) {
        const response = await fetch(`${stack.url}/api/v1/data/datasets/${datasetId}${suffix}`, {
          headers: bearer(token),
        });
        await expectProblem(response, 404);
      }
    },
  );

  it('cannot be renamed or deleted by another editor, and is unchanged afterwards', async () => {
    const patch = await fetch(`${stack.url}/api/v1/data/datasets/${datasetId}`, {
      method: 'PATCH',
      headers: bearer(stranger, true),
      body: JSON.stringify({ name: `stolen_${Date.now()}`, description: 'mine now' }),
    });
    await expectProblem(patch, 404);
    await expectProblem(
      await fetch(`${stack.url}/api/v1/data/datasets/${datasetId}`, {
        method: 'DELETE',
        headers: bearer(stranger),
      }),
      404,
    );
    const still = await fetch(`${stack.url}/api/v1/data/datasets/${datasetId}`, { headers: bearer(owner) });
    expect(still.status).toBe(200);
    const kept = (await still.json()) as { name: string; description: string | null };
    expect(kept.name).not.toMatch(/^stolen_/);
    expect(kept.description).not.toBe('mine now');
  });

  it('cannot be read through SQL by another editor: it is as unknown as a name nobody used', async () => {
    const ask = (name: string) =>
      fetch(`${stack.url}/api/v1/data/query`, {
        method: 'POST',
        headers: bearer(stranger, true),
        body: JSON.stringify({ sql: `SELECT salary FROM "${name}"` }),
      });
    const hidden = await expectProblem(await ask(datasetId), 404);
    const unknown = await expectProblem(await ask('00000000-0000-4000-8000-000000000000'), 404);
    expect(hidden.detail).toBe(`Dataset "${datasetId}" not found`);
    expect(unknown.detail).toBe('Dataset "00000000-0000-4000-8000-000000000000" not found');
    stack.assertAlive();
  });
});
