/* The HTTP layer on libcurl: one reused easy handle per client, a time budget covering every
 * try and wait, retries with full-jitter backoff, Retry-After, an 8 MiB response cap, and a
 * trace for -v/-vv that never shows a secret.
 *
 * `cacert` decision: libcurl's CURLOPT_CAINFO replaces the default bundle; we set it to the
 * given file, so a configured cacert is the complete set of trusted roots for this client
 * (the usual case: a private CA in front of a test or corporate service). Without it libcurl's
 * built-in default bundle is used. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/random.h>
#include <curl/curl.h>
#include <cjson/cJSON.h>
#include "http.h"
#include "output.h"

volatile sig_atomic_t ch_interrupted = 0;

#define BACKOFF_BASE_MS 200.0
#define BACKOFF_CAP_MS 2000.0
#define TRACE_BODY_MAX (64u * 1024u)

struct http_client {
    struct http_opts opts;        /* string members point at the copies below */
    char *base_url, *cacert, *token, *user_agent;
    char host[256];               /* "host:port" for messages */
    CURL *curl;
    char errbuf[CURL_ERROR_SIZE];
};

/* What one try saw, filled by the callbacks. */
struct try_state {
    struct http_response *resp;
    int oversized;                /* the body passed (or was announced over) HTTP_MAX_BODY */
    int is_head;
    long long content_length;     /* -1 when not announced */
    long new_connections;         /* connections this try opened (0: one was reused) */
    long ssl_verify;              /* CURLINFO_SSL_VERIFYRESULT: OpenSSL's X509_V_ERR_* code */
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

/* "http://user@host:port/path" -> "host:port" (or "host"), for messages naming the peer. */
static void host_of(const char *url, char *out, size_t outsz)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    const char *at = strpbrk(p, "@/?#");
    if (at && *at == '@')
        p = at + 1;
    size_t n = strcspn(p, "/?#");
    if (n >= outsz)
        n = outsz - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

struct http_client *http_client_new(const struct http_opts *opts)
{
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return NULL;
    CURL *curl = curl_easy_init();
    if (!curl)
        return NULL;
    struct http_client *c = xcalloc(1, sizeof *c);
    c->opts = *opts;
    c->base_url = xstrdup(opts->base_url ? opts->base_url : "");
    /* A trailing slash would double up with the path's leading one. */
    size_t n = strlen(c->base_url);
    while (n > 0 && c->base_url[n - 1] == '/')
        c->base_url[--n] = '\0';
    c->cacert = dup_or_null(opts->cacert);
    c->token = dup_or_null(opts->token);
    c->user_agent = xstrdup(opts->user_agent ? opts->user_agent : "carhelp");
    c->opts.base_url = c->base_url;
    c->opts.cacert = c->cacert;
    c->opts.token = c->token;
    c->opts.user_agent = c->user_agent;
    if (c->opts.timeout_s <= 0)
        c->opts.timeout_s = 15;
    if (c->opts.connect_timeout_s <= 0)
        c->opts.connect_timeout_s = 5;
    if (c->opts.retries < 0)
        c->opts.retries = 0;
    host_of(c->base_url, c->host, sizeof c->host);
    c->curl = curl;
    return c;
}

static void wipe_free(char *s)
{
    if (!s)
        return;
    volatile char *v = s;
    while (*v)
        *v++ = '\0';
    free(s);
}

void http_client_free(struct http_client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->curl);
    free(c->base_url);
    free(c->cacert);
    wipe_free(c->token);
    free(c->user_agent);
    free(c);
}

void http_client_set_token(struct http_client *c, const char *token)
{
    wipe_free(c->token);
    c->token = dup_or_null(token);
    c->opts.token = c->token;
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

/* Clears what a try fills, keeping the body's allocation. */
static void response_reset_try(struct http_response *r)
{
    r->status = 0;
    buf_reset(&r->body);
    r->request_id[0] = r->content_type[0] = r->date[0] = r->redirect_url[0] = '\0';
    r->retry_after_s = -1;
    r->replayed = 0;
}

/* ---- callbacks ---- */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct try_state *st = userdata;
    size_t n = size * nmemb;
    if (st->resp->body.len + n > HTTP_MAX_BODY) {
        st->oversized = 1;
        return 0;   /* CURLE_WRITE_ERROR */
    }
    buf_append(&st->resp->body, ptr, n);
    return n;
}

static void copy_trimmed(char *dst, size_t dstsz, const char *v, size_t n)
{
    while (n > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' || v[n - 1] == '\n'))
        n--;
    if (n >= dstsz)
        n = dstsz - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        dst[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    dst[n] = '\0';
}

/* Retry-After: delay-seconds or an HTTP date; returns seconds from now, -1 when unusable. */
static double parse_retry_after(const char *v)
{
    char *end;
    errno = 0;
    long secs = strtol(v, &end, 10);
    if (end != v && *end == '\0' && errno == 0)
        return secs < 0 ? 0 : (double)secs;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *rest = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!rest || *rest)
        return -1;
    time_t when = timegm(&tm);
    double d = difftime(when, time(NULL));
    return d < 0 ? 0 : d;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct try_state *st = userdata;
    struct http_response *r = st->resp;
    size_t n = size * nmemb;

    if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
        /* A new header block (after 100 Continue, say): forget the previous one. */
        r->request_id[0] = r->content_type[0] = r->date[0] = '\0';
        r->retry_after_s = -1;
        r->replayed = 0;
        st->content_length = -1;
        return n;
    }
    const char *colon = memchr(ptr, ':', n);
    if (!colon)
        return n;
    size_t klen = (size_t)(colon - ptr);
    const char *val = colon + 1;
    size_t vlen = n - klen - 1;
    char tmp[128];

#define IS(name) (klen == sizeof(name) - 1 && strncasecmp(ptr, name, klen) == 0)
    if (IS("X-Request-Id")) {
        copy_trimmed(r->request_id, sizeof r->request_id, val, vlen);
    } else if (IS("Content-Type")) {
        copy_trimmed(r->content_type, sizeof r->content_type, val, vlen);
    } else if (IS("Date")) {
        copy_trimmed(r->date, sizeof r->date, val, vlen);
    } else if (IS("Retry-After")) {
        copy_trimmed(tmp, sizeof tmp, val, vlen);
        r->retry_after_s = parse_retry_after(tmp);
    } else if (IS("Idempotent-Replayed")) {
        copy_trimmed(tmp, sizeof tmp, val, vlen);
        r->replayed = strcasecmp(tmp, "true") == 0;
    } else if (IS("Content-Length")) {
        copy_trimmed(tmp, sizeof tmp, val, vlen);
        char *end;
        errno = 0;
        long long cl = strtoll(tmp, &end, 10);
        if (end != tmp && *end == '\0' && errno == 0 && cl >= 0) {
            st->content_length = cl;
            if (!st->is_head && cl > (long long)HTTP_MAX_BODY) {
                st->oversized = 1;
                return 0;   /* aborts before the body is read */
            }
        }
    }
#undef IS
    return n;
}

static int on_progress(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    const struct http_upload *up = clientp;
    (void)dltotal; (void)dlnow;
    if (up && up->progress && ulnow > 0)
        up->progress(up->progress_ctx, (long long)ulnow, (long long)ultotal);
    return ch_interrupted ? 1 : 0;
}

/* The multipart body of req->upload, or NULL when curl cannot build it. */
static curl_mime *build_mime(CURL *h, const struct http_upload *up)
{
    curl_mime *mime = curl_mime_init(h);
    curl_mimepart *part = mime ? curl_mime_addpart(mime) : NULL;
    const char *name = up->filename;
    if (!name) {
        name = strrchr(up->path, '/');
        name = name ? name + 1 : up->path;
    }
    if (!part || curl_mime_name(part, up->field ? up->field : "file") != CURLE_OK ||
        curl_mime_filedata(part, up->path) != CURLE_OK ||
        curl_mime_filename(part, name) != CURLE_OK ||
        (up->content_type && curl_mime_type(part, up->content_type) != CURLE_OK)) {
        curl_mime_free(mime);
        return NULL;
    }
    return mime;
}

/* ---- trace (-v / -vv) ---- */

static int secret_key(const char *k)
{
    static const char *const exact[] = { "token", "password", "otp", "id_number", "id_last4",
                                         NULL };
    for (const char *const *p = exact; *p; p++)
        if (strcasecmp(k, *p) == 0)
            return 1;
    size_t n = strlen(k);
    /* access_token, new_password, ...: anything that names itself a token or password. */
    return (n > 6 && strcasecmp(k + n - 6, "_token") == 0) ||
           (n > 9 && strcasecmp(k + n - 9, "_password") == 0);
}

static int phone_key(const char *k)
{
    size_t n = strlen(k);
    return strcasecmp(k, "phone") == 0 || (n > 6 && strcasecmp(k + n - 6, "_phone") == 0);
}

static void redact_json(cJSON *node)
{
    for (cJSON *it = node ? node->child : NULL; it; it = it->next) {
        if (it->string && secret_key(it->string) && !cJSON_IsNull(it)) {
            if (cJSON_IsString(it)) {
                cJSON_SetValuestring(it, "***");
                continue;
            }
            /* A number or an object: swap in a string; ViaPointer does not carry the key. */
            cJSON *stars = cJSON_CreateString("***");
            size_t klen = strlen(it->string) + 1;
            char *key = stars ? cJSON_malloc(klen) : NULL;
            if (!key) {
                cJSON_Delete(stars);
                continue;
            }
            memcpy(key, it->string, klen);
            stars->string = key;
            if (cJSON_ReplaceItemViaPointer(node, it, stars))
                it = stars;
            else
                cJSON_Delete(stars);
            continue;
        }
        if (it->string && phone_key(it->string) && cJSON_IsString(it)) {
            char masked[64];
            mask_phone(it->valuestring, masked, sizeof masked);
            cJSON_SetValuestring(it, masked);
        }
        if (cJSON_IsObject(it) || cJSON_IsArray(it))
            redact_json(it);
    }
}

static void trace_body(const struct http_client *c, const char *dir, const char *body, size_t len)
{
    FILE *f = c->opts.trace;
    if (!body || len == 0)
        return;
    cJSON *j = cJSON_ParseWithLength(body, len);
    if (!j) {
        /* Text we cannot parse may hold anything: say what it is, never show it. */
        fprintf(f, "%s (%zu bytes, not JSON)\n", dir, len);
        return;
    }
    redact_json(j);
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!text)
        return;
    /* cJSON escapes C0 controls but passes C1, bidi and bad UTF-8 through: the sanitiser. */
    char *safe = term_safe_dup(text, TERM_ONE_LINE);
    cJSON_free(text);
    size_t tl = strlen(safe);
    if (tl > TRACE_BODY_MAX) {
        char *cut = xmalloc(TRACE_BODY_MAX + 1);
        term_safe(safe, cut, TRACE_BODY_MAX + 1);   /* at a character or escape boundary */
        fprintf(f, "%s %s... (%zu bytes)\n", dir, cut, len);
        free(cut);
    } else {
        fprintf(f, "%s %s\n", dir, safe);
    }
    free(safe);
}

static void trace_request(const struct http_client *c, const struct http_request *req,
                          const char *url, int attempt)
{
    FILE *f = c->opts.trace;
    if (c->opts.verbose < 1 || !f)
        return;
    if (attempt > 0)
        fprintf(f, "> %s %s (retry %d)\n", req->method, url, attempt);
    else
        fprintf(f, "> %s %s\n", req->method, url);
    if (c->opts.verbose >= 2) {
        if (c->token && !req->no_auth)
            fprintf(f, "> Authorization: Bearer ***\n");
        if (req->idempotency_key)
            fprintf(f, "> Idempotency-Key: %s\n", req->idempotency_key);
        if (req->body)
            trace_body(c, ">", req->body, strlen(req->body));
    }
    fflush(f);
}

static void trace_response(const struct http_client *c, const struct http_response *r, double ms,
                           long new_connections)
{
    FILE *f = c->opts.trace;
    if (c->opts.verbose < 1 || !f)
        return;
    char rid[sizeof r->request_id];
    fprintf(f, "< %ld %.0f ms %s%s%s\n", r->status, ms,
            r->request_id[0] ? term_safe(r->request_id, rid, sizeof rid) : "-",
            r->replayed ? " (replayed)" : "", new_connections > 0 ? " (new connection)" : "");
    if (c->opts.verbose >= 2)
        trace_body(c, "<", r->body.data, r->body.len);
    fflush(f);
}

static void trace_line(const struct http_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void trace_line(const struct http_client *c, const char *fmt, ...)
{
    FILE *f = c->opts.trace;
    if (c->opts.verbose < 1 || !f)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    fflush(f);
}

/* ---- one try ---- */

static struct curl_slist *build_headers(const struct http_client *c, const struct http_request *req)
{
    struct curl_slist *h = NULL;
    struct buf line = BUF_INIT;
    h = curl_slist_append(h, "Accept: application/json");
    if (req->body && !req->upload)
        h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:");   /* no 100-continue round trip */
    if (c->token && *c->token && !req->no_auth) {
        buf_printf(&line, "Authorization: Bearer %s", c->token);
        h = curl_slist_append(h, line.data);
        memset(line.data, 0, line.cap);
        buf_reset(&line);
    }
    if (req->idempotency_key) {
        buf_printf(&line, "Idempotency-Key: %s", req->idempotency_key);
        h = curl_slist_append(h, line.data);
    }
    if (req->extra_header && *req->extra_header)
        h = curl_slist_append(h, req->extra_header);
    buf_free(&line);
    return h;
}

static void wipe_slist(struct curl_slist *h)
{
    for (struct curl_slist *p = h; p; p = p->next)
        if (strncasecmp(p->data, "Authorization:", 14) == 0)
            memset(p->data, 0, strlen(p->data));
    curl_slist_free_all(h);
}

/* Sets up h for one try of req against url with budget_ms left. What to free after the try is
 * left in *headers and *mime (end_try). A non-OK return means the try cannot start (errbuf). */
static CURLcode setup_try(struct http_client *c, CURL *h, const struct http_request *req,
                          const char *url, double budget_ms, struct try_state *st, char *errbuf,
                          struct curl_slist **headers, curl_mime **mime)
{
    /* Reset keeps live connections, the DNS and TLS session caches: keep-alive survives. */
    curl_easy_reset(h);
    errbuf[0] = '\0';
    *mime = NULL;
    *headers = build_headers(c, req);
    if (budget_ms > (double)INT_MAX)   /* --timeout 1e12 must not overflow the cast */
        budget_ms = (double)INT_MAX;
    long total_ms = budget_ms < 1 ? 1 : (long)budget_ms;
    double conn = c->opts.connect_timeout_s * 1000.0;
    long conn_ms = conn > (double)total_ms ? total_ms : (long)conn;
    if (conn_ms > total_ms)
        conn_ms = total_ms;
    if (conn_ms < 1)
        conn_ms = 1;

    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, *headers);
    curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, total_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, conn_ms);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, st);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, st);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    if (c->cacert)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);

    const char *m = req->method ? req->method : "GET";
    if (req->upload) {
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)req->upload);
        if (!(*mime = build_mime(h, req->upload))) {
            snprintf(errbuf, CURL_ERROR_SIZE, "cannot build the upload of %s", req->upload->path);
            return CURLE_READ_ERROR;
        }
        curl_easy_setopt(h, CURLOPT_MIMEPOST, *mime);
        if (strcmp(m, "POST") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
    } else if (strcmp(m, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(m, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
        if (strcmp(m, "POST") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
        if (req->body || strcmp(m, "POST") == 0) {
            const char *body = req->body ? req->body : "";
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
        }
    }
    return CURLE_OK;
}

/* After a try: the status into resp, and no pointers into freed memory (headers) or the
 * caller's body left in the handle. */
static void end_try(CURL *h, struct try_state *st, struct curl_slist *headers, curl_mime *mime)
{
    long status = 0, connects = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
    st->resp->status = status;
    st->new_connections = connects;
    st->ssl_verify = 0;
    curl_easy_getinfo(h, CURLINFO_SSL_VERIFYRESULT, &st->ssl_verify);
    st->resp->redirect_url[0] = '\0';
    char *location = NULL;   /* CURLOPT_FOLLOWLOCATION is off: only said, never followed */
    if (status >= 300 && status <= 399 &&
        curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &location) == CURLE_OK && location)
        snprintf(st->resp->redirect_url, sizeof st->resp->redirect_url, "%s", location);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
    if (mime) {
        curl_easy_setopt(h, CURLOPT_MIMEPOST, NULL);
        curl_mime_free(mime);
    }
    wipe_slist(headers);
}

static CURLcode perform_once(struct http_client *c, const struct http_request *req,
                             const char *url, double budget_ms, struct try_state *st)
{
    struct curl_slist *headers;
    curl_mime *mime;
    CURLcode rc = setup_try(c, c->curl, req, url, budget_ms, st, c->errbuf, &headers, &mime);
    if (rc == CURLE_OK)
        rc = curl_easy_perform(c->curl);
    end_try(c->curl, st, headers, mime);
    return rc;
}

/* ---- retry policy ---- */

static int method_is_idempotent(const char *m)
{
    static const char *const ok[] = { "GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE", NULL };
    for (const char *const *p = ok; *p; p++)
        if (strcmp(m, *p) == 0)
            return 1;
    return 0;
}

static int request_retryable(const struct http_request *req)
{
    const char *m = req->method ? req->method : "GET";
    return method_is_idempotent(m) || (req->idempotency_key && *req->idempotency_key);
}

static int status_retryable(long status)
{
    return status == 429 || (status >= 500 && status <= 599);
}

/* Failures where the request may not have reached the service or its answer got lost. */
static int curl_retryable(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_COULDNT_RESOLVE_HOST:   /* resolvers fail transiently too */
        return 1;
    default:
        return 0;
    }
}

static uint32_t random_u32(void)
{
    uint32_t v;
    if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v)
        v = (uint32_t)now_ms() * 2654435761u;
    return v;
}

/* Full jitter: uniform in [0, min(cap, base * 2^attempt)]. */
static double backoff_ms(int attempt)
{
    double ceiling = BACKOFF_BASE_MS;
    for (int i = 0; i < attempt && ceiling < BACKOFF_CAP_MS; i++)
        ceiling *= 2;
    if (ceiling > BACKOFF_CAP_MS)
        ceiling = BACKOFF_CAP_MS;
    return ceiling * ((double)random_u32() / 4294967295.0);
}

/* Sleeps up to ms, in slices so Ctrl-C is noticed; returns 1 when interrupted. */
static int wait_ms(double ms)
{
    double until = now_ms() + ms;
    for (;;) {
        if (ch_interrupted)
            return 1;
        double left = until - now_ms();
        if (left <= 0)
            return 0;
        if (left > 50)
            left = 50;
        struct timespec ts = { 0, (long)(left * 1e6) };
        nanosleep(&ts, NULL);
    }
}

/* ---- errors ---- */

/* Which check of a certificate failed: OpenSSL's verify result when the backend gives one
 * (X509_V_ERR_* numbers), else curl's words (its own host name check reports no code). Each
 * comes with the one fix that helps. */
enum tls_check { TLS_OTHER, TLS_UNKNOWN_CA, TLS_WRONG_NAME, TLS_EXPIRED, TLS_NOT_YET_VALID,
                 TLS_REVOKED };

static enum tls_check tls_check_of(long verify, const char *detail)
{
    switch (verify) {
    case 2: case 18: case 19: case 20: case 21: case 24: case 27: case 28:
        return TLS_UNKNOWN_CA;
    case 9:
        return TLS_NOT_YET_VALID;
    case 10:
        return TLS_EXPIRED;
    case 23:
        return TLS_REVOKED;
    case 62: case 64:
        return TLS_WRONG_NAME;
    default:
        break;
    }
    if (strstr(detail, "subject name") || strstr(detail, "host name") ||
        strstr(detail, "hostname"))
        return TLS_WRONG_NAME;
    if (strstr(detail, "self-signed") || strstr(detail, "self signed") ||
        strstr(detail, "issuer") || strstr(detail, "unknown ca"))
        return TLS_UNKNOWN_CA;
    if (strstr(detail, "expired"))
        return TLS_EXPIRED;
    if (strstr(detail, "not yet valid"))
        return TLS_NOT_YET_VALID;
    if (strstr(detail, "revoked"))
        return TLS_REVOKED;
    return TLS_OTHER;
}

static int tls_error(struct http_client *c, long verify, const char *detail,
                     struct ch_error *err)
{
    if (strncmp(detail, "SSL certificate problem: ", 25) == 0)
        detail += 25;   /* curl says it already; say it once */
    else if (strncmp(detail, "SSL: ", 5) == 0)
        detail += 5;
    enum tls_check check = tls_check_of(verify, detail);
    switch (check) {
    case TLS_UNKNOWN_CA:
        err_set(err, CH_NETWORK, "tls", NULL,
                "TLS certificate problem (unknown issuer): %s", detail);
        err_hint(err, "if %s uses a private CA, pass --cacert FILE or set 'cacert = FILE' in "
                      "the profile's section of the config file", c->host);
        break;
    case TLS_WRONG_NAME:
        err_set(err, CH_NETWORK, "tls", NULL,
                "TLS certificate problem (wrong host name): %s", detail);
        err_hint(err, "use the host name the certificate was made for in --api-url (or "
                      "api_url in the profile); --cacert does not change this check");
        break;
    case TLS_EXPIRED:
    case TLS_NOT_YET_VALID:
        if (check == TLS_EXPIRED)
            err_set(err, CH_NETWORK, "tls", NULL, "TLS certificate problem (expired): %s", detail);
        else
            err_set(err, CH_NETWORK, "tls", NULL, "TLS certificate problem (not valid yet): %s",
                    detail);
        err_hint(err, "check this machine's date and time; if they are right, the service's "
                      "certificate must be renewed by its operator");
        break;
    case TLS_REVOKED:
        err_set(err, CH_NETWORK, "tls", NULL, "TLS certificate problem (revoked): %s", detail);
        err_hint(err, "do not use this service until its operator replaces the certificate");
        break;
    case TLS_OTHER:
        err_set(err, CH_NETWORK, "tls", NULL, "TLS certificate problem: %s", detail);
        err_hint(err, "for a private CA pass --cacert FILE or set 'cacert = FILE' in the "
                      "profile's section of the config file");
        break;
    }
    return CH_NETWORK;
}

static int network_error(struct http_client *c, const char *errbuf, CURLcode rc,
                         long ssl_verify, double elapsed_ms, struct ch_error *err)
{
    const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST: {
        char host[256];
        snprintf(host, sizeof host, "%s", c->host);
        char *colon = strrchr(host, ':');
        if (colon && !strchr(colon, ']'))
            *colon = '\0';
        return err_set(err, CH_NETWORK, "network", NULL, "could not resolve host %s", host);
    }
    case CURLE_COULDNT_RESOLVE_PROXY:
        return err_set(err, CH_NETWORK, "network", NULL, "could not resolve the proxy: %s", detail);
    case CURLE_COULDNT_CONNECT:
        return err_set(err, CH_NETWORK, "network", NULL, "could not connect to %s", c->host);
    case CURLE_OPERATION_TIMEDOUT:
        return err_set(err, CH_NETWORK, "timeout", NULL, "timed out after %.1f s talking to %s",
                       elapsed_ms / 1000.0, c->host);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
        return tls_error(c, ssl_verify, detail, err);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
        return err_set(err, CH_NETWORK, "tls", NULL, "TLS connection to %s failed: %s", c->host,
                       detail);
    case CURLE_GOT_NOTHING:
        return err_set(err, CH_NETWORK, "network", NULL,
                       "%s closed the connection without answering", c->host);
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
        return err_set(err, CH_NETWORK, "network", NULL, "connection to %s was lost: %s", c->host,
                       detail);
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return err_set(err, CH_USAGE, "invalid_url", NULL, "cannot use the API URL: %s", detail);
    default:
        return err_set(err, CH_NETWORK, "network", NULL, "request to %s failed: %s", c->host,
                       detail);
    }
}

/* The service's own words (error.code, error.message) when the body is the error model. */
static void service_error_text(const struct http_response *r, char *code, size_t codesz,
                               char *msg, size_t msgsz)
{
    code[0] = msg[0] = '\0';
    cJSON *doc = r->body.len ? cJSON_ParseWithLength(r->body.data, r->body.len) : NULL;
    const cJSON *e = doc ? cJSON_GetObjectItemCaseSensitive(doc, "error") : NULL;
    const cJSON *c = e ? cJSON_GetObjectItemCaseSensitive(e, "code") : NULL;
    const cJSON *m = e ? cJSON_GetObjectItemCaseSensitive(e, "message") : NULL;
    if (cJSON_IsString(c) && strlen(c->valuestring) < codesz &&
        strspn(c->valuestring, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(c->valuestring))
        snprintf(code, codesz, "%s", c->valuestring);
    if (cJSON_IsString(m))
        copy_trimmed(msg, msgsz, m->valuestring, strlen(m->valuestring));
    cJSON_Delete(doc);
}

static int rate_error(const struct http_response *r, double left_ms, struct ch_error *err)
{
    time_t when = ch_now() + (time_t)(r->retry_after_s + 0.999);
    struct tm tm;
    char at[32] = "";
    if (localtime_r(&when, &tm))
        strftime(at, sizeof at, "%H:%M:%S", &tm);
    char code[64], msg[200];
    service_error_text(r, code, sizeof code, msg, sizeof msg);
    if (!code[0])
        snprintf(code, sizeof code, "%s", r->status == 429 ? "rate_limited" : "unavailable");
    if (!msg[0])
        snprintf(msg, sizeof msg, "HTTP %ld", r->status);
    err_set(err, CH_RATE, code, NULL,
            "%s; the service asks to wait %.0f s, more than the %.1f s left of the timeout", msg,
            r->retry_after_s, left_ms > 0 ? left_ms / 1000.0 : 0.0);
    err_hint(err, "try again after %s (in %.0f s)", at, r->retry_after_s);
    return CH_RATE;
}

/* ---- the request ---- */

/* What to do after one try: stop with rc, or try again after wait_ms. */
struct verdict {
    int done;
    int rc;
    double wait_ms;
};

static void set_what(struct ch_error *err, const struct http_request *req)
{
    if (err)
        snprintf(err->what, sizeof err->what, "%s %s", req->method ? req->method : "GET",
                 req->path ? req->path : "/");
}

/* The retry policy, shared by http_perform and the multi interface: judges try `attempt` of
 * req, which ended with cc at t1 (resp and st filled by the callbacks). */
static struct verdict judge_try(struct http_client *c, const struct http_request *req,
                                const char *errbuf, CURLcode cc, const struct try_state *st,
                                struct http_response *resp, int attempt, double start,
                                double deadline, double t0, double t1, struct ch_error *err)
{
    struct verdict v = { 1, 0, 0 };
    resp->elapsed_ms = t1 - start;
    resp->retries = attempt;
    if (err) {
        err->retries = attempt;
        snprintf(err->request_id, sizeof err->request_id, "%s", resp->request_id);
        err->http_status = resp->status;
    }
    double left = deadline - t1;
    int can_retry = request_retryable(req) && attempt < c->opts.retries;

    if (cc == CURLE_ABORTED_BY_CALLBACK || ch_interrupted) {
        trace_line(c, "< interrupted");
        v.rc = err_set(err, CH_INTERRUPTED, "interrupted", NULL, "interrupted");
        return v;
    }
    if (st->oversized) {
        trace_line(c, "< %ld response larger than 8 MiB, refused", resp->status);
        buf_reset(&resp->body);
        v.rc = err_set(err, CH_SERVICE, "response_too_large", NULL, "response larger than 8 MiB");
        return v;
    }
    if (cc != CURLE_OK) {
        if (cc == CURLE_PARTIAL_FILE)
            v.rc = err_set(err, CH_SERVICE, "truncated_response", NULL,
                           "the response was cut short (got %zu of %lld bytes)", resp->body.len,
                           st->content_length);
        else
            v.rc = network_error(c, errbuf, cc, st->ssl_verify, t1 - start, err);
        trace_line(c, "< error after %.0f ms: %s", t1 - t0, err ? err->message : "");
        if (!can_retry || !curl_retryable(cc) || left <= 0)
            return v;
        double wait = backoff_ms(attempt);
        if (wait >= left)
            return v;   /* no time left for another try: report this failure */
        trace_line(c, "* retrying in %.0f ms", wait);
        err_clear(err);
        set_what(err, req);
        v.done = 0;
        v.rc = 0;
        v.wait_ms = wait;
        return v;
    }

    trace_response(c, resp, t1 - t0, st->new_connections);
    if (!can_retry || !status_retryable(resp->status))
        return v;
    double wait;
    if (resp->retry_after_s >= 0) {
        wait = resp->retry_after_s * 1000.0;
        if (wait >= left) {
            v.rc = rate_error(resp, left, err);
            return v;
        }
    } else {
        wait = backoff_ms(attempt);
        if (wait >= left)
            return v;   /* budget spent: hand back the 5xx/429 as it is */
    }
    trace_line(c, "* retrying in %.0f ms", wait);
    v.done = 0;
    v.wait_ms = wait;
    return v;
}

/* Success: leave only the informative fields in err. */
static void keep_info_only(struct ch_error *err, long status)
{
    if (!err)
        return;
    int retries = err->retries;
    char rid[sizeof err->request_id];
    memcpy(rid, err->request_id, sizeof rid);
    err_clear(err);
    err->retries = retries;
    memcpy(err->request_id, rid, sizeof rid);
    err->http_status = status;
}

static void full_url(const struct http_client *c, const struct http_request *req, struct buf *url)
{
    buf_puts(url, c->base_url);
    buf_puts(url, req->path ? req->path : "/");
}

int http_perform(struct http_client *c, const struct http_request *req,
                 struct http_response *resp, struct ch_error *err)
{
    err_clear(err);
    if (!resp->body.data)
        http_response_init(resp);
    response_reset_try(resp);
    resp->retries = 0;
    resp->elapsed_ms = 0;

    const char *method = req->method ? req->method : "GET";
    set_what(err, req);
    struct buf url = BUF_INIT;
    full_url(c, req, &url);

    const double start = now_ms();
    const double deadline = start + c->opts.timeout_s * 1000.0;
    int rc = 0;

    for (int attempt = 0;; attempt++) {
        if (ch_interrupted) {
            rc = err_set(err, CH_INTERRUPTED, "interrupted", NULL, "interrupted");
            break;
        }
        response_reset_try(resp);
        struct try_state st = { resp, 0, strcmp(method, "HEAD") == 0, -1, 0, 0 };
        double t0 = now_ms();
        trace_request(c, req, url.data, attempt);
        CURLcode cc = perform_once(c, req, url.data, deadline - t0, &st);
        struct verdict v = judge_try(c, req, c->errbuf, cc, &st, resp, attempt, start, deadline,
                                     t0, now_ms(), err);
        rc = v.rc;
        if (v.done)
            break;
        if (wait_ms(v.wait_ms)) {
            rc = err_set(err, CH_INTERRUPTED, "interrupted", NULL, "interrupted");
            break;
        }
    }
    resp->elapsed_ms = now_ms() - start;
    if (rc == 0)
        keep_info_only(err, resp->status);
    buf_free(&url);
    return rc;
}

/* ---- many requests at once (libcurl multi) ---- */

struct xfer {
    struct xfer *next;
    void *tag;
    CURL *h;                      /* while running */
    char *method, *path, *body, *key, *extra;
    struct http_request req;      /* points at the copies above */
    struct buf url;
    struct http_response resp;
    struct try_state st;
    struct curl_slist *headers;
    curl_mime *mime;
    struct ch_error err;
    char errbuf[CURL_ERROR_SIZE];
    double start, deadline, t0, wake_at;
    int attempt;
    int rc;
};

struct http_multi {
    struct http_client *c;
    CURLM *multi;
    int parallel;
    int running;                  /* transfers inside curl */
    size_t count;                 /* every transfer not yet handed back */
    struct xfer *active;          /* inside curl */
    struct xfer *queued;          /* not started yet (FIFO) */
    struct xfer **queued_tail;
    struct xfer *waiting;         /* between tries (backoff / Retry-After) */
    struct xfer *finished;        /* done, waiting for http_multi_next (FIFO) */
    struct xfer **finished_tail;
    CURL **pool;                  /* idle easy handles */
    int npool;
};

struct http_multi *http_multi_new(struct http_client *c, int parallel)
{
    CURLM *multi = curl_multi_init();
    if (!multi)
        return NULL;
    if (parallel < 1)
        parallel = 1;
    curl_multi_setopt(multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)parallel);
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)parallel);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)parallel);
    struct http_multi *m = xcalloc(1, sizeof *m);
    m->c = c;
    m->multi = multi;
    m->parallel = parallel;
    m->queued_tail = &m->queued;
    m->finished_tail = &m->finished;
    m->pool = xcalloc((size_t)parallel, sizeof *m->pool);
    return m;
}

static void xfer_free(struct xfer *x)
{
    free(x->method);
    free(x->path);
    if (x->body) {
        explicit_bzero(x->body, strlen(x->body));   /* may hold a fact being verified */
        free(x->body);
    }
    free(x->key);
    free(x->extra);
    buf_free(&x->url);
    http_response_free(&x->resp);
    free(x);
}

static void give_back_handle(struct http_multi *m, CURL *h)
{
    if (m->npool < m->parallel)
        m->pool[m->npool++] = h;
    else
        curl_easy_cleanup(h);
}

static void free_list(struct xfer *x)
{
    while (x) {
        struct xfer *next = x->next;
        xfer_free(x);
        x = next;
    }
}

void http_multi_free(struct http_multi *m)
{
    if (!m)
        return;
    free_list(m->queued);
    free_list(m->waiting);
    free_list(m->finished);
    while (m->active) {
        struct xfer *x = m->active;
        m->active = x->next;
        curl_multi_remove_handle(m->multi, x->h);
        end_try(x->h, &x->st, x->headers, x->mime);
        curl_easy_cleanup(x->h);
        xfer_free(x);
    }
    for (int i = 0; i < m->npool; i++)
        curl_easy_cleanup(m->pool[i]);
    free(m->pool);
    curl_multi_cleanup(m->multi);
    free(m);
}

void http_multi_add(struct http_multi *m, const struct http_request *req, void *tag)
{
    struct xfer *x = xcalloc(1, sizeof *x);
    x->tag = tag;
    x->method = xstrdup(req->method ? req->method : "GET");
    x->path = xstrdup(req->path ? req->path : "/");
    x->body = dup_or_null(req->body);
    x->key = dup_or_null(req->idempotency_key);
    x->extra = dup_or_null(req->extra_header);
    x->req = (struct http_request){ .method = x->method, .path = x->path, .body = x->body,
                                    .idempotency_key = x->key, .no_auth = req->no_auth,
                                    .extra_header = x->extra };
    buf_init(&x->url);
    full_url(m->c, &x->req, &x->url);
    http_response_init(&x->resp);
    err_clear(&x->err);
    x->attempt = -1;
    *m->queued_tail = x;
    m->queued_tail = &x->next;
    m->count++;
}

size_t http_multi_pending(const struct http_multi *m)
{
    return m->count;
}

static void finish(struct http_multi *m, struct xfer *x)
{
    x->resp.elapsed_ms = now_ms() - x->start;
    if (x->rc == 0)
        keep_info_only(&x->err, x->resp.status);
    x->next = NULL;
    *m->finished_tail = x;
    m->finished_tail = &x->next;
}

/* Starts the next try of x (its first when attempt is -1). */
static void start_try(struct http_multi *m, struct xfer *x)
{
    double t = now_ms();
    if (x->attempt < 0) {
        x->start = t;
        x->deadline = t + m->c->opts.timeout_s * 1000.0;
        set_what(&x->err, &x->req);
    }
    x->attempt++;
    if (ch_interrupted) {
        x->rc = err_set(&x->err, CH_INTERRUPTED, "interrupted", NULL, "interrupted");
        finish(m, x);
        return;
    }
    response_reset_try(&x->resp);
    x->st = (struct try_state){ &x->resp, 0, strcmp(x->method, "HEAD") == 0, -1, 0, 0 };
    x->h = m->npool > 0 ? m->pool[--m->npool] : curl_easy_init();
    x->t0 = t;
    trace_request(m->c, &x->req, x->url.data, x->attempt);
    CURLcode cc = x->h ? setup_try(m->c, x->h, &x->req, x->url.data, x->deadline - t, &x->st,
                                   x->errbuf, &x->headers, &x->mime)
                       : CURLE_OUT_OF_MEMORY;
    if (cc == CURLE_OK) {
        curl_easy_setopt(x->h, CURLOPT_PRIVATE, (void *)x);
        if (curl_multi_add_handle(m->multi, x->h) == CURLM_OK) {
            m->running++;
            x->next = m->active;
            m->active = x;
            return;
        }
        cc = CURLE_FAILED_INIT;
    }
    /* It never started: judge it as a failed try. */
    if (x->h) {
        end_try(x->h, &x->st, x->headers, x->mime);
        give_back_handle(m, x->h);
        x->h = NULL;
    }
    x->rc = network_error(m->c, x->errbuf, cc, 0, 0, &x->err);
    finish(m, x);
}

/* A try inside curl ended with cc: judge it, then finish x or park it until its next try. */
static void try_ended(struct http_multi *m, struct xfer *x, CURLcode cc)
{
    for (struct xfer **pp = &m->active; *pp; pp = &(*pp)->next)
        if (*pp == x) {
            *pp = x->next;
            break;
        }
    curl_multi_remove_handle(m->multi, x->h);
    m->running--;
    end_try(x->h, &x->st, x->headers, x->mime);
    give_back_handle(m, x->h);
    x->h = NULL;
    x->headers = NULL;
    x->mime = NULL;
    double t1 = now_ms();
    struct verdict v = judge_try(m->c, &x->req, x->errbuf, cc, &x->st, &x->resp, x->attempt,
                                 x->start, x->deadline, x->t0, t1, &x->err);
    x->rc = v.rc;
    if (v.done) {
        finish(m, x);
        return;
    }
    x->wake_at = t1 + v.wait_ms;
    x->next = m->waiting;
    m->waiting = x;
}

/* Starts what may start: retries that are due, then queued transfers, up to `parallel`. */
static void start_due(struct http_multi *m, double *next_wake)
{
    double t = now_ms();
    *next_wake = -1;
    for (struct xfer **pp = &m->waiting; *pp;) {
        struct xfer *x = *pp;
        if (m->running < m->parallel && (x->wake_at <= t || ch_interrupted)) {
            *pp = x->next;
            start_try(m, x);
            continue;
        }
        if (*next_wake < 0 || x->wake_at < *next_wake)
            *next_wake = x->wake_at;
        pp = &x->next;
    }
    while (m->running < m->parallel && m->queued) {
        struct xfer *x = m->queued;
        m->queued = x->next;
        if (!m->queued)
            m->queued_tail = &m->queued;
        start_try(m, x);
    }
}

int http_multi_next(struct http_multi *m, void **tag, struct http_response *resp,
                    struct ch_error *err, int *rc)
{
    for (;;) {
        if (m->finished) {
            struct xfer *x = m->finished;
            m->finished = x->next;
            if (!m->finished)
                m->finished_tail = &m->finished;
            m->count--;
            *tag = x->tag;
            *rc = x->rc;
            if (err)
                *err = x->err;
            if (resp) {
                http_response_free(resp);
                *resp = x->resp;                 /* hands the body over */
                http_response_init(&x->resp);
            }
            xfer_free(x);
            return 1;
        }
        if (m->count == 0)
            return 0;
        double next_wake;
        start_due(m, &next_wake);
        if (m->finished)
            continue;
        int still = 0;
        curl_multi_perform(m->multi, &still);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m->multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct xfer *x = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
            if (x)
                try_ended(m, x, msg->data.result);
        }
        if (m->finished)
            continue;
        /* Wait for network activity, the next retry, or 100 ms to notice Ctrl-C. */
        int ms = 100;
        if (next_wake >= 0) {
            double d = next_wake - now_ms();
            if (d < ms)
                ms = d < 0 ? 0 : (int)d + 1;
        }
        if (m->running > 0)
            curl_multi_poll(m->multi, NULL, 0, ms, NULL);
        else if (ms > 0)
            wait_ms(ms);
        /* Ctrl-C: the progress callback aborts what runs, start_due fails the rest at once. */
    }
}

/* ---- misc ---- */

void http_new_idempotency_key(char out[37])
{
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            abort();   /* no entropy: a predictable key could replay someone else's request */
        }
        got += (size_t)n;
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);   /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

/* From the build, not from a loaded libcurl: --version must not pay for loading it. */
const char *http_backend_version(void)
{
#ifdef CURL_TLS_BACKEND
    return "libcurl/" LIBCURL_VERSION " " CURL_TLS_BACKEND;
#else
    return "libcurl/" LIBCURL_VERSION;
#endif
}
