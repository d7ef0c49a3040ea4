/* What to have ready before calling support, per issue type, as tables of items; items the
 * CLI can fill from the account and an order are filled (masked where personal) and ticked,
 * the rest stay open boxes. Pure: no network, no printing (the command fetches and prints). */
#ifndef CARHELP_CHECKLIST_H
#define CARHELP_CHECKLIST_H
#include <stdbool.h>
#include <cjson/cJSON.h>
#include "buf.h"

#define CHECKLIST_MAX_ITEMS 16

enum checklist_type {
    CHECK_GENERAL,   /* no --issue */
    CHECK_VEHICLE,
    CHECK_BILLING,
    CHECK_ACCOUNT,
    CHECK_ACCIDENT,
    CHECK_APP,
};

/* The --issue names (vehicle, billing, account, accident, app), NULL-terminated. */
extern const char *const checklist_type_names[];

struct checklist_item {
    const char *key;        /* "phone", "order", ... (JSON) */
    const char *label;      /* "Registered phone number" */
    const char *hint;       /* where to find it or what to do */
    char value[160];        /* filled in; "" when open */
    bool done;
};

struct checklist {
    enum checklist_type type;
    const char *source;     /* "account" | "not_logged_in" | "offline" */
    int n;
    struct checklist_item items[CHECKLIST_MAX_ITEMS];
};

/* -1 when the name is not an issue type. */
int checklist_type_from_name(const char *name);
const char *checklist_type_name(enum checklist_type t);
/* The open checklist of a type. */
void checklist_init(struct checklist *c, enum checklist_type type);
/* Fills from GET /v1/accounts/{id} (phone_masked, member_id, id_number_masked) and GET
 * /v1/orders/{id} (id, vehicle.plate, times, total); either may be NULL. Values from the
 * service are cleaned of control characters. */
void checklist_fill(struct checklist *c, const cJSON *account, const cJSON *order);
/* Renderings: plain text with [x]/[ ] boxes, Markdown task list, JSON document. */
void checklist_render_text(const struct checklist *c, const char *support_number, struct buf *out);
void checklist_render_markdown(const struct checklist *c, const char *support_number,
                               struct buf *out);
cJSON *checklist_json(const struct checklist *c, const char *support_number);

#endif
