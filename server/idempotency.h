/* Idempotency keys (api.md): a create or vehicle command that carries an
 * `Idempotency-Key` header runs at most once per caller and key.
 *
 *   - same key, same request (method, path and body)  -> the first result again, with the
 *     header `Idempotent-Replayed: true`;
 *   - same key, another request                       -> 409 idempotency_conflict;
 *   - no header                                       -> the handler simply runs.
 *
 * Keys are scoped to the caller (role and subject of the bearer token: two callers never
 * share a key space) and kept IDEMPOTENCY_TTL_S (30 days, db.h; GET /v1/meta tells it).
 * A key is 1..255 printable ASCII characters; anything else is 400 invalid_request.
 *
 * Only successful (2xx) results are remembered: an error does not consume the key, so the
 * same request may be sent again once the cause is gone (4xx answers are deterministic, a
 * retry gets the same answer anyway; 5xx must stay retryable).
 *
 * The handler and the recording of its result run in ONE SQLite savepoint: if the service
 * dies half-way, neither the ticket (or command) nor the key exists, and a retry creates it
 * exactly once. Non-2xx results roll the handler's writes back. Consequently a handler run
 * this way must not use BEGIN/COMMIT itself (use SAVEPOINT name / RELEASE name, which nest).
 *
 * Use it from a route handler (router.c holds the database lock while a handler runs, so
 * the check, the handler and the record are atomic with respect to other requests):
 *
 *     static void create_command(struct request *req, void *ctx) { ... reply_json(req, 202, doc); }
 *     void vehicles_command(struct request *req)
 *     {
 *         idempotency_run(req, NULL, create_command, NULL);
 *     }
 *
 * A handler whose body is not byte-stable across retries (multipart: curl picks a new
 * boundary for every request) passes its own fingerprint of the meaningful content instead
 * of NULL, e.g. the SHA-256 of the uploaded file plus its name. */
#ifndef CARHELP_SERVER_IDEMPOTENCY_H
#define CARHELP_SERVER_IDEMPOTENCY_H

#include <stdbool.h>

struct request;

#define IDEMPOTENCY_HEADER "Idempotency-Key"
#define IDEMPOTENCY_REPLAYED_HEADER "Idempotent-Replayed"
#define IDEMPOTENCY_KEY_MAX 255

typedef void (*idempotent_handler)(struct request *req, void *ctx);

/* Runs handler(req, ctx) under the request's Idempotency-Key, if it has one (see above).
 * fingerprint: NULL hashes method, path and the raw body; otherwise the given text stands
 * for the body (method and path are still part of it). ctx is passed through untouched
 * (e.g. what the caller already parsed from the body). */
void idempotency_run(struct request *req, const char *fingerprint, idempotent_handler handler,
                     void *ctx);

/* Drops keys older than the TTL, at most once a minute (called by idempotency_run). */
void idempotency_expire(void);

#endif
