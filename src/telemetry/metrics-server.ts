import { createServer, type Server } from 'node:http';
import { closeServer, listenOn } from './http-listen.js';
import type { PipelineMetrics } from './pipeline-metrics.js';

/** Serves `GET /metrics` (Prometheus text format) and `GET /healthz`. */
export class MetricsServer {
  private server: Server | undefined;

  constructor(
    private readonly metrics: PipelineMetrics,
    private readonly beforeScrape: () => void = () => {},
  ) {}

  /** Binds host:port (port 0 picks a free port); resolves with the bound port. */
  async listen(host: string, port: number): Promise<number> {
    const server = createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/metrics') {
        this.beforeScrape();
        this.metrics
          .text()
          .then((body) => {
            res.writeHead(200, { 'content-type': this.metrics.registry.contentType });
            res.end(body);
          })
          .catch((err: unknown) => {
            res.writeHead(500, { 'content-type': 'text/plain' });
            res.end(`metrics: ${String(err)}\n`);
          });
      } else if (req.method === 'GET' && req.url === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok\n');
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found; try GET /metrics\n');
      }
    });
    this.server = server;
    return listenOn(server, host, port, 'metrics server');
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await closeServer(server);
  }
}
