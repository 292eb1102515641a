// Structured JSON logs (pino), fed by the event bus: one line per run and step event, each carrying
// `runId` and `step` so that a run's story can be grepped out of a busy service's output.
// Every line passes through the redactor on its way out: whatever a message or an error contains,
// a secret never reaches the destination.
import { format } from 'node:util';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { EventBus } from './event-bus.js';
import type { ElexirionEvent } from './events.js';
import { createRedactor, type Redactor } from './redact.js';

export type { Logger } from 'pino';

export interface LoggerConfig {
  /** Where lines go (default: stdout). */
  destination?: DestinationStream | NodeJS.WritableStream;
  level?: LoggerOptions['level'];
  /** Secrets are taken from this environment (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  redact?: Redactor;
}

export function createLogger(config: LoggerConfig = {}): Logger {
  const redact = config.redact ?? createRedactor(config.env);
  const target = config.destination ?? process.stdout;
  // The line as pino wrote it (messages, errors and their serializers included), redacted whole: the
  // redactor's rules keep within a JSON string (a secret's JSON-escaped spelling is one of its
  // values; a URL's password never runs past a quote), so the line stays the JSON it was.
  const redacting: DestinationStream = { write: (line: string) => target.write(redact(line)) };
  return pino(
    {
      level: config.level ?? 'info',
      base: { service: 'elexirion' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    redacting,
  );
}

/**
 * Routes into `logger` what the process would otherwise print on stderr behind its back: Node's
 * warnings (`process.emitWarning`: a run restarted after a crash, a provider declared with other
 * gate settings, a journal log recovered) and what libraries print with `console.warn` and
 * `console.error` (a vendor SDK's notice of a deprecated model). For a service whose stderr is its
 * JSON log, those would be plain-text lines in it, past the redactor. Node prints warnings from a
 * `warning` listener of its own: the listeners there are set aside while routed, else each warning
 * would be printed as well. Returns the function that puts everything back as it was.
 */
export function routeProcessOutput(logger: Logger): () => void {
  const listeners = process.listeners('warning');
  process.removeAllListeners('warning');
  const original = { warn: console.warn, error: console.error };
  // A line logged while logging one, or that the logger fails to write, is dropped: printed raw it
  // would pass the redactor, and the code that warned must never loop nor get a throw back.
  let logging = false;
  const log = (level: 'warn' | 'error', fields: object, message: string): void => {
    if (logging) return;
    logging = true;
    try {
      logger[level](fields, message);
    } catch {
      // dropped, as said above
    } finally {
      logging = false;
    }
  };
  const onWarning = (warning: Error & { code?: string }): void =>
    log(
      'warn',
      { event: 'process.warning', warning: warning.name, ...(warning.code ? { code: warning.code } : {}) },
      warning.message,
    );
  process.on('warning', onWarning);
  // util.format is what console itself applies to its arguments.
  console.warn = (...args: unknown[]) => log('warn', { event: 'console.warn' }, format(...args));
  console.error = (...args: unknown[]) => log('error', { event: 'console.error' }, format(...args));
  return () => {
    process.off('warning', onWarning);
    for (const listener of listeners) process.on('warning', listener);
    console.warn = original.warn;
    console.error = original.error;
  };
}

/** Logs every event of `bus` at a level fitting its outcome; returns the unsubscribe function. */
export function attachLogging(bus: EventBus, logger: Logger): () => void {
  return bus.onAny((event) => {
    // Chunks are the model's output, token by token: far too many lines, and not operational news.
    if (event.type === 'pipeline.step.chunk') return;
    const { level, msg } = describe(event);
    // Checked before the line's fields are copied: at the default level most events of a batch's
    // items (requests, answers, cache hits) are debug lines, dropped — no copy of each for nothing.
    if (!logger.isLevelEnabled(level)) return;
    logger[level]({ event: event.type, ...(event.data as object) }, msg);
  });
}

function describe(event: ElexirionEvent): { level: 'info' | 'warn' | 'error' | 'debug'; msg: string } {
  switch (event.type) {
    case 'pipeline.execution.start':
      return { level: 'info', msg: `run ${event.data.resumed ? 'resumed' : 'started'}: ${event.data.pipeline}` };
    case 'pipeline.execution.stop':
      return {
        level: event.data.status === 'succeeded' ? 'info' : event.data.status === 'failed' ? 'error' : 'warn',
        msg: `run ${event.data.status}: ${event.data.pipeline}`,
      };
    case 'pipeline.step.start':
      return { level: 'info', msg: `step started: ${event.data.step}` };
    case 'pipeline.step.stop':
      // A step taken from the journal on a resume did nothing now: not operational news (its
      // failure, absorbed by `on_error: continue`, was logged when it happened), and its line must
      // not read as a step that ran — nor match a grep for `step succeeded:`.
      if (event.data.fromJournal)
        return { level: 'debug', msg: `step ${event.data.status} (from the journal): ${event.data.step}` };
      return {
        level: event.data.status === 'failed' ? 'error' : 'info',
        msg: `step ${event.data.status}: ${event.data.step}`,
      };
    case 'pipeline.provider.retry':
      return { level: 'warn', msg: `retrying ${event.data.provider} (attempt ${event.data.attempt})` };
    case 'pipeline.provider.circuit':
      return {
        level: event.data.state === 'open' ? 'warn' : 'info',
        msg: `circuit ${event.data.state}: ${event.data.provider}`,
      };
    case 'pipeline.provider.response':
      return event.data.error
        ? { level: 'warn', msg: `provider call failed: ${event.data.provider}` }
        : { level: 'debug', msg: `provider answered: ${event.data.provider}` };
    default:
      return { level: 'debug', msg: event.type };
  }
}
