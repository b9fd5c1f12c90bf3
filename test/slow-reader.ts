import { connect, type Socket } from 'node:net';

/**
 * HTTP/1.1 GETs by clients that read the status line and then nothing at all: the slowest reader
 * there is. Resolves with each status line once every head has arrived; `close` hangs them up.
 */
export async function readersThatStall(
  base: string,
  path: string,
  headers: Record<string, string>,
  count: number,
): Promise<{ heads: string[]; close: () => void }> {
  const url = new URL(base);
  const sockets: Socket[] = [];
  const close = (): void => {
    for (const socket of sockets) socket.destroy();
  };
  const request = [
    `GET ${path} HTTP/1.1`,
    `host: ${url.host}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    '',
    '',
  ].join('\r\n');
  try {
    const heads = await Promise.all(
      Array.from(
        { length: count },
        () =>
          new Promise<string>((resolve, reject) => {
            const socket = connect(Number(url.port), url.hostname, () => socket.write(request));
            sockets.push(socket);
            socket.once('data', (chunk: Buffer) => {
              socket.pause();
              resolve(chunk.toString('latin1').split('\r\n')[0]!);
            });
            socket.once('error', reject);
          }),
      ),
    );
    return { heads, close };
  } catch (error) {
    close();
    throw error;
  }
}
