/** Child processes of the real tier (etcd, kube-apiserver, Flux controllers): start, log, stop. */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly logFile: string;
  exited: boolean;
}

/** A GitOps agent's processes (Argo CD's, Flux's controllers), as a real-cluster run holds them. */
export interface AgentProcesses {
  readonly processes: readonly Child[];
  /** Throws with the logs when a process has exited. */
  checkAlive(): void;
  /** The tails of the logs. */
  logs(lines?: number): string;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (closed again at once; the caller binds it next). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function logTail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Start `bin` with its output appended to `logFile`. */
export function startChild(name: string, bin: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv): Child {
  const fd = openSync(logFile, 'a');
  const proc = spawn(bin, args, { stdio: ['ignore', fd, fd], ...(env ? { env } : {}) });
  closeSync(fd);
  const child: Child = { name, proc, logFile, exited: false };
  proc.on('exit', () => {
    child.exited = true;
  });
  return child;
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the process is gone. */
export async function stopChild(child: Child): Promise<void> {
  if (child.exited || child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.proc.once('exit', () => r()));
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
