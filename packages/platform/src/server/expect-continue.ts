import type { FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE } from '../errors/problem.ts';
import type { App } from './server.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The handler itself answers `Expect: 100-continue` (with `sendContinue`) once it has checked
     * what it must before the body is sent; the gateway's proxy checks the upload's size.
     */
    continuesInHandler?: boolean;
  }
}

const CONTINUE = /^\s*100-continue\s*$/i;

const continued = new WeakSet<FastifyRequest>();

function expectsContinue(request: FastifyRequest): boolean {
  return CONTINUE.test(String(request.headers.expect ?? ''));
}

/**
 * Asks a client waiting on `Expect: 100-continue` for its body. Call it only once the request
 * may go ahead: a client refused before it is sent the body saves the upload (RFC 9110 §10.1.1).
 */
export function sendContinue(request: FastifyRequest, reply: FastifyReply): void {
  if (!expectsContinue(request) || continued.has(request) || reply.raw.headersSent) return;
  continued.add(request);
  reply.raw.writeContinue();
}

/**
 * Node answers `100 Continue` as soon as the head is in, before authentication. Here the request
 * goes through the onRequest hooks (who is calling, rate limits, access) first, and the body is
 * asked for just before it is parsed, unless the body is larger than the route takes or the route
 * asks for it itself. A request refused without its body closes its connection: the body the
 * client holds back would otherwise be read as the next request.
 */
export function deferContinue(app: App): void {
  app.server.on('checkContinue', (request, response) => app.server.emit('request', request, response));
  // Any other expectation cannot be met (RFC 9110 §10.1.1: 417).
  app.server.on('checkExpectation', (request, response) => {
    const detail = `The Expect header asks for "${String(request.headers.expect)}"; only 100-continue is supported`;
    response.writeHead(417, { 'content-type': PROBLEM_CONTENT_TYPE, connection: 'close' });
    response.end(
      JSON.stringify({
        type: 'urn:datalab:problem:expectation_failed',
        title: 'Expectation Failed',
        status: 417,
        detail,
      }),
    );
  });
  app.addHook('preParsing', async (request, reply) => {
    if (request.routeOptions.config.continuesInHandler) return;
    const length = Number(request.headers['content-length'] ?? 0);
    if (length > (request.routeOptions.bodyLimit ?? Infinity)) return;
    sendContinue(request, reply);
  });
  app.addHook('onSend', async (request, reply) => {
    if (expectsContinue(request) && !continued.has(request)) void reply.header('connection', 'close');
  });
}
