/* Who the token belongs to: GET /v1/auth/whoami, checked against the Whoami schema of
 * api/openapi.yaml before anyone acts on it. Every command that needs the caller's role or
 * account asks here; none reads the answer's fields itself, and none guesses a role. */
#ifndef CARHELP_IDENTITY_H
#define CARHELP_IDENTITY_H
#include <stdbool.h>
#include <cjson/cJSON.h>
#include "error.h"
#include "http.h"

enum identity_role { IDENTITY_CUSTOMER, IDENTITY_STAFF };

struct identity {
    enum identity_role role;
    char subject[128];
    char name[256];
    char account_id[72];   /* the customer's account; "" for staff */
    char expires_at[64];   /* RFC 3339 */
};

/* "customer" / "staff". */
const char *identity_role_name(enum identity_role r);

/* Asks the service. 0 with *id filled; else the exit code with err: the HTTP error as
 * api_call maps it, or 7 (malformed_response) naming the first field that does not match
 * the schema, with the request ID. `what` names the action for the message. When raw is
 * not NULL it receives the checked answer (caller cJSON_Delete's it). */
int api_whoami(struct http_client *h, const char *what, struct identity *id, cJSON **raw,
               struct ch_error *err);

/* The schema check alone (no request): 0, or 7 with err naming the bad field. */
int identity_from_json(const cJSON *doc, const char *what, struct identity *id,
                       struct ch_error *err);

#endif
