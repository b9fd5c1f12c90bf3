import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { f } from '@datalab/platform';
import {
  CONFIG_END,
  CONFIG_START,
  configSources,
  generateOpenApi,
  generateReadme,
  renderConfigTable,
  renderOpenApi,
  replaceBetweenMarkers,
} from './generate-docs.ts';

const readRepoFile = (path: string): Promise<string> =>
  readFile(fileURLToPath(new URL(`../${path}`, import.meta.url)), 'utf8');

describe('the committed docs', () => {
  it('docs/openapi.json is what npm run docs generates', async () => {
    const generated = renderOpenApi(await generateOpenApi());
    expect(await readRepoFile('docs/openapi.json')).toBe(generated);
  });

  it("README.md's configuration table is what npm run docs generates", async () => {
    const readme = await readRepoFile('README.md');
    expect(await generateReadme(readme)).toBe(readme);
  });
});

describe('the OpenAPI document', () => {
  it("lists the gateway's own routes, /api/v1/services among them", async () => {
    const document = await generateOpenApi();
    expect(document.info.title).toBe('DataLab API');
    expect(Object.keys(document.paths ?? {})).toContain('/api/v1/services');
    expect(document['x-datalab-unavailable']).toBeUndefined();
  });
});

describe('the configuration table', () => {
  const rows = renderConfigTable().split('\n');

  it('has one row per variable of every schema, naming who reads it', () => {
    for (const { usedBy, schema } of configSources()) {
      for (const field of Object.values(schema)) {
        const matching = rows.filter((row) => row.startsWith(`| \`${field.env}\` |`));
        expect(matching, field.env).toHaveLength(1);
        expect(matching[0]?.split(' | ')[2], field.env).toContain(usedBy);
      }
    }
  });

  it('escapes pipes, keeps placeholders from reading as HTML, and merges a variable read twice', () => {
    const shared = f.string('SHARED_FLAG', 'Read by both.', 'x');
    const table = renderConfigTable([
      { usedBy: 'all', schema: { mode: f.string('MODE', 'Either `a|b` or c|d, for <HOST>.', 'a|b') } },
      { usedBy: 'data-service', schema: { shared } },
      { usedBy: 'viz-service', schema: { shared } },
    ]);
    expect(table).toContain('| `MODE` | `a\\|b` | all | Either `a\\|b` or c\\|d, for \\<HOST>. |');
    expect(table).toContain('| `SHARED_FLAG` | `x` | data-service, viz-service | Read by both. |');
  });

  it('refuses a variable two schemas declare differently', () => {
    expect(() =>
      renderConfigTable([
        { usedBy: 'data-service', schema: { a: f.string('SAME', 'One meaning.', 'x') } },
        { usedBy: 'viz-service', schema: { a: f.string('SAME', 'Another meaning.', 'x') } },
      ]),
    ).toThrow(/SAME is declared by data-service and viz-service/);
  });
});

describe('replaceBetweenMarkers', () => {
  it('replaces only what lies between the markers', () => {
    const text = `intro\n${CONFIG_START}\nold\n${CONFIG_END}\noutro\n`;
    expect(replaceBetweenMarkers(text, CONFIG_START, CONFIG_END, 'new\n')).toBe(
      `intro\n${CONFIG_START}\n\nnew\n\n${CONFIG_END}\noutro\n`,
    );
  });

  it('says which markers are missing', () => {
    expect(() => replaceBetweenMarkers('no markers here', CONFIG_START, CONFIG_END, 'x')).toThrow(
      `the markers ${CONFIG_START} and ${CONFIG_END} are missing`,
    );
  });

  it('refuses repeated or reversed markers', () => {
    expect(() =>
      replaceBetweenMarkers(`${CONFIG_END}\n${CONFIG_START}`, CONFIG_START, CONFIG_END, 'x'),
    ).toThrow(/must each appear once, in that order/);
    expect(() =>
      replaceBetweenMarkers(
        `${CONFIG_START}\n${CONFIG_END}\n${CONFIG_START}\n${CONFIG_END}`,
        CONFIG_START,
        CONFIG_END,
        'x',
      ),
    ).toThrow(/must each appear once, in that order/);
  });
});
