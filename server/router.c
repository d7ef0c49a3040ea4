#include "router.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "auth.h"
#include "db.h"
#include "http.h"
#include "meta.h"
#include "orders.h"
#include "passes.h"
#include "support.h"
#include "tariffs.h"
#include "tickets.h"
#include "vehicles.h"

enum { PUBLIC = 0, NEEDS_AUTH = 1 };

struct route {
    const char *method;
    const char *pattern;
    route_handler handler;
    int flags;
    size_t body_max; /* 0: BODY_MAX */
};

static const struct route routes[] = {
    {"GET", "/v1/meta", meta_get, PUBLIC, 0},
    {"POST", "/v1/auth/otp", auth_otp_create, PUBLIC, 0},
    {"POST", "/v1/auth/token", auth_token_create, PUBLIC, 0},
    {"DELETE", "/v1/auth/token", auth_token_revoke, NEEDS_AUTH, 0},
    {"GET", "/v1/auth/whoami", auth_whoami, NEEDS_AUTH, 0},
    {"POST", "/v1/accounts/verify", accounts_verify, NEEDS_AUTH, 0},
    {"GET", "/v1/accounts/{id}", accounts_get, NEEDS_AUTH, 0},
    {"POST", "/v1/accounts/{id}/freeze", accounts_freeze, NEEDS_AUTH, 0},
    {"GET", "/v1/accounts/{id}/orders", orders_list, NEEDS_AUTH, 0},
    {"GET", "/v1/orders/{id}", orders_get, NEEDS_AUTH, 0},
    {"GET", "/v1/orders/{id}/fees", orders_fees, NEEDS_AUTH, 0},
    {"GET", "/v1/tariffs/{id}", tariffs_get, NEEDS_AUTH, 0},
    {"GET", "/v1/support/status", support_status, PUBLIC, 0},
    {"GET", "/v1/vehicles/{id}", vehicles_get, NEEDS_AUTH, 0},
    {"POST", "/v1/vehicles/{id}/commands", vehicles_command_create, NEEDS_AUTH, 0},
    {"GET", "/v1/vehicles/{id}/commands/{cmd}", vehicles_command_get, NEEDS_AUTH, 0},
    {"POST", "/v1/tickets", tickets_create, NEEDS_AUTH, 0},
    {"GET", "/v1/tickets", tickets_list, NEEDS_AUTH, 0},
    {"GET", "/v1/tickets/{id}", tickets_get, NEEDS_AUTH, 0},
    {"PATCH", "/v1/tickets/{id}", tickets_update, NEEDS_AUTH, 0},
    {"POST", "/v1/tickets/{id}/comments", tickets_comment, NEEDS_AUTH, 0},
    {"POST", "/v1/tickets/{id}/attachments", tickets_attach, NEEDS_AUTH, ATTACHMENT_BODY_MAX},
    {"POST", "/v1/tickets/{id}/rating", tickets_rate, NEEDS_AUTH, 0},
    {"GET", "/v1/tickets/{id}/pass", passes_get, NEEDS_AUTH, 0},
    {"POST", "/v1/tickets/passes/verify", passes_verify, NEEDS_AUTH, 0},
};

static void clear_params(struct request *req)
{
    for (int i = 0; i < req->nparams; i++)
        free(req->params[i]);
    req->nparams = 0;
}

/* Matches segment by segment; {x} captures one non-empty segment (into req if given). */
static bool match(const char *pattern, const char *path, struct request *req)
{
    if (req)
        clear_params(req);
    while (*pattern && *path) {
        if (*pattern != '/' || *path != '/')
            return false;
        pattern++, path++;
        size_t plen = strcspn(pattern, "/"), slen = strcspn(path, "/");
        if (pattern[0] == '{') {
            if (slen == 0 || (req && req->nparams == MAX_PATH_PARAMS))
                return false;
            if (req)
                req->params[req->nparams++] = strndup(path, slen);
        } else if (plen != slen || strncmp(pattern, path, plen) != 0) {
            return false;
        }
        pattern += plen, path += slen;
    }
    return *pattern == '\0' && *path == '\0';
}

size_t router_body_limit(const char *method, const char *path)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (strcmp(routes[i].method, method) == 0 && match(routes[i].pattern, path, NULL))
            return routes[i].body_max ? routes[i].body_max : BODY_MAX;
    return BODY_MAX;
}

static void add_allowed(char *allow, size_t size, const char *method)
{
    size_t used = strlen(allow);
    snprintf(allow + used, size - used, "%s%s", used ? ", " : "", method);
}

static void run(const struct route *r, struct request *req)
{
    db_lock();
    if (!(r->flags & NEEDS_AUTH) || auth_authenticate(req))
        r->handler(req);
    db_unlock();
}

void router_dispatch(struct request *req)
{
    const struct route *found = NULL;
    char allow[64] = "";
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (!match(routes[i].pattern, req->path, req))
            continue;
        if (strcmp(routes[i].method, req->method) == 0) {
            found = &routes[i];
            break;
        }
        add_allowed(allow, sizeof allow, routes[i].method);
    }
    if (found) {
        run(found, req);
    } else if (allow[0]) {
        clear_params(req);
        reply_error(req, 405, "method_not_allowed", "this method is not allowed on this path");
        snprintf(req->reply.allow, sizeof req->reply.allow, "%s", allow);
    } else {
        clear_params(req);
        reply_error(req, 404, "not_found", "no such resource");
    }
}
