#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "router.h"
#include "secret.h"

/* Bodies over the cap are read and thrown away up to this size, so the client, still
 * sending, gets the 413 instead of a connection reset; beyond it the connection is cut. */
#define DISCARD_MAX (16u * 1024u * 1024u)

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

static struct MHD_Daemon *start_daemon(const struct server_config *cfg,
                                       const struct sockaddr_storage *ss, char *cert, char *key)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_ERROR_LOG;
    if (ss->ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (cert)
        flags |= MHD_USE_TLS;
    return MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, (void *)cfg, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
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

void http_stop(struct MHD_Daemon *daemon)
{
    faults_cancel_all();
    MHD_stop_daemon(daemon);
    free(tls_cert_pem);
    free(tls_key_pem);
    tls_cert_pem = tls_key_pem = NULL;
}
