// npm run migrate: the same migrations the Lambda runs on {"catalogTask":"migrate"}.
import { ConfigError, loadDbConfig } from './config.mjs';
import { migrate } from './migrate.mjs';

try {
  const summary = await migrate(loadDbConfig());
  process.stdout.write(`${JSON.stringify(summary)}\n`);
} catch (err) {
  process.stderr.write(`${err instanceof ConfigError ? err.message : `migrate failed: ${err.message}`}\n`);
  process.exit(err instanceof ConfigError ? 2 : 1);
}
