#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/ (built by `npm run build`, run by `prepare` on install).
import { main } from '../dist/cli/main.js';

// A reader that stops reading (`elexirion runs | head -1`) closes the pipe: stop there, as a Unix
// tool does on SIGPIPE, instead of dying on an unhandled error with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
}

main(process.argv).then((code) => {
  process.exitCode = code;
});
