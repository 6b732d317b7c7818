import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';

export type { Logger };

const CENSOR = '[redacted]';
/** Header names that carry credentials on some front (OpenAI, Anthropic, Azure, GenAI, Bifrost virtual keys). */
export const SECRET_HEADERS = ['authorization', 'Authorization', 'x-api-key', 'api-key', 'x-goog-api-key', 'x-bf-vk', 'proxy-authorization', 'cookie'];

// Second line of defence: nothing logs headers or key values on purpose (provider keys are added
// inside the adapter, errors quoting a key are cut by the core), but a stray config or header
// object in a log call must not leak either.
const REDACT_PATHS = [
  ...SECRET_HEADERS.flatMap((h) => [`["${h}"]`, `*["${h}"]`, `*.headers["${h}"]`, `headers["${h}"]`]),
  'value', '*.value', 'key.value', 'keys[*].value', '*.keys[*].value', 'token', '*.token', 'admin_token', '*.admin_token', 'api_key', '*.api_key',
];

export interface LoggerOptions {
  /** Explicit level (tests); else GATEHOUSE_LOG_LEVEL, else config `logging.level`, else info. */
  level?: string;
  configLevel?: string;
  destination?: NodeJS.WritableStream;
  /** `pretty` or `json`; default: pretty when stdout is a TTY (GATEHOUSE_LOG_FORMAT overrides). */
  format?: 'pretty' | 'json';
}

/** The gateway's logger: pino, JSON lines (pretty on a terminal), with credential paths redacted. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? process.env.GATEHOUSE_LOG_LEVEL ?? opts.configLevel ?? 'info';
  const options = { level, base: undefined, redact: { paths: REDACT_PATHS, censor: CENSOR } };
  const format = opts.format ?? (process.env.GATEHOUSE_LOG_FORMAT as 'pretty' | 'json' | undefined) ?? (opts.destination === undefined && process.stdout.isTTY ? 'pretty' : 'json');
  if (format === 'pretty' && opts.destination === undefined) {
    const pretty = loadPretty();
    if (pretty) return pino(options, pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
  }
  if (opts.destination) return pino(options, opts.destination as pino.DestinationStream);
  const dest = stdoutDestination();
  enders.set(dest.stream, dest.end);
  return pino(options, dest.stream);
}

const enders = new WeakMap<object, (timeoutMs: number) => Promise<void>>();

/**
 * Writes out (or gives up on) what the log still holds; call it last before `process.exit`.
 * Needed because pino flushes an asynchronous destination synchronously at exit, and sonic-boom 4
 * retries a failed write there forever: with a closed stdout (`gatehouse serve | head`) the process
 * never ended. An ended destination is skipped at exit; one whose write failed (EPIPE) has its
 * flush turned into a no-op by pino. Child loggers share their parent's destination.
 */
export function endLog(log: Logger, timeoutMs = 2000): Promise<void> {
  const stream = (log as unknown as Record<symbol, object>)[pino.symbols.streamSym];
  const end = stream ? enders.get(stream) : undefined;
  return end ? end(timeoutMs) : Promise.resolve();
}

/** pino's own default (sonic-boom on fd 1, asynchronous), held so it can be ended before exit. */
function stdoutDestination(): { stream: pino.DestinationStream; end: (timeoutMs: number) => Promise<void> } {
  const stream = pino.destination({ dest: 1, sync: false, minLength: 0 });
  let failed = false;
  // Beside pino's own EPIPE handler: a log line that cannot be written never stops the gateway.
  stream.on('error', () => { failed = true; });
  const end = (timeoutMs: number): Promise<void> => new Promise((resolve) => {
    if (failed || (stream as { destroyed?: boolean }).destroyed) return resolve();
    const done = (): void => { clearTimeout(timer); resolve(); };
    const timer = setTimeout(done, timeoutMs);
    stream.once('close', done);
    stream.once('error', done);
    try { stream.end(); } catch { done(); }
  });
  return { stream, end };
}

type PrettyFactory = (o: Record<string, unknown>) => pino.DestinationStream;

// pino-pretty is only needed on a terminal; loaded synchronously so start-up stays one path.
function loadPretty(): PrettyFactory | undefined {
  try {
    const mod = createRequire(import.meta.url)('pino-pretty') as PrettyFactory | { default: PrettyFactory };
    return typeof mod === 'function' ? mod : mod.default;
  } catch {
    return undefined;
  }
}
