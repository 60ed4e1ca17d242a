#!/usr/bin/env node
// A private PostgreSQL (scripts/killable-postgres.mjs: its own data directory and port, never the machine's shared
// server) driven over stdin, for `invoke rehearse --local --faults` (shared/ops/rehearsal_local.py): the rehearsal
// points the local API at it and crashes or freezes it on schedule.
// Prints one JSON line when the server answers: {"host","port","user"}. Then reads commands, one a line, and
// answers each with one JSON line {"done": command, "at": epoch ms}:
//   crash    kill -9 every server process (the machine died); `at` is when none is left
//   restart  start it again on the same data directory and port; `at` is when it answers a query
//   freeze  SIGSTOP every server process (connections stay open, nothing answers)
//   thaw    SIGCONT them
// End of input (or SIGTERM) stops the server and removes its data directory.
import { createInterface } from 'node:readline';
import { startKillablePostgres } from './killable-postgres.mjs';

const server = await startKillablePostgres();
let stopping = false;
const stop = async (code = 0) => {
  if (stopping) return;
  stopping = true;
  await server.stop().catch(() => {});
  process.exit(code);
};
process.once('SIGTERM', () => stop(0));
process.once('SIGINT', () => stop(0));

process.stdout.write(`${JSON.stringify({ host: server.host, port: server.port, user: server.user })}\n`);

const commands = {
  async crash() {
    await server.crash({ whole: true });
    return Date.now();
  },
  restart() { return server.restart(); },
  freeze() { server.freeze(); return Date.now(); },
  thaw() { server.thaw(); return Date.now(); },
};

for await (const line of createInterface({ input: process.stdin })) {
  const command = line.trim();
  if (!command) continue;
  const run = commands[command];
  if (!run) {
    process.stdout.write(`${JSON.stringify({ error: `unknown command ${command}` })}\n`);
    continue;
  }
  try {
    process.stdout.write(`${JSON.stringify({ done: command, at: await run() })}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ error: `${command}: ${err.message}` })}\n`);
  }
}
await stop(0);
