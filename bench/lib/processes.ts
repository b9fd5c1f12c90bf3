import { spawnCommand, type Spawned } from '../../test/processes.ts';

export { freePort, repoRoot, spawnCommand, type Spawned } from '../../test/processes.ts';

/** Runs `datalab serve <service>` from source as its own process, the way it is deployed. */
export function serve(service: string, env: Record<string, string>, nodeFlags: string[] = []): Spawned {
  return spawnCommand(
    process.execPath,
    [...nodeFlags, '--import', 'tsx', 'packages/cli/src/main.ts', 'serve', service],
    env,
  );
}

/** Polls `url` until it answers `status`; fails early with the process's output if it exits. */
export async function waitForStatus(
  url: string,
  status: number,
  spawned: Spawned,
  timeoutMs: number,
  headers: Record<string, string> = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    try {
      const response = await fetch(url, { headers });
      if (response.status === status) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = (error as Error).message;
    }
    if (spawned.child.exitCode !== null) throw new Error(`process exited early:\n${spawned.output()}`);
    if (Date.now() > deadline)
      throw new Error(`${url} did not answer ${status} in time (last: ${last}):\n${spawned.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** SIGTERM, then SIGKILL if the process is still there after `graceMs`. */
export async function stop(spawned: Spawned, graceMs = 15_000): Promise<void> {
  if (spawned.child.exitCode !== null || spawned.child.signalCode !== null) return;
  spawned.child.kill('SIGTERM');
  const timer = setTimeout(() => spawned.child.kill('SIGKILL'), graceMs);
  await spawned.exited;
  clearTimeout(timer);
}

/**
 * Undo steps, run last-in first-out by `close()`, also when the bench is
 * interrupted (Ctrl-C) or fails half-way.
 */
export function createCleanup() {
  const steps: (() => Promise<unknown>)[] = [];
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      for (const step of steps.reverse()) await step().catch((error: unknown) => console.error(error));
    })();
    return closing;
  };
  const interrupted = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: stopping what the bench started`);
    void close().then(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  return {
    add: (step: () => Promise<unknown>) => void steps.push(step),
    close: async () => {
      await close();
      process.off('SIGINT', interrupted);
      process.off('SIGTERM', interrupted);
    },
  };
}

export type Cleanup = ReturnType<typeof createCleanup>;
