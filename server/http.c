#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "router.h"
#include "secret.h"

/* Bodies over the cap are read and thrown away up to this size, so the client, still
 * sending, gets the 413 instead of a connection reset; beyond it the connection is cut. */
#define DISCARD_MAX (16u * 1024u * 1024u)

/* The stop on SIGTERM (http_stop): requests already begun may take this long to finish and
 * send their answers; requests that arrive after the signal are refused with 503. */
#define DRAIN_MS 5000

static atomic_bool stopping;
static atomic_int live_requests; /* begun and not yet reported complete by MHD */

static double elapsed_ms(const struct request *req)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - req->started.tv_sec) * 1e3 +
           (double)(now.tv_nsec - req->started.tv_nsec) / 1e6;
}

/* One line per request, written when it ends. Paths carry no secrets (tokens travel in
 * headers); control characters a decoded path may hold are shown as '?' so a request
 * cannot forge log lines. */
static void log_request(const struct request *req, const char *outcome)
{
    char path[256];
    size_t i;
    for (i = 0; req->path[i] && i < sizeof path - 1; i++)
        path[i] = ((unsigned char)req->path[i] < 0x20 || req->path[i] == 0x7f) ? '?'
                                                                                : req->path[i];
    path[i] = '\0';
    fprintf(stderr, "%s %s %s %.1fms %s\n", req->method, path, outcome, elapsed_ms(req),
            req->id);
}

static struct request *request_new(struct MHD_Connection *conn,
                                   const struct server_config *cfg, const char *url,
                                   const char *method)
{
    struct request *req = calloc(1, sizeof *req);
    char hex[17];
    if (!req)
        return NULL;
    req->conn = conn;
    req->cfg = cfg;
    req->path = strdup(url);
    snprintf(req->method, sizeof req->method, "%s", method);
    if (random_hex(hex, 8) != 0)
        snprintf(hex, sizeof hex, "%016llx", (unsigned long long)(uintptr_t)req);
    snprintf(req->id, sizeof req->id, "req_%s", hex);
    req->reply.retry_after = -1;
    req->faults.retry_after = -1;
    req->body_max = router_body_limit(method, url);
    clock_gettime(CLOCK_MONOTONIC, &req->started);
    if (!req->path) {
        free(req);
        return NULL;
    }
    atomic_fetch_add(&live_requests, 1);
    return req;
}

static void request_free(struct request *req)
{
    for (int i = 0; i < req->nparams; i++)
        free(req->params[i]);
    free(req->reply.body);
    free(req->body);
    free(req->path);
    free(req);
    atomic_fetch_sub(&live_requests, 1);
}

/* Returns false when the body passed even the discard limit. */
static bool body_append(struct request *req, const char *data, size_t len)
{
    if (req->body_too_big || req->body_len + len > req->body_max) {
        req->body_too_big = true;
        req->body_discarded += len;
        return req->body_discarded <= DISCARD_MAX;
    }
    if (req->body_len + len + 1 > req->body_cap) {
        size_t cap = req->body_cap ? req->body_cap : 4096;
        while (cap < req->body_len + len + 1)
            cap *= 2;
        char *grown = realloc(req->body, cap);
        if (!grown) {
            req->body_too_big = true;
            return true;
        }
        req->body = grown;
        req->body_cap = cap;
    }
    memcpy(req->body + req->body_len, data, len);
    req->body_len += len;
    req->body[req->body_len] = '\0';
    return true;
}

static uint64_t declared_length(const struct request *req)
{
    const char *len = request_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
    return len ? strtoull(len, NULL, 10) : 0;
}

/* Whether to answer 413 before reading the body: the client waits for 100 Continue, or
 * the body is too large to be worth draining. */
static bool answer_before_body(const struct request *req)
{
    const char *expect = request_header(req, MHD_HTTP_HEADER_EXPECT);
    uint64_t len = declared_length(req);
    if (len <= req->body_max)
        return false;
    return (expect && strcasecmp(expect, "100-continue") == 0) || len > DISCARD_MAX;
}

static void add_headers(struct request *req, struct MHD_Response *resp)
{
    char value[32];
    MHD_add_response_header(resp, "X-Request-Id", req->id);
    if (req->reply.content_type[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, req->reply.content_type);
    if (req->reply.allow[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, req->reply.allow);
    if (req->reply.retry_after >= 0) {
        snprintf(value, sizeof value, "%d", req->reply.retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, value);
    }
    if (req->reply.replayed)
        MHD_add_response_header(resp, "Idempotent-Replayed", "true");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (atomic_load(&stopping)) /* the last answer on this connection */
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
}

static enum MHD_Result send_reply(struct request *req)
{
    struct MHD_Response *resp = faults_response(req);
    enum MHD_Result ok;
    if (!resp) {
        resp = MHD_create_response_from_buffer(req->reply.len, req->reply.body,
                                               MHD_RESPMEM_MUST_FREE);
        if (resp)
            req->reply.body = NULL; /* owned by the response now */
    }
    if (!resp)
        return MHD_NO;
    add_headers(req, resp);
    if (faults_trickle(req, resp)) { /* slowloris wrote the answer itself: close */
        MHD_destroy_response(resp);
        req->logged_status = req->reply.status;
        return MHD_NO;
    }
    ok = MHD_queue_response(req->conn, req->reply.status, resp);
    MHD_destroy_response(resp);
    req->logged_status = req->reply.status;
    return ok;
}

static void reply_too_large(struct request *req)
{
    char message[96];
    snprintf(message, sizeof message, "the request body is larger than %zu KiB",
             req->body_max / 1024);
    reply_error(req, 413, "payload_too_large", message);
}

static enum MHD_Result finish(struct request *req)
{
    if (req->cfg->faults) {
        const char *why = NULL, *header = request_header(req, "X-Fault");
        if (header && faults_parse(header, &req->faults, &why) != 0) {
            reply_error(req, 400, "invalid_request", why);
            return send_reply(req);
        }
        if (!faults_before(req))
            return MHD_NO; /* logged as "dropped" when MHD reports the end */
    }
    if (req->body_too_big)
        reply_too_large(req);
    else if (!faults_reply(req))
        router_dispatch(req);
    if (req->reply.status == 0)
        reply_error(req, 500, "internal", "the handler gave no answer");
    faults_after(req);
    return send_reply(req);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    struct request *req = *con_cls;
    (void)version;
    if (!req) {
        req = request_new(conn, cls, url, method);
        if (!req)
            return MHD_NO;
        *con_cls = req;
        if (atomic_load(&stopping)) { /* refused, and the connection closed after */
            reply_error(req, 503, "unavailable", "the service is stopping; try again shortly");
            req->reply.retry_after = 1;
            return send_reply(req);
        }
        if (answer_before_body(req)) {
            req->body_too_big = true;
            return finish(req);
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        bool keep = body_append(req, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return keep ? MHD_YES : MHD_NO;
    }
    return finish(req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct request *req = *con_cls;
    char outcome[48];
    (void)cls, (void)conn;
    if (!req)
        return;
    if (req->logged_status == 0)
        snprintf(outcome, sizeof outcome, "dropped");
    else
        snprintf(outcome, sizeof outcome, "%u%s", req->logged_status,
                 toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (not fully sent)");
    log_request(req, outcome);
    request_free(req);
    *con_cls = NULL;
}

int http_parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[128];
    const char *colon = strrchr(listen, ':');
    char *end;
    if (!colon || (size_t)(colon - listen) >= sizeof host || colon == listen)
        return -1;
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    errno = 0;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (errno || *end || end == colon + 1 || port > 65535)
        return -1;
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    size_t hl = strlen(host);
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *len = sizeof *v4;
        return 0;
    }
    if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, &v6->sin6_addr) == 1) {
            v6->sin6_family = AF_INET6;
            v6->sin6_port = htons((uint16_t)port);
            *len = sizeof *v6;
            return 0;
        }
    }
    return -1;
}

static char *tls_cert_pem, *tls_key_pem;

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    size_t len = 0;
    if (!f)
        return NULL;
    FILE *mem = open_memstream(&data, &len);
    char chunk[4096];
    size_t n;
    while (mem && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, n, mem);
    if (mem)
        fclose(mem);
    fclose(f);
    return data;
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt,
                                                           va_list ap)
{
    (void)cls;
    fputs("carhelp-server: http: ", stderr);
    vfprintf(stderr, fmt, ap);
}

/* Connections are served by a pool of this many threads (epoll), not a thread each: every
 * handler runs under the one database lock, so more threads only queue for it, and a thread
 * per connection paid for its creation and for 64 threads contending under load.
 * With --faults it is a thread per connection again: injected delays and slowloris sleep in
 * the handler, which in a pool would stall every connection of that thread. */
#define THREAD_POOL_SIZE 4

static struct MHD_Daemon *start_daemon(const struct server_config *cfg,
                                       const struct sockaddr_storage *ss, char *cert, char *key)
{
    unsigned threads = cfg->faults ? 0 : THREAD_POOL_SIZE;
    struct MHD_OptionItem pool[] = {
        {threads ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC |
                     (threads ? MHD_USE_EPOLL : MHD_USE_THREAD_PER_CONNECTION);
    if (ss->ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (cert)
        flags |= MHD_USE_TLS;
    return MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, (void *)cfg, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_ARRAY, pool,
        MHD_OPTION_SOCK_ADDR, ss, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)60, MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
        cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert, MHD_OPTION_HTTPS_MEM_KEY, key,
        MHD_OPTION_END);
}

struct MHD_Daemon *http_start(const struct server_config *cfg, uint16_t *port, char *err,
                              size_t err_len)
{
    struct sockaddr_storage ss;
    socklen_t ss_len;
    char *cert = NULL, *key = NULL;
    if (http_parse_listen(cfg->listen, &ss, &ss_len) != 0) {
        snprintf(err, err_len, "--listen: expected ADDR:PORT, got '%s'", cfg->listen);
        return NULL;
    }
    if (cfg->tls_cert && (!(cert = read_file(cfg->tls_cert)) || !(key = read_file(cfg->tls_key)))) {
        snprintf(err, err_len, "cannot read %s: %s", cert ? cfg->tls_key : cfg->tls_cert,
                 strerror(errno));
        free(cert);
        return NULL;
    }
    struct MHD_Daemon *d = start_daemon(cfg, &ss, cert, key);
    /* MHD keeps pointers to the key material: it lives until http_stop. */
    tls_cert_pem = cert;
    tls_key_pem = key;
    if (!d) {
        free(cert);
        free(key);
        tls_cert_pem = tls_key_pem = NULL;
        snprintf(err, err_len, "cannot listen on %s", cfg->listen);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    *port = info ? info->port : 0;
    return d;
}

/* A clean stop: no new connections; a request already begun runs to the end and sends its
 * answer (for at most DRAIN_MS), one that comes after on an open connection gets 503
 * unavailable with Retry-After: 1; every answer carries Connection: close. So a create
 * that committed is answered (unless the drain runs out of time) and a refused one was not
 * begun: a client can retry either with its Idempotency-Key. */
void http_stop(struct MHD_Daemon *daemon)
{
    atomic_store(&stopping, true);
    MHD_socket listener = MHD_quiesce_daemon(daemon);
    if (listener != MHD_INVALID_SOCKET)
        close(listener);
    faults_cancel_all();
    for (int waited = 0; atomic_load(&live_requests) > 0 && waited < DRAIN_MS; waited += 10)
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
    MHD_stop_daemon(daemon);
    free(tls_cert_pem);
    free(tls_key_pem);
    tls_cert_pem = tls_key_pem = NULL;
}
