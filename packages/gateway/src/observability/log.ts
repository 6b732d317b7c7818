import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The gateway's logger: pino, JSON lines. Secrets never reach it: provider keys are added to the
 * upstream request inside the adapter, and nothing logs headers or key values. The redact paths
 * are a second line of defence for anything that logs a config or headers by mistake.
 */
export function createLogger(opts: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      level: opts.level ?? process.env.GATEHOUSE_LOG_LEVEL ?? 'info',
      base: undefined,
      redact: { paths: ['*.authorization', '*.Authorization', '*["x-api-key"]', '*["api-key"]', '*.value', 'key.value', 'keys[*].value'], censor: '[redacted]' },
    },
    opts.destination as pino.DestinationStream | undefined,
  );
}
