import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';

function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d) => {
    text += d;
  });
  return { stream, text: () => text };
}

describe('logging', () => {
  it('writes one JSON object a line, with child bindings', () => {
    const out = capture();
    const root = createLogger({ level: 'info', format: 'json', destination: out.stream, isTTY: false });
    root.child({ peer: 'abc12345' }).child({ module: 'api' }).info({ port: 9100 }, 'listening');
    root.debug('not written at info');
    const lines = out.text().trim().split('\n');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] as string);
    expect(line).toMatchObject({ level: 30, peer: 'abc12345', module: 'api', port: 9100, msg: 'listening' });
    expect(line.time).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('auto is JSON off a terminal and human-readable on one', () => {
    const pipe = capture();
    createLogger({ level: 'info', format: 'auto', destination: pipe.stream, isTTY: false }).info('hello');
    expect(() => JSON.parse(pipe.text())).not.toThrow();
    const tty = capture();
    createLogger({ level: 'info', format: 'auto', destination: tty.stream, isTTY: true }).info('hello');
    expect(tty.text()).toMatch(/INFO.*hello/);
    expect(() => JSON.parse(tty.text())).toThrow();
  });

  it('silent writes nothing', () => {
    const out = capture();
    createLogger({ level: 'silent', format: 'json', destination: out.stream }).error('nope');
    expect(out.text()).toBe('');
  });
});
