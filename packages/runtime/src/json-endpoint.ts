/**
 * A small local JSON-over-HTTP endpoint for a device process (127.0.0.1 only): the meter's
 * optical port (`--optical-port`). Wall-clock driven by whoever calls it, so a run driven
 * this way is not reproducible; scenarios use timeline actions instead.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';

export const JSON_ENDPOINT_MAX_BODY = 16 * 1024;

export interface JsonReply {
  status: number;
  body: unknown;
}

/** Handles one request: the method, the path and the parsed body (null for GET). */
export type JsonHandler = (
  method: string,
  path: string,
  body: Record<string, unknown> | null,
) => JsonReply | Promise<JsonReply>;

async function bodyOf(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > JSON_ENDPOINT_MAX_BODY) throw new Error('body too large');
  }
  const parsed: unknown = JSON.parse(text);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error('not an object');
  return parsed as Record<string, unknown>;
}

/** Listen on 127.0.0.1:`port`; bad JSON is a 400 `BAD_REQUEST`, a throwing handler a 500. */
export function startJsonEndpoint(port: number, handler: JsonHandler): Promise<Server> {
  const server = createServer((req, res) => {
    const send = (r: JsonReply) => {
      res.writeHead(r.status, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify(r.body)}\n`);
    };
    void (async () => {
      let body: Record<string, unknown> | null = null;
      if (req.method === 'POST') {
        try {
          body = await bodyOf(req);
        } catch (e) {
          return send({
            status: 400,
            body: { error: { code: 'BAD_REQUEST', message: (e as Error).message } },
          });
        }
      }
      try {
        send(await handler(req.method ?? 'GET', req.url ?? '/', body));
      } catch (e) {
        send({ status: 500, body: { error: { code: 'INTERNAL', message: (e as Error).message } } });
      }
    })();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
