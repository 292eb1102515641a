#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/ (built by `npm run build`, run by `prepare` on install).
// Ctrl-C is handled from the start: loading the CLI takes a moment, and a signal meanwhile must
// still end as the CLI says (exit 130, and with --json a JSON document on stdout).
import { handleSignalsWhileStarting } from '../dist/cli/early-signals.js';

const started = handleSignalsWhileStarting(process.argv);

// A reader that goes away closes the pipe (`elexirion runs | head -1`, a log collector that stops):
// what is written to that stream from then on is dropped, quietly — no stack trace. The command
// goes on to its end and exits with its own code: a run is never abandoned half-way (left
// `running`, no process behind it), nor reported a success because its output could not be read.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
    stream.write = (_chunk, encoding, callback) => {
      const done = typeof encoding === 'function' ? encoding : callback;
      if (typeof done === 'function') process.nextTick(done);
      return true;
    };
  });
}

const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv);
started();
