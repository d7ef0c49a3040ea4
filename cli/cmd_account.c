/* account verify | show | freeze: identity verification as a support agent does it, the
 * account's status, and freezing a stolen or compromised account. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "command.h"
#include "session.h"
#include "batch_run.h"
#include "core/batch.h"
#include "i18n.h"
#include "core/api.h"
#include "core/identity.h"
#include "core/json.h"
#include "core/support.h"
#include "core/validate.h"

extern const struct command cmd_account;
static const struct command cmd_account_verify, cmd_account_show, cmd_account_freeze;

#define ID_MAX 72          /* validate_object_id's 64 + room */
#define REASON_MAX 500     /* characters, as the API allows */

/* ---- shared helpers --------------------------------------------------------------------- */

static bool is_staff(const char *role)
{
    return role && strcmp(role, "staff") == 0;
}

/* The caller's own account ID and role, from whoami. account_id is "" for staff. */
static int whoami(struct session *s, struct http_client *http, char *account_id, size_t idsz,
                  char *role, size_t rolesz, struct ch_error *err)
{
    (void)s;
    struct identity who;
    int rc = api_whoami(http, _("find your account"), &who, NULL, err);
    if (rc) {
        if (rc == CH_AUTH)
            err_hint(err, _("run `carhelp login`"));
        return rc;
    }
    snprintf(account_id, idsz, "%s", who.account_id);
    snprintf(role, rolesz, "%s", identity_role_name(who.role));
    return 0;
}

/* Hints for the refusals an account lookup or freeze can meet. */
static void account_hint(struct ch_error *err)
{
    if (strcmp(err->code, "verification_required") == 0)
        err_hint(err, _("verify the customer first: carhelp account verify --phone P --id-last4 NNNN"));
    else if (strcmp(err->code, "forbidden") == 0)
        err_hint(err, _("a customer can see and freeze only their own account: leave out ACCOUNT"));
    else if (err->exit_code == CH_AUTH && !err->hint[0])
        err_hint(err, _("run `carhelp login`"));
}

static int get_account(struct http_client *http, const char *id, const char *what,
                       cJSON **out, struct ch_error *err)
{
    char path[160];
    snprintf(path, sizeof path, "/v1/accounts/%s", id);
    int rc = api_get(http, path, what, out, err);
    if (rc)
        account_hint(err);
    return rc;
}

/* ---- account verify ---------------------------------------------------------------------- */

struct method {
    const char *opt;      /* command-line option */
    const char *field;    /* API field */
    const char *label;    /* for humans */
    bool from_stdin;      /* "-" reads the value from stdin */
    int (*validate)(const char *, const char *, char *, size_t, struct ch_error *);
    const char *prompt;
};

static const struct method methods[] = {
    { "id-last4", "id_last4", N_("last 4 of the ID number"), true, validate_id_last4, N_("Last 4 of the ID number: ") },
    { "id-number", "id_number", N_("ID number"), true, validate_id_number, N_("ID number: ") },
    { "order", "order_id", N_("order"), false, validate_object_id, NULL },
    { "member", "member_id", N_("member ID"), false, validate_object_id, NULL },
};
#define NMETHODS (sizeof methods / sizeof methods[0])

/* Exactly one method; its value validated (read from stdin for "-") into fact. */
static int verify_fact(struct session *s, const struct parsed *p, const struct method **m,
                       char *fact, size_t factsz, struct ch_error *err)
{
    const char *value = NULL;
    int given = 0;
    for (size_t i = 0; i < NMETHODS; i++) {
        const char *v = arg_str(&cmd_account_verify, p, methods[i].opt);
        if (v) {
            given++;
            *m = &methods[i];
            value = v;
        }
    }
    if (given != 1)
        return err_set(err, CH_USAGE, "usage", "account verify",
                       _("give exactly one of --id-last4, --id-number, --order, --member"));
    char field[32], line[128];
    snprintf(field, sizeof field, "--%s", (*m)->opt);
    if ((*m)->from_stdin && strcmp(value, "-") == 0) {
        int rc = session_read_line(s, _((*m)->prompt), true, line, sizeof line, err);
        if (rc) {
            explicit_bzero(line, sizeof line);
            if (!err->what[0])
                snprintf(err->what, sizeof err->what, "%s -", field);
            return rc;
        }
        value = line;
    }
    int rc = (*m)->validate(field, value, fact, factsz, err);
    explicit_bzero(line, sizeof line);
    return rc;
}

/* POST the body and wipe its text, which holds the fact. */
static int post_verify(struct http_client *http, cJSON *body, cJSON **out, struct ch_error *err)
{
    char *text = json_print(body);
    struct http_request req = { .method = "POST", .path = "/v1/accounts/verify", .body = text };
    int rc = api_call(http, &req, _("verify identity"), out, NULL, err);
    if (text) {
        explicit_bzero(text, strlen(text));
        free(text);
    }
    return rc;
}

/* "try again in 873 s" (the API layer's hint from Retry-After) -> when, as a clock time. */
static void lockout_hint(struct ch_error *err)
{
    double secs;
    if (sscanf(err->hint, "try again in %lf s", &secs) != 1 || secs < 0)
        return;
    time_t when = ch_now() + (time_t)(secs + 0.999);
    char at[64];
    format_local_time(when, at, sizeof at);
    err_hint(err, _("this phone is locked out of verification; try again after %s (in %.0f s)"),
             at, secs);
}

static int print_verify(struct session *s, const cJSON *res, const char *masked,
                        const struct method *m)
{
    bool ok = json_bool(res, "verified", false);
    long long left = json_int(res, "attempts_left", -1);
    if (s->json) {
        session_print_json(s, res);
        return ok ? CH_OK : CH_NO;
    }
    char id[ID_MAX];
    term_safe(json_str(res, "account_id", "?"), id, sizeof id);
    if (ok) {
        printf(_("Verified: %s belongs to account %s (checked by %s)\n"), masked, id,
               _(m->label));
        return CH_OK;
    }
    printf(_("Not verified: the phone %s and the %s given do not match an account\n"), masked,
           _(m->label));
    if (left == 0)
        printf("%s\n", _("No attempts left: further verifications of this phone are refused "
                         "for the rest of the 15-minute window"));
    else if (left > 0)
        printf(_("%lld attempt(s) left before this phone is locked out for 15 minutes\n"), left);
    return CH_NO;
}

/* --batch FILE: one verification per line, each with the fields of the options. */
struct verify_line {
    char *body;                  /* JSON text holding the fact; wiped */
};

static int verify_line_start(void *ctx, struct batch_job *job, struct ch_error *err)
{
    struct verify_line *l = job->state;
    (void)ctx;
    const char *phone_in = batch_value(job->input, (const char *const[]){ "phone", NULL });
    const struct method *m = NULL;
    const char *value = NULL;
    int given = 0;
    char phone[32], fact[ID_MAX], field[32];
    for (size_t i = 0; i < NMETHODS; i++) {
        const char *v = batch_value(job->input, (const char *const[]){ methods[i].opt, NULL });
        if (v) {
            given++;
            m = &methods[i];
            value = v;
        }
    }
    if (!phone_in)
        return err_set(err, CH_USAGE, "usage", "--batch", _("the line has no phone"));
    if (given != 1)
        return err_set(err, CH_USAGE, "usage", "--batch",
                       _("give exactly one of id-last4, id-number, order, member on each line"));
    snprintf(field, sizeof field, "%s", m->opt);
    if (validate_phone("phone", phone_in, phone, sizeof phone, err) ||
        m->validate(field, value, fact, sizeof fact, err))
        return CH_USAGE;
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "phone", phone);
    cJSON_AddStringToObject(body, m->field, fact);
    explicit_bzero(fact, sizeof fact);
    l->body = json_print(body);
    cJSON *f = cJSON_GetObjectItemCaseSensitive(body, m->field);
    if (cJSON_IsString(f) && f->valuestring)
        explicit_bzero(f->valuestring, strlen(f->valuestring));
    cJSON_Delete(body);
    job->req = (struct http_request){ .method = "POST", .path = "/v1/accounts/verify",
                                      .body = l->body };
    job->what = _("verify identity");
    return 0;
}

static int verify_line_answer(void *ctx, struct batch_job *job, int rc, cJSON *doc,
                              struct ch_error *err, cJSON **result)
{
    (void)ctx;
    (void)job;
    if (rc) {
        if (rc == CH_RATE)
            lockout_hint(err);
        else if (rc == CH_DENIED)
            err_hint(err, _("a customer can verify only their own phone"));
        return rc;
    }
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        return err_set(err, CH_SERVICE, "malformed_response", _("verify identity"),
                       "malformed response: expected a JSON object");
    }
    *result = doc;
    return json_bool(doc, "verified", false) ? CH_OK : CH_NO;
}

static void verify_line_cleanup(void *ctx, struct batch_job *job)
{
    struct verify_line *l = job->state;
    (void)ctx;
    if (l->body) {
        explicit_bzero(l->body, strlen(l->body));
        free(l->body);
    }
}

/* --batch excludes --phone and the facts; --parallel's value. */
static int verify_batch_args(const struct parsed *p, int *parallel, struct ch_error *err)
{
    if (arg_str(&cmd_account_verify, p, "phone"))
        return err_set(err, CH_USAGE, "usage", "account verify",
                       _("give --phone and a fact, or --batch FILE, not both"));
    for (size_t i = 0; i < NMETHODS; i++)
        if (arg_str(&cmd_account_verify, p, methods[i].opt))
            return err_set(err, CH_USAGE, "usage", "account verify",
                           _("give --phone and a fact, or --batch FILE, not both"));
    return batch_parallel_arg(arg_str(&cmd_account_verify, p, "parallel"), parallel, err);
}

static int verify_batch(struct session *s, const struct parsed *p, const char *file)
{
    static const char *const fields[] = { "phone", "id-last4", "id-number", "order", "member",
                                          NULL };
    static const char *const secrets[] = { "id-last4", "id-number", NULL };
    static const struct batch_ops ops = {
        .fields = fields, .bare_ok = false, .secret_fields = secrets,
        .state_size = sizeof(struct verify_line), .start = verify_line_start,
        .answer = verify_line_answer, .cleanup = verify_line_cleanup,
    };
    struct ch_error err;
    err_clear(&err);
    int parallel;
    if (verify_batch_args(p, &parallel, &err))
        return session_report(s, &err);
    return batch_run(s, file, parallel, &ops, NULL);
}

/* The command line of `account verify`, checked before anything else: a fact given as '-'
 * is read from stdin later, and checked then. */
static int verify_validate(const struct parsed *p, struct ch_error *err)
{
    int parallel;
    if (arg_str(&cmd_account_verify, p, "batch"))
        return verify_batch_args(p, &parallel, err);
    if (arg_str(&cmd_account_verify, p, "parallel"))
        return err_set(err, CH_USAGE, "usage", "--parallel", _("--parallel goes with --batch FILE"));
    const char *phone_in = arg_str(&cmd_account_verify, p, "phone");
    char phone[32], fact[ID_MAX], field[32];
    if (!phone_in)
        return err_set(err, CH_USAGE, "usage", "account verify", _("--phone is required"));
    if (validate_phone("--phone", phone_in, phone, sizeof phone, err))
        return CH_USAGE;
    const struct method *m = NULL;
    int given = 0;
    for (size_t i = 0; i < NMETHODS; i++)
        if (arg_str(&cmd_account_verify, p, methods[i].opt)) {
            given++;
            m = &methods[i];
        }
    if (given != 1)
        return err_set(err, CH_USAGE, "usage", "account verify",
                       _("give exactly one of --id-last4, --id-number, --order, --member"));
    const char *value = arg_str(&cmd_account_verify, p, m->opt);
    if (m->from_stdin && strcmp(value, "-") == 0)
        return 0;
    snprintf(field, sizeof field, "--%s", m->opt);
    int rc = m->validate(field, value, fact, sizeof fact, err);
    explicit_bzero(fact, sizeof fact);
    return rc;
}

static int verify_exec(struct session *s, const struct parsed *p)
{
    struct ch_error err;
    err_clear(&err);
    const char *phone_in = arg_str(&cmd_account_verify, p, "phone");
    const struct method *m = NULL;
    char phone[32], masked[32], fact[ID_MAX];
    const char *batch = arg_str(&cmd_account_verify, p, "batch");
    if (batch)
        return verify_batch(s, p, batch);
    if (arg_str(&cmd_account_verify, p, "parallel")) {
        err_set(&err, CH_USAGE, "usage", "--parallel", _("--parallel goes with --batch FILE"));
        return session_report(s, &err);
    }
    if (!phone_in) {
        err_set(&err, CH_USAGE, "usage", "account verify", _("--phone is required"));
        return session_report(s, &err);
    }
    if (validate_phone("--phone", phone_in, phone, sizeof phone, &err) ||
        verify_fact(s, p, &m, fact, sizeof fact, &err))
        return session_report(s, &err);
    mask_phone(phone, masked, sizeof masked);

    struct http_client *http;
    if (session_http(s, &http, &err))
        return session_report(s, &err);
    cJSON *body = cJSON_CreateObject(), *res = NULL;
    cJSON_AddStringToObject(body, "phone", phone);
    cJSON_AddStringToObject(body, m->field, fact);
    explicit_bzero(fact, sizeof fact);
    int rc = post_verify(http, body, &res, &err);
    cJSON *f = cJSON_GetObjectItemCaseSensitive(body, m->field);
    if (cJSON_IsString(f) && f->valuestring)
        explicit_bzero(f->valuestring, strlen(f->valuestring));
    cJSON_Delete(body);
    if (rc) {
        if (rc == CH_RATE)
            lockout_hint(&err);
        else if (rc == CH_DENIED)
            err_hint(&err, _("a customer can verify only their own phone"));
        return session_report(s, &err);
    }
    rc = print_verify(s, res, masked, m);
    cJSON_Delete(res);
    return rc;
}

/* ---- account show ------------------------------------------------------------------------ */

static void print_field(const char *label, const char *value)
{
    fputs("  ", stdout);
    print_padded(stdout, label, 15);
    printf("%s\n", value);
}

static void print_money(const char *label, const cJSON *a, const char *key)
{
    char text[48];
    format_fen(json_int(a, key, 0), text, sizeof text);
    print_field(label, text);
}

static void print_account(struct session *s, const cJSON *a)
{
    char name[160], id[ID_MAX], status[32], buf[128], member[ID_MAX], level[32];
    term_safe(json_str(a, "name", ""), name, sizeof name);
    term_safe(json_str(a, "id", "?"), id, sizeof id);
    term_safe(json_str(a, "status", "?"), status, sizeof status);
    printf("%s%s%s (%s)\n", c_bold(s->color_out), name, c_reset(s->color_out), id);
    bool active = strcmp(status, "active") == 0;
    printf("  ");
    print_padded(stdout, _("status"), 15);
    printf("%s%s%s\n", active ? c_green(s->color_out) : c_red(s->color_out), status,
           c_reset(s->color_out));
    print_money(_("balance"), a, "balance_fen");
    print_money(_("deposit"), a, "deposit_fen");
    term_safe(json_str(a, "licence_status", "?"), buf, sizeof buf);
    print_field(_("licence"), buf);
    term_safe(json_str(a, "member_level", "?"), level, sizeof level);
    term_safe(json_str(a, "member_id", "?"), member, sizeof member);
    snprintf(buf, sizeof buf, "%s (%s)", level, member);
    print_field(_("member level"), buf);
    /* Masked by the service; masked again here so a careless server cannot leak them. */
    term_safe(json_str(a, "phone_masked", ""), name, sizeof name);
    mask_phone(name, buf, sizeof buf);
    print_field(_("phone"), buf);
    term_safe(json_str(a, "id_number_masked", ""), name, sizeof name);
    mask_id_number(name, buf, sizeof buf);
    print_field(_("ID number"), buf);
    if (strcmp(status, "frozen") == 0)
        printf(_("This account is frozen: it cannot start orders or send vehicle commands. "
                 "To unfreeze it, call customer service on %s.\n"),
               support_service_number());
}

/* The ACCOUNT argument validated, or the caller's own (whoami) when absent. */
static int resolve_account(struct session *s, struct http_client *http, const struct parsed *p,
                           char *id, size_t idsz, char *role, size_t rolesz,
                           struct ch_error *err)
{
    if (p->npos > 0)
        return validate_object_id("ACCOUNT", p->pos[0], id, idsz, err);
    int rc = whoami(s, http, id, idsz, role, rolesz, err);
    if (!rc && !id[0]) {
        err_clear(err);   /* not the whoami's request id: this refusal is ours */
        rc = err_set(err, CH_USAGE, "usage", "ACCOUNT",
                     _("staff have no account of their own: name the ACCOUNT"));
    }
    return rc;
}

/* [ACCOUNT]: show. */
static int account_arg_validate(const struct parsed *p, struct ch_error *err)
{
    char id[ID_MAX];
    return p->npos > 0 ? validate_object_id("ACCOUNT", p->pos[0], id, sizeof id, err) : 0;
}

static int show_exec(struct session *s, const struct parsed *p)
{
    struct ch_error err;
    err_clear(&err);
    char id[ID_MAX], role[16] = "";
    struct http_client *http;
    cJSON *a = NULL;
    if (session_http(s, &http, &err) ||
        resolve_account(s, http, p, id, sizeof id, role, sizeof role, &err) ||
        get_account(http, id, _("show account"), &a, &err))
        return session_report(s, &err);
    if (s->json)
        session_print_json(s, a);
    else
        print_account(s, a);
    cJSON_Delete(a);
    return CH_OK;
}

/* ---- account freeze ---------------------------------------------------------------------- */

static size_t utf8_chars(const char *t)
{
    size_t n = 0;
    for (; *t; t++)
        n += ((unsigned char)*t & 0xC0) != 0x80;
    return n;
}

static int check_reason(const char *reason, struct ch_error *err)
{
    if (!reason)
        return 0;
    size_t n = strspn(reason, " \t\r\n");
    if (!reason[n])
        return err_set(err, CH_USAGE, "invalid_reason", "--reason",
                       _("expected a text saying why the account is frozen, got an empty one"));
    if (utf8_chars(reason) > REASON_MAX)
        return err_set(err, CH_USAGE, "invalid_reason", "--reason",
                       _("expected at most %d characters"), REASON_MAX);
    for (const unsigned char *c = (const unsigned char *)reason; *c; c++)
        if (*c < 0x20 && *c != '\t')
            return err_set(err, CH_USAGE, "invalid_reason", "--reason",
                           _("expected one line of text without control characters"));
    return 0;
}

static int freeze_validate(const struct parsed *p, struct ch_error *err)
{
    if (account_arg_validate(p, err))
        return CH_USAGE;
    return check_reason(arg_str(&cmd_account_freeze, p, "reason"), err);
}

static int reason_needed(struct ch_error *err)
{
    err_set(err, CH_USAGE, "reason_required", "--reason",
            _("staff must say why the account is frozen (it goes to the audit log)"));
    err_hint(err, _("add --reason TEXT, e.g. --reason 'phone reported stolen'"));
    return CH_USAGE;
}

/* Asks on the TTY, naming the account; --yes skips it. */
static int confirm_freeze(struct session *s, const char *id, const cJSON *a, struct ch_error *err)
{
    char name[160], question[512];
    term_safe(json_str(a, "name", ""), name, sizeof name);
    if (strcmp(json_str(a, "status", ""), "frozen") == 0)
        snprintf(question, sizeof question, _("Account %s (%s) is already frozen. Freeze it again?"),
                 id, name);
    else
        snprintf(question, sizeof question,
                 _("Freeze account %s (%s)? Every session of it is signed out, and it cannot log "
                   "in, start orders or use a vehicle until support unfreezes it."),
                 id, name);
    int rc = session_confirm(s, question, err);
    if (rc && !err->what[0])
        snprintf(err->what, sizeof err->what, "account freeze");
    return rc;
}

static int post_freeze(struct http_client *http, const char *id, const char *reason,
                       cJSON **out, struct ch_error *err)
{
    char path[160];
    snprintf(path, sizeof path, "/v1/accounts/%s/freeze", id);
    cJSON *body = cJSON_CreateObject();
    if (reason)
        cJSON_AddStringToObject(body, "reason", reason);
    /* No Idempotency-Key: the freeze is never retried blindly, nor queued in the outbox. */
    int rc = api_post(http, path, body, NULL, _("freeze account"), out, err);
    cJSON_Delete(body);
    if (rc == CH_NETWORK || rc == CH_SERVICE || rc == CH_INTERRUPTED)
        err_hint(err, _("the freeze may or may not have happened: check with `carhelp account "
                        "show %s`, or call customer service on %s"),
                 id, support_service_number());
    else if (rc)
        account_hint(err);
    return rc;
}

/* Who is asking and which account: the ACCOUNT argument, the role from the credentials file,
 * and whoami only when one of them is still unknown and needed. */
static int freeze_target(struct session *s, struct http_client *http, const struct parsed *p,
                         const char *reason, char *id, size_t idsz, char *role, size_t rolesz,
                         struct ch_error *err)
{
    char own[ID_MAX] = "";
    if (p->npos > 0 && (role[0] || reason))
        return 0;
    int rc = whoami(s, http, own, sizeof own, role, rolesz, err);
    if (rc || p->npos > 0)
        return rc;
    err_clear(err);
    if (!own[0])
        return is_staff(role) && !reason
                   ? reason_needed(err)
                   : err_set(err, CH_USAGE, "usage", "ACCOUNT",
                             _("staff have no account of their own: name the ACCOUNT"));
    snprintf(id, idsz, "%s", own);
    return 0;
}

static int freeze_exec(struct session *s, const struct parsed *p)
{
    struct ch_error err;
    err_clear(&err);
    const char *reason = arg_str(&cmd_account_freeze, p, "reason");
    char id[ID_MAX] = "", role[16] = "";
    if ((p->npos > 0 && validate_object_id("ACCOUNT", p->pos[0], id, sizeof id, &err)) ||
        check_reason(reason, &err))
        return session_report(s, &err);
    /* Everything that can be refused without the service is refused before any request. */
    if (!s->yes && s->no_input) {
        err_set(&err, CH_USAGE, "confirmation_needed", "account freeze",
                _("a freeze needs confirmation, and --no-input is in force"));
        err_hint(&err, _("pass --yes to freeze without a question"));
        return session_report(s, &err);
    }
    if (s->cred.role)
        snprintf(role, sizeof role, "%s", s->cred.role);
    if (is_staff(role) && !reason) {
        reason_needed(&err);
        return session_report(s, &err);
    }

    struct http_client *http;
    cJSON *a = NULL;
    if (session_http(s, &http, &err) ||
        freeze_target(s, http, p, reason, id, sizeof id, role, sizeof role, &err))
        return session_report(s, &err);
    if (is_staff(role) && !reason) {
        err_clear(&err);
        reason_needed(&err);
        return session_report(s, &err);
    }
    if (get_account(http, id, _("freeze account"), &a, &err) ||
        confirm_freeze(s, id, a, &err)) {
        cJSON_Delete(a);
        if (err.exit_code == CH_NETWORK || err.exit_code == CH_SERVICE)
            err_hint(&err, _("nothing was frozen; try again, or call customer service on %s"),
                     support_service_number());
        return session_report(s, &err);
    }
    cJSON_Delete(a);
    a = NULL;
    if (post_freeze(http, id, reason, &a, &err))
        return session_report(s, &err);
    if (s->json) {
        session_print_json(s, a);
    } else {
        char name[160];
        term_safe(json_str(a, "name", ""), name, sizeof name);
        printf(_("Account %s (%s) is frozen: every session of it is signed out.\n"), id, name);
    }
    cJSON_Delete(a);
    return CH_OK;
}

/* ---- the table --------------------------------------------------------------------------- */

static const struct opt verify_opts[] = {
    { "phone", 0, OPT_STRING, "P", N_("the customer's mainland mobile number"), NULL, 0 },
    { "id-last4", 0, OPT_STRING, "NNNN",
      N_("last 4 characters of the resident ID number ('-': read from stdin)"), NULL, OPTF_SECRET },
    { "id-number", 0, OPT_STRING, "N",
      N_("the whole 18-character resident ID number ('-': read from stdin)"), NULL, OPTF_SECRET },
    { "order", 0, OPT_STRING, "ID", N_("an order of the account"), NULL, 0 },
    { "member", 0, OPT_STRING, "ID", N_("the member ID"), NULL, 0 },
    { "batch", 0, OPT_STRING, "FILE",
      N_("one verification per line ('-': stdin): JSON or CSV with the option names; NDJSON out"),
      NULL, 0 },
    { "parallel", 0, OPT_STRING, "N",
      N_("with --batch: requests in flight at once, 1-64 (default 8)"), NULL, 0 },
    OPT_END,
};

static const struct command cmd_account_verify = {
    .name = "verify",
    .synopsis = "--phone P (--id-last4 NNNN | --id-number N | --order ID | --member ID) | "
                "--batch FILE [--parallel N]",
    .summary = N_("verify a customer's identity: phone plus one fact"),
    .description = N_("Identity verification as a support agent does it: the phone number plus "
                      "exactly one of the last four characters of the resident ID, the whole ID "
                      "number, an order ID or the member ID. '-' as the value of --id-last4 or "
                      "--id-number reads it from the first line of stdin (without echo on a "
                      "terminal), so it stays out of ps and shell history. Exit 0 verified, 1 not "
                      "verified (the attempts left are shown), 9 locked out: 5 failures for one "
                      "phone within 15 minutes lock its verification until the window ends. A "
                      "successful verification by staff lets the same login show and freeze the "
                      "account. --batch FILE verifies one line each ({\"phone\":...,\"member\":"
                      "...} or CSV under a header such as phone,id-last4) and prints one NDJSON "
                      "line each, ID numbers masked; exit 0 when every line is verified, 1 "
                      "otherwise."),
    .opts = verify_opts,
    .min_args = 0,
    .max_args = 0,
    .flags = CMD_NEEDS_AUTH | CMD_NEEDS_NETWORK,
    .exec = verify_exec, .validate = verify_validate,
};

static const struct command cmd_account_show = {
    .name = "show",
    .synopsis = "[ACCOUNT]",
    .summary = N_("an account's status, balance, deposit, licence and member level"),
    .description = N_("Shows an account (by default your own): status (active, frozen or "
                      "suspended), balance, deposit, licence status and member level, with the "
                      "phone and ID number masked. Staff must verify the account first with "
                      "`carhelp account verify`."),
    .min_args = 0,
    .max_args = 1,
    .flags = CMD_NEEDS_AUTH | CMD_NEEDS_NETWORK,
    .exec = show_exec, .validate = account_arg_validate,
};

static const struct opt freeze_opts[] = {
    { "reason", 0, OPT_STRING, "TEXT",
      N_("why the account is frozen (required for staff; written to the audit log)"), NULL, 0 },
    OPT_END,
};

static const struct command cmd_account_freeze = {
    .name = "freeze",
    .synopsis = "[ACCOUNT] --reason TEXT",
    .summary = N_("freeze a stolen or compromised account"),
    .description = N_("Freezes an account (by default your own) so it cannot start orders. Asks "
                      "for confirmation on a terminal, naming the account; --yes answers it, and "
                      "with --no-input and no --yes nothing is done (exit 2). Staff must have "
                      "verified the account and give --reason, which goes to the audit log. "
                      "Freezing a frozen account changes nothing. A freeze is never queued or "
                      "retried: when the service cannot be reached the exit status is 6 or 7."),
    .opts = freeze_opts,
    .min_args = 0,
    .max_args = 1,
    .flags = CMD_NEEDS_AUTH | CMD_NEEDS_NETWORK | CMD_CONFIRMS,
    .exec = freeze_exec, .validate = freeze_validate,
};

static const struct command *const account_subs[] = {
    &cmd_account_verify, &cmd_account_show, &cmd_account_freeze, NULL,
};

const struct command cmd_account = {
    .name = "account",
    .synopsis = "verify|show|freeze",
    .summary = N_("identity verification, account status, freezing a stolen account"),
    .min_args = 0,
    .max_args = 0,
    .subs = account_subs,
};
