// Register a handler together with its route label: the label is the "route"
// metric dimension and log field, so it is the path template, never the raw
// path (one SKU per dimension value would explode CloudWatch cardinality).
export function route(app, method, path, handler) {
  const label = `${method} ${path.replace(/:([a-zA-Z]+)/g, '{$1}')}`;
  app.on(method, path, async (c) => {
    c.set('route', label);
    return handler(c);
  });
}

/** Set x-cache and count hits/misses for a read-through result. */
export function noteCache(c, source) {
  const m = c.get('metrics');
  if (source === 'database') {
    m.add('CacheMisses');
    c.header('x-cache', 'miss');
  } else {
    m.add('CacheHits');
    if (source === 'local') m.add('LocalCacheHits');
    c.header('x-cache', `hit-${source}`);
  }
}
