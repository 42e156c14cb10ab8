/** The client side of the control endpoint (src/service/control-server.ts): `status` and `apply`. */
import type { ServiceStatus } from '../service/service-status.js';
import type { ApplyRecord } from '../smi/controller/spec-controller.js';

export const DEFAULT_CONTROL_PORT = 9465;
export const DEFAULT_CONTROL_ENDPOINT = `http://127.0.0.1:${DEFAULT_CONTROL_PORT}`;

/** Exit codes of `status` and `apply` (README, "Control plane"). */
export const EXIT = { ok: 0, notOk: 1, usage: 2, unreachable: 3 } as const;

/** The endpoint flag shared by status and apply. */
export const ENDPOINT_FLAG = {
  name: 'endpoint',
  type: 'string' as const,
  valueName: 'URL',
  doc: `the service's control endpoint, loopback only (default ${DEFAULT_CONTROL_ENDPOINT}; run --control-port sets the port)`,
};

/** Checks the endpoint is a loopback http URL; returns the URL or why not. */
export function controlUrl(value: unknown): { url: URL } | { error: string } {
  let url: URL;
  try {
    url = new URL(value === undefined ? DEFAULT_CONTROL_ENDPOINT : String(value));
  } catch {
    return {
      error: `--endpoint: '${String(value)}' is not a URL; expected e.g. ${DEFAULT_CONTROL_ENDPOINT}`,
    };
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (
    url.protocol !== 'http:' ||
    !(host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host))
  ) {
    return { error: `--endpoint: '${url.href}' is not a loopback http URL (127.0.0.1, ::1 or localhost)` };
  }
  return { url };
}

export class Unreachable extends Error {}

async function request(url: URL, init?: RequestInit): Promise<{ code: number; body: unknown }> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
  } catch (err) {
    throw new Unreachable(
      `no service at ${url.origin} (${(err as Error).cause ? String((err as { cause: Error }).cause.message) : (err as Error).message})`,
    );
  }
  const text = await res.text();
  try {
    return { code: res.status, body: JSON.parse(text) as unknown };
  } catch {
    return { code: res.status, body: { error: text.slice(0, 200) } };
  }
}

export async function fetchStatus(base: URL): Promise<ServiceStatus> {
  const { code, body } = await request(new URL('/status', base));
  if (code !== 200) throw new Error(`status: HTTP ${code}: ${JSON.stringify(body)}`);
  return body as ServiceStatus;
}

export async function postApply(
  base: URL,
  file: string,
  text: string,
): Promise<{ code: number; record: ApplyRecord | { error: string } }> {
  const { code, body } = await request(new URL('/apply', base), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ file, text }),
  });
  return { code, record: body as ApplyRecord | { error: string } };
}
