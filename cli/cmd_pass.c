/* ticket qr and ticket verify: the QR-coded ticket pass. The pass is signed by the service
 * (GET /v1/tickets/{id}/pass); this file fetches it and renders it with core/qr.c, and checks
 * a scanned pass or a short code read out on the phone (POST /v1/tickets/passes/verify).
 * The two commands belong to the `ticket` group (cmd_ticket.c's table). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "command.h"
#include "session.h"
#include "i18n.h"
#include "core/api.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/qr.h"
#include "core/validate.h"

extern const struct command cmd_ticket_qr, cmd_ticket_verify;

enum qr_format { FMT_UTF8, FMT_ANSI, FMT_ASCII, FMT_PNG, FMT_SVG };
static const char *const formats[] = {"utf8", "ansi", "ascii", "png", "svg", NULL};

struct qr_args {
    char id[80];
    enum qr_format format;
    const char *file;
    bool force;
    long scale, margin;
};

static int parse_qr_args(const struct session *s, const struct parsed *p, struct qr_args *a,
                         struct ch_error *err)
{
    const struct command *c = &cmd_ticket_qr;
    const char *format = arg_str(c, p, "format"), *size = arg_str(c, p, "size");
    const char *margin = arg_str(c, p, "margin");
    int rc = validate_object_id("ID", p->pos[0], a->id, sizeof a->id, err);
    if (rc)
        return rc;
    a->format = FMT_UTF8;
    for (int i = 0; format && formats[i]; i++)
        if (strcmp(format, formats[i]) == 0)
            a->format = (enum qr_format)i;
    if (format && strcmp(format, formats[a->format]) != 0)
        return err_set(err, CH_USAGE, "invalid_format", "--format",
                       _("--format must be utf8, ansi, ascii, png or svg"));
    bool image = a->format == FMT_PNG || a->format == FMT_SVG;
    a->file = arg_str(c, p, "output");
    a->force = arg_flag(c, p, "force");
    a->scale = QR_SCALE_DEFAULT;
    a->margin = image ? QR_MARGIN_FILE : QR_MARGIN_TERMINAL;
    if (size && !image)
        return err_set(err, CH_USAGE, "invalid_size", "--size",
                       _("--size (pixels per module) applies to --format png and svg"));
    if (size && (rc = validate_int("--size", size, 1, QR_SCALE_MAX, &a->scale, err)))
        return rc;
    if (margin && (rc = validate_int("--margin", margin, 0, QR_MARGIN_MAX, &a->margin, err)))
        return rc;
    if (a->file && !*a->file)
        return err_set(err, CH_USAGE, "invalid_output", "--output", _("the file name is empty"));
    if (image && !a->file && s->stdout_tty)
        return err_set(err, CH_USAGE, "output_required", "--output",
                       _("%s is an image: write it to a file with -o FILE (or pipe it)"),
                       formats[a->format]);
    if (a->file && !a->force && access(a->file, F_OK) == 0)
        return err_set(err, CH_USAGE, "file_exists", "--output",
                       _("%s exists; add --force to overwrite it"), a->file);
    /* Checked before the request, so an unwritable path costs nothing. */
    char dir[4096];
    const char *slash = a->file ? strrchr(a->file, '/') : NULL;
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - a->file) + (slash == a->file) : 1,
             slash ? a->file : ".");
    struct stat st;
    if (a->file && (stat(dir, &st) != 0 || (!S_ISDIR(st.st_mode) && (errno = ENOTDIR)) ||
                    access(dir, W_OK) != 0))
        return err_set(err, CH_USAGE, "unwritable_output", "--output",
                       _("cannot write %s: %s"), a->file, strerror(errno));
    return CH_OK;
}

static int render(const struct session *s, const struct qr_args *a, const struct qr_code *qr,
                  const char *short_code, FILE *f, const char *name, struct ch_error *err)
{
    struct buf out = BUF_INIT;
    buf_init(&out);
    int rc = CH_OK;
    char code[32];
    term_safe(short_code, code, sizeof code);
    switch (a->format) {
    case FMT_UTF8:
        qr_render_utf8(qr, (int)a->margin, !a->file && s->color_out, &out);
        break;
    case FMT_ANSI:
        qr_render_ansi(qr, (int)a->margin, &out);
        break;
    case FMT_ASCII:
        qr_render_ascii(qr, (int)a->margin, &out);
        break;
    case FMT_SVG:
        qr_render_svg(qr, (int)a->margin, (int)a->scale, &out);
        break;
    case FMT_PNG:
        if (qr_write_png(qr, (int)a->margin, (int)a->scale, f) != 0)
            rc = err_set(err, CH_USAGE, "write_failed", "--output", _("cannot write %s: %s"),
                         name, strerror(errno));
        break;
    }
    if (a->format != FMT_PNG && a->format != FMT_SVG && code[0])
        buf_printf(&out, _("Short code: %s\n"), code);
    if (!rc && out.len && (fwrite(out.data, 1, out.len, f) != out.len || fflush(f) != 0))
        rc = err_set(err, CH_USAGE, "write_failed", "--output", _("cannot write %s: %s"), name,
                     strerror(errno));
    buf_free(&out);
    return rc;
}

static FILE *open_output(const struct qr_args *a, struct ch_error *err)
{
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (a->force ? O_TRUNC : O_EXCL);
    int fd = open(a->file, flags, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        err_set(err, CH_USAGE, errno == EEXIST ? "file_exists" : "unwritable_output", "--output",
                errno == EEXIST ? _("%s exists; add --force to overwrite it")
                                : _("cannot write %s"), a->file);
        if (fd >= 0)
            close(fd);
    }
    return f;
}

/* Before the config and the credential: everything parse_qr_args can say without knowing
 * whether stdout is a terminal (exec asks that again). */
static int ticket_qr_validate(const struct parsed *p, struct ch_error *err)
{
    struct session none;
    struct qr_args a;
    memset(&none, 0, sizeof none);
    return parse_qr_args(&none, p, &a, err);
}

static int ticket_qr_exec(struct session *s, const struct parsed *p)
{
    struct qr_args a;
    struct ch_error err;
    struct http_client *http;
    err_clear(&err);
    int rc = parse_qr_args(s, p, &a, &err);
    if (!rc)
        rc = session_http(s, &http, &err);
    if (rc)
        return session_report(s, &err);
    struct buf path = BUF_INIT;
    buf_init(&path);
    buf_puts(&path, "/v1/tickets/");
    buf_put_urlencoded(&path, a.id);
    buf_puts(&path, "/pass");
    cJSON *doc = NULL;
    rc = api_get(http, path.data, _("ticket pass"), &doc, &err);
    buf_free(&path);
    if (rc)
        return session_report(s, &err);
    const char *pass = json_str(doc, "pass", NULL);
    struct qr_code qr;
    if (!pass || qr_encode(pass, &qr) != 0) {
        cJSON_Delete(doc);
        err_set(&err, CH_SERVICE, "malformed_response", _("ticket pass"), "%s",
                _("the service's answer has no usable pass"));
        return session_report(s, &err);
    }
    if (s->json && !a.file) {
        session_print_json(s, doc);
    } else {
        FILE *f = a.file ? open_output(&a, &err) : stdout;
        rc = f ? render(s, &a, &qr, json_str(doc, "short_code", ""), f, a.file ? a.file : "stdout",
                        &err)
               : CH_USAGE;
        if (f && f != stdout && fclose(f) != 0 && !rc)
            rc = err_set(&err, CH_USAGE, "write_failed", "--output", _("cannot write %s: %s"),
                         a.file, strerror(errno));
        if (rc && a.file && f)
            unlink(a.file);
        if (!rc && s->json)
            session_print_json(s, doc);
        else if (!rc && a.file) {
            char code[32];
            term_safe(json_str(doc, "short_code", ""), code, sizeof code);
            msg_info(s, _("wrote the pass of %s to %s (short code %s)"), a.id, a.file, code);
        }
    }
    qr_free(&qr);
    cJSON_Delete(doc);
    return rc ? session_report(s, &err) : CH_OK;
}

/* PASS or SHORTCODE: its shape, checked before anything else. */
static int pass_arg(const char *in, struct ch_error *err)
{
    char code[9];
    if (pass_short_code(in, code))
        return 0;
    enum pass_shape shape = pass_check_shape(in);
    if (shape == PASS_NOT_BASE64URL)
        return err_set(err, CH_USAGE, "invalid_pass", "PASS",
                       _("not a ticket pass or an 8-character short code"));
    if (shape == PASS_TRUNCATED)
        return err_set(err, CH_USAGE, "truncated_pass", "PASS",
                       _("the pass is incomplete (cut off when copied or scanned?)"));
    return 0;
}

static int ticket_verify_validate(const struct parsed *p, struct ch_error *err)
{
    return pass_arg(p->pos[0], err);
}

static int ticket_verify_exec(struct session *s, const struct parsed *p)
{
    const char *in = p->pos[0];
    char code[9];
    struct ch_error err;
    struct http_client *http;
    err_clear(&err);
    bool is_code = pass_short_code(in, code);
    int rc = pass_arg(in, &err);
    if (!rc)
        rc = session_http(s, &http, &err);
    if (rc)
        return session_report(s, &err);
    cJSON *body = cJSON_CreateObject(), *doc = NULL;
    cJSON_AddStringToObject(body, is_code ? "short_code" : "pass", is_code ? code : in);
    rc = api_post(http, "/v1/tickets/passes/verify", body, NULL, _("verify pass"), &doc, &err);
    cJSON_Delete(body);
    if (rc)
        return session_report(s, &err);
    bool valid = json_bool(doc, "valid", false);
    if (s->json) {
        session_print_json(s, doc);
    } else if (valid) {
        char id[80], status[40], category[40], priority[40], expires[64] = "";
        term_safe(json_str(doc, "ticket_id", "?"), id, sizeof id);
        term_safe(json_str(doc, "status", "?"), status, sizeof status);
        term_safe(json_str(doc, "category", "?"), category, sizeof category);
        term_safe(json_str(doc, "priority", "?"), priority, sizeof priority);
        const char *exp = json_str(doc, "expires_at", NULL);
        if (exp && parse_rfc3339(exp) != (time_t)-1)
            format_local_time(parse_rfc3339(exp), expires, sizeof expires);
        printf(_("Valid %s: ticket %s\n"), is_code ? _("short code") : _("pass"), id);
        printf(_("  status    %s\n  category  %s\n  priority  %s\n"), status, category, priority);
        if (expires[0])
            printf(_("  expires   %s\n"), expires);
    } else {
        char reason[40];
        term_safe(json_str(doc, "reason", "unknown"), reason, sizeof reason);
        printf(_("Not valid: %s\n"), strcmp(reason, "tampered") == 0
                                          ? _("tampered (the signature does not match)")
                                      : strcmp(reason, "expired") == 0
                                          ? _("expired (ask for a new pass)")
                                          : _("unknown (no such ticket for you)"));
    }
    cJSON_Delete(doc);
    return valid ? CH_OK : CH_NO;
}

static const struct opt qr_opts[] = {
    {"format", 0, OPT_STRING, "FMT", N_("utf8 (default), ansi, ascii, png or svg"), formats, 0},
    {"output", 'o', OPT_STRING, "FILE", N_("write to FILE instead of the terminal"), NULL, 0},
    {"size", 0, OPT_STRING, "N", N_("pixels per module for png and svg (1..64, default 8)"),
     NULL, 0},
    {"margin", 0, OPT_STRING, "N",
     N_("quiet zone in modules (0..16; default 2 on the terminal, 4 in files)"), NULL, 0},
    {"force", 0, OPT_FLAG, NULL, N_("overwrite FILE if it exists"), NULL, 0},
    OPT_END,
};

const struct command cmd_ticket_qr = {
    .name = "qr",
    .synopsis = "ID [--format utf8|ansi|ascii|png|svg] [-o FILE] [--size N] [--margin N] [--force]",
    .summary = N_("the ticket's signed pass as a QR code, with its short code"),
    .description = N_("Fetches the ticket's signed pass from the service (valid for 7 days) and "
                      "renders it as a QR code: on the terminal with UTF-8 half blocks (black on "
                      "white when colour is on), ansi colour cells or plain ascii, with the "
                      "8-character short code under it; or as a PNG or SVG image to -o FILE (or "
                      "to stdout when it is not a terminal). An existing FILE is kept unless "
                      "--force is given."),
    .opts = qr_opts, .min_args = 1, .max_args = 1,
    .flags = CMD_NEEDS_AUTH | CMD_NEEDS_NETWORK, .exec = ticket_qr_exec, .validate = ticket_qr_validate,
};

const struct command cmd_ticket_verify = {
    .name = "verify",
    .synopsis = "PASS|SHORTCODE",
    .summary = N_("check a scanned pass or a short code read out on the phone"),
    .description = N_("Checks a pass (as scanned from the QR code) or a ticket's 8-character "
                      "short code (case, spaces and dashes do not matter) with the service and "
                      "shows the ticket's status. Exit 0 when valid, 1 when tampered, expired or "
                      "unknown; a pass that is not base64url or is cut off is refused (exit 2) "
                      "without a request."),
    .opts = NULL, .min_args = 1, .max_args = 1,
    .flags = CMD_NEEDS_AUTH | CMD_NEEDS_NETWORK, .exec = ticket_verify_exec, .validate = ticket_verify_validate,
};
