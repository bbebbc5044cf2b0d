/** The CLI's writers: a reader that goes away (`osv-gitops … | head`) ends the output quietly. */
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { pipeWriter } from '../../src/cli/io.js';

describe('pipeWriter', () => {
  it('drops output after the reader closed the pipe, without an unhandled EPIPE', async () => {
    // a real local socket whose reader hangs up at once, as `head` does after its lines
    const path = join(mkdtempSync(join(tmpdir(), 'osv-pipe-')), 'sock');
    const server = createServer((s) => s.destroy());
    server.listen(path);
    await once(server, 'listening');
    const stream = connect(path);
    await once(stream, 'connect');
    const write = pipeWriter(stream);
    const chunk = 'y'.repeat(64 * 1024);
    try {
      // an unhandled 'error' event here would throw out of the event loop and fail the run
      for (let i = 0; i < 100 && !stream.destroyed; i++) {
        write(chunk);
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(stream.destroyed).toBe(true);
      expect(() => write(chunk)).not.toThrow();
    } finally {
      server.close();
    }
  });

  it('still raises other stream errors', () => {
    const stream = new PassThrough();
    pipeWriter(stream);
    expect(() => stream.emit('error', Object.assign(new Error('disk full'), { code: 'ENOSPC' }))).toThrow('disk full');
  });
});
