// A process that migrates a fresh journal and holds its write lock a while before committing, as a
// process opening the journal at the same moment as another would. Args: DB_PATH HOLD_MS. Prints
// `held` once the lock is held.
import Database from 'better-sqlite3';
import { SQLITE_MIGRATIONS } from '../../src/journal/sqlite-migrations.js';

const [path, hold] = process.argv.slice(2) as [string, string];
const db = new Database(path);
db.exec('BEGIN IMMEDIATE');
for (let v = 0; v < SQLITE_MIGRATIONS.length; v++) {
  db.exec(SQLITE_MIGRATIONS[v] as string);
  db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(v + 1);
}
process.stdout.write('held\n');
setTimeout(() => {
  db.exec('COMMIT');
  db.close();
}, Number(hold));
