/* JSON calls to the service: performs the request, checks the content type, parses the JSON,
 * and turns any non-2xx answer into a ch_error with the API's code, message and request id. */
#ifndef CARHELP_API_H
#define CARHELP_API_H
#include <cjson/cJSON.h>
#include "http.h"

/* Returns 0 and sets *out (caller cJSON_Delete's it; NULL for 204) on 2xx. Otherwise an exit
 * code: the mapped HTTP status (error body parsed when it is the API's error model), 7 for a
 * non-JSON or truncated body, or what http_perform returned. `what` names the action for the
 * error message ("log in", "show account"). `status_out` may be NULL. */
int api_call(struct http_client *c, const struct http_request *req, const char *what,
             cJSON **out, long *status_out, struct ch_error *err);

/* The second half of api_call, for responses that came another way (http_multi_next): rc
 * is what the transfer returned; the same result and errors as api_call. */
int api_decode(struct http_response *resp, int rc, const char *what, cJSON **out,
               struct ch_error *err);

/* Convenience wrappers. */
int api_get(struct http_client *c, const char *path, const char *what, cJSON **out,
            struct ch_error *err);
int api_post(struct http_client *c, const char *path, const cJSON *body,
             const char *idempotency_key, const char *what, cJSON **out, struct ch_error *err);

#endif
