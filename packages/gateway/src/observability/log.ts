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
  return pino(options, opts.destination as pino.DestinationStream | undefined);
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
