/* outbox list | flush [--dry-run] | drop ID: requests saved while the service could not be
 * reached, delivered exactly once (each with its own Idempotency-Key, profile and API). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "command.h"
#include "session.h"
#include "i18n.h"
#include "cmd_outbox.h"
#include "core/api.h"
#include "core/json.h"
#include "core/validate.h"

extern const struct command cmd_outbox;
static const struct command cmd_outbox_flush;

static void session_outbox_dir(const struct session *s, char *out, size_t outsz)
{
    outbox_dir(s->paths.state_dir, out, outsz);
}

static const char *profile_of(const struct session *s)
{
    return s->profile && *s->profile ? s->profile : "default";
}

int cmd_outbox_queue(struct session *s, struct outbox_item *it, const struct ch_error *cause)
{
    char dir[PATH_MAX];
    struct ch_error err;
    err_clear(&err);
    session_outbox_dir(s, dir, sizeof dir);
    int rc = outbox_save_item(dir, it, &err);
    if (rc) {
        session_report(s, cause);
        err_hint(&err, _("the request was NOT saved; try again when the service is reachable"));
        return session_report(s, &err);
    }
    char cmd[96];
    fprintf(stderr, "carhelp: %s: %s",
            cause->what[0] ? cause->what : term_safe(it->command, cmd, sizeof cmd), cause->message);
    if (cause->request_id[0]) /* the service did answer: support can find the request */
        fprintf(stderr, " (%s %s)", _("request"), cause->request_id);
    fputc('\n', stderr);
    fprintf(stderr, _("carhelp: saved to the outbox as %s; `carhelp outbox flush` delivers it "
                      "when the service is back\n"),
            it->id);
    if (s->json) {
        cJSON *doc = cJSON_CreateObject(), *o = cJSON_AddObjectToObject(doc, "outbox");
        cJSON_AddStringToObject(o, "id", it->id);
        cJSON_AddStringToObject(o, "command", it->command);
        cJSON_AddStringToObject(o, "idempotency_key", it->idempotency_key);
        cJSON_AddStringToObject(o, "error", cause->code);
        if (cause->request_id[0])
            cJSON_AddStringToObject(o, "request_id", cause->request_id);
        session_print_json(s, doc);
        cJSON_Delete(doc);
    }
    return CH_OUTBOX;
}

int cmd_outbox_queue_request(struct session *s, const struct outbox_request *r,
                             const struct ch_error *cause)
{
    struct outbox_request full = *r;
    struct outbox_item it;
    struct ch_error err;
    err_clear(&err);
    if (!full.profile)
        full.profile = profile_of(s);
    if (!full.api_url)
        full.api_url = s->cfg.api_url;
    int rc = outbox_item_from_request(&full, &it, &err);
    if (rc) {
        session_report(s, cause);
        return session_report(s, &err);
    }
    rc = cmd_outbox_queue(s, &it, cause);
    outbox_item_free(&it);
    return rc;
}

void outbox_mention_pending(struct session *s)
{
    char dir[PATH_MAX];
    if (!s->paths.state_dir[0])
        return;
    session_outbox_dir(s, dir, sizeof dir);
    int n = outbox_count(dir);
    if (n > 0)
        msg_info(s, n == 1 ? _("%d request waits in the outbox: run `carhelp outbox flush`")
                           : _("%d requests wait in the outbox: run `carhelp outbox flush`"),
                 n);
}

/* ---- list ---------------------------------------------------------------------------------- */

static void report_corrupt(struct session *s, char **corrupt)
{
    for (char **p = corrupt; p && *p; p++)
        msg_warn(s, _("an outbox file could not be read and was moved aside (kept, not sent): %s"),
                 *p);
}

static cJSON *item_summary_json(const struct outbox_item *it)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", it->id);
    cJSON_AddStringToObject(o, "command", it->command);
    cJSON_AddStringToObject(o, "summary", it->summary);
    cJSON_AddStringToObject(o, "created_at", it->created_at);
    cJSON_AddStringToObject(o, "profile", it->profile);
    cJSON_AddStringToObject(o, "api_url", it->api_url);
    cJSON_AddStringToObject(o, "idempotency_key", it->idempotency_key);
    cJSON_AddNumberToObject(o, "attachments", it->natt);
    return o;
}

static void local_time(const char *rfc3339, char *out, size_t outsz)
{
    time_t t = parse_rfc3339(rfc3339);
    if (t == (time_t)-1)
        term_safe(rfc3339, out, outsz);   /* shown as written, made safe */
    else
        format_local_time(t, out, outsz);
}

static int outbox_list_exec(struct session *s, const struct parsed *p)
{
    (void)p;
    char dir[PATH_MAX];
    struct ch_error err;
    struct outbox_item *items;
    char **corrupt;
    int n;
    err_clear(&err);
    session_outbox_dir(s, dir, sizeof dir);
    if (outbox_load_all(dir, &items, &n, &corrupt, &err))
        return session_report(s, &err);
    report_corrupt(s, corrupt);
    if (s->json) {
        cJSON *doc = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(doc, "items");
        for (int i = 0; i < n; i++)
            cJSON_AddItemToArray(arr, item_summary_json(&items[i]));
        cJSON_AddNullToObject(doc, "next_cursor");
        session_print_json(s, doc);
        cJSON_Delete(doc);
    } else if (n == 0) {
        printf("%s\n", _("The outbox is empty."));
    } else {
        const char *headers[] = {_("ID"), _("SAVED"), _("COMMAND"), _("PROFILE"), _("FILES"),
                                 _("SUMMARY")};
        struct table *t = table_new(6, headers);
        for (int i = 0; i < n; i++) {
            char when[64], files[16];
            local_time(items[i].created_at, when, sizeof when);
            snprintf(files, sizeof files, "%d", items[i].natt);
            const char *row[] = {items[i].id, when, items[i].command, items[i].profile, files,
                                 items[i].summary};
            table_add_row(t, row);
        }
        table_print(t, stdout, s->color_out);
        table_free(t);
    }
    outbox_free_items(items, n);
    outbox_free_names(corrupt);
    return CH_OK;
}

/* ---- flush --------------------------------------------------------------------------------- */

/* One HTTP client per (API, profile) met during a flush. */
struct client_slot {
    char *api_url, *profile;
    struct http_client *http;
    bool owned;
};

#define MAX_CLIENTS 8

struct flush_state {
    struct session *s;
    struct client_slot slots[MAX_CLIENTS];
    int nslots;
    bool last_was_origin;   /* the last item failed on session_check_origin */
};

static int client_for(struct flush_state *f, const struct outbox_item *it,
                      struct http_client **out, struct ch_error *err)
{
    struct session *s = f->s;
    for (int i = 0; i < f->nslots; i++)
        if (strcmp(f->slots[i].api_url, it->api_url) == 0 &&
            strcmp(f->slots[i].profile, it->profile) == 0) {
            *out = f->slots[i].http;
            return 0;
        }
    if (f->nslots == MAX_CLIENTS)
        return err_set(err, CH_USAGE, "outbox", it->id, "too many different services/profiles");
    int rc = validate_api_url("api_url", it->api_url, err);
    if (rc)
        return rc;
    struct client_slot *slot = &f->slots[f->nslots];
    bool same = strcmp(it->profile, profile_of(s)) == 0 && s->cfg.api_url &&
                strcmp(it->api_url, s->cfg.api_url) == 0;
    if (same) {
        /* The session's own credential (CARHELP_TOKEN counts) and client. */
        if ((rc = session_load_auth(s, err)) || (rc = session_http(s, &slot->http, err)))
            return rc;
        slot->owned = false;
    } else {
        struct credential cred;
        memset(&cred, 0, sizeof cred);
        rc = credentials_load(s->paths.credentials_file, it->profile, &cred, err);
        if (rc) {
            credential_free(&cred);
            err_hint(err, _("the item was saved for profile '%s': run 'carhelp --profile %s login'"),
                     it->profile, it->profile);
            return rc;
        }
        /* The profile's token goes only to the origin it was issued for, whatever API the
         * item was written for. */
        if ((rc = session_check_origin(s, it->profile, &cred, it->api_url, err))) {
            credential_free(&cred);
            return rc;
        }
        struct http_opts o;
        memset(&o, 0, sizeof o);
        o.base_url = it->api_url;
        o.timeout_s = s->cfg.timeout_s > 0 ? s->cfg.timeout_s : 15;
        o.connect_timeout_s = o.timeout_s < 5 ? o.timeout_s : 5;
        o.retries = s->cfg.retries >= 0 ? s->cfg.retries : 2;
        o.cacert = s->cfg.cacert;
        o.token = cred.token;
        o.verbose = s->verbosity > 0 ? s->verbosity : 0;
        o.trace = stderr;
        o.user_agent = "carhelp/" CARHELP_VERSION;
        slot->http = http_client_new(&o);
        credential_free(&cred);
        if (!slot->http)
            return err_set(err, CH_NETWORK, "http_init", _("network"),
                           _("cannot set up the HTTP client"));
        slot->owned = true;
    }
    slot->api_url = xstrdup(it->api_url);
    slot->profile = xstrdup(it->profile);
    f->nslots++;
    *out = slot->http;
    return 0;
}

static void flush_state_free(struct flush_state *f)
{
    for (int i = 0; i < f->nslots; i++) {
        if (f->slots[i].owned)
            http_client_free(f->slots[i].http);
        free(f->slots[i].api_url);
        free(f->slots[i].profile);
    }
}

/* Moves an item the service refused for good (4xx) to outbox/rejected/, kept for a human. */
static void set_aside_rejected(struct session *s, const struct outbox_item *it,
                               const struct ch_error *why)
{
    char dir[PATH_MAX], sub[PATH_MAX + 16], to[PATH_MAX + 96];
    struct ch_error err;
    session_outbox_dir(s, dir, sizeof dir);
    snprintf(sub, sizeof sub, "%s/rejected", dir);
    if (paths_mkdir(sub, 0700, &err) != 0)
        return;
    snprintf(to, sizeof to, "%s/%s.json", sub, it->id);
    if (rename(it->file, to) == 0)
        msg_warn(s, _("%s was refused by the service (%s) and moved to %s"), it->id,
                 why->code[0] ? why->code : "error", to);
}

static bool refused_for_good(const struct ch_error *e)
{
    return e->http_status >= 400 && e->http_status < 500 && e->http_status != 401 &&
           e->http_status != 408 && e->http_status != 429 && e->exit_code != CH_AUTH;
}

static void print_delivered(const struct outbox_item *it, const cJSON *res)
{
    /* The service's answer, and the file's fields: both shown through the sanitiser. */
    const char *id_raw = json_str(res, "id", NULL);
    const char *sla = json_str(res, "sla_due_at", NULL);
    char when[64] = "", idbuf[160], cmd[96];
    const char *id = id_raw ? term_safe(id_raw, idbuf, sizeof idbuf) : NULL;
    term_safe(it->command, cmd, sizeof cmd);
    if (sla)
        local_time(sla, when, sizeof when);
    if (id && *when)
        printf(_("Delivered %s (%s): %s, SLA due %s\n"), it->id, cmd, id, when);
    else if (id)
        printf(_("Delivered %s (%s): %s\n"), it->id, cmd, id);
    else
        printf(_("Delivered %s (%s)\n"), it->id, cmd);
}

static int flush_item(struct flush_state *f, const struct outbox_item *it, bool dry_run,
                      cJSON *report)
{
    struct session *s = f->s;
    struct ch_error err;
    struct http_client *http = NULL;
    cJSON *res = NULL, *line = item_summary_json(it);
    err_clear(&err);
    int rc = outbox_check_attachments(it, &err);
    if (!rc && dry_run) {
        cJSON_AddStringToObject(line, "status", "would_send");
        if (!s->json) {
            char *cmd = term_safe_dup(it->command, TERM_ONE_LINE);
            char *method = term_safe_dup(it->method ? it->method : "POST", TERM_ONE_LINE);
            char *url = term_safe_dup(it->api_url, TERM_ONE_LINE);
            char *profile = term_safe_dup(it->profile, TERM_ONE_LINE);
            char *summary = term_safe_dup(it->summary, TERM_ONE_LINE);
            printf(_("Would send %s (%s, %s to %s as %s): %s\n"), it->id, cmd, method, url,
                   profile, summary);
            free(cmd), free(method), free(url), free(profile), free(summary);
        }
        cJSON_AddItemToArray(report, line);
        return 0;
    }
    if (!rc)
        rc = client_for(f, it, &http, &err);
    f->last_was_origin = rc == CH_AUTH && strcmp(err.code, "token_origin") == 0;
    if (!rc)
        rc = outbox_deliver(http, it, NULL, &res, &err);
    if (!rc) {
        struct ch_error rm;
        err_clear(&rm);
        if (outbox_remove(it, &rm))
            session_report(s, &rm);
        cJSON_AddStringToObject(line, "status", "delivered");
        cJSON_AddItemToObject(line, "result", res ? res : cJSON_CreateNull());
        if (!s->json)
            print_delivered(it, res);
    } else {
        snprintf(err.what, sizeof err.what, "outbox %.*s", (int)sizeof err.what - 8, it->id);
        cJSON_AddStringToObject(line, "status", "failed");
        cJSON *e = cJSON_AddObjectToObject(line, "error");
        cJSON_AddStringToObject(e, "code", err.code);
        cJSON_AddStringToObject(e, "message", err.message);
        if (err.request_id[0])
            cJSON_AddStringToObject(e, "request_id", err.request_id);
        if (!s->json)
            session_report(s, &err);
        else if (err.request_id[0])
            fprintf(stderr, "carhelp: %s: %s (%s %s)\n", err.what, err.message, _("request"),
                    err.request_id);
        else
            fprintf(stderr, "carhelp: %s: %s\n", err.what, err.message);
        if (refused_for_good(&err))
            set_aside_rejected(s, it, &err);
        else if (outbox_accepts(&err))
            rc = CH_OUTBOX;   /* still waiting in the outbox */
    }
    cJSON_AddItemToArray(report, line);
    return rc;
}

static int outbox_flush_exec(struct session *s, const struct parsed *p)
{
    const struct command *c = &cmd_outbox_flush;
    bool dry_run = arg_flag(c, p, "dry-run");
    char dir[PATH_MAX];
    struct ch_error err;
    struct outbox_item *items;
    char **corrupt;
    int n, rc = 0;
    err_clear(&err);
    session_outbox_dir(s, dir, sizeof dir);
    int lock = outbox_lock(dir);
    if (lock < 0) {
        err_set(&err, CH_USAGE, "outbox_lock", "outbox flush", _("cannot lock %s"), dir);
        return session_report(s, &err);
    }
    if (outbox_load_all(dir, &items, &n, &corrupt, &err)) {
        outbox_unlock(lock);
        return session_report(s, &err);
    }
    report_corrupt(s, corrupt);
    struct flush_state f = {.s = s};
    cJSON *report = cJSON_CreateArray();
    int delivered = 0, failed = 0;
    for (int i = 0; i < n && !ch_interrupted; i++) {
        int r = flush_item(&f, &items[i], dry_run, report);
        if (r == 0)
            delivered++;
        else {
            failed++;
            if (!rc)
                rc = r;
        }
        /* A token bound to another origin holds back only that item: the next one may
         * belong to a service it was issued for. */
        if ((r == CH_AUTH && !f.last_was_origin) || r == CH_INTERRUPTED)
            break;
    }
    if (ch_interrupted && !rc)
        rc = CH_INTERRUPTED;
    if (s->json) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddItemToObject(doc, "items", report);
        cJSON_AddNullToObject(doc, "next_cursor");
        session_print_json(s, doc);
        cJSON_Delete(doc);
    } else {
        cJSON_Delete(report);
        if (n == 0)
            printf("%s\n", _("The outbox is empty."));
        else if (!dry_run)
            msg_info(s, _("%d delivered, %d still in the outbox"), delivered,
                     outbox_count(dir));
    }
    flush_state_free(&f);
    outbox_free_items(items, n);
    outbox_free_names(corrupt);
    outbox_unlock(lock);
    (void)failed;
    return rc;
}

/* ---- drop ---------------------------------------------------------------------------------- */

static int outbox_drop_exec(struct session *s, const struct parsed *p)
{
    char dir[PATH_MAX], id[80];
    struct ch_error err;
    struct outbox_item *items;
    char **corrupt;
    int n, rc;
    err_clear(&err);
    if ((rc = validate_object_id("ID", p->pos[0], id, sizeof id, &err)))
        return session_report(s, &err);
    session_outbox_dir(s, dir, sizeof dir);
    if (outbox_load_all(dir, &items, &n, &corrupt, &err))
        return session_report(s, &err);
    report_corrupt(s, corrupt);
    outbox_free_names(corrupt);
    const struct outbox_item *it = NULL;
    for (int i = 0; i < n; i++)
        if (strcmp(items[i].id, id) == 0)
            it = &items[i];
    if (!it) {
        outbox_free_items(items, n);
        err_set(&err, CH_NOT_FOUND, "not_found", "outbox drop", _("no outbox item %s"), id);
        err_hint(&err, _("`carhelp outbox list` shows the items"));
        return session_report(s, &err);
    }
    char question[512];
    char cmd[96], summary[256];
    snprintf(question, sizeof question, _("Drop %s (%s: %s) without sending it?"), it->id,
             term_safe(it->command, cmd, sizeof cmd), term_safe(it->summary, summary, sizeof summary));
    rc = session_confirm(s, question, &err);
    if (rc == 0 && !(rc = outbox_remove(it, &err))) {
        if (s->json) {
            cJSON *doc = item_summary_json(it);
            cJSON_AddBoolToObject(doc, "dropped", true);
            session_print_json(s, doc);
            cJSON_Delete(doc);
        } else {
            printf(_("Dropped %s\n"), it->id);
        }
    } else if (rc == CH_NO) {
        printf("%s\n", _("Kept."));
        rc = CH_NO;
    } else {
        rc = session_report(s, &err);
    }
    outbox_free_items(items, n);
    return rc;
}

static const struct opt flush_opts[] = {
    {"dry-run", 0, OPT_FLAG, NULL, "show what would be sent, send nothing", NULL, 0},
    OPT_END,
};

static const struct command cmd_outbox_list = {
    .name = "list",
    .synopsis = "",
    .summary = N_("requests saved while the service could not be reached"),
    .description = N_("Lists the outbox: creates (report, emergency, order dispute, ticket "
                      "comment/attach/rate) saved while the service could not be reached, oldest "
                      "first, with the profile and API each was written for."),
    .exec = outbox_list_exec,
};

static const struct command cmd_outbox_flush = {
    .name = "flush",
    .synopsis = "[--dry-run]",
    .summary = N_("deliver the saved requests, each exactly once"),
    .description = N_("Sends every saved request to the API and with the profile it was written "
                      "for, with its own Idempotency-Key, so a delivery repeated after a crash or "
                      "a lost answer never creates a second ticket. Delivered items leave the "
                      "outbox. An item whose attachment changed since it was saved is reported "
                      "and not sent; one the service refuses for good (4xx) is moved to "
                      "outbox/rejected/. Exit 0 when everything was delivered, 10 when some items "
                      "still wait for the service, otherwise the exit code of the first failure."),
    .opts = flush_opts,
    .exec = outbox_flush_exec,
};

static const struct command cmd_outbox_drop = {
    .name = "drop",
    .synopsis = "ID",
    .summary = N_("delete a saved request without sending it"),
    .description = N_("Deletes one outbox item without sending it (asks first; --yes skips the "
                      "question)."),
    .min_args = 1,
    .max_args = 1,
    .flags = CMD_CONFIRMS,
    .exec = outbox_drop_exec,
};

static const struct command *const outbox_subs[] = {
    &cmd_outbox_list, &cmd_outbox_flush, &cmd_outbox_drop, NULL,
};

const struct command cmd_outbox = {
    .name = "outbox",
    .synopsis = "list | flush [--dry-run] | drop ID",
    .summary = N_("requests saved while offline, delivered exactly once"),
    .description = N_("Creates that could not reach the service wait in "
                      "$XDG_STATE_HOME/carhelp/outbox/ (one file each, written atomically) until "
                      "`carhelp outbox flush`."),
    .subs = outbox_subs,
};
