/**
 * When each changed service is built: after it has been quiet for `debounceMs`, or `maxDelayMs` after
 * its first unbuilt change while it keeps changing. Each service keeps its own clock, so a service that
 * flaps does not hold back the others (issue 5, "per-service fairness"): they are built on their own
 * quiet period while the flapping one waits for its maximum delay.
 */
export interface BuildScheduler {
  /** These services changed now. */
  changed(names: Iterable<string>): void;
  /** Takes every pending service, due or not (a flush). */
  takeAll(): string[];
  readonly pendingCount: number;
  stop(): void;
}

export interface BuildSchedulerOptions {
  debounceMs: number;
  maxDelayMs: number;
  /** Called with the services that are due, already removed from the pending set. */
  onDue(names: string[]): void;
  now?: () => number;
}

/** Timer slack: a timer that fires this early still counts as on time. */
const SLACK_MS = 1;

export function createBuildScheduler({ debounceMs, maxDelayMs, onDue, now = () => performance.now() }: BuildSchedulerOptions): BuildScheduler {
  const pending = new Map<string, { first: number; last: number }>();
  let timer: Timer | undefined;
  let timerAt = Infinity;
  const dueAt = (p: { first: number; last: number }) => Math.min(p.last + debounceMs, p.first + maxDelayMs);

  function schedule(at: number, t: number): void {
    if (timer !== undefined && timerAt <= at) return;
    if (timer !== undefined) cancel(timer);
    timerAt = at;
    const wait = at - t;
    // setTimeout(fn, 0) still waits ~1 ms in Bun; setImmediate runs right after pending I/O.
    timer = wait <= 0 ? { immediate: setImmediate(fire) } : { timeout: setTimeout(fire, wait) };
  }

  function fire(): void {
    timer = undefined;
    timerAt = Infinity;
    const t = now();
    const due: string[] = [];
    let next = Infinity;
    for (const [name, p] of pending) {
      const at = dueAt(p);
      if (at <= t + SLACK_MS) due.push(name);
      else next = Math.min(next, at);
    }
    for (const name of due) pending.delete(name);
    if (next < Infinity) schedule(next, t);
    if (due.length > 0) onDue(due);
  }

  return {
    changed(names) {
      const t = now();
      let earliest = Infinity;
      for (const name of names) {
        let p = pending.get(name);
        if (p) p.last = t;
        else pending.set(name, (p = { first: t, last: t }));
        earliest = Math.min(earliest, dueAt(p));
      }
      if (earliest < Infinity) schedule(earliest, t);
    },
    takeAll() {
      const names = [...pending.keys()];
      pending.clear();
      if (timer !== undefined) cancel(timer);
      timer = undefined;
      timerAt = Infinity;
      return names;
    },
    get pendingCount() {
      return pending.size;
    },
    stop() {
      if (timer !== undefined) cancel(timer);
      timer = undefined;
      pending.clear();
    },
  };
}

type Timer = { immediate: ReturnType<typeof setImmediate> } | { timeout: ReturnType<typeof setTimeout> };
const cancel = (t: Timer) => ('immediate' in t ? clearImmediate(t.immediate) : clearTimeout(t.timeout));
