import { expect, test } from 'bun:test';
import { silentLogger } from '../lib/logger.ts';
import { createResources } from './resources.ts';

test('stops in reverse order of starting, once', async () => {
  const stopped: string[] = [];
  const r = createResources(silentLogger);
  r.add('etcd', () => void stopped.push('etcd'));
  r.add('switchyard', async () => void stopped.push('switchyard'));
  r.add('demo', () => void stopped.push('demo'));
  expect(r.closing).toBe(false);
  const [a, b] = await Promise.all([r.close(), r.close()]);
  expect({ a, b, closing: r.closing, stopped }).toEqual({ a: true, b: true, closing: true, stopped: ['demo', 'switchyard', 'etcd'] });
});

test('a failed stop is reported and the others still run', async () => {
  const stopped: string[] = [];
  const r = createResources(silentLogger);
  r.add('etcd', () => void stopped.push('etcd'));
  r.add('broken', () => {
    throw new Error('boom');
  });
  expect(await r.close()).toBe(false);
  expect(stopped).toEqual(['etcd']);
});

test('something added while closing is stopped too, and close waits for it', async () => {
  const stopped: string[] = [];
  const r = createResources(silentLogger);
  let release!: () => void;
  r.add('slow', () => new Promise<void>((resolve) => (release = resolve)));
  const closing = r.close();
  r.add('late', () => void stopped.push('late'));
  release();
  expect(await closing).toBe(true);
  expect(stopped).toEqual(['late']);
});
