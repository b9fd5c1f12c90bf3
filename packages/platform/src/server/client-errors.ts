import { STATUS_CODES, maxHeaderSize } from 'node:http';
import type { Socket } from 'node:net';
import { PROBLEM_CONTENT_TYPE } from '../errors/problem.ts';

interface ParseError extends Error {
  code?: string;
  /** llhttp's own words for what was wrong, e.g. "Invalid character in chunk size". */
  reason?: string;
}

function statusAndDetail(error: ParseError): [number, string] {
  if (error.code === 'HPE_HEADER_OVERFLOW')
    return [431, `The request's head is larger than ${maxHeaderSize} bytes (the server's max header size)`];
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return [408, 'The request did not arrive in time (headersTimeout / requestTimeout)'];
  return [
    400,
    `The request is not valid HTTP/1.1: ${error.reason ?? error.message} (${error.code ?? 'parse error'})`,
  ];
}

/**
 * Requests Node's parser refuses before any route sees them (bad framing, conflicting
 * Content-Length and Transfer-Encoding, bad chunk sizes, oversized or slow heads) get a
 * problem+json naming what was wrong, then the connection is closed: after a framing error
 * nothing more on it can be trusted.
 */
export function answerClientError(error: ParseError, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  // An answer already under way on this socket cannot be followed by another one.
  const answering = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage
    ?.headersSent;
  if (socket.writable && !answering) {
    const [status, detail] = statusAndDetail(error);
    const body = JSON.stringify({
      type: 'urn:datalab:problem:bad_request',
      title: STATUS_CODES[status],
      status,
      detail,
    });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
