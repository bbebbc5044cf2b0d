/**
 * Git's smart HTTP protocol on 127.0.0.1 for controllers that clone over HTTP (Flux's
 * source-controller): `git http-backend` run as a CGI program per request behind node:http.
 * Read-only use is all the tests need, but the backend serves whatever Git asks for.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GitHttpServer {
  /** `http://127.0.0.1:<port>`; a repository `<root>/x.git` is at `${url}/x.git`. */
  readonly url: string;
  /** Requests answered so far, as `METHOD path?query status`. */
  readonly requests: readonly string[];
  close(): Promise<void>;
}

/** The end of the CGI header block: the first empty line, with CRLF or LF line ends. */
function headerEnd(buf: Buffer): { at: number; skip: number } | undefined {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf < 0 && lf < 0) return undefined;
  if (lf < 0 || (crlf >= 0 && crlf < lf)) return { at: crlf, skip: 4 };
  return { at: lf, skip: 2 };
}

function serve(projectRoot: string, req: IncomingMessage, res: ServerResponse, done: (status: number) => void): void {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const header = (name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v.join(', ') : (v ?? '');
  };
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    GIT_PROJECT_ROOT: projectRoot,
    // serve every repository under the root without a git-daemon-export-ok file
    GIT_HTTP_EXPORT_ALL: '1',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    REQUEST_METHOD: req.method ?? 'GET',
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.replace(/^\?/, ''),
    CONTENT_TYPE: header('content-type'),
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    // gzip-compressed request bodies (the git client sends them) and protocol v2 negotiation
    HTTP_CONTENT_ENCODING: header('content-encoding'),
    GIT_PROTOCOL: header('git-protocol'),
  };
  const length = header('content-length');
  if (length) env['CONTENT_LENGTH'] = length;
  const cgi = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  cgi.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  let head = Buffer.alloc(0);
  let headersSent = false;
  let status = 200;
  cgi.stdout.on('data', (chunk: Buffer) => {
    if (headersSent) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = headerEnd(head);
    if (!end) return;
    const headers: Record<string, string> = {};
    for (const line of head.subarray(0, end.at).toString('latin1').split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
      else headers[name] = value;
    }
    res.writeHead(status, headers);
    headersSent = true;
    const rest = head.subarray(end.at + end.skip);
    if (rest.length) res.write(rest);
  });
  cgi.on('close', (code) => {
    if (!headersSent) {
      status = 500;
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.write(`git http-backend exited with ${code} before its headers: ${stderr}`);
    }
    res.end();
    done(status);
  });
  cgi.on('error', (e) => {
    if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
    res.end(`cannot run git http-backend: ${e.message}`);
  });
  // a client that disconnects must not leave the backend waiting on its stdin
  cgi.stdin.on('error', () => {});
  req.pipe(cgi.stdin);
}

/** Serve the bare repositories under `projectRoot` over HTTP on a free 127.0.0.1 port. */
export async function startGitHttpServer(projectRoot: string): Promise<GitHttpServer> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    serve(projectRoot, req, res, (status) => requests.push(`${req.method} ${req.url} ${status}`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
