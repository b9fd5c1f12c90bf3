import { readFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import type { TestUser } from '../../test/gateway.ts';
import { uniqueName } from '../../test/helpers.ts';
import { screenshot, signIn, startDataLab, type RunningDataLab } from './harness.ts';

const REGIONS = ['north', 'south', 'east', 'west'];

/** A small sales table with a clear pattern: big orders are the ones with many units. */
function salesCsv(rows: number): string {
  const lines = ['region,product,units,price,big'];
  for (let i = 0; i < rows; i++) {
    const units = (i * 37) % 100;
    lines.push(
      `${REGIONS[i % 4]},p${i % 7},${units},${(9.5 + (i % 13)).toFixed(2)},${units > 50 ? 'yes' : 'no'}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function setSql(page: Page, sql: string): Promise<void> {
  const editor = page.getByRole('textbox', { name: 'SQL query' });
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(sql);
}

// Each step waits on real services (uploads, jobs, training) on a two-core machine shared with other tests.
describe('the DataLab journey in a browser', { timeout: 150_000 }, () => {
  let lab: RunningDataLab;
  let editor: TestUser;
  let viewer: TestUser;
  let admin: TestUser;
  let context: BrowserContext;
  let page: Page;
  const dataset = uniqueName('sales');
  let datasetPath = '';
  let chartPath = '';

  beforeAll(async () => {
    lab = await startDataLab();
    [editor, viewer, admin] = await Promise.all([
      lab.users.create('editor'),
      lab.users.create('viewer'),
      lab.users.create('admin'),
    ]);
    context = await lab.browser.newContext({ viewport: { width: 1366, height: 860 } });
    context.setDefaultTimeout(45_000);
    page = await context.newPage();
  }, 180_000);

  afterEach(async ({ task }) => {
    // What the page showed when a step failed, beside the other screenshots.
    if (task.result?.state === 'fail') await screenshot(page, `failed-${task.name.replace(/\W+/g, '-')}`);
  });

  afterAll(async () => {
    await context?.close();
    await lab?.close();
  });

  it('signs an editor in through the login form', async () => {
    await page.goto(`${lab.url}/datasets`);
    await page.waitForURL(/\/login/);
    await screenshot(page, '01-login');
    await page.getByLabel('Email').fill(editor.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/invalid|incorrect|wrong/i);
    await screenshot(page, '02-login-refused');
    await signIn(page, lab.url, editor);
    expect(page.url()).toMatch(/\/datasets$/);
  });

  it('uploads a CSV with a progress bar and shows its rows and profile', async () => {
    await page
      .getByLabel(/^File/)
      .setInputFiles({ name: `${dataset}.csv`, mimeType: 'text/csv', buffer: Buffer.from(salesCsv(300)) });
    await page.getByLabel('Name (optional)').fill(dataset);
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.getByRole('heading', { name: dataset, level: 1 }).waitFor();
    datasetPath = new URL(page.url()).pathname;
    const grid = page.getByRole('table', { name: `Rows of ${dataset}` });
    await grid.getByRole('cell', { name: 'north' }).first().waitFor();
    await expect(page.getByText(/Showing 200 of 300 rows/).count()).resolves.toBe(1);
    await grid.getByRole('button', { name: 'units' }).click();
    await grid
      .getByRole('columnheader', { name: /units/ })
      .and(page.locator('[aria-sort="ascending"]'))
      .waitFor();
    await screenshot(page, '03-dataset-rows');

    await page.getByRole('tab', { name: 'Profile' }).click();
    const units = page.getByRole('article', { name: /units/ });
    await units.waitFor();
    await expect(units.getByRole('img', { name: /Distribution of units/ }).count()).resolves.toBe(1);
    await expect(units.textContent()).resolves.toMatch(/Mean/);
    await screenshot(page, '04-dataset-profile');

    await page.getByRole('tab', { name: 'Versions' }).click();
    await page
      .getByRole('cell', { name: 'create' })
      .or(page.getByRole('cell', { name: /create|upload/ }))
      .first()
      .waitFor();
    await screenshot(page, '05-dataset-versions');
  });

  it('shows a refused upload row by row', async () => {
    await page.goto(`${lab.url}/datasets`);
    const bad = 'id,amount\n1,10\n2,20\n3,30,extra\n';
    await page
      .getByLabel(/^File/)
      .setInputFiles({ name: 'refused.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
    await page.getByLabel('Name (optional)').fill(uniqueName('refused'));
    await page.getByRole('button', { name: 'Upload' }).click();
    const report = page.getByRole('alert');
    await report.waitFor();
    await expect(report.textContent()).resolves.toMatch(/line 4/i);
    await screenshot(page, '06-upload-refused');
  });

  it('runs SQL with dataset and column completion, and saves the answer as a dataset', async () => {
    await page.goto(`${lab.url}/query`);
    await setSql(page, `SELECT ${dataset}.`);
    await page.keyboard.press('Control+Space');
    await page.locator('.cm-tooltip-autocomplete').getByText('region', { exact: true }).waitFor();
    await page.keyboard.press('Escape');
    await setSql(
      page,
      `SELECT region, sum(units) AS units\nFROM ${dataset}\nGROUP BY region\nORDER BY region`,
    );
    await page.getByRole('button', { name: /^Run/ }).click();
    const result = page.getByRole('table', { name: 'Query result' });
    await result.getByRole('cell', { name: 'east' }).waitFor();
    await expect(page.getByRole('status').filter({ hasText: '4 rows' }).count()).resolves.toBe(1);
    await page.getByLabel('New dataset name').fill(`${dataset}_by_region`);
    await page.getByRole('button', { name: 'Save as dataset' }).click();
    await page.getByRole('status').filter({ hasText: /^Job / }).waitFor();
    await screenshot(page, '07-query');

    await setSql(page, `SELECT nonexistent FROM ${dataset}`);
    await page.getByRole('button', { name: /^Run/ }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/line 1, column 8/);
    await screenshot(page, '08-query-error');
  });

  it('builds, previews and saves a bar chart', async () => {
    await page.goto(`${lab.url}/charts/new?dataset=${dataset}`);
    // By role: the live preview's SVG axes carry labels that contain "title" too ("X-axis titled …").
    await page.getByRole('textbox', { name: 'Title', exact: true }).fill(`Units by region ${dataset}`);
    await page.getByLabel('X axis').selectOption('region');
    await page.getByLabel('Aggregate').selectOption('sum');
    await page.getByLabel('Y axis').selectOption('units');
    const preview = page.getByRole('img', { name: 'Chart preview' });
    await preview.locator('svg .mark-rect path').first().waitFor();
    await expect(preview.locator('svg .mark-rect path').count()).resolves.toBe(4);
    await page.getByRole('button', { name: 'Save chart' }).click();
    await page.waitForURL(/\/charts\/[0-9a-f-]{36}$/);
    chartPath = new URL(page.url()).pathname;
    await page.getByRole('status').filter({ hasText: 'Chart saved.' }).waitFor();
    await screenshot(page, '09-chart-builder');
    const [png] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'PNG' }).click(),
    ]);
    expect(png.suggestedFilename()).toBe(`Units by region ${dataset}.png`);
    const bytes = await readFile((await png.path()) ?? '');
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    await page.goto(`${lab.url}/charts`);
    await page.getByRole('link', { name: `Units by region ${dataset}` }).waitFor();
    await screenshot(page, '10-charts');
  });

  it('puts the chart on a dashboard', async () => {
    await page.goto(`${lab.url}/dashboards`);
    await page.getByRole('textbox', { name: 'Title', exact: true }).fill(`Sales ${dataset}`);
    await page.getByRole('button', { name: 'New dashboard' }).click();
    await page.getByRole('heading', { name: `Sales ${dataset}`, level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Edit layout' }).click();
    await page
      .getByRole('combobox', { name: /^Chart/ })
      .selectOption({ label: `Units by region ${dataset}` });
    await page.getByRole('button', { name: 'Add chart' }).click();
    await page.getByLabel('Text', { exact: true }).fill('Units sold per region, all products.');
    await page.getByRole('button', { name: 'Add text' }).click();
    await page.getByRole('button', { name: 'Move tile 2 earlier' }).click();
    await page.getByRole('button', { name: 'Save layout' }).click();
    await page.getByRole('button', { name: 'Edit layout' }).waitFor();
    await page.reload();
    const tiles = page.getByRole('article');
    await tiles.first().getByText('Units sold per region').waitFor();
    await tiles.nth(1).locator('svg .mark-rect path').first().waitFor();
    await screenshot(page, '11-dashboard');
    const [pdf] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'PDF' }).click(),
    ]);
    expect((await readFile((await pdf.path()) ?? '')).subarray(0, 5).toString()).toBe('%PDF-');
    await page.goto(`${lab.url}/dashboards`);
    await screenshot(page, '12-dashboards');
  });

  it('trains a model with live progress, then predicts with it', async () => {
    await page.goto(`${lab.url}/models`);
    await page.getByRole('combobox', { name: /^Dataset/ }).selectOption(dataset);
    await page.getByLabel('Algorithm').selectOption('random_forest_classifier');
    await page.getByLabel('Target (what to predict)').selectOption('big');
    await page.getByRole('checkbox', { name: /units/ }).check();
    await page.getByRole('checkbox', { name: /price/ }).check();
    await page.getByLabel('Model name').fill(`big orders ${dataset}`);
    await page.getByRole('button', { name: 'Train' }).click();
    await page.getByRole('progressbar', { name: 'Training progress' }).waitFor();
    await screenshot(page, '13-models-training');
    await page.getByRole('link', { name: 'Open the trained model' }).click({ timeout: 120_000 });
    await page.getByRole('heading', { name: `big orders ${dataset}`, level: 1 }).waitFor();
    await page.getByRole('table', { name: 'Metrics' }).getByText('accuracy').waitFor();
    await page.getByRole('table', { name: 'Feature importance' }).getByText('units').waitFor();
    await page.getByLabel(/^units/).fill('90');
    await page.getByLabel(/^price/).fill('12');
    await page.getByRole('button', { name: 'Predict' }).click();
    const answer = page.getByRole('status', { name: 'Prediction' });
    await answer.waitFor();
    await expect(answer.textContent()).resolves.toMatch(/prediction\s*true/);
    await screenshot(page, '14-model-predict');
    await page.goto(`${lab.url}/models`);
    await screenshot(page, '15-models');
  });

  it('finds the jobs in the job list, with their logs', async () => {
    await page.goto(`${lab.url}/jobs`);
    const jobs = page.getByRole('table');
    await jobs.getByRole('cell', { name: /^(ai\.)?train$/ }).waitFor();
    await jobs.getByRole('cell', { name: /^(data\.)?sql$/ }).waitFor();
    await screenshot(page, '16-jobs');
    await jobs
      .getByRole('row')
      .filter({ has: page.getByRole('cell', { name: /^(data\.)?sql$/ }) })
      .getByRole('link')
      .click();
    await page.getByRole('heading', { name: /^Job / }).getByText('succeeded').waitFor();
    await page.getByRole('link', { name: /Open the dataset/ }).waitFor();
    await screenshot(page, '17-job');
  });

  it('keeps the editor’s private dataset from a viewer', async () => {
    const viewerContext = await lab.browser.newContext({ viewport: { width: 390, height: 844 } });
    try {
      const phone = await viewerContext.newPage();
      await signIn(phone, lab.url, viewer);
      await expect(phone.getByRole('link', { name: dataset, exact: true }).count()).resolves.toBe(0);
      await expect(phone.getByRole('button', { name: 'Upload' }).count()).resolves.toBe(0);
      await screenshot(phone, '18-viewer-datasets-narrow');
      await phone.goto(`${lab.url}${datasetPath}`);
      await expect(phone.getByRole('alert').textContent()).resolves.toMatch(/not found|no dataset/i);
      await screenshot(phone, '19-viewer-private-dataset');
      await phone.goto(`${lab.url}${chartPath}`);
      await phone.getByRole('alert').waitFor();
    } finally {
      await viewerContext.close();
    }
  });

  it('lets an admin manage users, see service health and read the audit log', async () => {
    const adminContext = await lab.browser.newContext({ viewport: { width: 1366, height: 860 } });
    try {
      const desk = await adminContext.newPage();
      await signIn(desk, lab.url, admin);
      await desk.getByRole('link', { name: 'Admin' }).click();
      await desk.getByRole('cell', { name: viewer.email }).waitFor();
      await screenshot(desk, '20-admin-users');
      await desk.getByRole('tab', { name: 'Service health' }).click();
      for (const name of ['data-service', 'ai-service', 'compute-service', 'viz-service'])
        await desk
          .getByRole('article', { name: new RegExp(name) })
          .getByText('healthy', { exact: true })
          .waitFor();
      await screenshot(desk, '21-admin-services');
      await desk.getByRole('tab', { name: 'Audit log' }).click();
      await desk.getByRole('cell', { name: 'login.succeeded' }).first().waitFor();
      await screenshot(desk, '22-admin-audit');
    } finally {
      await adminContext.close();
    }
  });

  it('creates an API key shown once, and changes the password', async () => {
    await page.goto(`${lab.url}/account`);
    await page.getByLabel('Name').fill('notebook');
    await page.getByRole('button', { name: 'Create key' }).click();
    const key = page.getByLabel('New API key');
    await expect(key.textContent()).resolves.toMatch(/^dlk_/);
    const secret = (await key.textContent()) ?? '';
    const me = await fetch(`${lab.url}/api/v1/auth/me`, { headers: { 'x-api-key': secret } });
    expect(((await me.json()) as { email: string }).email).toBe(editor.email);
    await page.getByRole('cell', { name: 'notebook', exact: true }).waitFor();
    await screenshot(page, '23-account');
    await page.getByRole('button', { name: 'Revoke key notebook' }).click();
    await page.getByRole('cell', { name: /^revoked/ }).waitFor();
    const revoked = await fetch(`${lab.url}/api/v1/auth/me`, { headers: { 'x-api-key': secret } });
    expect(revoked.status).toBe(401);

    await page.getByLabel('Current password').fill(editor.password);
    await page.getByLabel('New password', { exact: true }).fill(`${editor.password}-2`);
    await page.getByLabel('New password again').fill(`${editor.password}-2`);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.waitForURL(/\/login/);
    await page.getByRole('status').filter({ hasText: 'Password changed' }).waitFor();
    const old = await fetch(`${lab.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: editor.email, password: editor.password }),
    });
    expect(old.status).toBe(401);
    await signIn(page, lab.url, { email: editor.email, password: `${editor.password}-2` });

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Sign in to DataLab' }).waitFor();
    expect(page.url()).toMatch(/\/login(\?|$)/);
    expect(await page.evaluate("localStorage.getItem('datalab.refresh_token')")).toBeNull();
    expect(await page.getByRole('status').count()).toBe(0);
  });
});
