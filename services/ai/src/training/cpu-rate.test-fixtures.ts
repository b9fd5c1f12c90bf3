/**
 * CPU seconds the whole process (every thread) spends per second of wall
 * time from now on. Rates rather than CPU seconds, because on a busy machine
 * a thread gets only a share of a core.
 */
export function cpuRate() {
  const cpu = process.cpuUsage();
  const wall = performance.now();
  const seconds = () => (performance.now() - wall) / 1000;
  return {
    seconds,
    rate: () => {
      const used = process.cpuUsage(cpu);
      return (used.user + used.system) / 1e6 / seconds();
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
