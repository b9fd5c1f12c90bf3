import pg from 'pg';
import { AppError } from '../errors/errors.ts';

/**
 * PostgreSQL frames every message as a type byte and a 4-byte length, and `pg` gathers a whole
 * message in one buffer before it decodes it: a 512 MB value becomes a 512 MB buffer, then a
 * string past V8's limit, thrown inside the socket handler where nothing can catch it (the
 * process dies). So every connection of a DataLab pool reads the lengths first, as the bytes
 * arrive, and ends the connection before `pg` buffers a message past the process's ceiling or
 * rows past the budget the caller set for this checkout. The failing query rejects with the
 * budget's error; the connection is not reused.
 */

/** What one checkout may receive as rows (DataRow messages), counted from their headers. */
export interface RowBudget {
  /** Most bytes one row may have on the wire. */
  maxRowBytes: number;
  /** Most bytes all rows together may have until the budget is lifted. */
  maxTotalBytes: number;
  /** The error the running query fails with: `row` when one row passed its limit, else `total`. */
  exceeded: (what: 'row' | 'total') => Error;
}

const HEADER_BYTES = 5;
const DATA_ROW = 0x44; // 'D'

/** Follows the message framing of one connection's incoming bytes. */
class Meter {
  budget: RowBudget | undefined;
  received = 0;
  private readonly header = Buffer.alloc(HEADER_BYTES);
  private headerFill = 0;
  private remaining = 0;

  constructor(private readonly maxMessageBytes: number) {}

  /** Returns the error to end the connection with, or undefined when the chunk may be parsed. */
  scan(chunk: Buffer): Error | undefined {
    let at = 0;
    while (at < chunk.length) {
      if (this.remaining > 0) {
        const skip = Math.min(this.remaining, chunk.length - at);
        at += skip;
        this.remaining -= skip;
        continue;
      }
      const take = Math.min(HEADER_BYTES - this.headerFill, chunk.length - at);
      chunk.copy(this.header, this.headerFill, at, at + take);
      this.headerFill += take;
      at += take;
      if (this.headerFill < HEADER_BYTES) return undefined;
      this.headerFill = 0;
      // The length counts itself but not the type byte.
      const length = this.header.readUInt32BE(1);
      this.remaining = Math.max(0, length - 4);
      const error = this.check(this.header[0]!, length + 1);
      if (error) return error;
    }
    return undefined;
  }

  private check(type: number, bytes: number): Error | undefined {
    if (type === DATA_ROW && this.budget) {
      if (bytes > this.budget.maxRowBytes) return this.budget.exceeded('row');
      this.received += bytes;
      if (this.received > this.budget.maxTotalBytes) return this.budget.exceeded('total');
    }
    if (bytes > this.maxMessageBytes) {
      const mebibytes = Math.round((this.maxMessageBytes / 1024 / 1024) * 10) / 10;
      return new AppError(
        'too_large',
        `A row or message from the database is larger than the ${mebibytes} MiB a DataLab process reads at once (DATABASE_MAX_MESSAGE_BYTES)`,
        { extensions: { limit: 'DATABASE_MAX_MESSAGE_BYTES', limit_bytes: this.maxMessageBytes } },
      );
    }
    return undefined;
  }
}

interface Listening {
  on: (event: string, listener: (...args: unknown[]) => void) => unknown;
  destroy: (error?: Error) => void;
}

interface ConnectionInternals {
  attachListeners: (stream: unknown) => void;
}

const meters = new WeakMap<object, Meter>();

/** A `pg.Client` class whose connections are metered; pools pass it as their `Client`. */
export function meteredClient(maxMessageBytes: number): typeof pg.Client {
  return class MeteredClient extends pg.Client {
    constructor(config?: string | pg.ClientConfig) {
      super(config);
      const meter = new Meter(maxMessageBytes);
      meters.set(this, meter);
      // `pg` hands the (plain or TLS) socket to its parser here; the parser listens to `data`
      // and `end` only, so it gets a view whose `data` passes the meter first.
      const connection = (this as unknown as { connection: ConnectionInternals }).connection;
      const attach = connection.attachListeners.bind(connection);
      connection.attachListeners = (stream) => {
        const socket = stream as Listening;
        attach({
          on(event: string, listener: (...args: unknown[]) => void) {
            if (event !== 'data') return socket.on(event, listener);
            return socket.on('data', (chunk) => {
              const error = meter.scan(chunk as Buffer);
              if (error) socket.destroy(error);
              else listener(chunk);
            });
          },
        });
      };
    }
  };
}

/**
 * Sets (or, with undefined, lifts) the row budget of a checked-out connection of a DataLab pool.
 * Counting starts again at zero.
 */
export function limitRows(client: pg.PoolClient, budget: RowBudget | undefined): void {
  const meter = meters.get(client);
  // Lifting nothing is harmless; a budget nobody would enforce is a bug.
  if (!meter && !budget) return;
  if (!meter) throw new Error('limitRows needs a connection from a DataLab pool (connectDatabase)');
  meter.budget = budget;
  meter.received = 0;
}

/** Runs `work` on a checked-out connection under `budget`; a connection the budget ended is not reused. */
export async function withRowBudget<T>(
  pool: pg.Pool,
  budget: RowBudget,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  // A checked-out client has no error listener of the pool's; ending it must not crash the process.
  const onError = (): void => {
    broken = true;
  };
  client.on('error', onError);
  try {
    limitRows(client, budget);
    return await work(client);
  } finally {
    limitRows(client, undefined);
    client.removeListener('error', onError);
    client.release(broken);
  }
}
