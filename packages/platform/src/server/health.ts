import type { DependencyStatus } from '@datalab/contracts';

/** A dependency the service cannot work without (PostgreSQL, Redis, ...). */
export interface DependencyCheck {
  name: string;
  /** Resolves when the dependency answers; rejects (or times out) otherwise. */
  check: () => Promise<void>;
}

const CHECK_TIMEOUT_MS = 2000;

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    // Codes like ECONNREFUSED say what happened without exposing addresses or credentials.
    return typeof code === 'string' ? code : error.message.split('\n')[0]!.slice(0, 200);
  }
  return 'unknown error';
}

async function runCheck(dependency: DependencyCheck): Promise<DependencyStatus> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([dependency.check(), timeout]);
    return { name: dependency.name, status: 'up', latency_ms: Math.round(performance.now() - started) };
  } catch (error) {
    return {
      name: dependency.name,
      status: 'down',
      latency_ms: Math.round(performance.now() - started),
      error: describe(error),
    };
  } finally {
    clearTimeout(timer);
  }
}

export function checkDependencies(dependencies: readonly DependencyCheck[]): Promise<DependencyStatus[]> {
  return Promise.all(dependencies.map(runCheck));
}
