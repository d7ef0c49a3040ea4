/* contact: how to reach support. Live from GET /v1/support/status when the service answers
 * (and cached for later), else from the cache, else from the built-in model in
 * core/support.c; `--at TIME` asks the model about another moment without any request. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "command.h"
#include "session.h"
#include "i18n.h"
#include "core/api.h"
#include "core/json.h"
#include "core/support.h"
#include "core/validate.h"

extern const struct command cmd_contact;

#define CACHE_NAME "support-status.json"
#define CACHE_MAX (1024 * 1024)
#define CACHE_FRESH_S (30 * 60)

enum source { SRC_LIVE, SRC_CACHE, SRC_MODEL };
static const char *const source_name[] = { "live", "cache", "model" };

struct view {
    enum source source;
    time_t at;                  /* the moment described (now, or --at) */
    time_t cached_at;           /* SRC_CACHE: when the cache was written; else -1 */
    bool open;
    bool peak;
    int wait_min_s, wait_max_s; /* model range; 0 when closed */
    long wait_s;                /* the service's estimate (live/cache); -1 when none */
    long queue;                 /* the service's phone queue length; -1 when none */
    time_t best, best_until;
    const cJSON *doc;           /* the service's answer (live/cache), or NULL */
};

/* ---- the cache ------------------------------------------------------------------------------ */

static void cache_path(const struct session *s, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s/%s", s->paths.cache_dir, CACHE_NAME);
}

/* Best effort: a cache that cannot be written only costs the next offline run. */
static void cache_write(struct session *s, const cJSON *doc, time_t now)
{
    struct ch_error err;
    err_clear(&err);
    if (paths_mkdir(s->paths.cache_dir, 0700, &err))
        return;
    cJSON *copy = cJSON_Duplicate(doc, 1);
    char stamp[40];
    format_rfc3339(now, stamp, sizeof stamp);
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "cached_at");
    cJSON_AddStringToObject(copy, "cached_at", stamp);
    char *text = json_print(copy);
    cJSON_Delete(copy);
    char path[PATH_MAX + 32], tmp[PATH_MAX + 48];
    cache_path(s, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = fd >= 0;
    if (ok) {
        size_t len = strlen(text), off = 0;
        while (ok && off < len) {
            ssize_t w = write(fd, text + off, len - off);
            if (w < 0 && errno == EINTR)
                continue;
            ok = w > 0;
            off += w > 0 ? (size_t)w : 0;
        }
        ok = ok && write(fd, "\n", 1) == 1;
        ok = close(fd) == 0 && ok;
        if (ok && rename(tmp, path) != 0)
            ok = false;
        if (!ok)
            unlink(tmp);
    }
    if (!ok && s->verbosity > 0)
        msg_warn(s, _("could not write %s: %s"), path, strerror(errno));
    free(text);
}

static bool looks_like_status(const cJSON *doc)
{
    const cJSON *phones = json_arr(doc, "phones");
    if (!cJSON_IsObject(doc) || !phones || cJSON_GetArraySize(phones) == 0)
        return false;
    const cJSON *p;
    cJSON_ArrayForEach(p, phones)
        if (!json_str(p, "number", NULL))
            return false;
    return true;
}

static cJSON *cache_read(const struct session *s, time_t *cached_at)
{
    char path[PATH_MAX + 32];
    cache_path(s, path, sizeof path);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *text = xmalloc(CACHE_MAX + 1);
    size_t n = fread(text, 1, CACHE_MAX + 1, f);
    fclose(f);
    cJSON *doc = n <= CACHE_MAX ? cJSON_ParseWithLength(text, n) : NULL;
    free(text);
    if (!looks_like_status(doc)) {
        cJSON_Delete(doc);
        return NULL;
    }
    const char *stamp = json_str(doc, "cached_at", json_str(doc, "server_time", NULL));
    *cached_at = stamp ? parse_rfc3339(stamp) : (time_t)-1;
    return doc;
}

/* ---- the live status ------------------------------------------------------------------------ */

static int fetch_live(struct session *s, cJSON **out, struct ch_error *err)
{
    int rc = validate_api_url("api_url", s->cfg.api_url, err);
    struct http_client *http;
    if (!rc)
        rc = session_http(s, &http, err);
    if (rc)
        return rc;
    struct http_request req = { .method = "GET", .path = "/v1/support/status", .no_auth = 1 };
    rc = api_call(http, &req, _("support status"), out, NULL, err);
    if (!rc && !looks_like_status(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        rc = err_set(err, CH_SERVICE, "malformed_response", _("support status"), "%s",
                     _("the service's answer has no phone numbers"));
    }
    return rc;
}

static const cJSON *service_channel(const cJSON *doc, const char *name)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, json_arr(doc, "channels"))
        if (strcmp(json_str(c, "channel", ""), name) == 0)
            return c;
    return NULL;
}

/* Fills the view for `at`: the model always, the service's numbers on top when it has them. */
static void build_view(struct view *v, enum source src, time_t at, const cJSON *doc,
                       time_t cached_at)
{
    memset(v, 0, sizeof *v);
    v->source = src;
    v->at = at;
    v->doc = doc;
    v->cached_at = src == SRC_CACHE ? cached_at : (time_t)-1;
    v->open = support_is_open(at);
    v->peak = v->open && support_is_peak(at);
    support_wait_range(at, &v->wait_min_s, &v->wait_max_s);
    v->wait_s = -1;
    v->queue = -1;
    if (src == SRC_LIVE) {
        /* The service knows best about now (holidays, outages). */
        v->open = json_bool(doc, "open_now", v->open);
        v->peak = v->open && json_bool(doc, "peak_now", v->peak);
    }
    /* A queue estimate is only worth showing while it is fresh; numbers and hours keep. */
    bool fresh = src == SRC_LIVE ||
                 (cached_at != (time_t)-1 && at >= cached_at && at - cached_at <= CACHE_FRESH_S);
    const cJSON *phone = fresh ? service_channel(doc, "phone") : NULL;
    if (phone && v->open) {
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(phone, "estimated_wait_s");
        if (cJSON_IsNumber(w) && w->valuedouble >= 0 && w->valuedouble < 86400)
            v->wait_s = (long)w->valuedouble;
        long long q = json_int(phone, "queue_length", -1);
        v->queue = q >= 0 && q < 1000000 ? (long)q : -1;
    }
    v->best = support_best_time(at, &v->best_until);
}

/* ---- JSON ----------------------------------------------------------------------------------- */

static void add_time_or_null(cJSON *o, const char *key, time_t t)
{
    if (t == (time_t)-1) {
        cJSON_AddNullToObject(o, key);
        return;
    }
    char buf[40];
    support_format_rfc3339(t, buf, sizeof buf);
    cJSON_AddStringToObject(o, key, buf);
}

static cJSON *builtin_phones(void)
{
    cJSON *arr = cJSON_CreateArray();
    for (const struct support_phone *p = support_phones; p->number; p++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "purpose", p->purpose);
        cJSON_AddStringToObject(o, "number", p->number);
        if (p->label)
            cJSON_AddStringToObject(o, "label", p->label);
        cJSON_AddStringToObject(o, "hours", p->hours);
        cJSON_AddBoolToObject(o, "for_support", p->for_support);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static cJSON *channels_json(const struct view *v)
{
    cJSON *arr = cJSON_CreateArray();
    for (const struct support_channel *c = support_channels; c->channel; c++) {
        const cJSON *live = service_channel(v->doc, c->channel);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "channel", c->channel);
        cJSON_AddStringToObject(o, "hours", json_str(live, "hours", c->hours));
        bool open = c->always_open || v->open;
        if (v->source == SRC_LIVE)
            open = json_bool(live, "open_now", open);
        cJSON_AddBoolToObject(o, "open_now", open);
        long long q = json_int(live, "queue_length", -1);
        long long w = json_int(live, "estimated_wait_s", -1);
        if (q >= 0 && open)
            cJSON_AddNumberToObject(o, "queue_length", (double)q);
        else
            cJSON_AddNullToObject(o, "queue_length");
        if (w >= 0 && open)
            cJSON_AddNumberToObject(o, "estimated_wait_s", (double)w);
        else
            cJSON_AddNullToObject(o, "estimated_wait_s");
        cJSON_AddStringToObject(o, "good_for", c->good_for);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static void print_json(struct session *s, const struct view *v)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "source", source_name[v->source]);
    add_time_or_null(doc, "at", v->at);
    if (v->source == SRC_CACHE)
        add_time_or_null(doc, "cached_at", v->cached_at);
    cJSON_AddStringToObject(doc, "time_zone", SUPPORT_TIME_ZONE);
    cJSON *hours = cJSON_AddObjectToObject(doc, "hours");
    cJSON_AddStringToObject(hours, "open", SUPPORT_OPEN);
    cJSON_AddStringToObject(hours, "close", SUPPORT_CLOSE);
    cJSON_AddBoolToObject(doc, "open_now", v->open);
    cJSON_AddBoolToObject(doc, "peak_now", v->peak);
    add_time_or_null(doc, "opens_at", v->open ? (time_t)-1 : support_next_open(v->at));
    add_time_or_null(doc, "closes_at", v->open ? support_next_close(v->at) : (time_t)-1);
    if (v->wait_s >= 0)
        cJSON_AddNumberToObject(doc, "estimated_wait_s", (double)v->wait_s);
    else
        cJSON_AddNullToObject(doc, "estimated_wait_s");
    if (v->open) {
        cJSON *r = cJSON_AddObjectToObject(doc, "model_wait_s");
        cJSON_AddNumberToObject(r, "min", v->wait_min_s);
        cJSON_AddNumberToObject(r, "max", v->wait_max_s);
    } else {
        cJSON_AddNullToObject(doc, "model_wait_s");
    }
    const cJSON *phones = json_arr(v->doc, "phones");
    cJSON_AddItemToObject(doc, "phones", phones ? cJSON_Duplicate(phones, 1) : builtin_phones());
    cJSON_AddItemToObject(doc, "channels", channels_json(v));
    add_time_or_null(doc, "best_time_to_call", v->best);
    add_time_or_null(doc, "best_time_until", v->best == (time_t)-1 ? (time_t)-1 : v->best_until);
    session_print_json(s, doc);
    cJSON_Delete(doc);
}

/* ---- human output --------------------------------------------------------------------------- */

static int label_width;

static void line(const char *label, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void line(const char *label, const char *fmt, ...)
{
    print_padded(stdout, label ? label : "", label_width);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

/* "12 min", "2 h 5 min", "45 s". */
static void format_duration(long secs, char *out, size_t outsz)
{
    if (secs < 60)
        snprintf(out, outsz, _("%ld s"), secs);
    else if (secs < 3600)
        snprintf(out, outsz, _("%ld min"), (secs + 59) / 60);
    else if (secs % 3600 < 60)
        snprintf(out, outsz, _("%ld h"), secs / 3600);
    else
        snprintf(out, outsz, _("%ld h %ld min"), secs / 3600, (secs % 3600 + 59) / 60);
}

/* "today 09:30", "tomorrow 08:00", or the date, in the service zone relative to `ref`. */
static void format_day_time(time_t t, time_t ref, char *out, size_t outsz)
{
    struct zone_time a, b;
    support_zone_time(t, &a);
    support_zone_time(ref, &b);
    char hhmm[8];
    support_format_hhmm(t, hhmm, sizeof hhmm);
    long long da = (long long)support_zone_mktime(a.year, a.month, a.day, 0, 0, 0);
    long long db = (long long)support_zone_mktime(b.year, b.month, b.day, 0, 0, 0);
    if (da == db)
        snprintf(out, outsz, _("today %s"), hhmm);
    else if (da - db == 86400)
        snprintf(out, outsz, _("tomorrow %s"), hhmm);
    else
        support_format_zone(t, out, outsz);
}

/* The user's local equivalent of the service hours on the day of `at`, when the zones differ. */
static bool local_hours(time_t at, char *out, size_t outsz)
{
    struct tm lt;
    if (!localtime_r(&at, &lt) || lt.tm_gmtoff == SUPPORT_TZ_OFFSET_S)
        return false;
    struct zone_time zt;
    support_zone_time(at, &zt);
    time_t open = support_zone_mktime(zt.year, zt.month, zt.day, SUPPORT_OPEN_MIN / 60,
                                      SUPPORT_OPEN_MIN % 60, 0);
    time_t close = support_zone_mktime(zt.year, zt.month, zt.day, SUPPORT_CLOSE_MIN / 60,
                                       SUPPORT_CLOSE_MIN % 60, 0);
    struct tm a, b;
    localtime_r(&open, &a);
    localtime_r(&close, &b);
    char from[16], to[16], zone[16];
    strftime(from, sizeof from, "%H:%M", &a);
    strftime(to, sizeof to, "%H:%M", &b);
    strftime(zone, sizeof zone, "%Z", &a);
    snprintf(out, outsz, _("%s–%s your time, %s"), from, to, zone);
    return true;
}

static void print_phones(const struct view *v, bool col)
{
    const cJSON *phones = json_arr(v->doc, "phones");
    char number[64], sales[64] = "";
    snprintf(number, sizeof number, "%s", support_service_number());
    if (phones) {
        const cJSON *p;
        bool found = false;
        cJSON_ArrayForEach(p, phones) {
            char num[32];
            term_safe(json_str(p, "number", ""), num, sizeof num);
            const char *purpose = json_str(p, "purpose", "");
            if (!found && strcmp(purpose, "customer_service") == 0 &&
                json_bool(p, "for_support", true)) {
                snprintf(number, sizeof number, "%s", num);
                found = true;
            } else if (strcmp(purpose, "sales") == 0 && !sales[0]) {
                snprintf(sales, sizeof sales, "%s", num);
            }
        }
    } else {
        for (const struct support_phone *p = support_phones; p->number; p++)
            if (strcmp(p->purpose, "sales") == 0)
                snprintf(sales, sizeof sales, "%s", p->number);
    }
    line(_("Customer service"), "%s%s%s  %s", c_bold(col), number, c_reset(col),
         _("(phone, for support)"));
    if (sales[0])
        line("", _("%s is the sales line: NOT for support"), sales);
}

/* Emergency numbers always come from the built-in table: they must never be missing. */
static void print_emergency(bool col)
{
    char emergency[256] = "";
    size_t o = 0;
    for (const struct support_phone *p = support_phones; p->number; p++) {
        if (strcmp(p->purpose, "emergency") != 0 || o >= sizeof emergency)
            continue;
        int n = snprintf(emergency + o, sizeof emergency - o, "%s%s %s", o ? " · " : "",
                         p->number, _(p->label));
        o += n > 0 ? (size_t)n : 0;
    }
    line(_("Emergency"), "%s%s%s", c_red(col), emergency, c_reset(col));
}

static void print_status(const struct view *v, const char *label, bool col)
{
    char when[64], dur[32], hhmm[8];
    if (v->open) {
        support_format_hhmm(support_next_close(v->at), hhmm, sizeof hhmm);
        line(label, _("%sopen%s, %s, closes at %s"), c_green(col), c_reset(col),
             v->peak ? _("peak time") : _("off-peak"), hhmm);
        return;
    }
    time_t opens = support_next_open(v->at);
    format_day_time(opens, v->at, when, sizeof when);
    format_duration((long)(opens - v->at), dur, sizeof dur);
    line(label, _("%sclosed%s, opens %s (in %s)"), c_red(col), c_reset(col), when, dur);
}

static void print_wait(const struct view *v)
{
    char dur[32], stamp[64];
    if (!v->open) {
        line(_("Estimated wait"), "%s", _("none: the phone line is closed"));
        return;
    }
    if (v->wait_s >= 0 && v->source != SRC_MODEL) {
        format_duration(v->wait_s, dur, sizeof dur);
        char queue[64] = "";
        if (v->queue >= 0)
            snprintf(queue, sizeof queue, _(", %ld in the queue"), v->queue);
        if (v->source == SRC_LIVE) {
            line(_("Estimated wait"), _("about %s%s (live from the service)"), dur, queue);
        } else {
            if (v->cached_at != (time_t)-1)
                format_local_time(v->cached_at, stamp, sizeof stamp);
            else
                snprintf(stamp, sizeof stamp, "?");
            line(_("Estimated wait"), _("about %s%s (cached at %s)"), dur, queue, stamp);
        }
        return;
    }
    line(_("Estimated wait"), _("%d–%d min (estimate from the built-in model)"),
         v->wait_min_s / 60, v->wait_max_s / 60);
}

static void print_best(const struct view *v)
{
    char from[64], until[16];
    if (v->best == (time_t)-1) {
        line(_("Best time to call"), "%s", _("no quiet time in the next 24 hours"));
        return;
    }
    support_format_hhmm(v->best_until, until, sizeof until);
    if (v->best == v->at) {
        line(_("Best time to call"), _("now, until %s (off-peak)"), until);
        return;
    }
    format_day_time(v->best, v->at, from, sizeof from);
    line(_("Best time to call"), _("%s–%s (off-peak)"), from, until);
}

static void print_channels(const struct view *v)
{
    int w = 0, hw = 0;
    for (const struct support_channel *c = support_channels; c->channel; c++) {
        if (strcmp(c->channel, "phone") == 0)
            continue;
        if (display_width(_(c->name)) > w)
            w = display_width(_(c->name));
        if (display_width(c->hours) > hw)
            hw = display_width(c->hours);
    }
    bool first = true;
    for (const struct support_channel *c = support_channels; c->channel; c++) {
        if (strcmp(c->channel, "phone") == 0)
            continue;
        print_padded(stdout, first ? _("Other channels") : "", label_width);
        first = false;
        print_padded(stdout, _(c->name), w + 2);
        print_padded(stdout, c->hours, hw + 2);
        bool open = c->always_open || v->open;
        printf("%s, %s %s\n", open ? _("open") : _("closed"), _("good for"), _(c->good_for));
    }
}

static void print_human(struct session *s, const struct view *v, bool explicit_at)
{
    bool col = s->color_out;
    const char *labels[] = { _("Customer service"), _("Hours"), _("Now"), _("Estimated wait"),
                             _("Best time to call"), _("Other channels"), _("Emergency"), _("At") };
    label_width = 0;
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        if (display_width(labels[i]) > label_width)
            label_width = display_width(labels[i]);
    label_width += 2;

    print_phones(v, col);
    char local[96], when[64];
    if (local_hours(v->at, local, sizeof local))
        line(_("Hours"), "%s–%s %s (%s)", SUPPORT_OPEN, SUPPORT_CLOSE, SUPPORT_TIME_ZONE, local);
    else
        line(_("Hours"), "%s–%s %s", SUPPORT_OPEN, SUPPORT_CLOSE, SUPPORT_TIME_ZONE);
    if (explicit_at) {
        support_format_zone(v->at, when, sizeof when);
        line(_("At"), "%s %s", when, SUPPORT_TIME_ZONE);
        print_status(v, "", col);
    } else {
        print_status(v, _("Now"), col);
    }
    print_wait(v);
    print_best(v);
    print_channels(v);
    print_emergency(col);
}

/* --at TIME, or NULL. */
static int contact_at(const struct parsed *p, time_t now, time_t *at, struct ch_error *err)
{
    const char *at_arg = arg_str(&cmd_contact, p, "at");
    char norm[64];
    if (at_arg && (normalize_input(at_arg, norm, sizeof norm) || support_parse_at(norm, now, at)))
        return err_set(err, CH_USAGE, "invalid_time", "--at", "%s",
                       _("expected 2026-11-25T08:15 or 08:15 (Asia/Shanghai), or RFC 3339 "
                         "such as 2026-11-25T08:15:00+08:00"));
    return 0;
}

static int contact_validate(const struct parsed *p, struct ch_error *err)
{
    time_t at;
    return contact_at(p, ch_now(), &at, err);
}

/* What the command exits with: 0, or the setup problem reported after the output. */
static int contact_done(struct session *s)
{
    if (!s->no_service)
        return 0;
    fflush(stdout);   /* the output first, then the problem, also when both go to one file */
    return session_report(s, &s->setup_problem);
}

static int contact_exec(struct session *s, const struct parsed *p)
{
    struct ch_error err;
    err_clear(&err);
    time_t now = ch_now(), at;
    struct view v;

    if (contact_at(p, now, &at, &err))
        return session_report(s, &err);
    if (arg_str(&cmd_contact, p, "at")) {
        build_view(&v, SRC_MODEL, at, NULL, -1);
        if (s->json)
            print_json(s, &v);
        else
            print_human(s, &v, true);
        return contact_done(s);
    }

    cJSON *doc = NULL;
    /* With a setup that cannot be used, the service is not asked: the cache or the model. */
    int rc = s->no_service ? s->setup_problem.exit_code : fetch_live(s, &doc, &err);
    if (rc == CH_INTERRUPTED)
        return session_report(s, &err);
    if (!rc) {
        cache_write(s, doc, now);
        build_view(&v, SRC_LIVE, now, doc, -1);
    } else {
        time_t cached_at = -1;
        doc = cache_read(s, &cached_at);
        char why[700];
        snprintf(why, sizeof why, "%s", err.message[0] ? err.message : _(exit_code_name(rc)));
        if (doc && s->no_service) {
            build_view(&v, SRC_CACHE, now, doc, cached_at);
        } else if (doc) {
            char stamp[64] = "?";
            if (cached_at != (time_t)-1)
                format_local_time(cached_at, stamp, sizeof stamp);
            msg_info(s, _("could not get the live status (%s); showing the status cached at %s"),
                     why, stamp);
            build_view(&v, SRC_CACHE, now, doc, cached_at);
        } else {
            if (!s->no_service)
                msg_info(s, _("could not get the live status (%s); showing the built-in "
                              "support model"), why);
            build_view(&v, SRC_MODEL, now, NULL, -1);
        }
    }
    if (s->json)
        print_json(s, &v);
    else
        print_human(s, &v, false);
    cJSON_Delete(doc);
    return contact_done(s);
}

static const struct opt contact_opts[] = {
    { "at", 0, OPT_STRING, "TIME",
      N_("describe another moment: 2026-11-25T08:15, 08:15 (today, Asia/Shanghai) or RFC 3339"),
      NULL, 0 },
    OPT_END,
};

const struct command cmd_contact = {
    .name = "contact",
    .synopsis = "[--at TIME]",
    .summary = N_("support numbers, hours, open now, estimated wait, best time to call"),
    .description = N_("How to reach support: the customer service number (not the sales line), "
                      "hours in Asia/Shanghai and your local time, whether the line is open, the "
                      "estimated wait, the best time to call in the next 24 hours, the other "
                      "channels and the emergency numbers. Works offline: when the service cannot "
                      "be reached it uses the last status it saw, else its built-in model. --at "
                      "asks the model about another moment without contacting the service."),
    .opts = contact_opts,
    .min_args = 0,
    .max_args = 0,
    .flags = CMD_SAFETY,
    .exec = contact_exec,
    .validate = contact_validate,
};
