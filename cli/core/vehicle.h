/* Vehicles and remote commands (api.md "vehicles"): which vehicle the user means, the calls,
 * and waiting for a command until the vehicle answers. No printing: progress is reported
 * through a callback, errors through struct ch_error. */
#ifndef CARHELP_VEHICLE_H
#define CARHELP_VEHICLE_H
#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>
#include "buf.h"
#include "error.h"
#include "http.h"

#define VEHICLE_KEY_MAX 72          /* a canonical plate or ID, NUL included */
#define VEHICLE_DEFAULT_WAIT_S 90.0
#define VEHICLE_MAX_WAIT_S 3600.0
#define VEHICLE_REASON_MAX 500      /* bytes, as the API allows */

/* PLATE|ID as typed: input with a non-ASCII character (the province) is a plate and goes
 * through validate_plate (full-width forms normalised, upper-cased); anything else is an ID
 * (validate_object_id). `field` names the argument in errors. */
int vehicle_parse_target(const char *field, const char *in, char *out, size_t outsz,
                         bool *is_plate, struct ch_error *err);

/* "/v1/vehicles/<target percent-encoded>" + suffix (NULL or "/commands", ...). */
void vehicle_path(struct buf *b, const char *target, const char *suffix);

enum vehicle_cmd_state {
    VCMD_PENDING,      /* queued, sent, or a status this client does not know */
    VCMD_SUCCEEDED,    /* the vehicle acknowledged it */
    VCMD_FAILED,
    VCMD_EXPIRED,
};
/* A command status from the service; unknown values are pending (the client's own
 * deadline decides). */
enum vehicle_cmd_state vehicle_cmd_state(const char *status);

/* Poll interval before the next look at a pending command: 250 ms growing by half each
 * time up to 2 s. */
double vehicle_poll_delay_ms(int attempt);

int vehicle_get(struct http_client *c, const char *target, cJSON **out, struct ch_error *err);
/* POST .../commands with the given Idempotency-Key (reused by every retry). */
int vehicle_command_create(struct http_client *c, const char *vehicle_id, const char *type,
                           const char *reason, const char *order_id, const char *key,
                           const char *what, cJSON **out, struct ch_error *err);
/* The body of that POST (for --dry-run); caller cJSON_Delete's it. */
cJSON *vehicle_command_body(const char *type, const char *reason, const char *order_id);

/* Called after each look at the command (status as the service said it) and while
 * waiting between looks (status NULL), at least every 100 ms. */
typedef void (*vehicle_progress_fn)(void *ctx, const char *status, double elapsed_s);

/* Polls GET .../commands/{id} until a final state or until wait_s has passed. Returns 0 and
 * the final command in *out (caller frees); CH_SERVICE with code "wait_timeout" when the
 * vehicle did not answer in time (*out: the last command seen, may be NULL); otherwise the
 * error of the failed look (6 network, 7 service, 130 interrupted, ...). */
int vehicle_command_wait(struct http_client *c, const char *vehicle_id, const char *command_id,
                         double wait_s, vehicle_progress_fn progress, void *ctx, cJSON **out,
                         struct ch_error *err);

#endif
