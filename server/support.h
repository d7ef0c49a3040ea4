/* GET /v1/support/status: numbers by purpose, hours in the service zone, open now,
 * peak hours, and per-channel queue length and estimated wait. */
#ifndef CARHELP_SERVER_SUPPORT_H
#define CARHELP_SERVER_SUPPORT_H

#include <stdbool.h>
#include <stdint.h>

struct request;

void support_status(struct request *req);

/* Exposed for reuse (e.g. ticket SLAs): peak hours at time t on the service clock. */
bool support_is_peak(int64_t t);

#endif
