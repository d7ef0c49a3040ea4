#include "faults.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include "http.h"
#include "secret.h"

#define BIG_BODY_SIZE (9u * 1024u * 1024u)
#define SLEEP_SLICE_MS 20

static atomic_bool cancelled;

void faults_cancel_all(void)
{
    atomic_store(&cancelled, true);
}

bool faults_cancelled(void)
{
    return atomic_load(&cancelled);
}

/* Sleeps in short slices so a stopping service is never held up by a fault. */
static void sleep_ms(long ms)
{
    while (ms > 0 && !faults_cancelled()) {
        long slice = ms < SLEEP_SLICE_MS ? ms : SLEEP_SLICE_MS;
        struct timespec ts = {slice / 1000, (slice % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        ms -= slice;
    }
}

static bool parse_number(const char *text, long min, long max, long *out)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (end == text || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* A probability in [0, 1]: "0.33". */
static bool parse_rate(const char *text, double *out)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end || !(v >= 0.0 && v <= 1.0))
        return false;
    *out = v;
    return true;
}

static bool chance(double rate)
{
    uint32_t r = 0;
    if (random_bytes(&r, sizeof r) != 0)
        return false;
    return (double)r / 4294967296.0 < rate;
}

static bool apply_item(char *item, struct fault_plan *plan)
{
    char *value = strchr(item, '=');
    double rate;
    long n;
    if (value)
        *value++ = '\0';
    if (strcmp(item, "delay") == 0 && value && parse_number(value, 0, 600000, &n))
        plan->delay_ms = n;
    else if (strcmp(item, "status") == 0 && value && parse_number(value, 100, 599, &n))
        plan->status = (unsigned)n;
    else if (strcmp(item, "retry-after") == 0 && value && parse_number(value, 0, 86400, &n))
        plan->retry_after = (int)n;
    else if (strcmp(item, "slowloris") == 0 && (!value || parse_number(value, 1, 60000, &n)))
        plan->slowloris_ms = value ? n : 1000;
    else if (strcmp(item, "content-type") == 0 && value && *value)
        snprintf(plan->content_type, sizeof plan->content_type, "%s", value);
    else if (!value && strcmp(item, "drop") == 0)
        plan->drop = true;
    else if (strcmp(item, "drop-rate") == 0 && value && parse_rate(value, &rate))
        plan->drop = plan->drop || chance(rate); /* soak tests: a network losing requests */
    else if (!value && strcmp(item, "truncate") == 0)
        plan->truncate = true;
    else if (!value && strcmp(item, "garbage") == 0)
        plan->garbage = true;
    else if (!value && strcmp(item, "big") == 0)
        plan->big = true;
    else
        return false;
    return true;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

int faults_parse(const char *header, struct fault_plan *plan, const char **why)
{
    char *copy = strdup(header), *save = NULL;
    int rc = 0;
    memset(plan, 0, sizeof *plan);
    plan->retry_after = -1;
    if (!copy)
        return -1;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *t = trim(item);
        if (*t && !apply_item(t, plan)) {
            *why = "X-Fault: unknown or malformed fault (expected delay=MS, status=CODE, "
                   "retry-after=S, drop, drop-rate=P, truncate, garbage, big, content-type=TYPE, "
                   "slowloris)";
            rc = -1;
            break;
        }
    }
    free(copy);
    return rc;
}

bool faults_before(struct request *req)
{
    sleep_ms(req->faults.delay_ms);
    return !req->faults.drop;
}

bool faults_reply(struct request *req)
{
    unsigned status = req->faults.status;
    char message[96];
    if (status == 0 || status < 400)
        return false;
    snprintf(message, sizeof message, "injected fault: status %u", status);
    reply_error(req, status, error_code_for_status(status), message);
    if (status == 429 || status == 503)
        req->reply.retry_after = 1;
    return true;
}

void faults_after(struct request *req)
{
    static const char garbage[] = "<html><body>502 Bad Gateway</body></html>\n\x01\x02 not json {";
    const struct fault_plan *f = &req->faults;
    if (f->status && f->status < 400)
        req->reply.status = f->status;
    if (f->retry_after >= 0)
        req->reply.retry_after = f->retry_after;
    if (f->garbage || f->big) {
        if (!f->status)
            req->reply.status = 200;
        snprintf(req->reply.content_type, sizeof req->reply.content_type, "%s",
                 JSON_CONTENT_TYPE);
    }
    if (f->garbage)
        reply_set_body(req, garbage, sizeof garbage - 1);
    if (f->truncate && req->reply.status == 204)
        req->reply.status = 200;
    if (f->content_type[0])
        snprintf(req->reply.content_type, sizeof req->reply.content_type, "%s",
                 f->content_type);
}

/* ---- streamed bodies ---- */

struct stream {
    char *body;         /* the reply body, owned */
    size_t len;         /* bytes of body available */
    size_t send_limit;  /* stop with an error after this many bytes */
    long per_byte_ms;   /* slowloris */
    bool big;
};

static ssize_t big_chunk(uint64_t pos, char *buf, size_t max)
{
    static const char head[] = "{\"items\":[\"", tail[] = "\"]}";
    size_t n = 0;
    for (; n < max && pos + n < BIG_BODY_SIZE; n++) {
        uint64_t p = pos + n;
        if (p < sizeof head - 1)
            buf[n] = head[p];
        else if (p >= BIG_BODY_SIZE - (sizeof tail - 1))
            buf[n] = tail[p - (BIG_BODY_SIZE - (sizeof tail - 1))];
        else
            buf[n] = 'x';
    }
    return n ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *s = cls;
    if (faults_cancelled())
        return MHD_CONTENT_READER_END_WITH_ERROR;
    if (s->big)
        return big_chunk(pos, buf, max);
    if (pos >= s->send_limit)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t n = s->send_limit - (size_t)pos;
    if (n > max)
        n = max;
    if (s->per_byte_ms) {
        sleep_ms(s->per_byte_ms);
        n = 1;
    }
    memcpy(buf, s->body + pos, n);
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    struct stream *s = cls;
    free(s->body);
    free(s);
}

/* Over plain HTTP, slowloris writes the whole answer itself (faults_trickle); over TLS, where
 * the socket carries records, only the body is trickled (the stream below). */
static bool trickles_headers(const struct request *req)
{
    return req->faults.slowloris_ms && !req->faults.big && !req->cfg->tls_cert;
}

struct MHD_Response *faults_response(struct request *req)
{
    const struct fault_plan *f = &req->faults;
    uint64_t declared;
    if (trickles_headers(req)) /* the body stays with req for faults_trickle */
        return MHD_create_response_from_buffer(req->reply.len, req->reply.body,
                                               MHD_RESPMEM_PERSISTENT);
    if (!f->truncate && !f->big && !f->slowloris_ms)
        return NULL;
    struct stream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->body = req->reply.body;
    s->len = req->reply.len;
    req->reply.body = NULL;
    req->reply.len = 0;
    s->big = f->big;
    s->per_byte_ms = f->slowloris_ms;
    declared = f->big ? BIG_BODY_SIZE : s->len;
    s->send_limit = f->truncate ? s->len / 2 : s->len;
    if (f->truncate && declared < 16)
        declared = 16; /* always promise more than is sent */
    struct MHD_Response *r =
        MHD_create_response_from_callback(declared, 16 * 1024, stream_read, s, stream_free);
    if (!r)
        stream_free(s);
    return r;
}

/* ---- slowloris: the status line and headers trickled too ---- */

struct head {
    char *text;
    size_t len;
    FILE *f;
};

static enum MHD_Result add_header_line(void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *value)
{
    struct head *h = cls;
    (void)kind;
    fprintf(h->f, "%s: %s\r\n", key, value ? value : "");
    return MHD_YES;
}

/* One byte to a non-blocking socket; false when the client is gone or the service stops. */
static bool send_byte(int fd, const char *byte)
{
    for (;;) {
        if (faults_cancelled())
            return false;
        ssize_t n = send(fd, byte, 1, MSG_NOSIGNAL);
        if (n == 1)
            return true;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return false;
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        poll(&p, 1, SLEEP_SLICE_MS);
    }
}

bool faults_trickle(struct request *req, struct MHD_Response *resp)
{
    const struct fault_plan *f = &req->faults;
    const union MHD_ConnectionInfo *info;
    struct head h = {0};
    if (!trickles_headers(req))
        return false;
    info = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    h.f = open_memstream(&h.text, &h.len);
    if (!info || !h.f) {
        if (h.f)
            fclose(h.f);
        free(h.text);
        return true; /* the connection is closed unanswered */
    }
    const char *reason = MHD_get_reason_phrase_for(req->reply.status);
    fprintf(h.f, "HTTP/1.1 %u %s\r\n", req->reply.status, reason && *reason ? reason : "Status");
    MHD_get_response_headers(resp, add_header_line, &h);
    fprintf(h.f, "Content-Length: %zu\r\nConnection: close\r\n\r\n", req->reply.len);
    size_t body = f->truncate ? req->reply.len / 2 : req->reply.len;
    if (req->reply.len)
        fwrite(req->reply.body, 1, body, h.f);
    fclose(h.f);
    for (size_t i = 0; i < h.len; i++) {
        sleep_ms(f->slowloris_ms);
        if (!send_byte(info->connect_fd, h.text + i))
            break;
    }
    free(h.text);
    return true;
}
