import { describe, expect, it } from 'vitest';
import type { Principal } from '@datalab/platform';
import type { ModelsRepository, VersionRow } from '../models/models.repository.ts';
import { createVersionLookup } from './version-lookup.ts';

const owner: Principal = { userId: 'u1', role: 'editor', email: 'owner@example.com' } as Principal;

/** A repository whose versions carry a schema of about `bytes` bytes in memory, counting its reads. */
function repository(bytes: number) {
  let reads = 0;
  const resolve: ModelsRepository['resolve'] = async (modelId) => {
    reads += 1;
    const version = { model_id: modelId, version: 1, input_schema: { doc: 'x'.repeat(bytes / 2) } };
    return { owner_id: owner.userId, visibility: 'private', version: version as unknown as VersionRow };
  };
  return { repository: { resolve } as ModelsRepository, reads: () => reads };
}

describe('the version lookup', () => {
  it('remembers versions within a byte budget: many large ones push out the oldest', async () => {
    const source = repository(1024 * 1024);
    const lookup = createVersionLookup(source.repository, 60_000);
    for (let i = 0; i < 40; i++) await lookup.resolve(owner, `model-${i}`, undefined);
    await lookup.resolve(owner, 'model-39', undefined);
    expect(source.reads()).toBe(40);
    await lookup.resolve(owner, 'model-0', undefined);
    expect(source.reads()).toBe(41);
  });

  it('forgets a model at once when told it changed', async () => {
    const source = repository(100);
    const lookup = createVersionLookup(source.repository, 60_000);
    await lookup.resolve(owner, 'model-a', undefined);
    await lookup.resolve(owner, 'model-a', undefined);
    expect(source.reads()).toBe(1);
    lookup.forget('model-a');
    await lookup.resolve(owner, 'model-a', undefined);
    expect(source.reads()).toBe(2);
  });
});
