import { afterEach, describe, expect, inject, it } from 'vitest';
import { freePort, spawnTs, waitForStatus, type Spawned } from '../../../../test/processes.ts';

describe('graceful shutdown of a service process', () => {
  let service: Spawned | undefined;
  afterEach(() => {
    service?.child.kill('SIGKILL');
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'on %s finishes the request in flight, refuses new ones, closes its pools and exits 0',
    async (signal) => {
      const port = await freePort();
      service = spawnTs('test/fixtures/slow-service.ts', [], {
        DATABASE_URL: inject('databaseUrl'),
        PORT: String(port),
        LOG_LEVEL: 'info',
      });
      await waitForStatus(`http://127.0.0.1:${port}/health/ready`, 200, service);

      const inFlight = fetch(`http://127.0.0.1:${port}/slow`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      service.child.kill(signal);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const refused = await fetch(`http://127.0.0.1:${port}/health/live`).then(
        (response) => response.status,
        () => 'refused',
      );

      const response = await inFlight;
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ finished: true });
      expect(refused).not.toBe(200);
      expect(await service.exited).toEqual({ code: 0, signal: null });
      expect(service.output()).toContain('"msg":"stopped"');
    },
  );
});
