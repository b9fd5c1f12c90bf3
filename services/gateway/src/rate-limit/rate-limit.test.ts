import { describe, expect, it } from 'vitest';
import { budgetFor } from './rate-limit.ts';

describe('budgetFor', () => {
  it.each([
    ['GET', '/health/live'],
    ['GET', '/health/ready'],
    ['GET', '/metrics'],
    ['GET', '/info'],
    ['GET', '/openapi.json'],
    ['GET', '/docs'],
    ['GET', '/docs/static/index.html'],
    ['GET', '/.well-known/jwks.json'],
    ['GET', '/metrics?name=http'],
  ])('never limits the operational route %s %s', (method, url) => {
    expect(budgetFor(method, url)).toBeUndefined();
  });

  it.each([
    ['POST', '/api/v1/auth/login'],
    ['POST', '/api/v1/auth/refresh'],
    ['POST', '/api/v1/auth/password'],
  ])('puts the credential check %s %s on the login budget', (method, url) => {
    expect(budgetFor(method, url)).toBe('login');
  });

  it.each([
    ['POST', '/api/v1/data/datasets'],
    ['POST', '/api/v1/data/datasets/ds_1/versions'],
    ['POST', '/api/v1/compute/jobs'],
    ['POST', '/api/v1/compute/jobs/batch'],
    ['POST', '/api/v1/viz/render'],
    ['GET', '/api/v1/viz/charts/ch_1/render.png'],
    ['GET', '/api/v1/viz/dashboards/db_1/render.pdf'],
    ['HEAD', '/api/v1/viz/charts/ch_1/render.svg'],
    ['POST', '/api/v1/ai/models/train'],
    ['POST', '/api/v1/ai/models/m_1/predict'],
    ['POST', '/api/v1/ai/models/onnx'],
  ])('puts %s %s on the expensive budget', (method, url) => {
    expect(budgetFor(method, url)).toBe('expensive');
  });

  it.each([
    ['GET', '/api/v1/data/datasets'],
    ['GET', '/api/v1/compute/jobs'],
    ['GET', '/api/v1/auth/login'],
    ['DELETE', '/api/v1/data/datasets/ds_1'],
    ['GET', '/api/v1/viz/charts/ch_1'],
    ['GET', '/api/v1/services'],
    ['GET', '/'],
    ['GET', '/healthz'],
    ['GET', '/metrics/extra'],
    ['GET', '/api/v1/no/such/route'],
  ])('puts everything else, such as %s %s, on the default budget', (method, url) => {
    expect(budgetFor(method, url)).toBe('default');
  });

  it.each([
    ['a query string', '/api/v1/compute/jobs?priority=high'],
    ['a trailing slash', '/api/v1/compute/jobs/'],
    ['doubled slashes', '/api/v1//compute///jobs'],
    ['dot segments', '/api/v1/data/../compute/jobs'],
    ['encoded dot segments', '/api/v1/compute/x/%2e%2e/jobs'],
    ['percent-encoded letters', '/api/v1/compute/%6Aobs'],
    ['backslashes', '/api/v1\\compute\\jobs'],
  ])('sees through %s to the route the upstream will run', (_what, url) => {
    expect(budgetFor('POST', url)).toBe('expensive');
  });

  it('classifies a malformed escape as written rather than failing', () => {
    expect(budgetFor('POST', '/api/v1/compute/jobs%')).toBe('default');
  });

  it('does not let a path dressed as a health check escape its budget', () => {
    expect(budgetFor('POST', '/health/../api/v1/compute/jobs')).toBe('expensive');
  });
});
