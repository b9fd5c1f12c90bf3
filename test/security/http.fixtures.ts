import http from 'node:http';
import { JOBS } from './jobs.fixtures.ts';
import { bearer, type Stack } from './stack.ts';

/** Connections a test holds open through the gateway, as a browser or a slow client would. */

export interface OpenedStream {
  status: number;
  type: string;
  /** The refusal's body; empty for a stream that opened. */
  body: string;
  close: () => void;
  response: http.IncomingMessage;
}

/** Opens a job's event stream; resolves at its first event (or its whole refusal) and leaves it open. */
export function openEventStream(stack: Stack, token: string, jobId: string): Promise<OpenedStream> {
  return new Promise((resolve, reject) => {
    const request = http.get(
      `${stack.url}${JOBS}/${jobId}/events`,
      { headers: bearer(token) },
      (response) => {
        response.on('error', () => {});
        const answer = (body: string) =>
          resolve({
            status: response.statusCode ?? 0,
            type: response.headers['content-type'] ?? '',
            body,
            close: () => request.destroy(),
            response,
          });
        if (response.statusCode === 200) return void response.once('data', () => answer(''));
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => answer(body));
      },
    );
    request.on('error', reject);
  });
}

/** Starts an upload of dataset `name` whose body never finishes arriving: 64 KB now, then a trickle. */
export function startEndlessUpload(stack: Stack, token: string, name: string): http.ClientRequest {
  const boundary = 'endless';
  const request = http.request(`${stack.url}/api/v1/data/datasets`, {
    method: 'POST',
    headers: { ...bearer(token), 'content-type': `multipart/form-data; boundary=${boundary}` },
  });
  request.on('error', () => {});
  request.write(
    `--${boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\n${name}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}.csv"\r\n\r\na,b\r\n`,
  );
  request.write('1,2\r\n'.repeat(13_000));
  const trickle = setInterval(
    () => (request.destroyed ? clearInterval(trickle) : request.write('3,4\r\n')),
    100,
  );
  return request;
}
