// Non-HTTP invocations of the same Lambda function, selected by
// event.catalogTask. The App layer invokes {"catalogTask":"migrate"} on deploy.
import { cacheKeys } from './cache.mjs';
import { runMigrations } from './migrate.mjs';
import { seedProducts } from './seed-data.mjs';

export const TASKS = ['migrate', 'seed', 'release-expired'];

/** getRuntime: lazily built runtime (only tasks that need the full config use it). */
export async function runTask(event, getRuntime) {
  switch (event.catalogTask) {
    case 'migrate':
      // Database settings only: migrations must run even before the tables'
      // names or other API settings are wired. Roles as master, then migrations as the owner role.
      return runMigrations(process.env);
    case 'seed': {
      const rt = await getRuntime();
      const result = await seedProducts(rt.db.writer, { count: event.count ?? 100, stock: event.stock ?? 100, shards: event.shards });
      await rt.cache.invalidate({ tags: [cacheKeys.listTag] });
      return result;
    }
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

