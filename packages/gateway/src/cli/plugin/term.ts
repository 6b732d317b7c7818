/**
 * Terminal output for the `gatehouse plugin` tools: colour only when stdout is a TTY and NO_COLOR
 * is unset (plain text when piped, so tests and logs read the same words), and a one-line
 * progress indicator for long steps that rewrites itself on a TTY and stays silent otherwise.
 */
const tty = Boolean(process.stdout.isTTY) && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb';
const errTty = Boolean(process.stderr.isTTY) && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb';

const paint = (code: number) => (s: string): string => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
export const bold = paint(1);
export const dim = paint(2);
export const red = paint(31);
export const green = paint(32);
export const yellow = paint(33);
export const cyan = paint(36);

export const PASS = (): string => green('PASS');
export const FAIL = (): string => red('FAIL');
export const WARN = (): string => yellow('WARN');

export const out = (line = ''): void => void process.stdout.write(`${line}\n`);
export const err = (line: string): void => void process.stderr.write(`${line}\n`);

/** Progress on stderr: "label 40%" rewritten in place on a TTY; one start line when piped. */
export class Progress {
  private last = -1;
  constructor(private readonly label: string, private readonly total: number) {
    if (!errTty) return;
    process.stderr.write(`${label} ...`);
  }

  tick(done: number): void {
    if (!errTty) return;
    const pct = Math.floor((done / this.total) * 100);
    if (pct === this.last) return;
    this.last = pct;
    process.stderr.write(`\r${this.label} ${pct}%`);
  }

  end(): void {
    if (errTty) process.stderr.write('\r\x1b[2K');
  }
}

/** "1.23 ms", "45 µs": the unit that keeps 3 significant figures. */
export function duration(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  return `${Math.round(ms * 1000)} µs`;
}

export function bytes(n: number): string {
  if (n >= 1048576) return `${(n / 1048576).toFixed(1)} MiB (${n / 65536} pages)`;
  return `${(n / 1024).toFixed(0)} KiB (${n / 65536} pages)`;
}

// `gatehouse plugin inspect x.wasm | head`: a closed pipe ends the output quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});
