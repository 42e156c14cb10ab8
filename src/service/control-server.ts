/**
 * The control endpoint (loopback only): `GET /status` (the live state as JSON, for
 * `smi-fusion status`) and `POST /apply` (a spec file's text, for `smi-fusion apply -f FILE`).
 * It refuses to bind anything but a loopback address and answers loopback peers only: whoever
 * can reach it can change the running pipeline.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { closeServer, listenOn } from '../telemetry/http-listen.js';
import type { ApplyRecord } from '../smi/controller/spec-controller.js';

/** Largest apply body, bytes (a spec is a few KiB; this bounds what a request can make us hold). */
export const MAX_APPLY_BYTES = 4 * 1024 * 1024;

export interface ControlHandlers {
  status(): unknown;
  apply(file: string, text: string): Promise<ApplyRecord>;
}

/** Whether `host` is a loopback address or name. */
export function isLoopback(host: string): boolean {
  return (
    host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::ffff:127.0.0.1'
  );
}

export class ControlServer {
  private server: Server | undefined;

  constructor(private readonly handlers: ControlHandlers) {}

  /** Binds host:port (a loopback host only; port 0 picks a free port); resolves with the port. */
  async listen(host: string, port: number): Promise<number> {
    if (!isLoopback(host)) {
      throw new Error(
        `control endpoint: '${host}' is not a loopback address; it binds 127.0.0.1, ::1 or localhost only`,
      );
    }
    const server = createServer((req, res) => {
      const send = (code: number, body: unknown): void => {
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(`${JSON.stringify(body, null, 2)}\n`);
      };
      if (!isLoopback(req.socket.remoteAddress ?? '')) return send(403, { error: 'loopback peers only' });
      if (req.method === 'GET' && req.url === '/status') return send(200, this.handlers.status());
      if (req.method === 'POST' && req.url === '/apply') {
        readBody(req, MAX_APPLY_BYTES).then(
          async (body) => {
            let parsed: { file?: unknown; text?: unknown };
            try {
              parsed = JSON.parse(body) as typeof parsed;
            } catch {
              return send(400, { error: 'the body must be JSON: {"file": NAME, "text": YAML}' });
            }
            if (typeof parsed.file !== 'string' || typeof parsed.text !== 'string') {
              return send(400, { error: 'the body must be JSON: {"file": NAME, "text": YAML}' });
            }
            const record = await this.handlers.apply(parsed.file, parsed.text);
            send(record.result === 'Applied' || record.result === 'Unchanged' ? 200 : 422, record);
          },
          (err: Error) => send(413, { error: err.message }),
        );
        return;
      }
      send(404, { error: 'not found; try GET /status or POST /apply' });
    });
    this.server = server;
    return listenOn(server, host, port, 'control endpoint');
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await closeServer(server);
  }
}

function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.byteLength;
      if (size > max) {
        reject(new Error(`apply: body over ${max} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
