import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { allServices } from '@datalab/cli';
import { withOfflineApp } from '../../scripts/generate-docs.ts';
import { repoRoot, spawnCommand } from '../../test/processes.ts';
import {
  contextSourceOf,
  execForm,
  IMAGES,
  instructions,
  missingCopySources,
  stages,
} from './lib/dockerfile.ts';

function dockerfile(service: string): string {
  return readFileSync(path.join(repoRoot, `infrastructure/docker/Dockerfile.${service}`), 'utf8');
}

function definitionOf(service: string) {
  const definition = allServices.find((candidate) => candidate.name === service);
  if (!definition) throw new Error(`no service ${service}`);
  return definition;
}

/** The HEALTHCHECK's URL path and the port it falls back to, read from its exec-form command. */
function healthTarget(text: string): { path: string; fallbackPort: number } {
  const healthcheck = instructions(text).find((instruction) => instruction.keyword === 'HEALTHCHECK');
  if (!healthcheck) throw new Error('no HEALTHCHECK');
  const script = execForm(healthcheck.args).join(' ');
  const pathMatch = /'(\/[a-z/]+)'/.exec(script);
  const portMatch = /\|\|\s*(\d+)\)/.exec(script);
  if (!pathMatch || !portMatch) throw new Error(`cannot read the health check target from: ${script}`);
  return { path: pathMatch[1]!, fallbackPort: Number(portMatch[1]) };
}

describe.each(IMAGES)('infrastructure/docker/Dockerfile.%s', (service) => {
  const text = dockerfile(service);
  const all = stages(text);
  const image = all.at(-1)!;

  it('is multi-stage on Node 24 slim, installing production dependencies only', () => {
    const nodeImage = instructions(text).find((i) => i.keyword === 'ARG' && i.args.startsWith('NODE_IMAGE='));
    expect(nodeImage?.args).toMatch(/^NODE_IMAGE=node:24(\.\d+)*-[a-z]+-slim$/);
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(all.every((stage) => stage.base === '${NODE_IMAGE}')).toBe(true);
    const installs = all
      .find((stage) => stage.name === 'deps')
      ?.instructions.filter((i) => i.keyword === 'RUN' && i.args.includes('npm ci'));
    expect(installs?.map((i) => i.args)).toEqual([expect.stringContaining('npm ci --omit=dev')]);
    // The image is assembled from the deps stage and (gateway) the built UI; nothing else.
    expect(image.copies.every((copy) => copy.from !== undefined)).toBe(true);
  });

  it('copies only files that exist in the repository', () => {
    expect(missingCopySources(all, repoRoot)).toEqual([]);
  });

  it('starts the datalab CLI, whose entry point the image contains, to serve this service', () => {
    const entrypoint = execForm(instructions(text).find((i) => i.keyword === 'ENTRYPOINT')!.args);
    const cmd = execForm(instructions(text).find((i) => i.keyword === 'CMD')!.args);
    expect(entrypoint[0]).toBe('node');
    const inImage = path.posix.resolve(image.workdir, entrypoint[1]!);
    const source = contextSourceOf(all, image.name, inImage);
    expect(source, `${inImage} is not copied into the image`).toBeDefined();
    expect(existsSync(path.join(repoRoot, source!))).toBe(true);
    expect(cmd).toEqual(['serve', service]);
  });

  it('runs as an unprivileged numeric user, listening on every interface', () => {
    expect(image.user).toMatch(/^[1-9]\d*(:[1-9]\d*)?$/);
    expect(image.env.get('HOST')).toBe('0.0.0.0');
    expect(image.env.get('NODE_ENV')).toBe('production');
  });

  it('carries OCI labels and exposes the service’s own port', () => {
    const labels = instructions(text)
      .filter((i) => i.keyword === 'LABEL')
      .map((i) => i.args)
      .join(' ');
    for (const label of ['title', 'description', 'version', 'revision', 'licenses']) {
      expect(labels).toContain(`org.opencontainers.image.${label}=`);
    }
    const port = definitionOf(service).defaultPort;
    expect(image.env.get('PORT')).toBe(String(port));
    expect(instructions(text).find((i) => i.keyword === 'EXPOSE')?.args).toBe(String(port));
  });

  it('health-checks an endpoint the service really answers, on its own port', async () => {
    const target = healthTarget(text);
    const definition = definitionOf(service);
    expect(target.fallbackPort).toBe(definition.defaultPort);
    const status = await withOfflineApp(
      definition,
      async (app) => (await app.inject(target.path)).statusCode,
    );
    expect(status).toBe(200);
  });
});

describe('the images together', () => {
  it('the gateway image builds the web UI and serves its output', () => {
    const webPackage = JSON.parse(readFileSync(path.join(repoRoot, 'web/package.json'), 'utf8')) as {
      scripts?: Record<string, string>;
    };
    expect(webPackage.scripts?.build).toBeDefined();
    const all = stages(dockerfile('api-gateway'));
    const web = all.find((stage) => stage.name === 'web');
    expect(web?.instructions.map((i) => i.args)).toContain('npm run build -w web');
    expect(all.at(-1)?.copies).toContainEqual({
      from: 'web',
      sources: ['/app/web/dist'],
      destination: '/app/web/dist',
    });
  });

  it('the compute image also runs workers, whose health port its check follows', () => {
    const text = dockerfile('compute-service');
    const healthcheck = instructions(text).find((i) => i.keyword === 'HEALTHCHECK')!;
    expect(healthcheck.args).toContain('process.env.WORKER_METRICS_PORT');
  });

  // A cold start compiles every service's sources: seconds alone, much longer on a busy machine.
  it('the entry point runs and offers the commands the images use (serve, worker, migrate)', async () => {
    const help = spawnCommand(process.execPath, ['packages/cli/bin/datalab.js', 'help'], {});
    const { code } = await help.exited;
    expect(code).toBe(0);
    expect(help.output()).toMatch(/serve <service>/);
    expect(help.output()).toMatch(/worker \[--queues/);
    expect(help.output()).toMatch(/migrate \[service\]/);
  }, 120_000);

  it('.dockerignore keeps dependencies, tests and secrets out of the context but not what the images copy', () => {
    const ignore = readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    for (const required of ['**/node_modules', '**/*.test.ts', '.git', '.env', '**/.env']) {
      expect(ignore).toContain(required);
    }
    const plain = ignore.filter((pattern) => !pattern.startsWith('!') && !pattern.includes('*'));
    for (const service of IMAGES) {
      for (const stage of stages(dockerfile(service))) {
        for (const copy of stage.copies.filter((c) => c.from === undefined)) {
          for (const source of copy.sources) {
            const hidden = plain.find((pattern) => source === pattern || source.startsWith(`${pattern}/`));
            expect(hidden, `${service}: ${source} is excluded by .dockerignore`).toBeUndefined();
          }
        }
      }
    }
  });
});
