/** Node processes of a test (sweep workers, coordinators) whose JSON-line output the test reads. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export type Event = Record<string, unknown> & { type: string };

export class NodeProcess {
  readonly child: ChildProcess;
  readonly events: Event[] = [];
  private stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly label: string,
    script: URL,
    argument: unknown,
  ) {
    this.child = spawn(process.execPath, [script.pathname, JSON.stringify(argument)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let pending = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) if (line.trim() !== '') this.events.push({ ...(JSON.parse(line) as Event), at: Date.now() });
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-4000)));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first event (from `from` on) matching `predicate`; fails after `timeoutMs` or if the process exits. */
  async waitFor(predicate: (event: Event) => boolean, timeoutMs = 20_000, from = 0): Promise<Event> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.slice(from).find(predicate);
      if (found !== undefined) return found;
      if (!this.alive) throw new Error(`${this.label} exited (${this.child.exitCode ?? this.child.signalCode}) while waiting; stderr: ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`${this.label}: timed out waiting; events: ${JSON.stringify(this.events.slice(-5))}; stderr: ${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Sends `signal` and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.alive) this.child.kill(signal);
    return this.exited;
  }

  get log(): string {
    return this.stderr;
  }
}

/** Whether a process is gone (a zombie left for a parent that never reaps it counts as gone). */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

export async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
