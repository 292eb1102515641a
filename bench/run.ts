// Runs every benchmark (bench/*.bench.ts), each in its own process so that one's memory and JIT
// state never colour another's, and writes what they print to bench/RESULTS.md with the machine
// and the date. Run: npm run bench [-- name-filter]
//
// The benchmarks run compiled (tsc → .bench-build/), on plain `node`: a TypeScript loader in the
// measured process would add its own memory and its source-map hooks (which make every Error dear),
// and production runs the compiled code.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2];
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts') && (!filter || f.includes(filter)))
  .sort();

const root = join(here, '..');
const build = join(root, '.bench-build');
console.log('compiling the benchmarks (tsc -p tsconfig.bench.json; the CLI they start comes from npm run build)');
rmSync(build, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.bench.json'], {
  cwd: root,
  stdio: 'inherit',
});
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
  cwd: root,
  stdio: 'inherit',
});
// Compiled test helpers find the CLI at ../../bin relative to themselves.
mkdirSync(build, { recursive: true });
symlinkSync(join(root, 'bin'), join(build, 'bin'));

const machine = `${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}`;
const sections: string[] = [];
for (const file of files) {
  console.log(`\n## ${file}`);
  const compiled = join(build, 'bench', file.replace(/\.ts$/, '.js'));
  const output = execFileSync(process.execPath, ['--expose-gc', compiled], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  process.stdout.write(output);
  sections.push(`## ${file}\n\n\`\`\`\n${output.trim()}\n\`\`\``);
}

if (!filter) {
  const doc = [
    '# Benchmark results',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machine}.`,
    'Each workload runs through Elexirion and through the bare-Node limit in the same process and run;',
    'ratios compare the two. Regenerate with `npm run bench`.',
    '',
    ...sections,
    '',
  ].join('\n');
  writeFileSync(join(here, 'RESULTS.md'), doc);
  console.log('\nwrote bench/RESULTS.md');
}
