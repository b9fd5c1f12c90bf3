import { CronExpressionParser, type CronExpression } from 'cron-parser';
import { AppError } from '@datalab/platform';

/** Ticks looked at when checking how often an expression fires. */
const SAMPLE_TICKS = 50;

/** Throws 400 naming `field` when `timezone` is not an IANA zone this runtime knows. */
export function checkTimezone(timezone: string, field: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new AppError('invalid', `Unknown timezone "${timezone}"`, {
      errors: [{ field, message: 'must be an IANA timezone such as UTC or Europe/Paris' }],
    });
  }
}

/**
 * The expression, evaluated in `timezone`. `H` fields are seeded by the
 * schedule's id, so every instance derives the same ticks from it.
 */
function parse(cron: string, timezone: string, seed: string, from: Date): CronExpression {
  return CronExpressionParser.parse(cron, { tz: timezone, hashSeed: seed, currentDate: from });
}

/**
 * Checks a cron expression (5 fields, or 6 with seconds first) for a new or
 * changed schedule: it must parse, fire at all, and not more often than every
 * `minIntervalMs` over its next ticks (a schedule is a standing order for work).
 */
export function checkCron(cron: string, timezone: string, seed: string, minIntervalMs: number): void {
  const refuse = (message: string): never => {
    throw new AppError('invalid', `Cron expression "${cron}" ${message}`, {
      errors: [{ field: '/body/cron', message }],
    });
  };
  let ticks: Date[];
  try {
    ticks = parse(cron, timezone, seed, new Date())
      .take(SAMPLE_TICKS)
      .map((tick) => tick.toDate());
  } catch (error) {
    return refuse(`is not valid: ${(error as Error).message}`);
  }
  if (ticks.length === 0) refuse('never fires');
  for (let i = 1; i < ticks.length; i++)
    if (ticks[i]!.getTime() - ticks[i - 1]!.getTime() < minIntervalMs)
      refuse(`fires more often than every ${minIntervalMs / 1000} s, the least interval allowed`);
}

/** The first tick strictly after `after`, or undefined when the expression never fires again. */
export function nextTick(cron: string, timezone: string, seed: string, after: Date): Date | undefined {
  const expression = parse(cron, timezone, seed, after);
  return expression.hasNext() ? expression.next().toDate() : undefined;
}

/** The last tick at or before `at` (the one a late scheduler fires, once, for all it missed). */
export function lastTickAtOrBefore(cron: string, timezone: string, seed: string, at: Date): Date | undefined {
  // currentDate is exclusive: start one millisecond later so a tick exactly at `at` counts.
  const expression = parse(cron, timezone, seed, new Date(at.getTime() + 1));
  return expression.hasPrev() ? expression.prev().toDate() : undefined;
}
