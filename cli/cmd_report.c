/* report CATEGORY: files a ticket with optional evidence files. Without --message on a
 * terminal the message comes from $VISUAL/$EDITOR (a template, like `git commit`) or a
 * prompt. A report that cannot reach the service waits in the outbox (exit 10). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "command.h"
#include "session.h"
#include "i18n.h"
#include "core/idcache.h"
#include "cmd_outbox.h"
#include "cmd_report.h"
#include "core/api.h"
#include "core/attach.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/validate.h"

extern const struct command cmd_report;

#define MESSAGE_FILE_MAX (256 * 1024)
#define PROGRESS_MIN_BYTES (1024 * 1024)

static const char *const categories[] = {"vehicle", "billing", "account", "app", "cleanliness",
                                         "accident", "complaint", "feedback", "other", NULL};
static const char *const priorities[] = {"low", "normal", "high", "emergency", NULL};

long utf8_chars(const char *s)
{
    long n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int extra = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2
                                  : (*p & 0xf8) == 0xf0 ? 3 : -1;
        if (extra < 0 || (extra == 1 && *p < 0xc2))
            return -1;
        p++;
        for (int i = 0; i < extra; i++, p++)
            if ((*p & 0xc0) != 0x80)
                return -1;
        n++;
    }
    return n;
}

/* ---- sending and printing ------------------------------------------------------------------ */

struct progress_view {
    struct session *s;
    int last_step;     /* non-TTY: quarter steps printed */
    int index;
    bool shown;
};

static void on_progress(void *ctx, int index, const char *path, long long sent, long long total)
{
    struct progress_view *v = ctx;
    if (v->s->verbosity < 0 || total < PROGRESS_MIN_BYTES)
        return;
    if (index != v->index) {
        v->index = index;
        v->last_step = -1;
        v->shown = false;
    }
    const char *name = strrchr(path, '/');
    name = name ? name + 1 : path;
    int pct = (int)(sent * 100 / total);
    if (v->s->stderr_tty) {
        fprintf(stderr, "\r%s %s: %3d%% (%.1f / %.1f MiB)", _("uploading"), name, pct,
                (double)sent / 1048576.0, (double)total / 1048576.0);
        if (sent >= total)
            fputc('\n', stderr);
        fflush(stderr);
        return;
    }
    int step = pct / 25;
    if (step > v->last_step) {
        v->last_step = step;
        fprintf(stderr, "carhelp: %s %s: %d%%\n", _("uploading"), name, step * 25);
    }
}

int ticket_send_item(struct session *s, struct outbox_item *it, cJSON **answer)
{
    struct ch_error err;
    struct http_client *http;
    err_clear(&err);
    *answer = NULL;
    int rc = session_http(s, &http, &err);
    if (rc)
        return session_report(s, &err);
    struct progress_view view = {s, -1, -1, false};
    struct outbox_progress pg = {on_progress, &view};
    rc = outbox_deliver(http, it, &pg, answer, &err);
    if (!rc)
        return 0;
    if (outbox_accepts(&err))
        return cmd_outbox_queue(s, it, &err);
    return session_report(s, &err);
}

static void local_time(const char *rfc3339, char *out, size_t outsz)
{
    time_t t = parse_rfc3339(rfc3339 ? rfc3339 : "");
    if (t == (time_t)-1)
        term_safe(rfc3339 ? rfc3339 : "?", out, outsz);   /* shown as sent, made safe */
    else
        format_local_time(t, out, outsz);
}

static void sla_span(const cJSON *t, char *out, size_t outsz)
{
    time_t due = parse_rfc3339(json_str(t, "sla_due_at", ""));
    time_t made = parse_rfc3339(json_str(t, "created_at", ""));
    long mins = (due == (time_t)-1 || made == (time_t)-1) ? -1 : (long)(due - made) / 60;
    if (mins < 0)
        out[0] = '\0';
    else if (mins % 60 == 0)
        snprintf(out, outsz, _(" (within %ld h)"), mins / 60);
    else
        snprintf(out, outsz, _(" (within %ld min)"), mins);
}

void ticket_print_created(struct session *s, const cJSON *t)
{
    char due[64], span[48], id[160], category[80], priority[80], status[80];
    bool col = s->color_out;
    local_time(json_str(t, "sla_due_at", NULL), due, sizeof due);
    sla_span(t, span, sizeof span);
    idcache_add("ticket", json_str(t, "id", NULL));
    term_safe(json_str(t, "id", "?"), id, sizeof id);
    term_safe(json_str(t, "priority", "?"), priority, sizeof priority);
    bool urgent = strcmp(priority, "emergency") == 0;
    printf(_("Ticket %s%s%s filed: %s, priority %s%s%s, status %s\n"), c_bold(col), id,
           c_reset(col), term_safe(json_str(t, "category", "?"), category, sizeof category),
           urgent ? c_red(col) : "", priority, urgent ? c_reset(col) : "",
           term_safe(json_str(t, "status", "?"), status, sizeof status));
    printf(_("SLA: first response by %s%s\n"), due, span);
    const cJSON *a;
    cJSON_ArrayForEach(a, json_arr(t, "attachments")) {
        char name[300], type[128];
        printf(_("Attached: %s (%s, %lld bytes)\n"),
               term_safe(json_str(a, "filename", "?"), name, sizeof name),
               term_safe(json_str(a, "content_type", "?"), type, sizeof type),
               json_int(a, "size_bytes", 0));
    }
    printf(_("Follow it with `carhelp ticket show %s`\n"), id);
}

/* ---- the message --------------------------------------------------------------------------- */

static int read_message_file(const char *path, char **out, struct ch_error *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    struct stat st;
    if (!f)
        return err_set(err, CH_USAGE, "invalid_message_file", "--message-file",
                       _("%s: cannot read: %s"), path, strerror(errno));
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return err_set(err, CH_USAGE, "invalid_message_file", "--message-file",
                       _("%s: is a directory, not a file"), path);
    }
    struct buf b = BUF_INIT;
    buf_init(&b);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len <= MESSAGE_FILE_MAX)
        buf_append(&b, chunk, n);
    bool failed = ferror(f) != 0;
    if (f != stdin)
        fclose(f);
    if (failed || b.len > MESSAGE_FILE_MAX) {
        buf_free(&b);
        return err_set(err, CH_USAGE, "invalid_message_file", "--message-file",
                       failed ? _("%s: read error") : _("%s: too large for a message"), path);
    }
    *out = buf_detach(&b);
    buf_free(&b);   /* detach leaves a fresh empty buffer */
    return 0;
}

/* Drops '#' lines (the template's help) and trailing blank space. */
static void strip_template(char *text)
{
    char *w = text;
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) + 1 : strlen(line);
        if (line[0] != '#') {
            memmove(w, line, len);
            w += len;
        }
        line += len;
    }
    *w = '\0';
}

static void trim(char *text)
{
    size_t n = strlen(text);
    while (n > 0 && strchr(" \t\r\n", text[n - 1]))
        text[--n] = '\0';
    size_t lead = strspn(text, " \t\r\n");
    memmove(text, text + lead, n - lead + 1);
}

/* Runs the editor like git: `sh -c 'EDITOR "$@"' editor FILE`. */
static int run_editor(const char *editor, const char *file, struct ch_error *err)
{
    struct buf cmd = BUF_INIT;
    buf_init(&cmd);
    buf_printf(&cmd, "%s \"$@\"", editor);
    pid_t pid = fork();
    if (pid < 0) {
        buf_free(&cmd);
        return err_set(err, CH_USAGE, "editor_failed", "--message", _("cannot start the editor"));
    }
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd.data, "editor", file, (char *)NULL);
        _exit(127);
    }
    buf_free(&cmd);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return err_set(err, CH_USAGE, "editor_failed", "--message",
                       _("the editor '%s' failed; nothing was sent"), editor);
    return 0;
}

static int message_from_editor(struct session *s, const char *editor, const char *category,
                               char **out, struct ch_error *err)
{
    char file[PATH_MAX];
    const char *tmp = getenv("TMPDIR");
    snprintf(file, sizeof file, "%s/carhelp-report-XXXXXX.txt", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemps(file, 4);
    if (fd < 0)
        return err_set(err, CH_USAGE, "editor_failed", "--message",
                       _("cannot create a file for the editor: %s"), strerror(errno));
    FILE *f = fdopen(fd, "w");
    fprintf(f, "\n");
    fprintf(f, _("# Describe the problem (category: %s): what happened, where, since when.\n"
                 "# Lines starting with '#' are ignored; an empty message sends nothing.\n"
                 "# At most %d characters.\n"),
            category, TICKET_MESSAGE_MAX);
    fclose(f);
    (void)s;
    int rc = run_editor(editor, file, err);
    if (!rc)
        rc = read_message_file(file, out, err);
    unlink(file);
    if (!rc)
        strip_template(*out);
    return rc;
}

/* The message from --message, --message-file, the editor or a prompt; validated. */
static int get_message(struct session *s, const char *given, const char *file,
                       const char *category, char **out, struct ch_error *err)
{
    int rc = 0;
    *out = NULL;
    if (given && file)
        return err_set(err, CH_USAGE, "usage", "--message",
                       _("give either --message or --message-file, not both"));
    if (given) {
        *out = xstrdup(given);
    } else if (file) {
        rc = read_message_file(file, out, err);
    } else if (s->no_input) {
        err_set(err, CH_USAGE, "message_required", "--message",
                _("a message is required: --message TEXT or --message-file F"));
        return CH_USAGE;
    } else {
        const char *editor = getenv("VISUAL");
        if (!editor || !*editor)
            editor = getenv("EDITOR");
        if (editor && *editor) {
            rc = message_from_editor(s, editor, category, out, err);
        } else {
            char line[4 * TICKET_MESSAGE_MAX + 8];
            rc = session_read_line(s, _("Describe the problem: "), false, line, sizeof line, err);
            if (!rc)
                *out = xstrdup(line);
        }
    }
    if (rc)
        return rc;
    trim(*out);
    long chars = utf8_chars(*out);
    const char *field = file ? "--message-file" : "--message";
    if (chars < 0)
        rc = err_set(err, CH_USAGE, "invalid_message", field, _("the message is not valid UTF-8"));
    else if (chars == 0)
        rc = err_set(err, CH_USAGE, "empty_message", field,
                     _("the message is empty; nothing was sent"));
    else if (chars > TICKET_MESSAGE_MAX)
        rc = err_set(err, CH_USAGE, "message_too_long", field,
                     _("the message has %ld characters; the service takes at most %d"), chars,
                     TICKET_MESSAGE_MAX);
    if (rc) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

/* ---- report -------------------------------------------------------------------------------- */

static bool one_of(const char *v, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(v, *set) == 0)
            return true;
    return false;
}

/* A plate (province character first) or, for ASCII input, a vehicle ID. */
static int vehicle_arg(const char *in, char *out, size_t outsz, struct ch_error *err)
{
    char norm[128];
    if (normalize_input(in, norm, sizeof norm) == 0 && norm[0] && (unsigned char)norm[0] < 0x80)
        return validate_object_id("--vehicle", norm, out, outsz, err);
    return validate_plate("--vehicle", in, out, outsz, err);
}

struct report_args {
    char category[32], order[80], vehicle[80];
    double lat, lng;
};

/* CATEGORY, --priority, --order, --vehicle, --location and the number of --attach files,
 * checked before anything else (the files themselves and the message come later). */
static int report_args(const struct parsed *p, struct report_args *a, struct ch_error *err)
{
    const struct command *c = &cmd_report;
    const char *priority = arg_str(c, p, "priority");
    const char *order_in = arg_str(c, p, "order"), *vehicle_in = arg_str(c, p, "vehicle");
    const char *location = arg_str(c, p, "location");
    int nfiles = arg_multi(c, p, "attach", NULL), rc = 0;
    if (normalize_input(p->pos[0], a->category, sizeof a->category) != 0 ||
        !one_of(a->category, categories)) {
        err_set(err, CH_USAGE, "invalid_category", "CATEGORY", _("unknown category '%s'"),
                p->pos[0]);
        err_hint(err, _("one of: vehicle, billing, account, app, cleanliness, accident, "
                        "complaint, feedback, other"));
        return CH_USAGE;
    }
    if (priority && !one_of(priority, priorities))
        rc = err_set(err, CH_USAGE, "invalid_priority", "--priority",
                     _("'%s' is not one of low, normal, high, emergency"), priority);
    if (!rc && order_in)
        rc = validate_object_id("--order", order_in, a->order, sizeof a->order, err);
    if (!rc && vehicle_in)
        rc = vehicle_arg(vehicle_in, a->vehicle, sizeof a->vehicle, err);
    if (!rc && location)
        rc = validate_coordinates("--location", location, &a->lat, &a->lng, err);
    if (!rc && nfiles > ATTACH_MAX_PER_TICKET)
        rc = err_set(err, CH_USAGE, "too_many_attachments", "--attach",
                     _("at most %d attachments per ticket (got %d)"), ATTACH_MAX_PER_TICKET,
                     nfiles);
    return rc;
}

static int report_validate(const struct parsed *p, struct ch_error *err)
{
    struct report_args a;
    return report_args(p, &a, err);
}

static int report_exec(struct session *s, const struct parsed *p)
{
    const struct command *c = &cmd_report;
    struct ch_error err;
    err_clear(&err);
    char summary[160];
    struct report_args a = {{0}, {0}, {0}, 0, 0};
    const char *category = a.category, *order = a.order, *vehicle = a.vehicle;
    const char *priority = arg_str(c, p, "priority");
    const char *order_in = arg_str(c, p, "order"), *vehicle_in = arg_str(c, p, "vehicle");
    const char *location = arg_str(c, p, "location");
    const char *const *files = NULL;
    int nfiles = arg_multi(c, p, "attach", &files);
    int rc = 0;

    if ((rc = report_args(p, &a, &err)))
        return session_report(s, &err);

    /* Files are checked before the message is asked for: no typing a report twice. */
    char *probe_files[ATTACH_MAX_PER_TICKET + 1] = {0};
    for (int i = 0; i < nfiles; i++)
        probe_files[i] = (char *)files[i];
    struct outbox_request probe = {.command = "report", .idempotency_key = "-",
                                   .attachments = (const char *const *)probe_files,
                                   .attach_path = "-"};
    struct outbox_item it;
    if ((rc = outbox_item_from_request(&probe, &it, &err)))
        return session_report(s, &err);
    outbox_item_free(&it);

    char *message = NULL;
    if ((rc = get_message(s, arg_str(c, p, "message"), arg_str(c, p, "message-file"), category,
                          &message, &err)))
        return session_report(s, &err);

    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "category", category);
    if (priority)
        cJSON_AddStringToObject(body, "priority", priority);
    cJSON_AddStringToObject(body, "message", message);
    if (order_in)
        cJSON_AddStringToObject(body, "order_id", order);
    if (vehicle_in)
        cJSON_AddStringToObject(body, "vehicle_id", vehicle);
    if (location) {
        cJSON *loc = cJSON_AddObjectToObject(body, "location");
        cJSON_AddNumberToObject(loc, "lat", a.lat);
        cJSON_AddNumberToObject(loc, "lng", a.lng);
    }
    char key[37];
    http_new_idempotency_key(key);
    snprintf(summary, sizeof summary, "%s: %.100s", category, message);
    for (char *q = summary; *q; q++)
        if (*q == '\n' || *q == '\r' || *q == '\t')
            *q = ' ';
    struct outbox_request r = {
        .command = "report", .summary = summary,
        .profile = s->profile && *s->profile ? s->profile : "default",
        .api_url = s->cfg.api_url, .method = "POST", .path = "/v1/tickets", .body = body,
        .idempotency_key = key, .attachments = (const char *const *)probe_files,
        .attach_path = "/v1/tickets/{id}/attachments",
    };
    rc = outbox_item_from_request(&r, &it, &err);
    cJSON_Delete(body);
    free(message);
    if (rc)
        return session_report(s, &err);
    cJSON *ticket = NULL;
    rc = ticket_send_item(s, &it, &ticket);
    outbox_item_free(&it);
    if (rc)
        return rc;
    if (s->json)
        session_print_json(s, ticket);
    else
        ticket_print_created(s, ticket);
    cJSON_Delete(ticket);
    return CH_OK;
}

static const struct opt report_opts[] = {
    {"priority", 0, OPT_STRING, "P", N_("low, normal (default), high or emergency; an accident is "
                                        "always emergency"), priorities, 0},
    {"order", 0, OPT_STRING, "ID", N_("the order it is about"), NULL, 0},
    {"vehicle", 0, OPT_STRING, "PLATE", N_("the vehicle it is about (plate or vehicle ID)"), NULL, 0},
    {"message", 'm', OPT_STRING, "TEXT", N_("what happened (at most 4000 characters)"), NULL, 0},
    {"message-file", 0, OPT_STRING, "F", N_("read the message from a file ('-': standard input)"),
     NULL, 0},
    {"attach", 'a', OPT_MULTI, "FILE", N_("evidence: JPEG, PNG, HEIC or PDF, at most 10 MiB each, "
                                          "5 per ticket (repeatable)"), NULL, 0},
    {"location", 0, OPT_STRING, "LAT,LNG", N_("where (WGS-84 decimal degrees)"), NULL, 0},
    OPT_END,
};

const struct command cmd_report = {
    .name = "report",
    .synopsis = "CATEGORY [--priority P] [--order ID] [--vehicle PLATE] [--message TEXT | "
                "--message-file F] [--attach FILE]... [--location LAT,LNG]",
    .summary = N_("report an issue: vehicle fault, billing, accident, complaint, ..."),
    .description = N_("Files a ticket and prints its ID and the SLA due time. CATEGORY is one of "
                      "vehicle, billing, account, app, cleanliness, accident, complaint, feedback, "
                      "other. Without --message on a terminal it opens $VISUAL or $EDITOR on a "
                      "template (lines starting with '#' are dropped; an empty message sends "
                      "nothing), or asks; with --no-input, or when standard input is not a "
                      "terminal, a missing message is a usage error. Attachments are checked "
                      "(type by content, size) before anything is sent. When the service cannot "
                      "be reached the report is saved to the outbox (exit 10) and `carhelp outbox "
                      "flush` delivers it later, exactly once."),
    .opts = report_opts,
    .min_args = 1,
    .max_args = 1,
    .flags = CMD_NEEDS_AUTH | CMD_NEEDS_NETWORK,
    .exec = report_exec,
    .validate = report_validate,
};
