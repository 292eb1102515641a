// Every CLI command, one file each. A command registers itself on the program and reports its
// exit code through `setExitCode` (so that main decides how the process ends).
// A command's file holds its definition only — flags, arguments, help — and imports nothing heavy:
// every command is registered on every start (`--help` lists them all), so what one imports, all
// pay for. What a command does lives in ../actions/, imported by its action when it runs: `run`
// never loads serve's HTTP server, the cluster's Redis clients, or the journal for `--help`.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { registerChain } from './chain.js';
import { registerCluster } from './cluster.js';
import { registerHealth } from './health.js';
import { registerResume } from './resume.js';
import { registerRun } from './run.js';
import { registerRuns } from './runs.js';
import { registerSchema } from './schema.js';
import { registerServe } from './serve.js';
import { registerValidate } from './validate.js';
import { registerWorker } from './worker.js';

export type RegisterCommand = (program: Command, ctx: CliContext, setExitCode: (code: number) => void) => void;

export const commands: RegisterCommand[] = [
  registerRun,
  registerResume,
  registerRuns,
  registerChain,
  registerValidate,
  registerSchema,
  registerServe,
  registerHealth,
  registerWorker,
  registerCluster,
];
