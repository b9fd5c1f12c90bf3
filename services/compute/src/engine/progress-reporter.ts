/**
 * Handlers may report progress in a tight loop; the job row and its watchers
 * get at most one write per `intervalMs`, always ending with the latest value.
 */
export function createProgressReporter(
  save: (percent: number, message: string | null) => Promise<void>,
  intervalMs: number,
) {
  let latest: { percent: number; message: string | null } | undefined;
  let lastWrite = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const write = async (): Promise<void> => {
    timer = undefined;
    if (!latest || stopped) return;
    const { percent, message } = latest;
    latest = undefined;
    lastWrite = Date.now();
    await save(percent, message);
  };

  return {
    report: async (percent: number, message?: string): Promise<void> => {
      if (stopped) return;
      const clamped = Math.min(100, Math.max(0, Math.round(Number.isFinite(percent) ? percent : 0)));
      latest = { percent: clamped, message: message?.slice(0, 500) ?? null };
      if (timer) return;
      const wait = lastWrite + intervalMs - Date.now();
      if (wait <= 0) return write();
      timer = setTimeout(() => void write(), wait);
    },
    stop: (): void => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
