import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../../test/processes.ts';
import { IMAGES } from './lib/dockerfile.ts';

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, string>;
}
interface Job {
  needs?: string | string[];
  uses?: string;
  environment?: string | { name: string };
  strategy?: { matrix?: Record<string, unknown> };
  steps?: Step[];
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  jobs: Record<string, Job>;
}

const directory = path.join(repoRoot, '.github/workflows');
const files = readdirSync(directory).filter((file) => /\.ya?ml$/.test(file));
const workflows = new Map(
  files.map((file) => [file, parse(readFileSync(path.join(directory, file), 'utf8')) as Workflow]),
);

function workspaceScripts(): Map<string, Set<string>> {
  const root = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
    workspaces: string[];
    scripts: Record<string, string>;
  };
  const scripts = new Map([['', new Set(Object.keys(root.scripts))]]);
  for (const pattern of root.workspaces) {
    const parent = pattern.replace(/\/\*$/, '');
    const folders = pattern.endsWith('/*')
      ? readdirSync(path.join(repoRoot, parent)).map((name) => path.posix.join(parent, name))
      : [parent];
    for (const folder of folders) {
      const file = path.join(repoRoot, folder, 'package.json');
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as {
        name: string;
        scripts?: Record<string, string>;
      };
      const names = new Set(Object.keys(pkg.scripts ?? {}));
      scripts.set(folder, names);
      scripts.set(pkg.name, names);
    }
  }
  return scripts;
}

/** What a `run:` block calls that must exist here: repository scripts and npm scripts. */
function calls(run: string): { files: string[]; npmScripts: { workspace: string; script: string }[] } {
  const filesCalled = [
    ...run.matchAll(/(?:^|[\s;&|(])((?:\.\/)?(?:[\w.-]+\/)+[\w.-]+\.(?:sh|ts|js|mjs)|\.ci\/run)\b/g),
  ].map((match) => match[1]!.replace(/^\.\//, ''));
  // `npm run [-w ws] script [-w ws]`: the workspace flag may stand on either side.
  const workspace = String.raw`(?:\s+(?:-w|--workspace)[ =]([\w@/.-]+))?`;
  const npmRun = new RegExp(String.raw`npm run${workspace}\s+([\w:-]+)${workspace}`, 'g');
  const npmScripts = [...run.matchAll(npmRun)].map((match) => ({
    workspace: match[1] ?? match[3] ?? '',
    script: match[2]!,
  }));
  const npmTest = /\bnpm (test|start)\b/.exec(run);
  if (npmTest) npmScripts.push({ workspace: '', script: npmTest[1]! });
  return { files: filesCalled, npmScripts };
}

describe('.github/workflows', () => {
  it('has the pull-request workflow and the deployment workflow', () => {
    expect(files.sort()).toEqual(['ci.yml', 'deploy.yml']);
    expect(Object.keys(workflows.get('ci.yml')!.on)).toContain('pull_request');
    expect(workflows.get('deploy.yml')!.on).toEqual({ push: { branches: ['main'] } });
  });

  it.each(files)('%s: every script and npm script it runs exists in the repository', (file) => {
    const scripts = workspaceScripts();
    let checked = 0;
    for (const [name, job] of Object.entries(workflows.get(file)!.jobs)) {
      for (const step of job.steps ?? []) {
        if (step.run === undefined) continue;
        const { files: called, npmScripts } = calls(step.run);
        for (const script of called) {
          expect(existsSync(path.join(repoRoot, script)), `${name}: ${script}`).toBe(true);
          checked++;
        }
        for (const { workspace, script } of npmScripts) {
          expect(scripts.get(workspace)?.has(script), `${name}: npm run ${workspace} ${script}`).toBe(true);
          checked++;
        }
      }
      if (job.uses?.startsWith('./')) {
        expect(existsSync(path.join(repoRoot, job.uses)), `${name}: ${job.uses}`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  it.each(files)(
    '%s: jobs need only jobs that exist; images build from the Dockerfiles of every service',
    (file) => {
      const { jobs } = workflows.get(file)!;
      for (const [name, job] of Object.entries(jobs)) {
        for (const needed of [job.needs ?? []].flat())
          expect(jobs[needed], `${name} needs ${needed}`).toBeDefined();
        for (const step of job.steps ?? []) {
          const dockerfile = step.with?.file;
          if (dockerfile === undefined) continue;
          const services = job.strategy?.matrix?.service as string[];
          expect([...services].sort()).toEqual([...IMAGES].sort());
          for (const service of services) {
            const resolved = dockerfile.replace('${{ matrix.service }}', service);
            expect(existsSync(path.join(repoRoot, resolved)), resolved).toBe(true);
          }
        }
      }
    },
  );

  it('installs in CI exactly the system packages .ci/run installs', () => {
    const ciRun = readFileSync(path.join(repoRoot, '.ci/run'), 'utf8');
    expect(ciRun).toMatch(/^SYSTEM_PACKAGES=\(([a-z0-9 .+-]+)\)$/m);
    const install = workflows
      .get('ci.yml')!
      .jobs['check-and-test']!.steps!.find((step) => step.run?.includes('SYSTEM_PACKAGES'));
    expect(install?.run).toContain("sed -n 's/^SYSTEM_PACKAGES=(\\(.*\\))$/\\1/p' .ci/run");
  });

  it('deploys to staging after pushing and scanning the images, and to production only from an approved environment', () => {
    const { jobs } = workflows.get('deploy.yml')!;
    expect(jobs['push-images']?.needs).toBe('ci');
    expect(jobs['scan-images']?.needs).toBe('push-images');
    expect(
      jobs['scan-images']?.steps?.some((step) => step.uses?.startsWith('aquasecurity/trivy-action@')),
    ).toBe(true);
    expect(jobs.staging?.needs).toBe('scan-images');
    expect(jobs.production?.needs).toBe('staging');
    expect(jobs.production?.environment).toMatchObject({ name: 'production' });
    for (const [name, overlay] of [
      ['staging', 'staging'],
      ['production', 'production'],
    ] as const) {
      const deploy = jobs[name]?.steps?.find((step) => step.run?.includes('deploy.sh'));
      expect(deploy?.run).toBe(`infrastructure/k8s/deploy.sh ${overlay} "$TAG" apply`);
      expect(existsSync(path.join(repoRoot, 'infrastructure/k8s/overlays', overlay))).toBe(true);
    }
  });
});
