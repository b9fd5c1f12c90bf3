import { connect } from 'node:net';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Parses one HTTP/1.1 answer with a Content-Length body from what the socket received. */
function parseAnswer(received: Buffer): RawAnswer | undefined {
  const end = received.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const [statusLine, ...lines] = received.subarray(0, end).toString('latin1').split('\r\n');
  const headers = Object.fromEntries(
    lines.map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
    }),
  );
  const length = Number(headers['content-length'] ?? Number.NaN);
  const body = received.subarray(end + 4);
  if (Number.isNaN(length) || body.length < length) return undefined;
  return {
    status: Number(statusLine!.split(' ')[1]),
    headers,
    body: body.subarray(0, length).toString('utf8'),
  };
}

/**
 * A multipart upload by a client that sends its head and the first `fastBytes` of the file, then one
 * byte every `everyMs` — the slowest writer there is. Resolves with the answer DataLab gives it
 * (or rejects if the connection ends without one).
 */
export function tricklingUpload(
  base: string,
  path: string,
  headers: Record<string, string>,
  file: { name: string; content: string },
  options: { fastBytes: number; everyMs: number },
): Promise<RawAnswer> {
  const url = new URL(base);
  const boundary = `trickle${Math.random().toString(36).slice(2)}`;
  const body = Buffer.from(
    `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="${file.name}"\r\n` +
      `content-type: text/csv\r\n\r\n${file.content}\r\n--${boundary}--\r\n`,
  );
  const head = [
    `POST ${path} HTTP/1.1`,
    `host: ${url.host}`,
    `content-type: multipart/form-data; boundary=${boundary}`,
    `content-length: ${body.length}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    '',
    '',
  ].join('\r\n');
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let sent = body.indexOf('\r\n\r\n') + 4 + options.fastBytes;
    let received = Buffer.alloc(0);
    const timer = setInterval(() => {
      if (sent < body.length && socket.writable) socket.write(body.subarray(sent, ++sent));
    }, options.everyMs);
    const finish = (answer: RawAnswer | undefined): void => {
      clearInterval(timer);
      socket.destroy();
      if (answer) resolve(answer);
      else reject(new Error(`no answer: ${received.toString('latin1').slice(0, 300)}`));
    };
    socket.on('connect', () => socket.write(Buffer.concat([Buffer.from(head), body.subarray(0, sent)])));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const answer = parseAnswer(received);
      if (answer) finish(answer);
    });
    socket.on('error', () => finish(parseAnswer(received)));
    socket.on('close', () => finish(parseAnswer(received)));
  });
}
