/* JSON calls: http_perform plus the checks that turn whatever came back into either a parsed
 * document or a ch_error with the API's code, message and request id. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "api.h"
#include "json.h"
#include "origin.h"
#include "output.h"
#include "support.h"

/* "application/json; charset=utf-8" and "application/problem+json" are JSON. */
static int is_json_type(const char *ct)
{
    size_t n = strcspn(ct, ";");
    while (n > 0 && isspace((unsigned char)ct[n - 1]))
        n--;
    while (n > 0 && isspace((unsigned char)*ct)) {
        ct++;
        n--;
    }
    if (n == 16 && strncasecmp(ct, "application/json", 16) == 0)
        return 1;
    return n > 17 && strncasecmp(ct, "application/", 12) == 0 &&
           strncasecmp(ct + n - 5, "+json", 5) == 0;
}

/* The whole body must be one JSON document: no trailing bytes, no embedded NUL. */
static cJSON *parse_whole(const struct buf *body)
{
    if (memchr(body->data, '\0', body->len))
        return NULL;
    const char *end = NULL;
    return cJSON_ParseWithLengthOpts(body->data, body->len + 1, &end, 1);
}

/* Server text goes to a terminal: kept in the sanitiser's safe one-line form. */
static void copy_clean(char *dst, size_t dstsz, const char *src)
{
    term_safe(src, dst, dstsz);
}

static int is_snake_code(const char *s)
{
    if (!*s || strlen(s) >= sizeof ((struct ch_error *)0)->code)
        return 0;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
            return 0;
    return 1;
}

static int http_failure(const struct http_response *resp, const char *what, struct ch_error *err)
{
    const char *code = NULL, *message = NULL, *rid = NULL;
    cJSON *doc = resp->body.len ? parse_whole(&resp->body) : NULL;
    const cJSON *e = json_obj(doc, "error");
    if (e) {
        code = json_str(e, "code", NULL);
        message = json_str(e, "message", NULL);
        rid = json_str(e, "request_id", NULL);
    }
    if (code && !is_snake_code(code))
        code = NULL;

    char fallback_code[32];
    snprintf(fallback_code, sizeof fallback_code, "http_%ld", resp->status);
    int rc = exit_for_http(resp->status, code);
    err_set(err, rc, code ? code : fallback_code, what, "HTTP %ld", resp->status);
    if (message && *message)
        copy_clean(err->message, sizeof err->message, message);
    if (!err->request_id[0] && rid)
        copy_clean(err->request_id, sizeof err->request_id, rid);
    err->http_status = resp->status;

    /* A wrong code or password during login itself needs no "log in" hint; nor does a
     * frozen account, which no login helps. */
    if (code && strcmp(code, "account_frozen") == 0)
        err_hint(err, "this account is frozen: to unfreeze it, call customer service on %s",
                 support_service_number());
    else if (resp->status == 401 && !(code && strcmp(code, "invalid_credentials") == 0))
        err_hint(err, "run `carhelp login`");
    else if (resp->status >= 500)
        err_hint(err, "the service is having problems; try again later");
    else if (rc == CH_RATE && resp->retry_after_s >= 0)
        err_hint(err, "try again in %.0f s", resp->retry_after_s);
    cJSON_Delete(doc);
    return rc;
}

/* A 3xx is never success and never followed (the token would travel with it): exit 7,
 * naming only the origin it points to, through the sanitiser. */
static int redirect_refused(const struct http_response *resp, const char *what,
                            struct ch_error *err)
{
    char origin[ORIGIN_MAX], shown[ORIGIN_MAX];
    if (!resp->redirect_url[0])
        err_set(err, CH_SERVICE, "redirect", what,
                "the service answered %ld, a redirect without a Location; carhelp does not "
                "follow redirects", resp->status);
    else if (url_origin(resp->redirect_url, origin, sizeof origin) != 0)
        err_set(err, CH_SERVICE, "redirect", what,
                "the service answered %ld redirecting to an unusable address; carhelp does not "
                "follow redirects", resp->status);
    else
        err_set(err, CH_SERVICE, "redirect", what,
                "the service answered %ld redirecting to %s; carhelp does not follow redirects",
                resp->status, term_safe(origin, shown, sizeof shown));
    err_hint(err, "check the API URL (--api-url, CARHELP_API_URL or the config's api_url) "
                  "with the service's operator");
    copy_clean(err->request_id, sizeof err->request_id, resp->request_id);
    err->http_status = resp->status;
    return CH_SERVICE;
}

int api_decode(struct http_response *resp, int rc, const char *what, cJSON **out,
               struct ch_error *err)
{
    if (out)
        *out = NULL;
    if (rc != 0) {
        if (what)
            snprintf(err->what, sizeof err->what, "%s", what);
        return rc;
    }
    if (what)
        snprintf(err->what, sizeof err->what, "%s", what);

    if (resp->status >= 300 && resp->status <= 399) {
        rc = redirect_refused(resp, what, err);
        err->retries = resp->retries;
        return rc;
    }
    if (resp->status < 200 || resp->status > 299) {
        rc = http_failure(resp, what, err);
        err->retries = resp->retries;   /* err_set cleared what http_perform counted */
        return rc;
    }
    if (resp->status == 204 || resp->body.len == 0)
        return 0;
    cJSON *doc = NULL;
    if (!is_json_type(resp->content_type)) {
        rc = err_set(err, CH_SERVICE, "malformed_response", what,
                     "malformed response: expected JSON, got %s",
                     resp->content_type[0] ? resp->content_type : "no Content-Type");
    } else if (!(doc = parse_whole(&resp->body))) {
        rc = err_set(err, CH_SERVICE, "malformed_response", what,
                     "malformed response: the JSON is invalid or incomplete (%zu bytes)",
                     resp->body.len);
    }
    if (rc) {
        snprintf(err->request_id, sizeof err->request_id, "%s", resp->request_id);
        err->http_status = resp->status;
        err->retries = resp->retries;
        return rc;
    }
    if (out)
        *out = doc;
    else
        cJSON_Delete(doc);
    return 0;
}

int api_call(struct http_client *c, const struct http_request *req, const char *what,
             cJSON **out, long *status_out, struct ch_error *err)
{
    struct ch_error scratch;
    if (!err)
        err = &scratch;
    struct http_response resp;
    http_response_init(&resp);
    int rc = http_perform(c, req, &resp, err);
    if (status_out)
        *status_out = resp.status;
    rc = api_decode(&resp, rc, what, out, err);
    http_response_free(&resp);
    return rc;
}

int api_get(struct http_client *c, const char *path, const char *what, cJSON **out,
            struct ch_error *err)
{
    struct http_request req = { .method = "GET", .path = path };
    return api_call(c, &req, what, out, NULL, err);
}

int api_post(struct http_client *c, const char *path, const cJSON *body,
             const char *idempotency_key, const char *what, cJSON **out, struct ch_error *err)
{
    char *text = body ? json_print(body) : NULL;
    struct http_request req = {
        .method = "POST", .path = path, .body = text, .idempotency_key = idempotency_key,
    };
    int rc = api_call(c, &req, what, out, NULL, err);
    free(text);
    return rc;
}
