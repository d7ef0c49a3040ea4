/* doctor: one line per check, PASS/WARN/FAIL/SKIP with its time and a hint. The checks go
 * from the local files outwards (config, credentials, DNS, TCP, TLS, the API, its version and
 * clock, the token, latency); once the network path is broken the checks that need it are
 * reported as SKIP at once (naming the check that failed) instead of waiting for more
 * timeouts. A skip is not a failure: the failure is counted once, where it happened. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "command.h"
#include "session.h"
#include "i18n.h"
#include "core/api.h"
#include "core/identity.h"
#include "core/json.h"

extern const struct command cmd_doctor;

enum status { ST_PASS, ST_WARN, ST_FAIL, ST_SKIP };
static const char *const status_word[] = { "PASS", "WARN", "FAIL", "SKIP" };
static const char *const status_json[] = { "pass", "warn", "fail", "skip" };

#define MAX_CHECKS 16
#define NAME_WIDTH 12
#define CONNECT_TIMEOUT_S 5.0
#define SKEW_WARN_S 60
#define SKEW_FAIL_S 300
#define SLOW_MS 1000.0

struct check {
    const char *name;
    enum status status;
    long ms;
    char detail[600];
    char hint[600];
};

struct url_parts {
    char scheme[16];
    char host[256];
    char port[8];
};

struct doctor {
    struct session *s;
    struct check checks[MAX_CHECKS];
    int n;
    double started_ms;              /* of the check in progress */
    struct url_parts url;
    struct url_parts peer;          /* what DNS and TCP are checked against: the proxy, if any */
    bool via_proxy;
    bool url_ok;
    char broken[520];               /* why the network checks are skipped; "" while all is well */
    const char *broken_by;          /* the check that failed, once broken[] is set */
    struct http_client *http;
    /* The first GET /v1/meta, shared by the TLS and API checks. */
    bool meta_done;
    int meta_rc;
    struct ch_error meta_err;
    struct http_response meta_resp;
    cJSON *meta;                    /* parsed when it is a carhelp API */
    bool token_loaded;
    struct ch_error auth_err;
};

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void begin(struct doctor *d)
{
    d->started_ms = mono_ms();
}

static void print_check(const struct doctor *d, const struct check *c)
{
    if (d->s->json)
        return;
    bool col = d->s->color_out;
    const char *sgr = c->status == ST_PASS ? c_green(col)
                      : c->status == ST_WARN ? c_yellow(col)
                      : c->status == ST_SKIP ? c_dim(col) : c_red(col);
    printf("%s%s%s  ", sgr, status_word[c->status], c_reset(col));
    print_padded(stdout, c->name, NAME_WIDTH);
    printf("%5ld ms  ", c->ms);
    term_print(stdout, c->detail, TERM_ONE_LINE, NULL);   /* quotes the service */
    if (c->hint[0]) {
        printf("  %s%s%s ", c_dim(col), _("hint:"), c_reset(col));
        term_print(stdout, c->hint, TERM_ONE_LINE, NULL);
    }
    putchar('\n');
    fflush(stdout);
}

static void report(struct doctor *d, const char *name, enum status st, const char *hint,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void report(struct doctor *d, const char *name, enum status st, const char *hint,
                   const char *fmt, ...)
{
    if (d->n >= MAX_CHECKS)
        return;
    struct check *c = &d->checks[d->n++];
    c->name = name;
    c->status = st;
    c->ms = (long)(mono_ms() - d->started_ms + 0.5);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof c->detail, fmt, ap);
    va_end(ap);
    snprintf(c->hint, sizeof c->hint, "%s", hint ? hint : "");
    print_check(d, c);
}

/* A network check that cannot run because an earlier one failed: SKIP, naming that check
 * and why it failed. When the URL cannot be used at all, the first network check is the
 * FAIL and the rest are skipped. */
static bool skipped(struct doctor *d, const char *name)
{
    if (!d->broken[0])
        return false;
    begin(d);
    if (!d->broken_by) {
        /* No check failed yet: the URL itself cannot be used. That is this check's failure. */
        report(d, name, ST_FAIL, _("check --api-url, CARHELP_API_URL or the config's api_url"),
               "%s", d->broken);
        d->broken_by = name;
        return true;
    }
    report(d, name, ST_SKIP, NULL, _("skipped: %s failed (%s)"), d->broken_by, d->broken);
    return true;
}

/* Marks the network path broken by check `name`; the later checks are skipped. */
static void break_path(struct doctor *d, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void break_path(struct doctor *d, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->broken, sizeof d->broken, fmt, ap);
    va_end(ap);
    d->broken_by = name;
}

/* scheme://[user@]host[:port][/path]; host may be [IPv6]. */
static bool parse_url(const char *url, struct url_parts *u)
{
    memset(u, 0, sizeof *u);
    const char *p = strstr(url, "://");
    if (!p || (size_t)(p - url) >= sizeof u->scheme)
        return false;
    memcpy(u->scheme, url, (size_t)(p - url));
    for (char *c = u->scheme; *c; c++)
        *c = (char)((*c >= 'A' && *c <= 'Z') ? *c + 32 : *c);
    p += 3;
    size_t auth_len = strcspn(p, "/?#");
    const char *at = memchr(p, '@', auth_len);
    if (at) {
        auth_len -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    const char *end = p + auth_len, *port = NULL;
    const char *hs = p, *he;
    if (*p == '[') {
        const char *rb = memchr(p, ']', auth_len);
        if (!rb)
            return false;
        hs = p + 1;
        he = rb;
        if (rb + 1 < end && rb[1] == ':')
            port = rb + 2;
    } else {
        const char *colon = memchr(p, ':', auth_len);
        he = colon ? colon : end;
        if (colon)
            port = colon + 1;
    }
    size_t hl = (size_t)(he - hs);
    if (hl == 0 || hl >= sizeof u->host)
        return false;
    memcpy(u->host, hs, hl);
    if (port && port < end) {
        size_t pl = (size_t)(end - port);
        if (pl >= sizeof u->port)
            return false;
        memcpy(u->port, port, pl);
        for (size_t i = 0; i < pl; i++)
            if (u->port[i] < '0' || u->port[i] > '9')
                return false;
    } else {
        snprintf(u->port, sizeof u->port, "%s", strcmp(u->scheme, "https") == 0 ? "443" : "80");
    }
    return strcmp(u->scheme, "http") == 0 || strcmp(u->scheme, "https") == 0;
}

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* "what: message", as the error line would say it. */
static void describe_error(const struct ch_error *e, char *out, size_t outsz)
{
    if (e->what[0])
        snprintf(out, outsz, "%s: %s", e->what, e->message);
    else
        snprintf(out, outsz, "%s", e->message);
}

static void take_str(char **dst, const char *src)
{
    free(*dst);
    *dst = src ? xstrdup(src) : NULL;
}

/* doctor runs without the dispatcher reading the config (CMD_NO_CONFIG) so that a broken
 * config is a FAIL line with a hint rather than the end of the diagnosis. Here it is read the
 * way every other command reads it: built-in < file < environment < command line. What the
 * dispatcher left in s->cfg is built-in + command line, so a field that differs from the
 * built-in value came from the command line and wins. */
/* no_proxy as curl reads it: "*", or a comma list of hosts / domain suffixes. */
static bool no_proxy_matches(const char *host)
{
    const char *np = getenv("no_proxy");
    if (!np || !*np)
        np = getenv("NO_PROXY");
    if (!np || !*np)
        return false;
    if (strcmp(np, "*") == 0)
        return true;
    size_t hl = strlen(host);
    for (const char *p = np; *p;) {
        p += strspn(p, ", ");
        size_t n = strcspn(p, ",");
        size_t m = n;
        while (m && p[m - 1] == ' ')
            m--;
        const char *e = p;
        if (m && *e == '.') {
            e++;
            m--;
        }
        if (m && m <= hl && strncasecmp(host + hl - m, e, m) == 0 &&
            (m == hl || host[hl - m - 1] == '.'))
            return true;
        p += n;
    }
    return false;
}

/* The proxy curl would use for this URL (scheme_proxy, then all_proxy), as in curl. */
static bool find_proxy(const struct url_parts *u, struct url_parts *proxy)
{
    const char *names_https[] = { "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", NULL };
    const char *names_http[] = { "http_proxy", "all_proxy", "ALL_PROXY", NULL };
    const char **names = strcmp(u->scheme, "https") == 0 ? names_https : names_http;
    const char *value = NULL;
    for (; *names && !value; names++) {
        const char *v = getenv(*names);
        if (v && *v)
            value = v;
    }
    if (!value || no_proxy_matches(u->host))
        return false;
    char buf[600];
    snprintf(buf, sizeof buf, "%s%s", strstr(value, "://") ? "" : "http://", value);
    if (!parse_url(buf, proxy)) {
        /* socks5:// and friends: parse_url only knows http(s); take host and port anyway. */
        char *p = strstr(buf, "://");
        memcpy(buf, "http", 4);
        memmove(buf + 4, p, strlen(p) + 1);
        if (!parse_url(buf, proxy))
            return false;
        if (!strstr(value, ":") || strcmp(proxy->port, "80") == 0)
            snprintf(proxy->port, sizeof proxy->port, "1080");
    }
    return true;
}

static void check_config(struct doctor *d)
{
    struct session *s = d->s;
    const char *profile = s->profile && *s->profile ? s->profile : "default";
    begin(d);
    struct ch_error err;
    err_clear(&err);
    if (paths_resolve(&s->paths, &err)) {
        report(d, "config", ST_FAIL, _("set HOME, or CARHELP_CONFIG_DIR"), "%s", err.message);
        return;
    }
    const char *path = s->paths.config_file;
    struct config base, merged;
    config_init(&base);
    config_defaults(&base);
    config_init(&merged);
    config_defaults(&merged);

    enum status st = ST_PASS;
    char detail[PATH_MAX + 900], hint[PATH_MAX + 32] = "";
    struct stat sb;
    int rc = 0;
    if (stat(path, &sb) != 0 && errno == ENOENT) {
        snprintf(detail, sizeof detail, _("%s: none, using defaults"), path);
    } else if (access(path, R_OK) != 0) {
        st = ST_FAIL;
        snprintf(detail, sizeof detail, _("%s: not readable: %s"), path, strerror(errno));
        snprintf(hint, sizeof hint, "chmod 600 %s", path);
    } else if ((rc = config_load_file(&merged, path, profile, &err)) != 0) {
        st = ST_FAIL;
        describe_error(&err, detail, sizeof detail);
        snprintf(hint, sizeof hint, "%s",
                 err.hint[0] ? err.hint : _("fix the line named, or move the file away"));
        config_free(&merged);
        config_init(&merged);
        config_defaults(&merged);
    } else {
        snprintf(detail, sizeof detail, _("%s (profile %s)"), path, profile);
    }
    err_clear(&err);
    if (config_load_env(&merged, &err) != 0) {
        st = ST_FAIL;
        describe_error(&err, detail, sizeof detail);
        snprintf(hint, sizeof hint, "%s", err.hint[0] ? err.hint : _("fix or unset the variable"));
    }
    if (!same_str(s->cfg.api_url, base.api_url))
        take_str(&merged.api_url, s->cfg.api_url);
    if (!same_str(s->cfg.color, base.color))
        take_str(&merged.color, s->cfg.color);
    if (!same_str(s->cfg.cacert, base.cacert))
        take_str(&merged.cacert, s->cfg.cacert);
    if (s->cfg.timeout_s != base.timeout_s)
        merged.timeout_s = s->cfg.timeout_s;
    if (s->cfg.retries != base.retries)
        merged.retries = s->cfg.retries;
    config_free(&s->cfg);
    s->cfg = merged;
    config_free(&base);
    if (s->color_when == COLOR_AUTO && s->cfg.color) {
        enum color_when w = strcmp(s->cfg.color, "always") == 0 ? COLOR_ALWAYS
                            : strcmp(s->cfg.color, "never") == 0 ? COLOR_NEVER : COLOR_AUTO;
        s->color_out = color_enabled(w, 1);
        s->color_err = color_enabled(w, 2);
    }
    report(d, "config", st, hint, "%s", detail);
}

static void check_credentials(struct doctor *d)
{
    struct session *s = d->s;
    const char *path = s->paths.credentials_file;
    const char *env = getenv("CARHELP_TOKEN");
    bool from_env = env && *env;
    begin(d);
    struct ch_error err;
    err_clear(&err);
    struct stat st;
    if (lstat(path, &st) != 0) {   /* a link is there, even a dangling one: it is checked */
        if (from_env)
            report(d, "credentials", ST_PASS, NULL,
                   _("CARHELP_TOKEN from the environment (no credentials file)"));
        else
            report(d, "credentials", ST_WARN, _("run `carhelp login`"),
                   _("not logged in (no %s)"), path);
        return;
    }
    if (credentials_check_mode(path, &err)) {   /* mode, owner, a link, the folder */
        report(d, "credentials", ST_FAIL, err.hint, "%s", err.message);
        return;
    }
    struct credential c = { 0 };
    const char *profile = s->profile && *s->profile ? s->profile : "default";
    int rc = credentials_load(path, profile, &c, &err);
    credential_free(&c);
    if (rc && strcmp(err.code, "not_logged_in") == 0) {
        report(d, "credentials", from_env ? ST_PASS : ST_WARN,
               from_env ? NULL : _("run `carhelp login`"),
               _("%s: profile %s not logged in%s"), path, profile,
               from_env ? _("; using CARHELP_TOKEN") : "");
        return;
    }
    if (rc) {
        report(d, "credentials", ST_FAIL, err.hint[0] ? err.hint : _("run `carhelp login` again"),
               "%s", err.message);
        return;
    }
    report(d, "credentials", ST_PASS, NULL, _("%s (mode %03o, profile %s)%s"), path,
           (unsigned)(st.st_mode & 0777), profile, from_env ? _("; CARHELP_TOKEN overrides it") : "");
}

static void describe_addr(const struct sockaddr *sa, char *out, size_t outsz)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, host,
                  sizeof host);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, host,
                  sizeof host);
    snprintf(out, outsz, "%s", host);
}

static struct addrinfo *resolve(const struct url_parts *u, int *gai)
{
    struct addrinfo hints = { 0 }, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    *gai = getaddrinfo(u->host, u->port, &hints, &res);
    return *gai ? NULL : res;
}

static void check_dns(struct doctor *d)
{
    if (skipped(d, "dns"))
        return;
    begin(d);
    int gai;
    struct addrinfo *res = resolve(&d->peer, &gai);
    if (!res) {
        break_path(d, "dns", _("cannot resolve %s"), d->peer.host);
        report(d, "dns", ST_FAIL, _("check the host name in --api-url, CARHELP_API_URL or the config, and your DNS"),
               _("cannot resolve %s: %s"), d->peer.host, gai_strerror(gai));
        return;
    }
    char addr[INET6_ADDRSTRLEN];
    describe_addr(res->ai_addr, addr, sizeof addr);
    report(d, "dns", ST_PASS, NULL, "%s%s -> %s", d->via_proxy ? _("proxy ") : "", d->peer.host,
           addr);
    freeaddrinfo(res);
}

/* Non-blocking connect bounded by the connect timeout; 0 or an errno. */
static int connect_one(const struct addrinfo *ai, int timeout_ms)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0)
        return errno;
    int e = 0;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        e = errno;
        if (e == EINPROGRESS) {
            struct pollfd pfd = { .fd = fd, .events = POLLOUT };
            int pr;
            do
                pr = poll(&pfd, 1, timeout_ms);
            while (pr < 0 && errno == EINTR && !ch_interrupted);
            if (pr == 0) {
                e = ETIMEDOUT;
            } else if (pr < 0) {
                e = errno;
            } else {
                socklen_t len = sizeof e;
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
                    e = errno;
            }
        }
    }
    close(fd);
    return e;
}

static void check_tcp(struct doctor *d)
{
    if (skipped(d, "tcp"))
        return;
    begin(d);
    int gai;
    struct addrinfo *res = resolve(&d->peer, &gai);
    double limit = d->s->cfg.timeout_s > 0 && d->s->cfg.timeout_s < CONNECT_TIMEOUT_S
                       ? d->s->cfg.timeout_s : CONNECT_TIMEOUT_S;
    int e = res ? EHOSTUNREACH : ENOENT;
    char addr[INET6_ADDRSTRLEN] = "";
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        describe_addr(ai->ai_addr, addr, sizeof addr);
        e = connect_one(ai, (int)(limit * 1000));
        if (e == 0 || ch_interrupted)
            break;
    }
    if (res)
        freeaddrinfo(res);
    if (e == 0) {
        report(d, "tcp", ST_PASS, NULL, _("connected to %s%s port %s"),
               d->via_proxy ? _("proxy ") : "", addr, d->peer.port);
        return;
    }
    break_path(d, "tcp", _("cannot connect to %s port %s"), d->peer.host,
             d->peer.port);
    const char *hint = d->via_proxy
        ? _("check the proxy in https_proxy, http_proxy or all_proxy (hosts in no_proxy go direct)")
        : e == ECONNREFUSED
        ? _("nothing listens there: is the service running (carhelp-server), and is the port in --api-url right?")
        : _("check the network, a firewall or proxy, and the host and port in --api-url");
    report(d, "tcp", ST_FAIL, hint, _("cannot connect to %s%s port %s: %s"),
           d->via_proxy ? _("proxy ") : "", d->peer.host, d->peer.port,
           e == ETIMEDOUT ? _("timed out") : strerror(e));
}

static void fetch_meta(struct doctor *d)
{
    if (d->meta_done)
        return;
    d->meta_done = true;
    err_clear(&d->meta_err);
    http_response_init(&d->meta_resp);
    struct http_request req = { .method = "GET", .path = "/v1/meta", .no_auth = 1 };
    d->meta_rc = http_perform(d->http, &req, &d->meta_resp, &d->meta_err);
}

static void check_tls(struct doctor *d)
{
    if (skipped(d, "tls"))
        return;
    begin(d);
    if (strcmp(d->url.scheme, "https") != 0) {
        report(d, "tls", ST_PASS, NULL, "%s", _("not used (http on loopback)"));
        return;
    }
    fetch_meta(d);
    if (d->meta_rc && strcmp(d->meta_err.code, "tls") == 0) {
        break_path(d, "tls", "%s", _("the TLS handshake failed"));
        /* The network layer names the check that failed and its fix; the generic words
         * only when it had none. */
        report(d, "tls", ST_FAIL,
               d->meta_err.hint[0]
                   ? d->meta_err.hint
                   : _("check the server's certificate and its host name; for a private CA pass --cacert FILE"),
               "%s", d->meta_err.message);
        return;
    }
    if (d->meta_rc) {
        break_path(d, "tls", "%s", d->meta_err.message);
        report(d, "tls", ST_FAIL, _("check the network and --api-url"), "%s", d->meta_err.message);
        return;
    }
    report(d, "tls", ST_PASS, NULL, "%s", _("handshake and certificate verified"));
}

static bool json_content_type(const char *ct)
{
    size_t n = strcspn(ct, ";");
    while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    return (n == 16 && strncasecmp(ct, "application/json", 16) == 0) ||
           (n > 17 && strncasecmp(ct, "application/", 12) == 0 &&
            strncasecmp(ct + n - 5, "+json", 5) == 0);
}

static void check_api(struct doctor *d)
{
    if (skipped(d, "api"))
        return;
    begin(d);
    fetch_meta(d);
    const char *url = d->s->cfg.api_url;
    const char *hint_url = _("check --api-url: it is the service's base URL, without /v1");
    if (d->meta_rc) {
        break_path(d, "api", "%s", d->meta_err.message);
        report(d, "api", ST_FAIL, d->meta_err.hint[0] ? d->meta_err.hint : _("check the network and --api-url"),
               "%s", d->meta_err.message);
        return;
    }
    const struct http_response *r = &d->meta_resp;
    if (r->status == 404) {
        break_path(d, "api", _("no carhelp API at %s"), url);
        report(d, "api", ST_FAIL, hint_url, _("wrong URL: %s/v1/meta answered 404"), url);
        return;
    }
    if (!json_content_type(r->content_type)) {
        break_path(d, "api", _("no carhelp API at %s"), url);
        report(d, "api", ST_FAIL, hint_url, _("not a carhelp API: %s (HTTP %ld)"),
               r->content_type[0] ? r->content_type : _("no content type"), r->status);
        return;
    }
    if (r->status < 200 || r->status > 299) {
        break_path(d, "api", _("the API answered HTTP %ld"), r->status);
        report(d, "api", ST_FAIL,
               r->status >= 500 ? _("the service is having problems; try again later") : hint_url,
               _("GET /v1/meta answered HTTP %ld (request %s)"), r->status,
               r->request_id[0] ? r->request_id : "-");
        return;
    }
    d->meta = cJSON_ParseWithLength(r->body.data, r->body.len);
    if (!cJSON_IsObject(d->meta) || !json_str(d->meta, "api_version", NULL)) {
        cJSON_Delete(d->meta);
        d->meta = NULL;
        break_path(d, "api", _("no carhelp API at %s"), url);
        report(d, "api", ST_FAIL, hint_url, "%s", _("not a carhelp API: /v1/meta has no api_version"));
        return;
    }
    report(d, "api", ST_PASS, NULL, _("%s at %s"), json_str(d->meta, "service", "?"), url);
}

/* "1.2.3" -> comparable; missing parts are 0. */
static long long version_key(const char *v)
{
    long a = 0, b = 0, c = 0;
    if (!v || sscanf(v, "%ld.%ld.%ld", &a, &b, &c) < 1)
        return -1;
    return a * 1000000LL + b * 1000LL + c;
}

static void check_version(struct doctor *d)
{
    if (skipped(d, "version"))
        return;
    begin(d);
    const char *api = json_str(d->meta, "api_version", "");
    const char *min = json_str(d->meta, "min_client_version", NULL);
    if (strtol(api, NULL, 10) != 1 || api[0] < '0' || api[0] > '9') {
        report(d, "version", ST_FAIL, _("this carhelp speaks API version 1; use a matching carhelp"),
               _("API version %s is not supported (need 1.x)"), api);
        return;
    }
    if (min && version_key(min) > version_key(CARHELP_VERSION)) {
        report(d, "version", ST_FAIL, _("upgrade carhelp"),
               _("the service needs carhelp %s or newer; this is %s"), min, CARHELP_VERSION);
        return;
    }
    report(d, "version", ST_PASS, NULL, _("API %s, carhelp %s (minimum %s)"), api, CARHELP_VERSION,
           min ? min : "-");
}

static void check_clock(struct doctor *d)
{
    if (skipped(d, "clock"))
        return;
    begin(d);
    const char *st = json_str(d->meta, "server_time", NULL);
    time_t server = st ? parse_rfc3339(st) : (time_t)-1;
    if (server == (time_t)-1) {
        report(d, "clock", ST_WARN, NULL, "%s", _("the service did not say its time"));
        return;
    }
    long long skew = (long long)ch_now() - (long long)server;
    long long mag = skew < 0 ? -skew : skew;
    const char *dir = skew >= 0 ? _("ahead of") : _("behind");
    const char *hint = _("set this machine's clock (timedatectl set-ntp true)");
    if (mag > SKEW_FAIL_S)
        report(d, "clock", ST_FAIL, hint, _("this clock is %lld s %s the service's"), mag, dir);
    else if (mag > SKEW_WARN_S)
        report(d, "clock", ST_WARN, hint, _("this clock is %lld s %s the service's"), mag, dir);
    else
        report(d, "clock", ST_PASS, NULL, _("within %lld s of the service's"), mag);
}

static void check_token(struct doctor *d)
{
    if (!d->token_loaded && !d->broken[0]) {
        begin(d);
        const struct ch_error *e = &d->auth_err;
        if (strcmp(e->code, "credentials_insecure") == 0)
            report(d, "token", ST_FAIL, e->hint, "%s", _("not checked: the credentials file is not private"));
        else if (strcmp(e->code, "token_origin") == 0)   /* bound elsewhere: never sent here */
            report(d, "token", ST_WARN, e->hint, _("not checked: %s"), e->message);
        else if (strcmp(e->code, "not_logged_in") == 0 || !e->code[0])
            report(d, "token", ST_WARN, _("run `carhelp login`"), "%s", _("not logged in"));
        else
            report(d, "token", ST_FAIL, e->hint[0] ? e->hint : _("run `carhelp login`"), "%s",
                   e->message);
        return;
    }
    if (skipped(d, "token"))
        return;
    begin(d);
    struct identity who;
    struct ch_error err;
    err_clear(&err);
    int rc = api_whoami(d->http, "whoami", &who, NULL, &err);
    if (rc == CH_AUTH) {
        report(d, "token", ST_FAIL, _("run `carhelp login`"), _("the service refused the token: %s"),
               err.message);
        return;
    }
    if (rc) {
        report(d, "token", ST_FAIL, err.hint[0] ? err.hint : NULL, "%s", err.message);
        return;
    }
    time_t t = parse_rfc3339(who.expires_at);
    char until[64] = "?";
    if (t != (time_t)-1)
        format_local_time(t, until, sizeof until);
    report(d, "token", ST_PASS, NULL, _("valid: %s (%s %s) until %s"), who.name,
           identity_role_name(who.role), who.subject, until);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void check_latency(struct doctor *d)
{
    if (skipped(d, "latency"))
        return;
    begin(d);
    double ms[3];
    for (int i = 0; i < 3; i++) {
        struct http_request req = { .method = "GET", .path = "/v1/meta", .no_auth = 1 };
        struct http_response r;
        struct ch_error err;
        err_clear(&err);
        http_response_init(&r);
        double t0 = mono_ms();
        int rc = http_perform(d->http, &req, &r, &err);
        ms[i] = mono_ms() - t0;
        http_response_free(&r);
        if (rc) {
            report(d, "latency", ST_FAIL, _("check the network"), "%s", err.message);
            return;
        }
    }
    qsort(ms, 3, sizeof ms[0], cmp_double);
    if (ms[1] > SLOW_MS)
        report(d, "latency", ST_WARN, _("the network or the service is slow; a larger --timeout may help"),
               _("median %.0f ms of 3 requests"), ms[1]);
    else
        report(d, "latency", ST_PASS, NULL, _("median %.0f ms of 3 requests"), ms[1]);
}

static void print_json(struct doctor *d, const int count[4])
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddBoolToObject(doc, "ok", count[ST_FAIL] == 0);
    cJSON_AddStringToObject(doc, "api_url", d->s->cfg.api_url);
    cJSON *sum = cJSON_AddObjectToObject(doc, "summary");
    for (int st = ST_PASS; st <= ST_SKIP; st++)
        cJSON_AddNumberToObject(sum, status_json[st], count[st]);
    cJSON *arr = cJSON_AddArrayToObject(doc, "checks");
    for (int i = 0; i < d->n; i++) {
        const struct check *c = &d->checks[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", c->name);
        cJSON_AddStringToObject(o, "status", status_json[c->status]);
        cJSON_AddNumberToObject(o, "ms", (double)c->ms);
        cJSON_AddStringToObject(o, "detail", c->detail);
        if (c->hint[0])
            cJSON_AddStringToObject(o, "hint", c->hint);
        else
            cJSON_AddNullToObject(o, "hint");
        cJSON_AddItemToArray(arr, o);
    }
    session_print_json(d->s, doc);
    cJSON_Delete(doc);
}

static int doctor_exec(struct session *s, const struct parsed *p)
{
    (void)p;
    struct doctor *d = xcalloc(1, sizeof *d);
    d->s = s;
    check_config(d);
    check_credentials(d);
    const char *url = s->cfg.api_url ? s->cfg.api_url : "";

    /* The token, when there is one, for the token check (loaded quietly: doctor reports). */
    err_clear(&d->auth_err);
    d->token_loaded = s->have_cred || session_load_auth(s, &d->auth_err) == 0;

    d->url_ok = parse_url(url, &d->url);
    d->peer = d->url;
    if (d->url_ok)
        d->via_proxy = find_proxy(&d->url, &d->peer);
    if (!d->url_ok)
        snprintf(d->broken, sizeof d->broken, _("cannot use the API URL %s"), url);
    struct ch_error err;
    err_clear(&err);
    if (!d->broken[0] && session_http(s, &d->http, &err)) {
        snprintf(d->broken, sizeof d->broken, "%s", err.message);
        d->http = NULL;
    }
    if (d->http && d->token_loaded && s->cred.token)
        http_client_set_token(d->http, s->cred.token);

    check_dns(d);
    check_tcp(d);
    check_tls(d);
    check_api(d);
    check_version(d);
    check_clock(d);
    check_token(d);
    check_latency(d);

    int count[4] = { 0 };
    for (int i = 0; i < d->n; i++)
        count[d->checks[i].status]++;
    int fail = count[ST_FAIL];
    if (s->json)
        print_json(d, count);
    else
        printf(_("%d passed, %d warned, %d failed, %d skipped (API %s)\n"), count[ST_PASS],
               count[ST_WARN], fail, count[ST_SKIP], url);

    if (d->meta_done)
        http_response_free(&d->meta_resp);
    cJSON_Delete(d->meta);
    free(d);
    return fail ? CH_NO : CH_OK;
}

const struct command cmd_doctor = {
    .name = "doctor",
    .synopsis = "",
    .summary = N_("diagnose the setup: config, credentials, network, API, clock, token"),
    .description = N_("Runs each check in turn and prints one line per check: PASS, WARN, FAIL or "
                      "SKIP, its time, and a hint on how to fix it: config readable, credentials file "
                      "permissions, DNS, TCP connect, TLS, API reachable and version compatible, "
                      "server clock skew, token valid, latency. A check that cannot run because an "
                      "earlier one failed is SKIP (\"skipped: tcp failed\") and is not counted as a "
                      "failure. Exit status 1 when any check fails."),
    .min_args = 0,
    .max_args = 0,
    .flags = CMD_NO_CONFIG,   /* reads the config itself: see check_config */
    .exec = doctor_exec,
};
