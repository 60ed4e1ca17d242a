// `npm test` runs this once before the test files (node --test-global-setup):
// when no PostgreSQL answers at the configured address it starts ONE embedded
// server for the whole run (not one initdb per test file) and points the test
// files at it through PGHOST/PGPORT/PGUSER, which their processes inherit.
// If PostgreSQL can be neither found nor started, the run stops here with one
// line instead of failing every file's before().
import { LocalPostgresError, ensurePostgres } from '../scripts/local-postgres.mjs';

let server;

export async function globalSetup() {
  try {
    server = await ensurePostgres({ say: (line) => process.stderr.write(`# ${line}\n`) });
  } catch (err) {
    process.stderr.write(`npm test: ${err instanceof LocalPostgresError ? err.message : err.stack}\n`);
    process.exit(1);
  }
  if (!server.embedded) return;
  // The project's DB_* address variables win over PG* in configuredPostgres(); they named a server that is not there.
  for (const name of ['DB_WRITER_HOST', 'DB_READER_HOST', 'DB_PORT', 'DB_USER', 'DB_PASSWORD', 'PGPASSWORD']) delete process.env[name];
  Object.assign(process.env, { PGHOST: server.host, PGPORT: String(server.port), PGUSER: server.user });
}

export async function globalTeardown() {
  await server?.stop();
}
