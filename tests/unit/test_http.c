/* The HTTP layer against a tiny HTTP/1.1 server on a loopback socket, run in a thread of this
 * test: the size cap, retries and their limits, Retry-After against the budget, timeouts,
 * truncated bodies, and a trace that never shows a secret. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "api.h"
#include "http.h"

/* ---- the loopback server ---- */

typedef void (*handler_fn)(int fd, int nth, const char *request);

static struct {
    int listen_fd;
    int port;
    pthread_t thread;
    volatile int stop;
    handler_fn handler;
    pthread_mutex_t mu;
    int requests;
    char last[16384];
    char base_url[64];
} srv = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k <= 0)
            return;
        p += k;
        n -= (size_t)k;
    }
}

static void send_str(int fd, const char *s)
{
    send_all(fd, s, strlen(s));
}

/* Sends a complete response that closes the connection. */
static void reply(int fd, int status, const char *extra_headers, const char *ctype,
                  const char *body)
{
    char head[1024];
    snprintf(head, sizeof head,
             "HTTP/1.1 %d X\r\nX-Request-Id: req_%d\r\nContent-Type: %s\r\n"
             "Content-Length: %zu\r\nConnection: close\r\n%s\r\n",
             status, status, ctype, strlen(body), extra_headers ? extra_headers : "");
    send_str(fd, head);
    send_str(fd, body);
}

/* Reads one request (headers and a Content-Length body); 0 when the peer went away. */
static int read_request(int fd, char *out, size_t outsz)
{
    size_t len = 0;
    long need = -1;
    out[0] = '\0';
    for (;;) {
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, 3000) <= 0)
            return len > 0;
        if (len + 1 >= outsz)
            return 1;
        ssize_t k = recv(fd, out + len, outsz - len - 1, 0);
        if (k <= 0)
            return len > 0;
        len += (size_t)k;
        out[len] = '\0';
        char *end = strstr(out, "\r\n\r\n");
        if (!end)
            continue;
        if (need < 0) {
            *end = '\0';
            const char *cl = strcasestr(out, "\r\nContent-Length:");
            need = cl ? strtol(cl + 17, NULL, 10) : 0;
            *end = '\r';
        }
        if ((long)(len - (size_t)(end + 4 - out)) >= need)
            return 1;
    }
}

static void *server_main(void *arg)
{
    (void)arg;
    while (!srv.stop) {
        struct pollfd p = { srv.listen_fd, POLLIN, 0 };
        if (poll(&p, 1, 50) <= 0)
            continue;
        int fd = accept(srv.listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        char req[16384];
        if (read_request(fd, req, sizeof req)) {
            pthread_mutex_lock(&srv.mu);
            int nth = srv.requests++;
            snprintf(srv.last, sizeof srv.last, "%s", req);
            pthread_mutex_unlock(&srv.mu);
            srv.handler(fd, nth, req);
        }
        close(fd);
    }
    return NULL;
}

static void server_start(handler_fn h)
{
    srv.handler = h;
    srv.stop = 0;
    srv.requests = 0;
    srv.last[0] = '\0';
    srv.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(srv.listen_fd >= 0);
    int one = 1;
    setsockopt(srv.listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(srv.listen_fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(srv.listen_fd, 16), 0);
    /* Readable is only a hint: accept must not block the loop that watches `stop`. */
    fcntl(srv.listen_fd, F_SETFL, fcntl(srv.listen_fd, F_GETFL) | O_NONBLOCK);
    socklen_t alen = sizeof a;
    getsockname(srv.listen_fd, (struct sockaddr *)&a, &alen);
    srv.port = ntohs(a.sin_port);
    snprintf(srv.base_url, sizeof srv.base_url, "http://127.0.0.1:%d", srv.port);
    assert_int_equal(pthread_create(&srv.thread, NULL, server_main, NULL), 0);
}

static int server_stop(void)
{
    srv.stop = 1;
    pthread_join(srv.thread, NULL);
    close(srv.listen_fd);
    return srv.requests;
}

/* Waits (bounded) until the client closes the connection: a service that never answers. */
static void wait_for_close(int fd)
{
    for (int i = 0; i < 100 && !srv.stop; i++) {
        struct pollfd p = { fd, POLLIN, 0 };
        char c[256];
        if (poll(&p, 1, 100) > 0 && recv(fd, c, sizeof c, 0) <= 0)
            return;
    }
}

/* ---- handlers ---- */

static void h_ok(int fd, int nth, const char *req)
{
    (void)nth; (void)req;
    reply(fd, 200, "Date: Wed, 25 Nov 2026 11:41:00 GMT\r\nIdempotent-Replayed: true\r\n",
          "application/json; charset=utf-8",
          "{\"token\":\"tok-from-server-999\",\"phone\":\"13800138000\",\"name\":\"王小明\","
          "\"nested\":{\"otp\":246810,\"id_number\":\"11010519491231002X\"}}");
}

static void h_503(int fd, int nth, const char *req)
{
    (void)nth; (void)req;
    reply(fd, 503, NULL, "application/json",
          "{\"error\":{\"code\":\"unavailable\",\"message\":\"down for a moment\"}}");
}

static void h_404(int fd, int nth, const char *req)
{
    (void)nth; (void)req;
    reply(fd, 404, NULL, "application/json",
          "{\"error\":{\"code\":\"not_found\",\"message\":\"no such order\","
          "\"request_id\":\"req_404\"}}");
}

static void h_409(int fd, int nth, const char *req)
{
    (void)nth; (void)req;
    reply(fd, 409, NULL, "application/json",
          "{\"error\":{\"code\":\"idempotency_conflict\",\"message\":\"key reused\\nwith \\u001b[31m"
          "another body\"}}");
}

static void h_500_text(int fd, int nth, const char *req)
{
    (void)nth; (void)req;
    reply(fd, 500, NULL, "text/html", "<h1>oops</h1>");
}

static void h_429_long(int fd, int nth, const char *req)
{
    (void)nth; (void)req;
    reply(fd, 429, "Retry-After: 100\r\n", "application/json",
          "{\"error\":{\"code\":\"locked_out\",\"message\":\"too many attempts\"}}");
}

static void h_503_once_short(int fd, int nth, const char *req)
{
    if (nth == 0)
        reply(fd, 503, "retry-after: 1\r\n", "application/json", "{}");
    else
        h_ok(fd, nth, req);
}

static void h_huge_announced(int fd, int nth, const char *req)
{
    (void)nth; (void)req;
    send_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Request-Id: req_big\r\n"
                 "Content-Length: 9437184\r\nConnection: close\r\n\r\n[");
    wait_for_close(fd);
}

static void h_huge_streamed(int fd, int nth, const char *req)
{
    (void)nth; (void)req;
    send_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n[");
    static char chunk[65536];
    memset(chunk, '1', sizeof chunk);
    for (int i = 0; i < 160; i++)   /* 10 MiB */
        send_all(fd, chunk, sizeof chunk);
}

static void h_slow(int fd, int nth, const char *req)
{
    (void)nth; (void)req;
    wait_for_close(fd);
}

static void h_truncated_cl(int fd, int nth, const char *req)
{
    (void)nth; (void)req;
    send_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Request-Id: req_cut\r\n"
                 "Content-Length: 100\r\nConnection: close\r\n\r\n{\"items\":[1,2,");
}

static void h_truncated_json(int fd, int nth, const char *req)
{
    (void)nth; (void)req;
    send_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nx-request-id: req_half\r\n"
                 "Connection: close\r\n\r\n{\"items\":[1,2,");
}

static void h_html(int fd, int nth, const char *req)
{
    (void)nth; (void)req;
    reply(fd, 200, NULL, "text/html", "<html></html>");
}

static void h_trailing_garbage(int fd, int nth, const char *req)
{
    (void)nth; (void)req;
    reply(fd, 200, NULL, "application/json", "{\"a\":1} {\"b\":2}");
}

static void h_204(int fd, int nth, const char *req)
{
    (void)nth; (void)req;
    send_str(fd, "HTTP/1.1 204 No Content\r\nX-Request-Id: req_204\r\nConnection: close\r\n\r\n");
}

static void h_problem_json(int fd, int nth, const char *req)
{
    (void)nth; (void)req;
    reply(fd, 200, NULL, "application/problem+json", "[1,2,3]");
}

/* ---- helpers ---- */

static double ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1000.0 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static struct http_client *client(double timeout_s, int retries)
{
    struct http_opts o = {
        .base_url = srv.base_url, .timeout_s = timeout_s, .connect_timeout_s = 2,
        .retries = retries, .user_agent = "carhelp-test/1",
    };
    struct http_client *c = http_client_new(&o);
    assert_non_null(c);
    return c;
}

static int get(struct http_client *c, const char *path, struct http_response *r,
               struct ch_error *e)
{
    struct http_request q = { .method = "GET", .path = path };
    http_response_init(r);
    return http_perform(c, &q, r, e);
}

/* ---- tests ---- */

static void a_plain_get_fills_the_response(void **state)
{
    (void)state;
    server_start(h_ok);
    struct http_client *c = client(5, 2);
    struct http_response r;
    struct ch_error e;
    assert_int_equal(get(c, "/v1/meta", &r, &e), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.request_id, "req_200");
    assert_string_equal(r.content_type, "application/json; charset=utf-8");
    assert_string_equal(r.date, "Wed, 25 Nov 2026 11:41:00 GMT");
    assert_int_equal(r.replayed, 1);
    assert_int_equal(r.retries, 0);
    assert_true(r.retry_after_s < 0);
    assert_non_null(strstr(r.body.data, "王小明"));
    http_response_free(&r);
    http_client_free(c);
    server_stop();
    assert_non_null(strstr(srv.last, "GET /v1/meta HTTP/1.1\r\n"));
    assert_non_null(strstr(srv.last, "Accept: application/json\r\n"));
    assert_non_null(strstr(srv.last, "User-Agent: carhelp-test/1\r\n"));
    assert_null(strstr(srv.last, "Authorization"));
    assert_null(strstr(srv.last, "Content-Type"));
}

static void responses_announced_over_8_mib_are_refused(void **state)
{
    (void)state;
    server_start(h_huge_announced);
    struct http_client *c = client(5, 2);
    struct http_response r;
    struct ch_error e;
    assert_int_equal(get(c, "/big", &r, &e), CH_SERVICE);
    assert_string_equal(e.message, "response larger than 8 MiB");
    assert_string_equal(e.request_id, "req_big");
    assert_int_equal(e.retries, 0);
    http_response_free(&r);
    http_client_free(c);
    assert_int_equal(server_stop(), 1);
}

static void responses_streamed_over_8_mib_are_refused(void **state)
{
    (void)state;
    server_start(h_huge_streamed);
    struct http_client *c = client(10, 2);
    struct http_response r;
    struct ch_error e;
    assert_int_equal(get(c, "/big", &r, &e), CH_SERVICE);
    assert_string_equal(e.message, "response larger than 8 MiB");
    assert_true(r.body.len <= HTTP_MAX_BODY);
    http_response_free(&r);
    http_client_free(c);
    assert_int_equal(server_stop(), 1);
}

static void a_503_is_retried_then_returned(void **state)
{
    (void)state;
    server_start(h_503);
    struct http_client *c = client(10, 2);
    struct http_response r;
    struct ch_error e;
    assert_int_equal(get(c, "/v1/meta", &r, &e), 0);
    assert_int_equal(r.status, 503);
    assert_int_equal(r.retries, 2);
    http_response_free(&r);

    /* api_call turns the final 503 into a service error with a hint. */
    cJSON *out = (cJSON *)1;
    assert_int_equal(api_get(c, "/v1/meta", "show meta", &out, &e), CH_SERVICE);
    assert_null(out);
    assert_string_equal(e.what, "show meta");
    assert_string_equal(e.code, "unavailable");
    assert_string_equal(e.message, "down for a moment");
    assert_int_equal(e.http_status, 503);
    assert_int_equal(e.retries, 2);
    assert_string_equal(e.request_id, "req_503");
    assert_non_null(strstr(e.hint, "try again later"));
    http_client_free(c);
    assert_int_equal(server_stop(), 6);
}

static void a_404_is_never_retried(void **state)
{
    (void)state;
    server_start(h_404);
    struct http_client *c = client(10, 2);
    struct ch_error e;
    cJSON *out = NULL;
    assert_int_equal(api_get(c, "/v1/orders/x", "show order", &out, &e), CH_NOT_FOUND);
    assert_string_equal(e.code, "not_found");
    assert_string_equal(e.message, "no such order");
    assert_string_equal(e.request_id, "req_404");
    assert_int_equal(e.retries, 0);
    http_client_free(c);
    assert_int_equal(server_stop(), 1);
}

static void a_post_without_a_key_is_not_retried(void **state)
{
    (void)state;
    server_start(h_503);
    struct http_client *c = client(10, 2);
    struct http_request q = { .method = "POST", .path = "/v1/tickets", .body = "{}" };
    struct http_response r;
    struct ch_error e;
    http_response_init(&r);
    assert_int_equal(http_perform(c, &q, &r, &e), 0);
    assert_int_equal(r.status, 503);
    assert_int_equal(r.retries, 0);
    http_response_free(&r);
    http_client_free(c);
    assert_int_equal(server_stop(), 1);
}

static void a_post_with_a_key_is_retried_with_the_same_key(void **state)
{
    (void)state;
    server_start(h_503);
    struct http_client *c = client(10, 2);
    char key[37];
    http_new_idempotency_key(key);
    struct http_request q = { .method = "POST", .path = "/v1/tickets", .body = "{\"a\":1}",
                              .idempotency_key = key };
    struct http_response r;
    struct ch_error e;
    http_response_init(&r);
    assert_int_equal(http_perform(c, &q, &r, &e), 0);
    assert_int_equal(r.retries, 2);
    http_response_free(&r);
    http_client_free(c);
    assert_int_equal(server_stop(), 3);
    char want[64];
    snprintf(want, sizeof want, "Idempotency-Key: %s\r\n", key);
    assert_non_null(strstr(srv.last, want));
    assert_non_null(strstr(srv.last, "Content-Type: application/json\r\n"));
    assert_non_null(strstr(srv.last, "\r\n\r\n{\"a\":1}"));
}

static void retry_after_beyond_the_budget_stops_at_once(void **state)
{
    (void)state;
    server_start(h_429_long);
    struct http_client *c = client(3, 2);
    struct http_response r;
    struct ch_error e;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(get(c, "/v1/x", &r, &e), CH_RATE);
    assert_true(ms_since(&t0) < 1000);
    assert_int_equal(r.status, 429);
    assert_true(r.retry_after_s == 100);
    assert_non_null(strstr(e.message, "100 s"));
    assert_non_null(strstr(e.message, "too many attempts"));   /* the service's words */
    assert_string_equal(e.code, "locked_out");
    assert_non_null(strstr(e.hint, "try again after"));
    assert_int_equal(e.http_status, 429);
    http_response_free(&r);
    http_client_free(c);
    assert_int_equal(server_stop(), 1);
}

static void retry_after_within_the_budget_is_waited_out(void **state)
{
    (void)state;
    server_start(h_503_once_short);
    struct http_client *c = client(5, 2);
    struct http_response r;
    struct ch_error e;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(get(c, "/v1/x", &r, &e), 0);
    double ms = ms_since(&t0);
    assert_true(ms >= 950 && ms < 3000);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.retries, 1);
    http_response_free(&r);
    http_client_free(c);
    assert_int_equal(server_stop(), 2);
}

static void a_silent_service_times_out_within_the_budget(void **state)
{
    (void)state;
    server_start(h_slow);
    struct http_client *c = client(1.0, 2);
    struct http_response r;
    struct ch_error e;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(get(c, "/v1/slow", &r, &e), CH_NETWORK);
    double ms = ms_since(&t0);
    assert_true(ms >= 900 && ms < 1500);
    assert_string_equal(e.code, "timeout");
    assert_non_null(strstr(e.message, "timed out after"));
    http_response_free(&r);
    http_client_free(c);
    server_stop();
}

static void a_body_shorter_than_announced_is_an_error(void **state)
{
    (void)state;
    server_start(h_truncated_cl);
    struct http_client *c = client(5, 0);
    struct http_response r;
    struct ch_error e;
    assert_int_equal(get(c, "/v1/cut", &r, &e), CH_SERVICE);
    assert_string_equal(e.code, "truncated_response");
    assert_string_equal(e.request_id, "req_cut");
    http_response_free(&r);
    http_client_free(c);
    assert_int_equal(server_stop(), 1);
}

static void truncated_json_is_a_malformed_response(void **state)
{
    (void)state;
    server_start(h_truncated_json);
    struct http_client *c = client(5, 0);
    struct ch_error e;
    cJSON *out = NULL;
    assert_int_equal(api_get(c, "/v1/half", "list orders", &out, &e), CH_SERVICE);
    assert_null(out);
    assert_string_equal(e.code, "malformed_response");
    assert_non_null(strstr(e.message, "malformed response"));
    assert_string_equal(e.request_id, "req_half");   /* header names are case-insensitive */
    assert_string_equal(e.what, "list orders");
    http_client_free(c);
    server_stop();
}

static void non_json_bodies_are_malformed_responses(void **state)
{
    (void)state;
    struct ch_error e;
    cJSON *out = NULL;

    server_start(h_html);
    struct http_client *c = client(5, 0);
    assert_int_equal(api_get(c, "/", "x", &out, &e), CH_SERVICE);
    assert_non_null(strstr(e.message, "text/html"));
    http_client_free(c);
    server_stop();

    server_start(h_trailing_garbage);
    c = client(5, 0);
    assert_int_equal(api_get(c, "/", "x", &out, &e), CH_SERVICE);
    assert_null(out);
    http_client_free(c);
    server_stop();
}

static void plus_json_types_and_204_are_accepted(void **state)
{
    (void)state;
    struct ch_error e;
    cJSON *out = NULL;
    long status = 0;

    server_start(h_problem_json);
    struct http_client *c = client(5, 0);
    assert_int_equal(api_get(c, "/", "x", &out, &e), 0);
    assert_true(cJSON_IsArray(out));
    cJSON_Delete(out);
    http_client_free(c);
    server_stop();

    server_start(h_204);
    c = client(5, 0);
    struct http_request q = { .method = "DELETE", .path = "/v1/auth/token" };
    out = (cJSON *)1;
    assert_int_equal(api_call(c, &q, "log out", &out, &status, &e), 0);
    assert_null(out);
    assert_int_equal(status, 204);
    http_client_free(c);
    server_stop();
    assert_non_null(strstr(srv.last, "DELETE /v1/auth/token HTTP/1.1\r\n"));
}

static void api_error_codes_refine_the_exit_and_messages_are_cleaned(void **state)
{
    (void)state;
    struct ch_error e;
    cJSON *out = NULL;

    server_start(h_409);
    struct http_client *c = client(5, 2);
    assert_int_equal(api_get(c, "/", "comment", &out, &e), CH_STATE);
    assert_string_equal(e.code, "idempotency_conflict");
    assert_null(strchr(e.message, '\033'));
    assert_null(strchr(e.message, '\n'));
    assert_non_null(strstr(e.message, "key reused"));
    http_client_free(c);
    server_stop();

    server_start(h_500_text);
    c = client(5, 0);
    assert_int_equal(api_get(c, "/", "x", &out, &e), CH_SERVICE);
    assert_string_equal(e.message, "HTTP 500");
    assert_string_equal(e.code, "http_500");
    http_client_free(c);
    server_stop();
}

static void nothing_listening_is_a_network_error(void **state)
{
    (void)state;
    server_start(h_ok);
    int port = srv.port;
    server_stop();   /* the port is free again: connections are refused */
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    struct http_opts o = { .base_url = url, .timeout_s = 5, .connect_timeout_s = 2, .retries = 0 };
    struct http_client *c = http_client_new(&o);
    struct http_response r;
    struct ch_error e;
    assert_int_equal(get(c, "/v1/meta", &r, &e), CH_NETWORK);
    char want[80];
    snprintf(want, sizeof want, "could not connect to 127.0.0.1:%d", port);
    assert_string_equal(e.message, want);
    assert_string_equal(e.what, "GET /v1/meta");
    http_response_free(&r);
    http_client_free(c);
}

static void the_trace_never_shows_secrets(void **state)
{
    (void)state;
    server_start(h_ok);
    char *trace = NULL;
    size_t tlen = 0;
    FILE *tf = open_memstream(&trace, &tlen);
    const char *token = "sekrit-bearer-token-4242";
    struct http_opts o = {
        .base_url = srv.base_url, .timeout_s = 5, .connect_timeout_s = 2, .retries = 0,
        .token = token, .verbose = 2, .trace = tf,
    };
    struct http_client *c = http_client_new(&o);
    struct http_request q = {
        .method = "POST", .path = "/v1/auth/token",
        .body = "{\"phone\":\"13800138000\",\"otp\":\"246810\",\"password\":\"hunter2\","
                "\"id_last4\":\"002X\"}",
    };
    struct http_response r;
    struct ch_error e;
    http_response_init(&r);
    assert_int_equal(http_perform(c, &q, &r, &e), 0);
    http_response_free(&r);
    http_client_free(c);
    fclose(tf);
    server_stop();

    char line[128];
    snprintf(line, sizeof line, "> POST %s/v1/auth/token\n", srv.base_url);
    assert_non_null(strstr(trace, line));
    assert_non_null(strstr(trace, "< 200 "));
    assert_non_null(strstr(trace, "req_200"));
    assert_non_null(strstr(trace, "Authorization: Bearer ***"));
    assert_non_null(strstr(trace, "138****8000"));
    assert_non_null(strstr(trace, "\"otp\":\"***\""));   /* the number in the answer too */
    const char *secrets[] = { token, "hunter2", "246810", "13800138000", "002X\"",
                              "tok-from-server-999", "11010519491231002X" };
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        if (strstr(trace, secrets[i]))
            fail_msg("trace shows %s:\n%s", secrets[i], trace);
    free(trace);
    /* ... while the service did get the real header. */
    assert_non_null(strstr(srv.last, "Authorization: Bearer sekrit-bearer-token-4242\r\n"));
}

static void no_auth_requests_leave_the_token_out(void **state)
{
    (void)state;
    server_start(h_ok);
    struct http_opts o = { .base_url = srv.base_url, .timeout_s = 5, .token = "tok" };
    struct http_client *c = http_client_new(&o);
    struct http_request q = { .method = "GET", .path = "/v1/meta", .no_auth = 1,
                              .extra_header = "X-Fault: delay=1" };
    struct http_response r;
    struct ch_error e;
    http_response_init(&r);
    assert_int_equal(http_perform(c, &q, &r, &e), 0);
    http_response_free(&r);
    http_client_set_token(c, NULL);
    http_client_free(c);
    server_stop();
    assert_null(strstr(srv.last, "Authorization"));
    assert_non_null(strstr(srv.last, "X-Fault: delay=1\r\n"));
}

static pthread_t main_thread;

static void on_sigint(int sig)
{
    (void)sig;
    ch_interrupted = 1;
}

/* Like Ctrl-C: a SIGINT whose handler sets the flag, delivered to the thread in libcurl. */
static void *interrupt_soon(void *arg)
{
    (void)arg;
    struct timespec ts = { 0, 200 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    pthread_kill(main_thread, SIGINT);
    return NULL;
}

static void an_interrupt_aborts_the_transfer_at_once(void **state)
{
    (void)state;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    main_thread = pthread_self();

    server_start(h_slow);
    struct http_client *c = client(10, 2);
    struct http_response r;
    struct ch_error e;
    pthread_t t;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_create(&t, NULL, interrupt_soon, NULL);
    assert_int_equal(get(c, "/v1/slow", &r, &e), CH_INTERRUPTED);
    assert_true(ms_since(&t0) < 700);
    assert_string_equal(e.code, "interrupted");
    pthread_join(t, NULL);
    ch_interrupted = 0;
    sigaction(SIGINT, &old, NULL);
    http_response_free(&r);
    http_client_free(c);
    server_stop();
}

static void idempotency_keys_are_uuid_v4(void **state)
{
    (void)state;
    char a[37], b[37];
    http_new_idempotency_key(a);
    http_new_idempotency_key(b);
    assert_int_equal(strlen(a), 36);
    assert_string_not_equal(a, b);
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(a[i], '-');
        else
            assert_true(isxdigit((unsigned char)a[i]) && !isupper((unsigned char)a[i]));
    }
    assert_int_equal(a[14], '4');
    assert_non_null(strchr("89ab", a[19]));
    assert_memory_equal(http_backend_version(), "libcurl/", 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_plain_get_fills_the_response),
        cmocka_unit_test(responses_announced_over_8_mib_are_refused),
        cmocka_unit_test(responses_streamed_over_8_mib_are_refused),
        cmocka_unit_test(a_503_is_retried_then_returned),
        cmocka_unit_test(a_404_is_never_retried),
        cmocka_unit_test(a_post_without_a_key_is_not_retried),
        cmocka_unit_test(a_post_with_a_key_is_retried_with_the_same_key),
        cmocka_unit_test(retry_after_beyond_the_budget_stops_at_once),
        cmocka_unit_test(retry_after_within_the_budget_is_waited_out),
        cmocka_unit_test(a_silent_service_times_out_within_the_budget),
        cmocka_unit_test(a_body_shorter_than_announced_is_an_error),
        cmocka_unit_test(truncated_json_is_a_malformed_response),
        cmocka_unit_test(non_json_bodies_are_malformed_responses),
        cmocka_unit_test(plus_json_types_and_204_are_accepted),
        cmocka_unit_test(api_error_codes_refine_the_exit_and_messages_are_cleaned),
        cmocka_unit_test(nothing_listening_is_a_network_error),
        cmocka_unit_test(the_trace_never_shows_secrets),
        cmocka_unit_test(no_auth_requests_leave_the_token_out),
        cmocka_unit_test(an_interrupt_aborts_the_transfer_at_once),
        cmocka_unit_test(idempotency_keys_are_uuid_v4),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
