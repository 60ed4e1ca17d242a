// Non-HTTP invocations of the same Lambda function, selected by event.catalogTask. The App layer invokes
// {"catalogTask":"migrate"} on deploy, on the migrate function (src/lambda.mjs migrateHandler), which alone holds
// the master and owner credentials; the demo seed runs there too, as the owner role.
import { runMigrations } from './migrate.mjs';
import { seedAsOwner } from './seed-data.mjs';

export const TASKS = ['migrate', 'seed', 'release-expired'];
/** What the migrate function runs: the tasks that need the owner's (or master's) credentials. */
export const OWNER_TASKS = ['migrate', 'seed'];

/** The migrate function's tasks (an event without catalogTask is the migrate). env: its environment. */
export async function runOwnerTask(event, env = process.env) {
  const task = event?.catalogTask ?? 'migrate';
  switch (task) {
    case 'migrate':
      // Database settings only: roles as master, then migrations as the owner role.
      return runMigrations(env);
    case 'seed':
      // Demo products as the owner role (the app role may not run seed_products()). This function has no cache
      // table: cached listing pages pick the new products up within CACHE_TTL_SECONDS.
      return seedAsOwner(env, { count: event.count ?? 100, stock: event.stock ?? 100, shards: event.shards });
    default:
      throw new Error(`unknown catalogTask "${task}" for the migrate function: expected one of ${OWNER_TASKS.join(', ')}`);
  }
}

/** The API function's tasks. getRuntime: lazily built runtime (only tasks that need the full config use it). */
export async function runTask(event, getRuntime) {
  switch (event.catalogTask) {
    case 'migrate':
      // Locally the same process holds every credential; on AWS the API function has no master or owner secret
      // and the App layer invokes the migrate function instead.
      return runMigrations(process.env);
    case 'seed':
      // The API's role may not seed (a stolen API connection must not create products): the owner does.
      throw new Error('catalogTask "seed" runs as the owner role: invoke the migrate function (handler src/lambda.migrateHandler) with this payload');
    case 'release-expired': {
      // For a schedule (EventBridge): reservations also release lazily on the
      // next reservation of their SKU, this sweep returns stock of idle SKUs.
      const rt = await getRuntime();
      const released = await rt.store.releaseExpired(event.limit ?? 1000);
      rt.metrics.emit({ ReservationsExpired: released }, { route: 'TASK release-expired' });
      // Units came back (to some SKU): a closed waiting room reopens; one that is still sold out closes again at
      // the next 409 with nothing left.
      if (released > 0 && rt.waitingRoom) for (const sku of rt.waitingRoom.skus) await rt.waitingRoom.noteSoldOut(sku, false);
      return { task: 'release-expired', ok: true, released };
    }
    default:
      throw new Error(`unknown catalogTask "${event.catalogTask}": expected one of ${TASKS.join(', ')}`);
  }
}

