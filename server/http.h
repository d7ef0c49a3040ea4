/* Requests and replies: the daemon, body collection (capped), the error model, request
 * IDs and the access log. Handlers fill req->reply through the reply_* functions; this
 * layer turns it into an HTTP response with X-Request-Id on every answer. */
#ifndef CARHELP_SERVER_HTTP_H
#define CARHELP_SERVER_HTTP_H

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <sys/socket.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "faults.h"

#define BODY_MAX (1024 * 1024) /* default request body cap; routes may raise it */
#define MAX_PATH_PARAMS 4
#define REQUEST_ID_LEN 20 /* "req_" + 16 hex */
#define JSON_CONTENT_TYPE "application/json; charset=utf-8"

struct principal {
    char role[16];        /* "customer" or "staff"; "" when not authenticated */
    char subject[64];     /* account ID or staff ID */
    char account_id[64];  /* "" for staff */
    char name[128];
    char token_hash[65];
    int64_t expires_at;
    bool account_frozen;  /* a customer whose account is frozen (of either kind) */
};

struct reply {
    unsigned status;      /* 0: nothing replied yet */
    char *body;           /* malloc'd; NULL: empty */
    size_t len;
    char content_type[128];
    char allow[64];       /* Allow header of a 405 */
    int retry_after;      /* seconds; <0: none */
    bool replayed;        /* Idempotent-Replayed: true (idempotency.c) */
};

struct request {
    struct MHD_Connection *conn;
    const struct server_config *cfg;
    char method[16];
    char *path;
    char id[REQUEST_ID_LEN + 1];
    char *body;
    size_t body_len, body_cap, body_max, body_discarded;
    bool body_too_big;
    char *params[MAX_PATH_PARAMS];
    int nparams;
    struct principal who;
    struct reply reply;
    struct fault_plan faults;
    struct timespec started;
    unsigned logged_status; /* status queued; 0: none (dropped) */
};

/* Starts the daemon; *port receives the bound port. NULL (and err) on failure. */
struct MHD_Daemon *http_start(const struct server_config *cfg, uint16_t *port, char *err,
                              size_t err_len);
void http_stop(struct MHD_Daemon *daemon);
/* Parses ADDR:PORT or [ADDR6]:PORT; -1 when malformed. */
int http_parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len);

const char *request_header(const struct request *req, const char *name);
/* The body as a JSON object; replies 400 invalid_request and returns NULL otherwise. */
cJSON *request_json_object(struct request *req);

/* Takes ownership of doc. */
void reply_json(struct request *req, unsigned status, cJSON *doc);
void reply_error(struct request *req, unsigned status, const char *code, const char *message);
void reply_empty(struct request *req, unsigned status);
/* Replaces the body, keeping the status and headers. */
void reply_set_body(struct request *req, const char *data, size_t len);
/* The error code the API uses for a status (for injected faults). */
const char *error_code_for_status(unsigned status);

#endif
