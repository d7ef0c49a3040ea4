/* vehicle show, unlock, lock, vehicle honk, vehicle flash: a vehicle's state, and remote
 * commands that are confirmed, sent exactly once (one Idempotency-Key per invocation, reused
 * by every retry; never saved to the outbox) and waited for until the vehicle answers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "command.h"
#include "session.h"
#include "i18n.h"
#include "core/api.h"
#include "core/identity.h"
#include "core/batch.h"
#include "batch_run.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/support.h"
#include "core/validate.h"
#include "core/vehicle.h"
#include "core/idcache.h"

extern const struct command cmd_vehicle, cmd_unlock, cmd_lock;
static const struct command cmd_vehicle_show, cmd_vehicle_honk, cmd_vehicle_flash;

/* What each remote command is called and what its success looks like. */
struct vcmd {
    const struct command *cmd;
    const char *type;        /* API type */
    const char *done;        /* "unlocked" */
    bool confirms;           /* changes the lock: asks first */
};

static const struct vcmd vcmds[] = {
    { &cmd_unlock, "unlock", N_("unlocked"), true },
    { &cmd_lock, "lock", N_("locked"), true },
    { &cmd_vehicle_honk, "honk", N_("honked"), false },
    { &cmd_vehicle_flash, "flash", N_("flashed its lights"), false },
};

/* ---- small helpers ------------------------------------------------------------------------- */

static bool is_staff(const struct session *s, const char *role)
{
    (void)s;
    return role && strcmp(role, "staff") == 0;
}

static void local_time_of(const char *rfc3339, char *out, size_t outsz)
{
    time_t t = parse_rfc3339(rfc3339 ? rfc3339 : "");
    if (t == (time_t)-1)
        term_safe(rfc3339 && *rfc3339 ? rfc3339 : "?", out, outsz);   /* as sent, made safe */
    else
        format_local_time(t, out, outsz);
}

static void location_text(const cJSON *v, char *out, size_t outsz)
{
    const cJSON *loc = json_obj(v, "location");
    const char *address = json_str(loc, "address", NULL);
    char addr[200] = "";
    if (address && *address)
        term_safe(address, addr, sizeof addr);
    if (!loc)
        snprintf(out, outsz, "%s", _("unknown"));
    else if (addr[0])
        snprintf(out, outsz, "%s (%.4f, %.4f)", addr, json_num(loc, "lat", 0),
                 json_num(loc, "lng", 0));
    else
        snprintf(out, outsz, "%.4f, %.4f", json_num(loc, "lat", 0), json_num(loc, "lng", 0));
}

/* Label/value lines, labels padded to the widest (display width: translations may be CJK). */
static void print_fields(FILE *f, const char *const *labels, const char *const *values, int n)
{
    int w = 0;
    for (int i = 0; i < n; i++)
        if (values[i] && display_width(labels[i]) > w)
            w = display_width(labels[i]);
    for (int i = 0; i < n; i++) {
        if (!values[i])
            continue;
        char safe[512];
        fputs("  ", f);
        print_padded(f, labels[i], w + 2);
        fprintf(f, "%s\n", term_safe(values[i], safe, sizeof safe));
    }
}

static const char *status_text(const char *status)
{
    if (!status)
        return "?";
    if (strcmp(status, "queued") == 0)
        return _("queued at the service");
    if (strcmp(status, "sent") == 0)
        return _("sent to the vehicle, waiting for it to confirm");
    if (strcmp(status, "succeeded") == 0)
        return _("confirmed by the vehicle");
    if (strcmp(status, "failed") == 0)
        return _("failed");
    if (strcmp(status, "expired") == 0)
        return _("expired: the vehicle never confirmed it");
    return NULL;
}

static void check_hint(struct ch_error *err, const char *plate, const char *command_id)
{
    err_hint(err, _("check with `carhelp vehicle show %s` (it shows the lock state and the last "
                    "command, %s), or call support at %s"),
             plate, command_id, support_service_number());
}

/* ---- vehicle show ---------------------------------------------------------------------- */

static void print_vehicle(const cJSON *v)
{
    char plate[80], model[160], lock[64], doors[64], energy[64], online[160], seen[64],
        where[320], order[80], last[320], id[80];
    term_safe(json_str(v, "plate", "?"), plate, sizeof plate);
    term_safe(json_str(v, "id", "?"), id, sizeof id);
    idcache_add("vehicle", plate);
    term_safe(json_str(v, "model", ""), model, sizeof model);
    term_safe(json_str(v, "lock_state", "unknown"), lock, sizeof lock);
    term_safe(json_str(v, "doors", "unknown"), doors, sizeof doors);
    const cJSON *battery = cJSON_GetObjectItemCaseSensitive(v, "battery_pct");
    const cJSON *fuel = cJSON_GetObjectItemCaseSensitive(v, "fuel_pct");
    if (cJSON_IsNumber(battery))
        snprintf(energy, sizeof energy, _("battery %d %%"), battery->valueint);
    else if (cJSON_IsNumber(fuel))
        snprintf(energy, sizeof energy, _("fuel %d %%"), fuel->valueint);
    else
        snprintf(energy, sizeof energy, "%s", _("unknown"));
    local_time_of(json_str(v, "last_seen_at", NULL), seen, sizeof seen);
    if (json_bool(v, "online", false))
        snprintf(online, sizeof online, _("yes (last seen %s)"), seen);
    else
        snprintf(online, sizeof online, _("NO: offline since %s; remote commands will fail"), seen);
    location_text(v, where, sizeof where);
    const char *active = json_str(v, "active_order_id", NULL);
    term_safe(active && *active ? active : _("none"), order, sizeof order);

    const cJSON *lc = json_obj(v, "last_command");
    const char *lc_value = NULL;
    if (lc) {
        char type[32], status[48], cid[80], at[64], code[64] = "";
        term_safe(json_str(lc, "type", "?"), type, sizeof type);
        term_safe(json_str(lc, "status", "?"), status, sizeof status);
        term_safe(json_str(lc, "id", "?"), cid, sizeof cid);
        const char *fc = json_str(lc, "failure_code", NULL);
        if (fc && *fc)
            term_safe(fc, code, sizeof code);
        local_time_of(json_str(lc, "updated_at", NULL), at, sizeof at);
        snprintf(last, sizeof last, "%s %s%s%s%s, %s (%s)", type, status, code[0] ? " (" : "",
                 code, code[0] ? ")" : "", at, cid);
        lc_value = last;
    }
    printf("%s  %s%s%s\n", plate, id, model[0] ? "  " : "", model);
    const char *labels[] = { _("lock"), _("doors"), _("energy"), _("online"), _("location"),
                             _("active order"), _("last command") };
    const char *values[] = { lock, doors, energy, online, where, order,
                             lc_value ? lc_value : _("none") };
    print_fields(stdout, labels, values, (int)(sizeof labels / sizeof labels[0]));
}

/* --batch FILE: one vehicle per line (cli.md "Batch mode"): GET each, NDJSON out. */
struct show_line {
    char target[VEHICLE_KEY_MAX];
    struct buf path;
};

static int show_line_start(void *ctx, struct batch_job *job, struct ch_error *err)
{
    static const char *const keys[] = { BATCH_ARG_KEY, "plate", "id", "vehicle", NULL };
    struct show_line *l = job->state;
    (void)ctx;
    const char *want = batch_value(job->input, keys);
    if (!want)
        return err_set(err, CH_USAGE, "invalid_input", "--batch",
                       _("the line names no vehicle (a plate, an ID, or a \"plate\" field)"));
    if (vehicle_parse_target("PLATE|ID", want, l->target, sizeof l->target, NULL, err))
        return CH_USAGE;
    buf_init(&l->path);
    vehicle_path(&l->path, l->target, NULL);
    job->req = (struct http_request){ .method = "GET", .path = l->path.data };
    job->what = "vehicle";
    return 0;
}

static int show_line_answer(void *ctx, struct batch_job *job, int rc, cJSON *doc,
                            struct ch_error *err, cJSON **result)
{
    (void)ctx;
    (void)job;
    if (rc)
        return rc;
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        return err_set(err, CH_SERVICE, "malformed_response", "vehicle",
                       "malformed response: the vehicle is not a JSON object");
    }
    *result = doc;
    return CH_OK;
}

static void show_line_cleanup(void *ctx, struct batch_job *job)
{
    struct show_line *l = job->state;
    (void)ctx;
    buf_free(&l->path);
}

static int show_batch(struct session *s, const char *file, int parallel)
{
    static const char *const fields[] = { "plate", "id", "vehicle", NULL };
    static const struct batch_ops ops = {
        .fields = fields, .bare_ok = true, .state_size = sizeof(struct show_line),
        .start = show_line_start, .answer = show_line_answer, .cleanup = show_line_cleanup,
    };
    return batch_run(s, file, parallel, &ops, NULL);
}

/* PLATE|ID or --batch FILE, and --parallel: checked before anything else. */
static int show_args(const struct parsed *p, int *parallel, char *target, size_t targetsz,
                     struct ch_error *err)
{
    const char *batch = arg_str(&cmd_vehicle_show, p, "batch");
    const char *par = arg_str(&cmd_vehicle_show, p, "parallel");
    if ((batch != NULL) == (p->npos > 0))
        return err_set(err, CH_USAGE, "usage", "vehicle show", "%s",
                       batch ? _("give PLATE|ID or --batch FILE, not both")
                             : _("missing argument: PLATE|ID (or --batch FILE)"));
    if (par && !batch)
        return err_set(err, CH_USAGE, "usage", "--parallel", _("--parallel goes with --batch FILE"));
    if (batch_parallel_arg(par, parallel, err))
        return CH_USAGE;
    if (!batch)
        return vehicle_parse_target("PLATE|ID", p->pos[0], target, targetsz, NULL, err);
    return 0;
}

static int show_validate(const struct parsed *p, struct ch_error *err)
{
    int parallel;
    char target[VEHICLE_KEY_MAX];
    return show_args(p, &parallel, target, sizeof target, err);
}

static int show_exec(struct session *s, const struct parsed *p)
{
    struct ch_error err;
    err_clear(&err);
    const char *batch = arg_str(&cmd_vehicle_show, p, "batch");
    int parallel;
    char target[VEHICLE_KEY_MAX];
    if (show_args(p, &parallel, target, sizeof target, &err))
        return session_report(s, &err);
    if (batch)
        return show_batch(s, batch, parallel);
    struct http_client *http;
    cJSON *v = NULL;
    if (session_http(s, &http, &err) || vehicle_get(http, target, &v, &err))
        return session_report(s, &err);
    if (s->json)
        session_print_json(s, v);
    else
        print_vehicle(v);
    cJSON_Delete(v);
    return CH_OK;
}

/* ---- progress while waiting ------------------------------------------------------------------ */

struct progress {
    struct session *s;
    const char *type, *plate;
    char last[48];
    int frame;
    bool drawn;
};

static void progress_clear(struct progress *pr)
{
    if (pr->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        pr->drawn = false;
    }
}

static void on_progress(void *ctx, const char *status, double elapsed_s)
{
    struct progress *pr = ctx;
    if (pr->s->verbosity < 0)
        return;
    bool changed = status && strcmp(status, pr->last) != 0;
    if (status)
        snprintf(pr->last, sizeof pr->last, "%s", status);
    char shown[160];
    const char *text = status_text(pr->last);
    if (!text) {
        char st[48];
        term_safe(pr->last, st, sizeof st);
        snprintf(shown, sizeof shown, _("status '%s' (unknown to this client; still waiting)"), st);
    } else {
        snprintf(shown, sizeof shown, "%s", text);
    }
    if (pr->s->stderr_tty) {
        static const char frames[] = "|/-\\";
        fprintf(stderr, "\r\033[K%c %s %s: %s (%.0f s)", frames[pr->frame++ % 4], pr->type,
                pr->plate, shown, elapsed_s);
        fflush(stderr);
        pr->drawn = true;
    } else if (changed) {
        fprintf(stderr, "carhelp: %s %s: %s\n", pr->type, pr->plate, shown);
        fflush(stderr);
    }
}

/* ---- the confirmation ------------------------------------------------------------------------ */

static void describe(const struct vcmd *vc, const cJSON *v, const char *plate,
                     const char *order_id, char *out, size_t outsz)
{
    char model[160], where[320], seen[64], order[80];
    term_safe(json_str(v, "model", ""), model, sizeof model);
    location_text(v, where, sizeof where);
    local_time_of(json_str(v, "last_seen_at", NULL), seen, sizeof seen);
    const char *o = order_id && *order_id ? order_id : json_str(v, "active_order_id", NULL);
    term_safe(o && *o ? o : _("no active order"), order, sizeof order);
    snprintf(out, outsz, _("%s %s (%s), order %s, at %s (last seen %s)"), vc->type, plate,
             model[0] ? model : "?", order, where, seen);
}

/* Staff act on someone else's car: a typed plate, not a y/N pressed by habit. */
static int confirm_staff(struct session *s, const struct vcmd *vc, const char *plate,
                         const char *confirm, const char *summary, struct ch_error *err)
{
    char typed[VEHICLE_KEY_MAX], raw[128];
    err_clear(err);
    if (confirm) {
        if (strcmp(confirm, plate) != 0)
            return err_set(err, CH_USAGE, "confirm_mismatch", "--confirm",
                           _("'%s' is not this vehicle's plate (%s); nothing was sent"), confirm,
                           plate);
        return 0;
    }
    if (s->no_input) {
        err_set(err, CH_USAGE, "confirmation_needed", vc->cmd->name,
                _("staff confirm a vehicle command by typing the plate, and --no-input is "
                  "in force"));
        err_hint(err, _("pass --confirm %s (--yes alone is not enough)"), plate);
        return CH_USAGE;
    }
    fprintf(stderr, "%s\n", summary);
    fprintf(stderr, _("You are commanding a customer's car. The %s is written to the audit log.\n"),
            vc->type);
    char prompt[160];
    snprintf(prompt, sizeof prompt, _("Type the plate to confirm (%s): "), plate);
    int rc = session_read_line(s, prompt, false, raw, sizeof raw, err);
    if (rc)
        return rc;
    struct ch_error scratch;
    err_clear(&scratch);
    if (validate_plate("plate", raw, typed, sizeof typed, &scratch) || strcmp(typed, plate) != 0)
        return err_set(err, CH_NO, "not_confirmed", vc->cmd->name,
                       _("the plate typed does not match %s; nothing was sent"), plate);
    return 0;
}

static int confirm_customer(struct session *s, const char *plate, const char *confirm,
                            const char *summary, struct ch_error *err)
{
    char question[640];
    err_clear(err);
    if (confirm) {
        if (strcmp(confirm, plate) != 0)
            return err_set(err, CH_USAGE, "confirm_mismatch", "--confirm",
                           _("'%s' is not this vehicle's plate (%s); nothing was sent"), confirm,
                           plate);
        return 0;
    }
    if (!s->yes && !s->no_input)
        fprintf(stderr, "%s\n", summary);
    snprintf(question, sizeof question, "%s", _("Send it now?"));
    int rc = session_confirm(s, question, err);
    if (rc == CH_USAGE)
        err_hint(err, _("pass --yes to send it without a question"));
    return rc;
}

/* ---- the command ------------------------------------------------------------------------- */

struct vargs {
    char target[VEHICLE_KEY_MAX];
    char order[VEHICLE_KEY_MAX];
    char confirm[VEHICLE_KEY_MAX];
    const char *reason;
    double wait_s;
    bool no_wait, dry_run, have_confirm;
};

/* Everything that can be refused without the service, refused before any request. */
static int check_args(const struct command *c, const struct parsed *p, struct vargs *a,
                      struct ch_error *err)
{
    memset(a, 0, sizeof *a);
    a->wait_s = VEHICLE_DEFAULT_WAIT_S;
    const char *order = arg_str(c, p, "order"), *wait = arg_str(c, p, "wait");
    const char *confirm = arg_str(c, p, "confirm");
    a->reason = arg_str(c, p, "reason");
    a->no_wait = arg_flag(c, p, "no-wait");
    a->dry_run = arg_flag(c, p, "dry-run");
    int rc = vehicle_parse_target("PLATE|ID", p->pos[0], a->target, sizeof a->target, NULL, err);
    if (!rc && order)
        rc = validate_object_id("--order", order, a->order, sizeof a->order, err);
    if (!rc && wait)
        rc = validate_seconds("--wait", wait, VEHICLE_MAX_WAIT_S, &a->wait_s, err);
    if (!rc && confirm) {
        rc = validate_plate("--confirm", confirm, a->confirm, sizeof a->confirm, err);
        a->have_confirm = rc == 0;
    }
    if (!rc && a->no_wait && wait)
        rc = err_set(err, CH_USAGE, "usage", "--wait", _("--wait and --no-wait cannot be combined"));
    if (!rc && a->reason) {
        const char *r = a->reason;
        while (*r == ' ' || *r == '\t')
            r++;
        bool control = false;
        for (const unsigned char *q = (const unsigned char *)r; *q; q++)
            control = control || *q < 0x20 || *q == 0x7f;
        if (!*r)
            rc = err_set(err, CH_USAGE, "invalid_reason", "--reason", _("the reason is empty"));
        else if (strlen(a->reason) > VEHICLE_REASON_MAX)
            rc = err_set(err, CH_USAGE, "invalid_reason", "--reason",
                         _("the reason is longer than %d bytes"), VEHICLE_REASON_MAX);
        else if (control)
            rc = err_set(err, CH_USAGE, "invalid_reason", "--reason",
                         _("the reason must be one line without control characters"));
        else
            a->reason = r;
    }
    return rc;
}

/* The caller's role: from the credentials file, or asked of the service for CARHELP_TOKEN. */
static int caller_role(struct session *s, struct http_client *http, bool may_ask, char *role,
                       size_t rolesz, struct ch_error *err)
{
    role[0] = '\0';
    if (s->cred.role && *s->cred.role) {
        snprintf(role, rolesz, "%s", s->cred.role);
        return 0;
    }
    if (!may_ask)
        return 0;
    struct identity who;
    int rc = api_whoami(http, _("who am I"), &who, NULL, err);
    if (!rc)
        snprintf(role, rolesz, "%s", identity_role_name(who.role));
    return rc;
}

static int dry_run(struct session *s, const struct vcmd *vc, const struct vargs *a,
                   const char *role, const char *key)
{
    struct buf path = BUF_INIT;
    vehicle_path(&path, a->target, "/commands");
    cJSON *body = vehicle_command_body(vc->type, a->reason, a->order);
    if (s->json) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddBoolToObject(doc, "dry_run", 1);
        cJSON_AddStringToObject(doc, "method", "POST");
        cJSON_AddStringToObject(doc, "path", path.data);
        cJSON_AddStringToObject(doc, "idempotency_key", key);
        cJSON_AddItemToObject(doc, "body", body);
        session_print_json(s, doc);
        cJSON_Delete(doc);
    } else {
        char *text = json_print(body);
        printf(_("Would send: POST %s\n"), path.data);
        printf("  Idempotency-Key: %s\n", key);
        printf("  %s\n", text);
        printf("%s\n", _("Nothing was sent (--dry-run)."));
        if (vc->confirms)
            printf("%s\n", is_staff(s, role)
                               ? _("A real run shows the vehicle and asks you to type its plate "
                                   "(or takes --confirm PLATE).")
                               : _("A real run shows the vehicle, its order and where it is, and "
                                   "asks before sending."));
        free(text);
        cJSON_Delete(body);
    }
    buf_free(&path);
    return CH_OK;
}

static void explain_failure(struct ch_error *err, const struct vcmd *vc, const char *plate,
                            const cJSON *cmd)
{
    char code[64], cid[80];
    term_safe(json_str(cmd, "failure_code", ""), code, sizeof code);
    term_safe(json_str(cmd, "id", "?"), cid, sizeof cid);
    const char *status = json_str(cmd, "status", "failed");
    char what[128];
    snprintf(what, sizeof what, "%s %s", vc->type, plate);
    if (strcmp(code, "vehicle_offline") == 0) {
        err_set(err, CH_STATE, code, what,
                _("the vehicle is offline: the command could not reach it (%s)"), cid);
        err_hint(err, _("the car has no mobile signal (underground car park, tunnel?): try again "
                        "from the open air, or call support at %s"),
                 support_service_number());
    } else if (strcmp(status, "expired") == 0) {
        err_set(err, CH_STATE, code[0] ? code : "expired", what,
                _("the vehicle never confirmed the command; it expired (%s)"), cid);
        err_hint(err, _("try again in a minute; if it keeps failing call support at %s"),
                 support_service_number());
    } else {
        err_set(err, CH_STATE, code[0] ? code : "command_failed", what,
                _("the vehicle did not carry out the command (%s%s%s)"), code[0] ? code : "",
                code[0] ? ", " : "", cid);
        err_hint(err, _("call support at %s and give the command ID %s"),
                 support_service_number(), cid);
    }
}

/* The POST failed: say what that means for a command that must not run twice or late. */
static void explain_send_failure(struct ch_error *err, int rc, const char *plate)
{
    if (rc == CH_NETWORK || rc == CH_SERVICE || rc == CH_INTERRUPTED)
        err_hint(err, _("it was not saved for later (a late unlock is dangerous) and may or may not "
                        "have reached the service: check with `carhelp vehicle show %s` before "
                        "trying again, or call support at %s"),
                 plate, support_service_number());
    else if (rc == CH_STATE && strcmp(err->code, "order_not_active") == 0)
        err_hint(err, _("a car can be commanded only during an active order: start one in the app, "
                        "or call support at %s"),
                 support_service_number());
}

static int finish_command(struct session *s, const struct vcmd *vc, const char *plate,
                          const cJSON *cmd)
{
    enum vehicle_cmd_state st = vehicle_cmd_state(json_str(cmd, "status", NULL));
    if (s->json)
        session_print_json(s, cmd);
    if (st == VCMD_SUCCEEDED) {
        if (!s->json)
            printf(_("%s %s (vehicle confirmed)\n"), plate, _(vc->done));
        return CH_OK;
    }
    struct ch_error err;
    err_clear(&err);
    explain_failure(&err, vc, plate, cmd);
    return session_report(s, &err);
}

static int run_vcmd(struct session *s, const struct parsed *p, const struct vcmd *vc)
{
    struct ch_error err;
    err_clear(&err);
    struct vargs a;
    char role[16], key[37];
    if (check_args(vc->cmd, p, &a, &err))
        return session_report(s, &err);
    struct http_client *http;
    if (session_http(s, &http, &err) || caller_role(s, http, !a.dry_run, role, sizeof role, &err))
        return session_report(s, &err);
    if (is_staff(s, role) && !a.reason) {
        err_set(&err, CH_USAGE, "reason_required", "--reason",
                _("staff must give a reason for a vehicle command (it is written to the audit "
                  "log)"));
        err_hint(&err, _("e.g. --reason \"customer locked out, ticket T123\""));
        return session_report(s, &err);
    }
    if (vc->confirms && is_staff(s, role) && !a.have_confirm && s->no_input && !a.dry_run) {
        err_set(&err, CH_USAGE, "confirmation_needed", vc->cmd->name,
                _("staff confirm a vehicle command by typing the plate, and --no-input is "
                  "in force"));
        err_hint(&err, _("pass --confirm PLATE (--yes alone is not enough)"));
        return session_report(s, &err);
    }
    if (vc->confirms && !is_staff(s, role) && !s->yes && !a.have_confirm && s->no_input &&
        !a.dry_run) {
        err_set(&err, CH_USAGE, "confirmation_needed", vc->cmd->name,
                _("the %s needs confirmation, and --no-input is in force"), vc->type);
        err_hint(&err, _("pass --yes to send it without a question"));
        return session_report(s, &err);
    }
    /* One key for this invocation: every retry of the POST carries it, so the service runs
     * the command at most once. */
    http_new_idempotency_key(key);
    if (a.dry_run)
        return dry_run(s, vc, &a, role, key);

    cJSON *v = NULL;
    if (vehicle_get(http, a.target, &v, &err))
        return session_report(s, &err);
    char plate[VEHICLE_KEY_MAX], vid[VEHICLE_KEY_MAX], summary[800];
    term_safe(json_str(v, "plate", a.target), plate, sizeof plate);
    term_safe(json_str(v, "id", a.target), vid, sizeof vid);
    describe(vc, v, plate, a.order, summary, sizeof summary);
    if (!json_bool(v, "online", true)) {
        char seen[64];
        local_time_of(json_str(v, "last_seen_at", NULL), seen, sizeof seen);
        msg_warn(s, _("%s is offline (last seen %s): the command will probably fail"), plate, seen);
    }
    int rc = 0;
    if (vc->confirms)
        rc = is_staff(s, role) ? confirm_staff(s, vc, plate, a.have_confirm ? a.confirm : NULL,
                                               summary, &err)
                               : confirm_customer(s, plate, a.have_confirm ? a.confirm : NULL,
                                                  summary, &err);
    cJSON_Delete(v);
    if (rc)
        return session_report(s, &err);

    char what[128];
    snprintf(what, sizeof what, "%s %s", vc->type, plate);
    cJSON *cmd = NULL;
    rc = vehicle_command_create(http, vid, vc->type, a.reason, a.order, key, what, &cmd, &err);
    if (rc) {
        explain_send_failure(&err, rc, plate);
        return session_report(s, &err);
    }
    char cid[80], status[48];
    term_safe(json_str(cmd, "id", "?"), cid, sizeof cid);
    term_safe(json_str(cmd, "status", "queued"), status, sizeof status);
    if (a.no_wait) {
        if (s->json)
            session_print_json(s, cmd);
        else
            printf(_("%s %s: command %s %s; not confirmed by the vehicle yet\n"), vc->type, plate,
                   cid, status);
        msg_info(s, _("check with `carhelp vehicle show %s`"), plate);
        cJSON_Delete(cmd);
        return CH_OK;
    }
    cJSON_Delete(cmd);

    struct progress pr = { .s = s, .type = vc->type, .plate = plate };
    cJSON *final = NULL;
    rc = vehicle_command_wait(http, vid, cid, a.wait_s, on_progress, &pr, &final, &err);
    progress_clear(&pr);
    if (rc == CH_INTERRUPTED) {
        err_clear(&err);
        err_set(&err, CH_INTERRUPTED, "interrupted", what,
                _("stopped waiting; the command %s was NOT cancelled and may still run"), cid);
        check_hint(&err, plate, cid);
    } else if (rc && strcmp(err.code, "wait_timeout") == 0) {
        char msg[sizeof err.message];
        snprintf(msg, sizeof msg, "%s", err.message);
        err_clear(&err);
        err_set(&err, CH_SERVICE, "wait_timeout", what, _("%s; the command %s may still complete"),
                msg, cid);
        check_hint(&err, plate, cid);
    } else if (rc) {
        char msg[sizeof err.message];
        snprintf(msg, sizeof msg, "%s", err.message);
        err_set(&err, rc, err.code[0] ? err.code : "error", what,
                _("lost contact while waiting (%s); the command %s may still run"), msg, cid);
        check_hint(&err, plate, cid);
    }
    if (rc) {
        cJSON_Delete(final);
        return session_report(s, &err);
    }
    rc = finish_command(s, vc, plate, final);
    cJSON_Delete(final);
    return rc;
}

static int vcmd_validate(const struct parsed *p, const struct vcmd *vc, struct ch_error *err)
{
    struct vargs a;
    return check_args(vc->cmd, p, &a, err);
}

static int unlock_validate(const struct parsed *p, struct ch_error *e) { return vcmd_validate(p, &vcmds[0], e); }
static int lock_validate(const struct parsed *p, struct ch_error *e) { return vcmd_validate(p, &vcmds[1], e); }
static int honk_validate(const struct parsed *p, struct ch_error *e) { return vcmd_validate(p, &vcmds[2], e); }
static int flash_validate(const struct parsed *p, struct ch_error *e) { return vcmd_validate(p, &vcmds[3], e); }
static int unlock_exec(struct session *s, const struct parsed *p) { return run_vcmd(s, p, &vcmds[0]); }
static int lock_exec(struct session *s, const struct parsed *p) { return run_vcmd(s, p, &vcmds[1]); }
static int honk_exec(struct session *s, const struct parsed *p) { return run_vcmd(s, p, &vcmds[2]); }
static int flash_exec(struct session *s, const struct parsed *p) { return run_vcmd(s, p, &vcmds[3]); }

/* ---- the table ------------------------------------------------------------------------------ */

static const struct opt vcmd_opts[] = {
    { "order", 0, OPT_STRING, "ID", N_("the order the command is for (default: the active one)"),
      NULL, 0 },
    { "reason", 0, OPT_STRING, "TEXT", N_("why (required for staff; written to the audit log)"),
      NULL, 0 },
    { "no-wait", 0, OPT_FLAG, NULL, N_("return once the service has queued the command"), NULL, 0 },
    { "wait", 0, OPT_STRING, "SEC", N_("how long to wait for the vehicle to answer (default 90)"),
      NULL, 0 },
    { "confirm", 0, OPT_STRING, "PLATE",
      N_("staff: the vehicle's plate, confirming without a prompt (--yes is not enough)"), NULL,
      0 },
    { "dry-run", 0, OPT_FLAG, NULL, N_("check the input and show what would be sent; send nothing"),
      NULL, 0 },
    OPT_END,
};

#define VCMD_SYNOPSIS "PLATE|ID [--order ID] [--reason TEXT] [--no-wait] [--wait SEC] " \
                      "[--confirm PLATE] [--dry-run]"
static const char vcmd_waiting[] = N_(
    "Then it polls the command until the vehicle answers or --wait runs out, with progress on "
    "stderr. Exit 0 only once the vehicle confirmed it; 8 when it failed (offline, expired), "
    "with what to do next; 6 when the network is lost (the command may still run: "
    "`carhelp vehicle show PLATE` shows the last command); 7 when --wait runs out first. "
    "Ctrl-C stops the waiting, not the command (exit 130). The command carries one "
    "Idempotency-Key per invocation, reused by every retry, and is never saved to the outbox.");

const struct command cmd_unlock = {
    .name = "unlock",
    .synopsis = VCMD_SYNOPSIS,
    .summary = N_("remote unlock: confirm, send once, wait for the vehicle"),
    .description = N_("Unlocks the vehicle of your active order (staff: any vehicle, with "
                      "--reason). First a confirmation naming the plate, the order and where the "
                      "car is (--yes skips it; staff must type the plate, or pass --confirm PLATE "
                      "off a terminal)."),
    .details = vcmd_waiting,
    .opts = vcmd_opts,
    .min_args = 1,
    .max_args = 1,
    .flags = CMD_NEEDS_AUTH | CMD_NEEDS_NETWORK | CMD_CONFIRMS,
    .exec = unlock_exec, .validate = unlock_validate,
};

const struct command cmd_lock = {
    .name = "lock",
    .synopsis = VCMD_SYNOPSIS,
    .summary = N_("remote lock: confirm, send once, wait for the vehicle"),
    .description = N_("Locks the vehicle, with the same confirmation as unlock."),
    .details = vcmd_waiting,
    .opts = vcmd_opts,
    .min_args = 1,
    .max_args = 1,
    .flags = CMD_NEEDS_AUTH | CMD_NEEDS_NETWORK | CMD_CONFIRMS,
    .exec = lock_exec, .validate = lock_validate,
};

static const struct opt show_opts[] = {
    { "batch", 0, OPT_STRING, "FILE",
      N_("one vehicle per line ('-': stdin): a plate, an ID, JSON or CSV; NDJSON out"), NULL, 0 },
    { "parallel", 0, OPT_STRING, "N",
      N_("with --batch: requests in flight at once, 1-64 (default 8)"), NULL, 0 },
    OPT_END,
};

static const struct command cmd_vehicle_show = {
    .name = "show",
    .synopsis = "PLATE|ID | --batch FILE [--parallel N]",
    .summary = N_("lock state, doors, battery/fuel, online, last seen, location, last command"),
    .description = N_("A vehicle by plate (京AD12345; full-width input is fine) or ID. Customers "
                      "see the vehicle of their active order; staff any vehicle. The last "
                      "command line tells whether an unlock whose wait was cut short went "
                      "through. --batch FILE looks up one vehicle per line and prints one "
                      "NDJSON line each; exit 0 when every line succeeded, 1 otherwise."),
    .opts = show_opts,
    .min_args = 0,
    .max_args = 1,
    .flags = CMD_NEEDS_AUTH | CMD_NEEDS_NETWORK,
    .exec = show_exec, .validate = show_validate,
};

static const struct command cmd_vehicle_honk = {
    .name = "honk",
    .synopsis = VCMD_SYNOPSIS,
    .summary = N_("sound the horn to find the car"),
    .description = N_("Sounds the horn (no confirmation: it opens nothing)."),
    .details = vcmd_waiting,
    .opts = vcmd_opts,
    .min_args = 1,
    .max_args = 1,
    .flags = CMD_NEEDS_AUTH | CMD_NEEDS_NETWORK,
    .exec = honk_exec, .validate = honk_validate,
};

static const struct command cmd_vehicle_flash = {
    .name = "flash",
    .synopsis = VCMD_SYNOPSIS,
    .summary = N_("flash the lights to find the car"),
    .description = N_("Flashes the lights (no confirmation: it opens nothing)."),
    .details = vcmd_waiting,
    .opts = vcmd_opts,
    .min_args = 1,
    .max_args = 1,
    .flags = CMD_NEEDS_AUTH | CMD_NEEDS_NETWORK,
    .exec = flash_exec, .validate = flash_validate,
};

static const struct command *const vehicle_subs[] = { &cmd_vehicle_show, &cmd_vehicle_honk,
                                                       &cmd_vehicle_flash, NULL };

const struct command cmd_vehicle = {
    .name = "vehicle",
    .synopsis = "show|honk|flash PLATE|ID",
    .summary = N_("a vehicle's state; honk or flash to find it"),
    .subs = vehicle_subs,
};
