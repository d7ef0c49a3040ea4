/* The recent-ID cache for completion: "kind id" lines in $CARHELP_CACHE_DIR/recent-ids, newest
 * first, without duplicates, at most IDCACHE_MAX lines, rewritten atomically. Best effort: a
 * cache that cannot be written never fails the command. */
#ifndef CARHELP_IDCACHE_H
#define CARHELP_IDCACHE_H
#define IDCACHE_MAX 200

/* kind: "order", "ticket", "vehicle" (the command group name, so completion offers it there). */
void idcache_add(const char *kind, const char *id);
#endif
