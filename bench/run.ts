// Runs every benchmark (bench/*.bench.ts), each in its own process so that one's memory and JIT
// state never colour another's, and writes what they print to bench/RESULTS.md with the machine
// and the date. Run: npm run bench [-- name-filter]
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2];
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts') && (!filter || f.includes(filter)))
  .sort();

const machine = `${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}`;
const sections: string[] = [];
for (const file of files) {
  console.log(`\n## ${file}`);
  const output = execFileSync(process.execPath, ['--import', 'tsx', '--expose-gc', join(here, file)], {
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
