/* GET /v1/auth/whoami and the Whoami schema check (api/openapi.yaml): an answer that does
 * not say plainly who the caller is (a role other than customer/staff, a field of the wrong
 * type, a customer without an account) is a malformed response, exit 7, never a guess. */
#include <stdio.h>
#include <string.h>
#include "identity.h"
#include "api.h"
#include "output.h"
#include "validate.h"
#include "i18n.h"

const char *identity_role_name(enum identity_role r)
{
    return r == IDENTITY_STAFF ? "staff" : "customer";
}

static int bad_field(struct ch_error *err, const char *what, const char *field, const char *why)
{
    return err_set(err, CH_SERVICE, "malformed_response", what,
                   _("malformed identity answer from the service: '%s' %s"), field, why);
}

/* A required string member that fits in outsz bytes (with its NUL). */
static int string_field(const cJSON *doc, const char *key, bool nonempty, char *out,
                        size_t outsz, const char *what, struct ch_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);
    if (!v)
        return bad_field(err, what, key, _("is missing"));
    if (!cJSON_IsString(v) || !v->valuestring)
        return bad_field(err, what, key, _("is not a string"));
    size_t n = strlen(v->valuestring);
    if (nonempty && n == 0)
        return bad_field(err, what, key, _("is empty"));
    if (n >= outsz)
        return bad_field(err, what, key, _("is too long"));
    memcpy(out, v->valuestring, n + 1);
    return 0;
}

int identity_from_json(const cJSON *doc, const char *what, struct identity *id,
                       struct ch_error *err)
{
    memset(id, 0, sizeof *id);
    if (!cJSON_IsObject(doc))
        return err_set(err, CH_SERVICE, "malformed_response", what, "%s",
                       _("malformed identity answer from the service: expected a JSON object"));
    char role[16];
    int rc = string_field(doc, "subject", true, id->subject, sizeof id->subject, what, err);
    if (!rc && !cJSON_GetObjectItemCaseSensitive(doc, "role"))
        rc = bad_field(err, what, "role", _("is missing"));
    if (!rc) {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(doc, "role");
        if (!cJSON_IsString(r) || !r->valuestring || strlen(r->valuestring) >= sizeof role)
            rc = bad_field(err, what, "role", _("must be \"customer\" or \"staff\""));
        else
            snprintf(role, sizeof role, "%s", r->valuestring);
    }
    if (!rc && strcmp(role, "customer") && strcmp(role, "staff"))
        rc = bad_field(err, what, "role", _("must be \"customer\" or \"staff\""));
    if (rc)
        return rc;
    id->role = strcmp(role, "staff") == 0 ? IDENTITY_STAFF : IDENTITY_CUSTOMER;
    if ((rc = string_field(doc, "name", false, id->name, sizeof id->name, what, err)) ||
        (rc = string_field(doc, "expires_at", true, id->expires_at, sizeof id->expires_at, what,
                           err)))
        return rc;
    if (parse_rfc3339(id->expires_at) == (time_t)-1)
        return bad_field(err, what, "expires_at", _("is not an RFC 3339 time"));

    const cJSON *acc = cJSON_GetObjectItemCaseSensitive(doc, "account_id");
    if (!acc)
        return bad_field(err, what, "account_id", _("is missing"));
    if (id->role == IDENTITY_STAFF) {
        if (!cJSON_IsNull(acc))
            return bad_field(err, what, "account_id", _("must be null for staff"));
        return 0;
    }
    struct ch_error scratch;
    err_clear(&scratch);
    if (!cJSON_IsString(acc) || !acc->valuestring ||
        validate_object_id("account_id", acc->valuestring, id->account_id,
                           sizeof id->account_id, &scratch))
        return bad_field(err, what, "account_id", _("must be the customer's account ID"));
    return 0;
}

int api_whoami(struct http_client *h, const char *what, struct identity *id, cJSON **raw,
               struct ch_error *err)
{
    if (raw)
        *raw = NULL;
    memset(id, 0, sizeof *id);
    struct http_request req = { .method = "GET", .path = "/v1/auth/whoami" };
    struct http_response resp;
    http_response_init(&resp);
    int rc = http_perform(h, &req, &resp, err);
    cJSON *doc = NULL;
    rc = api_decode(&resp, rc, what, &doc, err);
    if (!rc && (rc = identity_from_json(doc, what, id, err)) != 0) {
        snprintf(err->request_id, sizeof err->request_id, "%s", resp.request_id);
        err->http_status = resp.status;
        err_hint(err, _("the service did not say who you are; try again later, or tell "
                        "customer service the request ID"));
    }
    http_response_free(&resp);
    if (!rc && raw)
        *raw = doc;
    else
        cJSON_Delete(doc);
    return rc;
}
