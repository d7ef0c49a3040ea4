/* The one HTTP layer, on libcurl. One client per process (and per shell session) keeps one
 * easy handle, so the connection is reused across requests. curl_global_init happens on the
 * first http_client_new, never before a command needs the network. */
#ifndef CARHELP_HTTP_H
#define CARHELP_HTTP_H
#include <stdio.h>
#include <signal.h>
#include "buf.h"
#include "error.h"

#define HTTP_MAX_BODY (8u * 1024u * 1024u)  /* responses over 8 MiB are refused (exit 7) */

/* Set by the SIGINT handler; the transfer in progress aborts at once (exit 130). */
extern volatile sig_atomic_t ch_interrupted;

struct http_opts {
    const char *base_url;       /* "http://127.0.0.1:8765", no trailing slash needed */
    double timeout_s;           /* budget for one request including retries and waits (15) */
    double connect_timeout_s;   /* 5 */
    int retries;                /* retries after the first try (2) */
    const char *cacert;         /* extra CA bundle, or NULL */
    const char *token;          /* bearer token, or NULL; never printed */
    int verbose;                /* 0 none, 1 request lines, 2 + bodies (PII masked) */
    FILE *trace;                /* where -v output goes (stderr), NULL = nowhere */
    const char *user_agent;     /* "carhelp/0.1.0" */
};

/* A multipart/form-data body of one file part, streamed from disk by libcurl's MIME API
 * (http_request.upload; additive: the other fields keep their meaning). */
struct http_upload {
    const char *field;           /* part name: "file" */
    const char *path;            /* the file, read while sending (every retry re-reads it) */
    const char *filename;        /* name sent; NULL: the last component of path */
    const char *content_type;    /* part type or NULL */
    /* Called while sending (bytes sent so far, total; total 0 while unknown). */
    void (*progress)(void *ctx, long long sent, long long total);
    void *progress_ctx;
};

struct http_request {
    const char *method;          /* "GET", "POST", "DELETE" */
    const char *path;            /* "/v1/meta", appended to base_url; may carry a query */
    const char *body;            /* JSON text or NULL */
    const char *idempotency_key; /* makes a POST retryable; NULL otherwise */
    int no_auth;                 /* 1: do not send the token even if one is set */
    const char *extra_header;    /* one extra "Name: value" header or NULL (tests: X-Fault) */
    const struct http_upload *upload; /* multipart body instead of `body`, or NULL */
};

struct http_response {
    long status;
    struct buf body;
    char request_id[128];
    char content_type[128];
    double retry_after_s;        /* -1 when absent */
    int retries;                 /* retries performed */
    double elapsed_ms;           /* total, all tries */
    int replayed;                /* Idempotent-Replayed: true */
    char date[64];               /* Date header, for clock-skew checks */
    char redirect_url[1024];     /* a 3xx's Location, made absolute; never followed */
};

struct http_client;

struct http_client *http_client_new(const struct http_opts *opts);
void http_client_free(struct http_client *c);
/* Replaces the token (after login/logout); NULL clears it. */
void http_client_set_token(struct http_client *c, const char *token);
const struct http_opts *http_client_opts(const struct http_client *c);

/* Performs the request with retries (idempotent methods and keyed POSTs only; never on 4xx;
 * exponential backoff with jitter; Retry-After honoured when it fits in the budget).
 * Returns 0 when the service answered (any status; resp filled), otherwise an exit code with
 * err filled: 6 network (DNS/connect/TLS/timeout), 7 oversized, 9 Retry-After beyond budget,
 * 130 interrupted. Always call http_response_free on resp. */
int http_perform(struct http_client *c, const struct http_request *req,
                 struct http_response *resp, struct ch_error *err);
void http_response_init(struct http_response *r);

/* Many requests at once over libcurl's multi interface (batch mode): at most `parallel`
 * transfers run together over a shared connection pool (keep-alive; HTTP/2 multiplexing where
 * the service offers it), each with the same budget, retries and errors as http_perform. No
 * uploads. Requests are copied; finished ones come back in completion order. */
struct http_multi;
struct http_multi *http_multi_new(struct http_client *c, int parallel);
/* Aborts whatever is still queued or running. */
void http_multi_free(struct http_multi *m);
void http_multi_add(struct http_multi *m, const struct http_request *req, void *tag);
/* Requests added and not yet handed back by http_multi_next. */
size_t http_multi_pending(const struct http_multi *m);
/* Drives the transfers until one request is finished, then returns 1 with its tag, *rc and
 * err as http_perform would give them, and resp (freed and refilled; call
 * http_response_free at the end). Returns 0 when nothing is pending. */
int http_multi_next(struct http_multi *m, void **tag, struct http_response *resp,
                    struct ch_error *err, int *rc);
void http_response_free(struct http_response *r);

/* A random Idempotency-Key (UUIDv4 text, 36 chars + NUL). */
void http_new_idempotency_key(char out[37]);
/* Version of libcurl and its TLS backend, for --version ("libcurl/7.88.1 OpenSSL/3.0.15"). */
const char *http_backend_version(void);

#endif
