import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';

/** An upstream's answer: its head, and its body whole (small) or streamed through (large or unknown). */
export interface UpstreamAnswer {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: Buffer | Readable;
  /** The trailers that followed the body; empty until the body has ended. */
  trailers: () => Record<string, string | string[]>;
  /** Ends a streamed body here, cleanly, and stops the upstream call (an event stream at shutdown). */
  finish: () => void;
}

export function announcedLength(value: string | string[] | undefined): number | undefined {
  const length = Number(value);
  return typeof value === 'string' && value !== '' && Number.isInteger(length) ? length : undefined;
}

/** Lets the proxy stop a call whose caller went away, whether or not it has reached a socket yet. */
export class CallerGone {
  gone = false;
  private stopCall: (() => void) | undefined;

  leave(): void {
    this.gone = true;
    this.stopCall?.();
  }

  onLeave(stop: () => void): void {
    this.stopCall = stop;
    if (this.gone) stop();
  }
}

const callerLeft = () => new Error('The caller went away');

const BODYLESS_STATUS = new Set([204, 304]);

/**
 * undici's dispatch callbacks for one call. A body of announced length up to `wholeBytes` is
 * gathered and answered whole, so its head and body leave the gateway in one write; any other is
 * answered as soon as its head is in and streamed, paused while the caller reads slower than the
 * upstream sends.
 */
class AnswerHandler implements Dispatcher.DispatchHandler {
  private chunks: Buffer[] | undefined;
  private stream: Readable | undefined;
  private head: Pick<UpstreamAnswer, 'statusCode' | 'headers'> | undefined;
  private trailers: Record<string, string | string[]> = {};
  private controller: Dispatcher.DispatchController | undefined;
  private finished = false;

  constructor(
    private readonly wholeBytes: number,
    private readonly callerGone: CallerGone,
    private readonly resolve: (answer: UpstreamAnswer) => void,
    private readonly reject: (error: Error) => void,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    this.callerGone.onLeave(() => controller.abort(callerLeft()));
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[]>,
  ): void {
    // 1xx answers are informational: the real head follows.
    if (statusCode < 200) return;
    this.head = { statusCode, headers };
    // 204 and 304 never carry a body (RFC 9110 §15.3.5, §15.4.5), whatever length they announce.
    const length = BODYLESS_STATUS.has(statusCode) ? 0 : announcedLength(headers['content-length']);
    if (length !== undefined && length <= this.wholeBytes) {
      this.chunks = [];
      return;
    }
    this.stream = new Readable({
      read: () => controller.resume(),
      destroy: (error, callback) => {
        // Fastify destroys the stream when the caller leaves mid-answer: stop the upstream too.
        if (!this.stream?.readableEnded) controller.abort(error ?? callerLeft());
        callback(error);
      },
    });
    this.resolve({ ...this.head, body: this.stream, trailers: () => this.trailers, finish: this.finish });
  }

  private readonly finish = (): void => {
    if (!this.stream || this.stream.readableEnded || this.finished) return;
    this.finished = true;
    this.stream.push(null);
    this.controller?.abort(new Error('The gateway is closing'));
  };

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.finished) return;
    if (this.chunks) this.chunks.push(chunk);
    else if (this.stream && !this.stream.push(chunk)) controller.pause();
  }

  onResponseEnd(
    _controller: Dispatcher.DispatchController,
    trailers: Record<string, string | string[]>,
  ): void {
    this.trailers = trailers;
    if (this.stream) {
      this.stream.push(null);
      return;
    }
    const chunks = this.chunks ?? [];
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    this.resolve({ ...this.head!, body, trailers: () => this.trailers, finish: this.finish });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.finished) return;
    if (this.stream) this.stream.destroy(error);
    else this.reject(error);
  }
}

/**
 * One call through `dispatcher`, answered as `AnswerHandler` describes. It fails, and nothing has
 * been passed on, when the upstream cannot be reached or breaks before a whole small answer is in.
 * This works on undici's dispatch callbacks rather than `request()`, which wraps every answer in a
 * stream and every call in an AbortSignal: per call, that cost the gateway more than the rest of
 * the proxying did.
 */
export function callUpstream(
  dispatcher: Dispatcher,
  options: Dispatcher.DispatchOptions,
  wholeBytes: number,
  callerGone: CallerGone,
): Promise<UpstreamAnswer> {
  return new Promise((resolve, reject) => {
    dispatcher.dispatch(options, new AnswerHandler(wholeBytes, callerGone, resolve, reject));
  });
}
