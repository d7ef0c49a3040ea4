/* The audit log: a row for every staff action on a customer, every freeze, and every request
 * refused because its account is frozen (docs/DECISIONS.md). */
#ifndef CARHELP_SERVER_AUDIT_H
#define CARHELP_SERVER_AUDIT_H

#include <cjson/cJSON.h>
#include <stdint.h>

struct audit_entry {
    const char *actor;       /* account or staff ID */
    const char *role;        /* customer | staff */
    const char *action;      /* e.g. "vehicle_command.refused" */
    const char *target_type; /* account | vehicle */
    const char *target_id;
    const char *reason;      /* NULL or "": none */
    const char *request_id;  /* NULL: none (a command's result, settled later) */
    int64_t at;              /* seconds of the service clock */
};

/* Writes one row; takes details (NULL: none). 0, or -1 when it could not be written. */
int audit_write(const struct audit_entry *e, cJSON *details);

#endif
