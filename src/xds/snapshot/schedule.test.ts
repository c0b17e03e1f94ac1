import { expect, test } from 'bun:test';
import { createBuildScheduler } from './schedule.ts';

const record = (debounceMs: number, maxDelayMs: number) => {
  const t0 = performance.now();
  const builds: { at: number; names: string[] }[] = [];
  const scheduler = createBuildScheduler({ debounceMs, maxDelayMs, onDue: (names) => builds.push({ at: performance.now() - t0, names: names.sort() }) });
  return { scheduler, builds, t0 };
};
const builtAt = (builds: { at: number; names: string[] }[], name: string) => builds.filter((b) => b.names.includes(name)).map((b) => b.at);

test('a service that keeps changing does not hold back the others; it is built every maximum delay', async () => {
  const { scheduler, builds, t0 } = record(10, 400);
  const flapping = setInterval(() => scheduler.changed(['flappy']), 2);
  await Bun.sleep(30);
  const quietChangedAt = performance.now();
  scheduler.changed(['quiet']);
  await Bun.sleep(900);
  clearInterval(flapping);
  scheduler.stop();

  expect(builtAt(builds, 'quiet')).toHaveLength(1);
  // built on its own 10 ms quiet period; one shared quiet period would have waited for the flapping
  // service's maximum delay, ~370 ms later
  const quietBuild = builds.find((b) => b.names.includes('quiet'))!;
  expect(t0 + quietBuild.at - quietChangedAt).toBeLessThan(150);
  const flappy = builtAt(builds, 'flappy');
  expect(flappy.length).toBeGreaterThanOrEqual(2);
  for (let i = 1; i < flappy.length; i++) expect(flappy[i]! - flappy[i - 1]!).toBeLessThan(400 + 100);
}, 5_000);

test('changes to one service within the quiet period are built once, after it', async () => {
  const { scheduler, builds } = record(20, 500);
  scheduler.changed(['a']);
  await Bun.sleep(5);
  scheduler.changed(['a', 'b']);
  await Bun.sleep(5);
  scheduler.changed(['a']);
  expect(builds).toEqual([]);
  await Bun.sleep(60);
  // b fell due 20 ms after its change, a 20 ms after its last one: one build each (or both in one)
  expect(builds.flatMap((b) => b.names).sort()).toEqual(['a', 'b']);
  expect(scheduler.pendingCount).toBe(0);
  scheduler.stop();
});

test('debounce 0 builds on the next turn of the event loop, everything changed in this one together', async () => {
  const { scheduler, builds } = record(0, 100);
  scheduler.changed(['a']);
  scheduler.changed(['b']);
  expect(builds).toEqual([]);
  await new Promise((r) => setImmediate(r));
  await Bun.sleep(1);
  expect(builds.map((b) => b.names)).toEqual([['a', 'b']]);
  scheduler.stop();
});

test('takeAll returns what is pending and cancels the timer', async () => {
  const { scheduler, builds } = record(5, 50);
  scheduler.changed(['a', 'b']);
  expect(scheduler.takeAll().sort()).toEqual(['a', 'b']);
  await Bun.sleep(20);
  expect(builds).toEqual([]);
  scheduler.stop();
});
