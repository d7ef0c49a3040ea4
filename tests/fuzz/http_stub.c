/* The HTTP layer (cli/core/http.h) replaced for fuzz_response: no network, no libcurl. Each
 * request gets the next answer queued by the harness, as the real layer would hand it over
 * (status, headers already parsed, the body); when the queue is empty the service "cannot
 * be reached" (exit 6), which ends any loop that keeps asking. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http.h"
#include "http_stub.h"

volatile sig_atomic_t ch_interrupted = 0;

struct http_client {
    struct http_opts opts;
};

static const struct stub_answer *queue;
static int queue_len, queue_next, requests;

void stub_queue(const struct stub_answer *answers, int n)
{
    queue = answers;
    queue_len = n;
    queue_next = 0;
    requests = 0;
}

int stub_requests(void)
{
    return requests;
}

struct http_client *http_client_new(const struct http_opts *opts)
{
    struct http_client *c = xcalloc(1, sizeof *c);
    c->opts = *opts;
    return c;
}

void http_client_free(struct http_client *c)
{
    free(c);
}

void http_client_set_token(struct http_client *c, const char *token)
{
    c->opts.token = token;
}

const struct http_opts *http_client_opts(const struct http_client *c)
{
    return &c->opts;
}

void http_response_init(struct http_response *r)
{
    memset(r, 0, sizeof *r);
    buf_init(&r->body);
    r->retry_after_s = -1;
}

void http_response_free(struct http_response *r)
{
    buf_free(&r->body);
}

/* Header values as http.c's on_header leaves them: cut to fit, control characters as '?'. */
static void copy_header(char *dst, size_t dstsz, const char *v)
{
    size_t n = strnlen(v, dstsz - 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        dst[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    dst[n] = '\0';
}

int http_perform(struct http_client *c, const struct http_request *req,
                 struct http_response *resp, struct ch_error *err)
{
    (void)c;
    if (!req->method || !req->path || req->path[0] != '/')
        abort();   /* the callers' contract, checked here as the real layer would rely on it */
    requests++;
    if (queue_next >= queue_len)
        return err_set(err, CH_NETWORK, "network", req->path, "cannot reach the service (stub)");
    const struct stub_answer *a = &queue[queue_next++];
    resp->status = a->status;
    buf_append(&resp->body, a->body, a->body_len);
    copy_header(resp->content_type, sizeof resp->content_type, a->content_type);
    copy_header(resp->request_id, sizeof resp->request_id, a->request_id);
    resp->retry_after_s = a->retry_after_s;
    return 0;
}

void http_new_idempotency_key(char out[37])
{
    snprintf(out, 37, "00000000-0000-4000-8000-000000000000");
}

const char *http_backend_version(void)
{
    return "stub";
}
