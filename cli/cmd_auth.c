/* login, logout and `auth status`: getting a token, giving it back, and saying whose it is. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "command.h"
#include "session.h"
#include "i18n.h"
#include "core/api.h"
#include "core/identity.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/origin.h"
#include "core/validate.h"

extern const struct command cmd_login, cmd_logout, cmd_auth;

#define DEFAULT_PROFILE "default"
#define TOKEN_MAX 1024

static const char *profile_name(const struct session *s)
{
    return s->profile && *s->profile ? s->profile : DEFAULT_PROFILE;
}

/* session_load_auth gives CARHELP_TOKEN precedence over the file. */
static bool token_from_env(void)
{
    const char *t = getenv("CARHELP_TOKEN");
    return t && *t;
}

/* "6 d", "5 h", "12 min": how long until `t`; "expired" when past. */
static void format_remaining(time_t t, time_t now, char *out, size_t outsz)
{
    long long d = (long long)t - (long long)now;
    if (d <= 0)
        snprintf(out, outsz, "%s", _("expired"));
    else if (d >= 86400)
        snprintf(out, outsz, _("expires in %lld d"), d / 86400);
    else if (d >= 3600)
        snprintf(out, outsz, _("expires in %lld h"), d / 3600);
    else
        snprintf(out, outsz, _("expires in %lld min"), (d + 59) / 60);
}

static void local_time_of(const char *rfc3339, char *out, size_t outsz)
{
    time_t t = parse_rfc3339(rfc3339 ? rfc3339 : "");
    if (t == (time_t)-1)
        term_safe(rfc3339 && *rfc3339 ? rfc3339 : "?", out, outsz);   /* as sent, made safe */
    else
        format_local_time(t, out, outsz);
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
        fputs("  ", f);
        print_padded(f, labels[i], w + 2);
        term_print(f, values[i], TERM_ONE_LINE, NULL);
        fputc('\n', f);
    }
}

/* Replaces the session's credential with a copy of what was stored, and the client's token. */
static void session_adopt(struct session *s, const struct credential *c)
{
    credential_free(&s->cred);
    s->cred.token = xstrdup(c->token);
    s->cred.expires_at = c->expires_at ? xstrdup(c->expires_at) : NULL;
    s->cred.role = c->role ? xstrdup(c->role) : NULL;
    s->cred.subject = c->subject ? xstrdup(c->subject) : NULL;
    s->cred.api_url = c->api_url ? xstrdup(c->api_url) : NULL;
    s->have_cred = true;
    if (s->http)
        http_client_set_token(s->http, c->token);
}

static void session_forget(struct session *s)
{
    credential_free(&s->cred);
    memset(&s->cred, 0, sizeof s->cred);
    s->have_cred = false;
    if (s->http)
        http_client_set_token(s->http, NULL);
}

/* POST with a JSON body that may hold a secret: the text is wiped before it is freed. */
static int post_secret(struct http_client *http, const char *path, cJSON *body,
                       const char *what, cJSON **out, struct ch_error *err)
{
    char *text = json_print(body);
    struct http_request req = { .method = "POST", .path = path, .body = text, .no_auth = 1 };
    int rc = api_call(http, &req, what, out, NULL, err);
    explicit_bzero(text, strlen(text));
    free(text);
    return rc;
}

/* A token answer (or a whoami one for --with-token) -> credentials file + session. */
static int store_credential(struct session *s, const char *token, const cJSON *from,
                            struct ch_error *err)
{
    const char *expires_at = json_str(from, "expires_at", NULL);
    const char *role = json_str(from, "role", NULL);
    const char *subject = json_str(from, "subject", NULL);
    if (!expires_at || !role || !subject)
        return err_set(err, CH_SERVICE, "malformed_response", "login",
                       _("the service's answer lacks expires_at, role or subject"));
    struct credential c = {
        .token = (char *)token, .expires_at = (char *)expires_at, .role = (char *)role,
        .subject = (char *)subject, .api_url = s->cfg.api_url,
    };
    int rc = paths_mkdir(s->paths.config_dir, 0700, err);
    if (!rc)
        rc = credentials_store(s->paths.credentials_file, profile_name(s), &c, err);
    if (rc)
        return rc;
    session_adopt(s, &c);
    return 0;
}

static int print_logged_in(struct session *s, const cJSON *whoami)
{
    const struct credential *c = &s->cred;
    if (s->json) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "subject", c->subject);
        cJSON_AddStringToObject(doc, "role", c->role);
        cJSON_AddStringToObject(doc, "expires_at", c->expires_at);
        cJSON_AddStringToObject(doc, "api_url", s->cfg.api_url);
        session_print_json(s, doc);
        cJSON_Delete(doc);
        return 0;
    }
    char until[64];
    local_time_of(c->expires_at, until, sizeof until);
    const char *name = json_str(whoami, "name", NULL);
    char *sname = term_safe_dup(name, TERM_ONE_LINE), *role = term_safe_dup(c->role, TERM_ONE_LINE),
         *subject = term_safe_dup(c->subject, TERM_ONE_LINE);
    if (name && *name)
        printf(_("Logged in as %s (%s %s) until %s\n"), sname, role, subject, until);
    else
        printf(_("Logged in as %s %s until %s\n"), role, subject, until);
    free(sname), free(role), free(subject);
    return 0;
}

/* After a successful token answer: store it, then ask whoami for the name to greet. */
static int finish_login(struct session *s, struct http_client *http, const char *token,
                        const cJSON *answer)
{
    struct ch_error err;
    err_clear(&err);
    int rc = store_credential(s, token, answer, &err);
    if (rc)
        return session_report(s, &err);
    cJSON *who = NULL;
    struct identity id;
    http_client_set_token(http, token);
    if (api_whoami(http, _("log in"), &id, &who, &err) != 0)
        who = NULL;   /* the login worked; the name is only a courtesy */
    print_logged_in(s, who);
    cJSON_Delete(who);
    return 0;
}

/* 4 to 8 ASCII digits after normalisation (full-width digits from an input method are fine). */
static int read_code(struct session *s, const char *masked, char *out, size_t outsz,
                     struct ch_error *err)
{
    char prompt[96], raw[128];
    snprintf(prompt, sizeof prompt, _("Code sent to %s: "), masked);
    int rc = session_read_line(s, prompt, true, raw, sizeof raw, err);
    if (rc) {
        explicit_bzero(raw, sizeof raw);
        return rc;
    }
    rc = normalize_input(raw, out, outsz);
    explicit_bzero(raw, sizeof raw);
    size_t n = rc ? 0 : strlen(out);
    bool ok = n >= 4 && n <= 8;
    for (size_t i = 0; ok && i < n; i++)
        ok = isdigit((unsigned char)out[i]) != 0;
    if (!ok) {
        explicit_bzero(out, outsz);
        return err_set(err, CH_USAGE, "invalid_code", "login",
                       _("the one-time code must be 4 to 8 digits"));
    }
    return 0;
}

static int login_customer(struct session *s, struct http_client *http, const char *phone_in)
{
    struct ch_error err;
    err_clear(&err);
    char phone[32], masked[32], code[32];
    if (validate_phone("--phone", phone_in, phone, sizeof phone, &err))
        return session_report(s, &err);
    mask_phone(phone, masked, sizeof masked);

    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "phone", phone);
    int rc = post_secret(http, "/v1/auth/otp", body, _("send the login code"), NULL, &err);
    cJSON_Delete(body);
    if (rc)
        return session_report(s, &err);
    msg_info(s, _("a one-time code was sent to %s"), masked);

    if ((rc = read_code(s, masked, code, sizeof code, &err)))
        return session_report(s, &err);
    body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "phone", phone);
    cJSON_AddStringToObject(body, "otp", code);
    explicit_bzero(code, sizeof code);
    cJSON *answer = NULL;
    rc = post_secret(http, "/v1/auth/token", body, _("log in"), &answer, &err);
    cJSON_Delete(body);
    if (rc) {
        if (rc == CH_AUTH)
            err_hint(&err, _("check the code sent to %s, or run `carhelp login` again for a new one"),
                     masked);
        return session_report(s, &err);
    }
    const char *token = json_str(answer, "token", NULL);
    if (!token || !*token) {
        cJSON_Delete(answer);
        err_set(&err, CH_SERVICE, "malformed_response", _("log in"),
                _("the service's answer has no token"));
        return session_report(s, &err);
    }
    rc = finish_login(s, http, token, answer);
    cJSON_Delete(answer);
    return rc;
}

static int login_staff(struct session *s, struct http_client *http, const char *staff_in)
{
    struct ch_error err;
    err_clear(&err);
    char staff[72], prompt[128], password[512];
    if (validate_object_id("--staff", staff_in, staff, sizeof staff, &err))
        return session_report(s, &err);
    snprintf(prompt, sizeof prompt, _("Password for %s: "), staff);
    if (session_read_line(s, prompt, true, password, sizeof password, &err)) {
        explicit_bzero(password, sizeof password);
        return session_report(s, &err);
    }
    if (!*password) {
        err_set(&err, CH_USAGE, "invalid_password", "login", _("the password is empty"));
        return session_report(s, &err);
    }
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "staff_id", staff);
    cJSON_AddStringToObject(body, "password", password);
    explicit_bzero(password, sizeof password);
    cJSON *answer = NULL;
    int rc = post_secret(http, "/v1/auth/token", body, _("log in"), &answer, &err);
    cJSON *pw = cJSON_GetObjectItemCaseSensitive(body, "password");
    if (cJSON_IsString(pw) && pw->valuestring)
        explicit_bzero(pw->valuestring, strlen(pw->valuestring));
    cJSON_Delete(body);
    if (rc) {
        if (rc == CH_AUTH)
            err_hint(&err, _("check the staff ID and password"));
        return session_report(s, &err);
    }
    const char *token = json_str(answer, "token", NULL);
    if (!token || !*token) {
        cJSON_Delete(answer);
        err_set(&err, CH_SERVICE, "malformed_response", _("log in"),
                _("the service's answer has no token"));
        return session_report(s, &err);
    }
    rc = finish_login(s, http, token, answer);
    cJSON_Delete(answer);
    return rc;
}

/* Printable ASCII without spaces: what a bearer token can be (RFC 6750 b64token and more). */
static bool token_shaped(const char *t)
{
    size_t n = strlen(t);
    if (n < 8 || n > TOKEN_MAX)
        return false;
    for (; *t; t++)
        if (*t <= 0x20 || *t >= 0x7f)
            return false;
    return true;
}

static int login_with_token(struct session *s, struct http_client *http)
{
    struct ch_error err;
    err_clear(&err);
    char token[TOKEN_MAX + 2];
    if (session_read_line(s, _("Token: "), true, token, sizeof token, &err)) {
        explicit_bzero(token, sizeof token);
        return session_report(s, &err);
    }
    if (!token_shaped(token)) {
        explicit_bzero(token, sizeof token);
        err_set(&err, CH_USAGE, "invalid_token", "login --with-token",
                _("the first line of stdin must be a token (printable characters, no spaces)"));
        return session_report(s, &err);
    }
    http_client_set_token(http, token);
    cJSON *who = NULL;
    struct identity id;
    int rc = api_whoami(http, _("check the token"), &id, &who, &err);
    if (rc) {
        http_client_set_token(http, s->have_cred ? s->cred.token : NULL);
        explicit_bzero(token, sizeof token);
        if (rc == CH_AUTH)
            err_hint(&err, _("the service did not accept this token; get a new one or run `carhelp login`"));
        return session_report(s, &err);
    }
    rc = store_credential(s, token, who, &err);
    explicit_bzero(token, sizeof token);
    if (rc) {
        cJSON_Delete(who);
        return session_report(s, &err);
    }
    print_logged_in(s, who);
    cJSON_Delete(who);
    return 0;
}

/* --phone, --staff, --with-token: which one, and its shape, before the config is read. */
static int login_validate(const struct parsed *p, struct ch_error *err)
{
    const char *phone = arg_str(&cmd_login, p, "phone");
    const char *staff = arg_str(&cmd_login, p, "staff");
    bool with_token = arg_flag(&cmd_login, p, "with-token");
    char scratch[72];
    if ((phone != NULL) + (staff != NULL) + with_token > 1)
        return err_set(err, CH_USAGE, "usage", "login",
                       _("--phone, --staff and --with-token cannot be combined"));
    if (phone && validate_phone("--phone", phone, scratch, sizeof scratch, err))
        return CH_USAGE;
    if (staff && validate_object_id("--staff", staff, scratch, sizeof scratch, err))
        return CH_USAGE;
    return 0;
}

static int login_exec(struct session *s, const struct parsed *p)
{
    const char *phone = arg_str(&cmd_login, p, "phone");
    const char *staff = arg_str(&cmd_login, p, "staff");
    bool with_token = arg_flag(&cmd_login, p, "with-token");
    struct ch_error err;
    err_clear(&err);

    if ((phone != NULL) + (staff != NULL) + with_token > 1) {
        err_set(&err, CH_USAGE, "usage", "login",
                _("--phone, --staff and --with-token cannot be combined"));
        return session_report(s, &err);
    }
    char asked[64];
    if (!phone && !staff && !with_token) {
        if (s->no_input) {
            err_set(&err, CH_USAGE, "usage", "login", _("pass --phone, --staff or --with-token"));
            return session_report(s, &err);
        }
        if (session_read_line(s, _("Phone: "), false, asked, sizeof asked, &err))
            return session_report(s, &err);
        phone = asked;
    }
    /* Validate what we can before any request (invalid input: exit 2, nothing sent). */
    char scratch[72];
    if (phone && validate_phone("--phone", phone, scratch, sizeof scratch, &err))
        return session_report(s, &err);
    if (staff && validate_object_id("--staff", staff, scratch, sizeof scratch, &err))
        return session_report(s, &err);

    /* A file login could not write is said now, before a code is sent or a password read. */
    if (credentials_check_storable(s->paths.credentials_file, &err))
        return session_report(s, &err);
    struct http_client *http;
    if (session_http(s, &http, &err))
        return session_report(s, &err);
    if (with_token)
        return login_with_token(s, http);
    if (staff)
        return login_staff(s, http, staff);
    return login_customer(s, http, phone);
}

static int logout_exec(struct session *s, const struct parsed *p)
{
    (void)p;
    struct ch_error err;
    err_clear(&err);
    bool from_env = token_from_env();
    char until[64];
    local_time_of(s->cred.expires_at, until, sizeof until);

    struct http_client *http;
    int rc = session_http(s, &http, &err);
    long status = 0;
    if (!rc) {
        struct http_request req = { .method = "DELETE", .path = "/v1/auth/token" };
        rc = api_call(http, &req, _("revoke the token"), NULL, &status, &err);
    }
    bool already_invalid = rc == CH_AUTH && status == 401;
    bool revoked = rc == 0;

    if (!from_env) {
        struct ch_error rm;
        err_clear(&rm);
        if (credentials_remove(s->paths.credentials_file, profile_name(s), &rm)) {
            session_forget(s);
            return session_report(s, &rm);
        }
    }
    session_forget(s);

    if (!revoked && !already_invalid) {
        if (from_env)
            msg_warn(s, _("the token could not be revoked at the service; it may stay valid until %s"),
                     until);
        else
            msg_warn(s, _("deleted the local token, but it could not be revoked at the service; "
                          "it may stay valid until %s"), until);
        return session_report(s, &err);
    }
    if (already_invalid)
        msg_info(s, _("the token was already invalid at the service"));
    if (from_env)
        msg_info(s, _("the token came from CARHELP_TOKEN: there is no local file to delete; "
                      "unset CARHELP_TOKEN"));
    if (s->json) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddBoolToObject(doc, "revoked", revoked);
        cJSON_AddBoolToObject(doc, "already_invalid", already_invalid);
        cJSON_AddBoolToObject(doc, "local_removed", !from_env);
        cJSON_AddStringToObject(doc, "api_url", s->cfg.api_url);
        session_print_json(s, doc);
        cJSON_Delete(doc);
    } else if (revoked) {
        printf("%s\n", _("Logged out: the token was revoked at the service and deleted locally."));
    } else {
        printf("%s\n", _("Logged out: the token was deleted locally."));
    }
    return 0;
}

static int status_exec(struct session *s, const struct parsed *p)
{
    (void)p;
    struct ch_error err;
    err_clear(&err);
    struct http_client *http;
    cJSON *who = NULL;
    struct identity id;
    int rc = session_http(s, &http, &err);
    if (!rc)
        rc = api_whoami(http, _("auth status"), &id, &who, &err);
    if (rc) {
        if (rc == CH_AUTH)
            err_hint(&err, _("run `carhelp login`"));
        return session_report(s, &err);
    }
    bool from_env = token_from_env();
    const char *source = from_env ? "CARHELP_TOKEN" : "credentials_file";
    /* A stored token is bound to its origin (session_load_auth checked it is this one); a
     * CARHELP_TOKEN is bound to nothing and goes where this call sends it. */
    char origin[ORIGIN_MAX];
    if (from_env || url_origin(s->cred.api_url, origin, sizeof origin) != 0)
        origin[0] = '\0';
    if (s->json) {
        cJSON *doc = cJSON_Duplicate(who, 1);
        if (!cJSON_IsObject(doc)) {
            cJSON_Delete(doc);
            doc = cJSON_CreateObject();
        }
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "api_url");
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "token_source");
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "origin");
        cJSON_AddStringToObject(doc, "api_url", s->cfg.api_url);
        cJSON_AddStringToObject(doc, "token_source", source);
        if (origin[0])
            cJSON_AddStringToObject(doc, "origin", origin);
        else
            cJSON_AddNullToObject(doc, "origin");
        session_print_json(s, doc);
        cJSON_Delete(doc);
        cJSON_Delete(who);
        return 0;
    }
    const char *expires_at = json_str(who, "expires_at", s->cred.expires_at);
    char until[64], remaining[64], expiry[160], from[PATH_MAX + 64];
    local_time_of(expires_at, until, sizeof until);
    time_t t = parse_rfc3339(expires_at ? expires_at : "");
    if (t != (time_t)-1) {
        format_remaining(t, ch_now(), remaining, sizeof remaining);
        snprintf(expiry, sizeof expiry, "%s (%s)", until, remaining);
    } else {
        snprintf(expiry, sizeof expiry, "%s", until);
    }
    if (from_env)
        snprintf(from, sizeof from, "%s", _("CARHELP_TOKEN (environment)"));
    else
        snprintf(from, sizeof from, _("credentials file %s (profile %s)"),
                 s->paths.credentials_file, profile_name(s));

    const char *name = json_str(who, "name", NULL);
    const char *labels[] = { _("role"), _("subject"), _("account"), _("expires"), _("API"),
                             _("bound to"), _("token from") };
    const char *account = json_str(who, "account_id", NULL);
    const char *values[] = { json_str(who, "role", "?"), json_str(who, "subject", "?"),
                             account && *account && strcmp(account, json_str(who, "subject", "")) != 0
                                 ? account : NULL,
                             expiry, s->cfg.api_url, origin[0] ? origin : NULL, from };
    char shown[256];
    printf(_("Logged in as %s\n"),
           term_safe(name && *name ? name : json_str(who, "subject", "?"), shown, sizeof shown));
    print_fields(stdout, labels, values, (int)(sizeof labels / sizeof labels[0]));
    cJSON_Delete(who);
    return 0;
}

static const struct opt login_opts[] = {
    { "phone", 0, OPT_STRING, "P", N_("customer: mainland mobile number (a one-time code is sent)"),
      NULL, 0 },
    { "staff", 0, OPT_STRING, "ID", N_("staff: staff ID (the password is asked without echo)"),
      NULL, 0 },
    { "with-token", 0, OPT_FLAG, NULL, N_("read a token from the first line of stdin"), NULL, 0 },
    OPT_END,
};

const struct command cmd_login = {
    .name = "login",
    .synopsis = "[--phone P] [--staff ID] [--with-token]",
    .summary = N_("log in: customer phone + one-time code, or staff ID + password"),
    .description = N_("Customers log in with their phone number and the one-time code the service "
                      "sends; staff with their staff ID and password (read without echo). "
                      "--with-token reads an existing token from stdin, never from the command "
                      "line. When stdin is not a terminal the code or password is its first line. "
                      "The token is written to the credentials file (mode 0600)."),
    .opts = login_opts,
    .min_args = 0,
    .max_args = 0,
    .flags = CMD_NEEDS_NETWORK,
    .exec = login_exec,
    .validate = login_validate,
};

const struct command cmd_logout = {
    .name = "logout",
    .synopsis = "",
    .summary = N_("revoke the token at the service and delete it locally"),
    .description = N_("Revokes the token at the service, then deletes it from the credentials "
                      "file. When the service cannot be reached the local copy is deleted anyway "
                      "and the exit status is 6: the token may stay valid until it expires."),
    .min_args = 0,
    .max_args = 0,
    .flags = CMD_NEEDS_AUTH | CMD_NEEDS_NETWORK,
    .exec = logout_exec,
};

static const struct command cmd_auth_status = {
    .name = "status",
    .synopsis = "",
    .summary = N_("who is logged in, role, token expiry, which API"),
    .description = N_("Asks the service who the token belongs to. Exit 4 when not logged in or "
                      "when the token is no longer valid."),
    .min_args = 0,
    .max_args = 0,
    .flags = CMD_NEEDS_AUTH | CMD_NEEDS_NETWORK,
    .exec = status_exec,
};

static const struct command *const auth_subs[] = { &cmd_auth_status, NULL };

const struct command cmd_auth = {
    .name = "auth",
    .synopsis = "status",
    .summary = N_("authentication status"),
    .min_args = 0,
    .max_args = 0,
    .subs = auth_subs,
};
