// npm run migrate: the same migrations the Lambda runs on {"catalogTask":"migrate"}.
import { ConfigError } from './config.mjs';
import { runMigrations } from './migrate.mjs';

try {
  const summary = await runMigrations(process.env);
  process.stdout.write(`${JSON.stringify(summary)}\n`);
} catch (err) {
  process.stderr.write(`${err instanceof ConfigError ? err.message : `migrate failed: ${err.message}`}\n`);
  process.exit(err instanceof ConfigError ? 2 : 1);
}
