import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '@datalab/contracts';
import {
  generateSigningKey,
  INTERNAL_TOKEN_HEADER,
  PROBLEM_CONTENT_TYPE,
  signInternalToken,
  startService,
  type Platform,
  type Principal,
  type Role,
  type RunningService,
} from '@datalab/platform';
import { testEnv, testPlatform, uniqueName } from '../../../../test/helpers.ts';
import { vizService } from '../definition.ts';
import type { Chart, ChartList } from './charts.schemas.ts';

const CHARTS = '/api/v1/viz/charts';

const SPEC = {
  $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
  data: { values: [{ city: 'Lyon', rain: 831 }] },
  mark: 'bar',
  encoding: { x: { field: 'city', type: 'nominal' }, y: { field: 'rain', type: 'quantitative' } },
};

let platform: Platform;
let viz: RunningService;
const admin = person('admin');
const made: string[] = [];

function person(role: Role): Principal {
  return { kind: 'user', userId: randomUUID(), email: `${uniqueName(role)}@example.test`, role };
}

interface Answer<T> {
  status: number;
  type: string;
  body: T;
}

/** Calls the running service as `as` would arrive from the gateway, or with the `token` given. */
async function call<T = Problem>(
  method: string,
  path: string,
  options: { as?: Principal; token?: string; body?: unknown } = {},
): Promise<Answer<T>> {
  const token = options.token ?? (options.as && (await tokenFor(options.as, 'viz-service')));
  const response = await fetch(`${viz.url}${path}`, {
    method,
    headers: {
      ...(token ? { [INTERNAL_TOKEN_HEADER]: token } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    body: (text ? JSON.parse(text) : undefined) as T,
  };
}

function tokenFor(principal: Principal, audience: string): Promise<string> {
  return signInternalToken(platform.internalKeys.active, principal, 'api-gateway', audience);
}

async function save(owner: Principal, extra: Record<string, unknown> = {}): Promise<Chart> {
  const answer = await call<Chart>('POST', CHARTS, {
    as: owner,
    body: { title: uniqueName('chart'), spec: SPEC, ...extra },
  });
  expect(answer.status).toBe(201);
  made.push(answer.body.id);
  return answer.body;
}

function expectProblem(answer: Answer<Problem>, status: number, fields: string[] = []): void {
  expect(answer.status).toBe(status);
  expect(answer.type).toContain(PROBLEM_CONTENT_TYPE);
  expect(answer.body.status).toBe(status);
  for (const field of fields) expect(answer.body.errors?.map((e) => e.field)).toContain(field);
}

beforeAll(async () => {
  platform = await testPlatform();
  viz = await startService(vizService, platform, { env: testEnv(), port: 0 });
});
afterAll(async () => {
  // The test database is shared between runs: leave no charts behind.
  await Promise.all(made.map((id) => call('DELETE', `${CHARTS}/${id}`, { as: admin })));
  await viz.close();
  await platform.close();
});

describe('an editor and their own chart', () => {
  const editor = person('editor');

  it('saves a chart: 201, private by default, owned by the caller, the spec kept as sent', async () => {
    const title = uniqueName('rainfall');
    const chart = await save(editor, { title, description: 'Rain per city' });
    expect(chart).toMatchObject({
      title,
      description: 'Rain per city',
      visibility: 'private',
      owner_id: editor.userId,
    });
    expect(chart.spec).toEqual(SPEC);
  });

  it('reads it back, changes it, and deletes it, after which it is gone', async () => {
    const chart = await save(editor);
    expect((await call<Chart>('GET', `${CHARTS}/${chart.id}`, { as: editor })).body).toEqual(chart);

    const title = uniqueName('renamed');
    const spec = { ...SPEC, mark: 'line' };
    const changed = await call<Chart>('PATCH', `${CHARTS}/${chart.id}`, {
      as: editor,
      body: { title, visibility: 'shared', spec },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ id: chart.id, title, visibility: 'shared', spec, description: '' });
    expect(Date.parse(changed.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(chart.updated_at));

    expect((await call('DELETE', `${CHARTS}/${chart.id}`, { as: editor })).status).toBe(204);
    expectProblem(await call('GET', `${CHARTS}/${chart.id}`, { as: editor }), 404);
  });
});

describe('another editor', () => {
  const owner = person('editor');
  const other = person('editor');

  it("gets 404 for someone's private chart, whether reading, changing or deleting it", async () => {
    const chart = await save(owner);
    expectProblem(await call('GET', `${CHARTS}/${chart.id}`, { as: other }), 404);
    expectProblem(
      await call('PATCH', `${CHARTS}/${chart.id}`, { as: other, body: { title: 'mine now' } }),
      404,
    );
    expectProblem(await call('DELETE', `${CHARTS}/${chart.id}`, { as: other }), 404);
  });

  it('gets the same 404 for a chart that does not exist, so existence is not revealed', async () => {
    const answer = await call('GET', `${CHARTS}/${randomUUID()}`, { as: other });
    expectProblem(answer, 404);
    expect(answer.body.detail).toBe('chart not found');
  });

  it('reads a shared chart but may neither change nor delete it (403)', async () => {
    const chart = await save(owner, { visibility: 'shared' });
    expect((await call<Chart>('GET', `${CHARTS}/${chart.id}`, { as: other })).body.id).toBe(chart.id);
    expectProblem(
      await call('PATCH', `${CHARTS}/${chart.id}`, { as: other, body: { title: 'mine now' } }),
      403,
    );
    expectProblem(await call('DELETE', `${CHARTS}/${chart.id}`, { as: other }), 403);
    expect((await call<Chart>('GET', `${CHARTS}/${chart.id}`, { as: owner })).body.title).toBe(chart.title);
  });
});

describe('a viewer', () => {
  const viewer = person('viewer');
  const editor = person('editor');

  it('may not save a chart (403)', async () => {
    expectProblem(
      await call('POST', CHARTS, { as: viewer, body: { title: uniqueName('chart'), spec: SPEC } }),
      403,
    );
  });

  it('reads shared charts, not private ones, and changes neither', async () => {
    const shared = await save(editor, { visibility: 'shared' });
    const hidden = await save(editor);
    expect((await call('GET', `${CHARTS}/${shared.id}`, { as: viewer })).status).toBe(200);
    expectProblem(await call('GET', `${CHARTS}/${hidden.id}`, { as: viewer }), 404);
    expectProblem(await call('PATCH', `${CHARTS}/${shared.id}`, { as: viewer, body: { title: 'x' } }), 403);
    expectProblem(await call('DELETE', `${CHARTS}/${shared.id}`, { as: viewer }), 403);
  });
});

describe('an admin', () => {
  it("reads, changes and deletes anyone's private chart", async () => {
    const chart = await save(person('editor'));
    expect((await call('GET', `${CHARTS}/${chart.id}`, { as: admin })).status).toBe(200);
    const changed = await call<Chart>('PATCH', `${CHARTS}/${chart.id}`, {
      as: admin,
      body: { description: 'checked' },
    });
    expect(changed.body).toMatchObject({ description: 'checked', owner_id: chart.owner_id });
    expect((await call('DELETE', `${CHARTS}/${chart.id}`, { as: admin })).status).toBe(204);
  });
});

describe('listing charts', () => {
  const me = person('editor');
  const someone = person('editor');
  let mine: { older: Chart; newer: Chart };
  let theirs: { shared: Chart; hidden: Chart };

  beforeAll(async () => {
    mine = { older: await save(me), newer: await save(me, { visibility: 'shared' }) };
    theirs = { shared: await save(someone, { visibility: 'shared' }), hidden: await save(someone) };
  });

  it("shows my charts and shared ones, never someone else's private one", async () => {
    const { body } = await call<ChartList>('GET', `${CHARTS}?limit=500`, { as: me });
    const ids = body.charts.map((c) => c.id);
    expect(ids).toEqual(expect.arrayContaining([mine.older.id, mine.newer.id, theirs.shared.id]));
    expect(ids).not.toContain(theirs.hidden.id);
    expect(body.charts.every((c) => c.owner_id === me.userId || c.visibility === 'shared')).toBe(true);
    expect(body.total).toBeGreaterThanOrEqual(3);
  });

  it('narrows to my own with owner=me, newest first, without their specs, paged by limit and offset', async () => {
    const all = await call<ChartList>('GET', `${CHARTS}?owner=me`, { as: me });
    const summaries = [mine.newer, mine.older].map(({ spec: _spec, ...summary }) => summary);
    expect(all.body).toEqual({ charts: summaries, total: 2 });
    const second = await call<ChartList>('GET', `${CHARTS}?owner=me&limit=1&offset=1`, { as: me });
    expect(second.body.charts.map((c) => c.id)).toEqual([mine.older.id]);
    expect(second.body.total).toBe(2);
  });

  it("shows an admin everyone's charts, private ones included", async () => {
    const { body } = await call<ChartList>('GET', `${CHARTS}?limit=500`, { as: admin });
    expect(body.charts.map((c) => c.id)).toContain(theirs.hidden.id);
  });
});

describe('bad input', () => {
  const editor = person('editor');

  it.each([
    ['a missing title', { spec: SPEC }, '/body/title'],
    ['an empty title', { title: '', spec: SPEC }, '/body/title'],
    ['a spec that is not an object', { title: 'x', spec: ['bar'] }, '/body/spec'],
    [
      'a spec loading data from a URL',
      { title: 'x', spec: { ...SPEC, data: { url: 'https://e.com/a.csv' } } },
      '/body/spec/data/url',
    ],
    [
      'an image mark loading its picture by URL',
      { title: 'x', spec: { ...SPEC, layer: [{ mark: 'image', encoding: { url: { field: 'picture' } } }] } },
      '/body/spec/layer/0/encoding/url',
    ],
    ['an unknown visibility', { title: 'x', spec: SPEC, visibility: 'public' }, '/body/visibility'],
  ])('refuses %s with a 400 naming the field, and saves nothing', async (_what, body, field) => {
    const author = person('editor');
    expectProblem(await call('POST', CHARTS, { as: author, body }), 400, [field]);
    expect((await call<ChartList>('GET', `${CHARTS}?owner=me`, { as: author })).body.total).toBe(0);
  });

  it('refuses a change that brings a URL into the spec, and keeps the chart as it was', async () => {
    const chart = await save(editor);
    const spec = { ...SPEC, data: { url: 'https://e.com/a.csv' } };
    expectProblem(await call('PATCH', `${CHARTS}/${chart.id}`, { as: editor, body: { spec } }), 400, [
      '/body/spec/data/url',
    ]);
    expect((await call<Chart>('GET', `${CHARTS}/${chart.id}`, { as: editor })).body.spec).toEqual(SPEC);
  });

  it('refuses a spec over 256 KiB with a 413 naming it', async () => {
    const spec = { ...SPEC, data: { values: [{ city: 'x'.repeat(300 * 1024) }] } };
    expectProblem(await call('POST', CHARTS, { as: editor, body: { title: 'x', spec } }), 413, [
      '/body/spec',
    ]);
  });

  it('refuses an empty change and an id that is not a uuid', async () => {
    const chart = await save(editor);
    expectProblem(await call('PATCH', `${CHARTS}/${chart.id}`, { as: editor, body: {} }), 400, ['/body']);
    expectProblem(await call('GET', `${CHARTS}/not-a-uuid`, { as: editor }), 400, ['/params/id']);
  });
});

describe('callers without a valid internal token', () => {
  it('refuses a call without a token (401): the service is reached through the gateway', async () => {
    expectProblem(await call('GET', CHARTS), 401);
  });

  it('refuses a token addressed to another service (401)', async () => {
    const token = await tokenFor(person('admin'), 'data-service');
    expectProblem(await call('GET', CHARTS, { token }), 401);
  });

  it('refuses a token signed by a key it does not know (401)', async () => {
    const token = await signInternalToken(
      await generateSigningKey(),
      person('admin'),
      'api-gateway',
      'viz-service',
    );
    expectProblem(await call('GET', CHARTS, { token }), 401);
  });
});
