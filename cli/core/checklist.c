#include "checklist.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include "json.h"
#include "output.h"

const char *const checklist_type_names[] = {"vehicle", "billing", "account", "accident", "app",
                                            NULL};

struct item_def {
    const char *key, *label, *hint;
};

#define PHONE {"phone", "Registered phone number", "the number you log in with; call from it"}
#define MEMBER {"member_id", "Member ID", "in the app under Me > Account"}
#define ORDER {"order", "Order number", "carhelp order list"}
#define PLATE {"plate", "Licence plate", "on the car, or in the order"}
#define WHAT {"what", "What happened and when", "a few lines: time, place, what you saw"}
#define END {NULL, NULL, NULL}

static const struct item_def general_items[] = {
    PHONE, MEMBER, ORDER, WHAT,
    {"photos", "Photos or screenshots", "anything that shows the problem"}, END,
};

static const struct item_def vehicle_items[] = {
    PHONE, MEMBER, ORDER, PLATE, WHAT,
    {"photos", "Photos of the fault", "dashboard warning lights, damage, the odometer"},
    {"location", "Where the car is", "the address or carhelp emergency --location"}, END,
};

static const struct item_def billing_items[] = {
    PHONE, MEMBER, ORDER,
    {"trip", "Trip time and amount charged", "carhelp order show ID"},
    {"expected", "What you expected to pay", "carhelp order audit ID checks the fees"},
    {"receipt", "Payment record", "a screenshot of the charge in your payment app"}, END,
};

static const struct item_def account_items[] = {
    PHONE, MEMBER,
    {"id_last4", "Last 4 characters of your ID number", "for the identity check on the phone"},
    WHAT,
    {"screenshot", "Screenshot of the error message", "as the app shows it"},
    {"device", "Phone model and app version", "in the app under Me > About"}, END,
};

static const struct item_def accident_items[] = {
    {"call_122", "Called 122 (traffic police), 120 if anyone is hurt",
     "do this first; carhelp emergency shows the numbers"},
    PHONE, MEMBER, ORDER, PLATE,
    {"location", "Where it happened", "the address or carhelp emergency --location"},
    {"photos", "Photos of the scene", "both cars, the damage, both plates, the road"},
    {"other_plate", "The other party's licence plate", "write it down at the scene"},
    {"other_insurance", "The other party's insurance details", "insurer and policy number"},
    {"police_report", "Police report or accident number", "from the traffic police"},
    WHAT, END,
};

static const struct item_def app_items[] = {
    PHONE, MEMBER,
    {"device", "Phone model, system and app version", "in the app under Me > About"},
    {"screenshot", "Screenshot of the error", "as the app shows it"},
    WHAT, ORDER, END,
};

static const struct item_def *const tables[] = {general_items, vehicle_items, billing_items,
                                                account_items, accident_items, app_items};

int checklist_type_from_name(const char *name)
{
    for (int i = 0; checklist_type_names[i]; i++)
        if (strcmp(name, checklist_type_names[i]) == 0)
            return i + 1;
    return -1;
}

const char *checklist_type_name(enum checklist_type t)
{
    return t == CHECK_GENERAL ? "general" : checklist_type_names[t - 1];
}

void checklist_init(struct checklist *c, enum checklist_type type)
{
    memset(c, 0, sizeof *c);
    c->type = type;
    c->source = "not_logged_in";
    for (const struct item_def *d = tables[type]; d->key && c->n < CHECKLIST_MAX_ITEMS; d++) {
        struct checklist_item *it = &c->items[c->n++];
        it->key = d->key;
        it->label = d->label;
        it->hint = d->hint;
    }
}

static struct checklist_item *find(struct checklist *c, const char *key)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->items[i].key, key) == 0)
            return &c->items[i];
    return NULL;
}

/* Service text as one terminal-safe line. */
static void set(struct checklist *c, const char *key, const char *value)
{
    struct checklist_item *it = find(c, key);
    if (!it || !value || !*value)
        return;
    term_safe(value, it->value, sizeof it->value);
    it->done = true;
}

static void fill_trip(struct checklist *c, const cJSON *order)
{
    time_t start = parse_rfc3339(json_str(order, "started_at", ""));
    time_t end = parse_rfc3339(json_str(order, "ended_at", ""));
    const cJSON *total = cJSON_GetObjectItemCaseSensitive(order, "total_fen");
    char from[64], to[64] = "", money[48] = "", text[200];
    if (start == (time_t)-1)
        return;
    format_local_time(start, from, sizeof from);
    if (end != (time_t)-1)
        format_local_time(end, to, sizeof to);
    if (cJSON_IsNumber(total))
        format_fen((long long)total->valuedouble, money, sizeof money);
    snprintf(text, sizeof text, "%s to %s%s%s", from, to[0] ? to : "now (still running)",
             money[0] ? ", charged " : "", money);
    set(c, "trip", text);
}

void checklist_fill(struct checklist *c, const cJSON *account, const cJSON *order)
{
    if (account) {
        c->source = "account";
        set(c, "phone", json_str(account, "phone_masked", NULL));
        set(c, "member_id", json_str(account, "member_id", NULL));
        const char *id = json_str(account, "id_number_masked", NULL);
        size_t len = id ? strlen(id) : 0;
        if (len >= 4) {
            char last4[32];
            snprintf(last4, sizeof last4, "ends in %s", id + len - 4);
            set(c, "id_last4", last4);
        }
    }
    if (order) {
        set(c, "order", json_str(order, "id", NULL));
        set(c, "plate", json_str(json_obj(order, "vehicle"), "plate", NULL));
        fill_trip(c, order);
    }
}

static const char *title(const struct checklist *c)
{
    static const char *const titles[] = {
        "Before you call support", "Before you call about a vehicle problem",
        "Before you call about a charge", "Before you call about your account",
        "After an accident, before you call support", "Before you call about the app",
    };
    return titles[c->type];
}

static const char *source_note(const struct checklist *c)
{
    return strcmp(c->source, "account") == 0 ? "filled in from your account"
           : strcmp(c->source, "offline") == 0
               ? "the service could not be reached: fill in the open boxes yourself"
               : "not logged in: carhelp login fills in what it can";
}

void checklist_render_text(const struct checklist *c, const char *support_number, struct buf *out)
{
    buf_printf(out, "%s (%s)\n", title(c), source_note(c));
    for (int i = 0; i < c->n; i++) {
        const struct checklist_item *it = &c->items[i];
        if (it->done)
            buf_printf(out, "  [x] %s: %s\n", it->label, it->value);
        else
            buf_printf(out, "  [ ] %s  (%s)\n", it->label, it->hint);
    }
    if (support_number)
        buf_printf(out, "Customer service: %s\n", support_number);
}

void checklist_render_markdown(const struct checklist *c, const char *support_number,
                               struct buf *out)
{
    buf_printf(out, "# %s\n\n_%s_\n\n", title(c), source_note(c));
    for (int i = 0; i < c->n; i++) {
        const struct checklist_item *it = &c->items[i];
        if (it->done)
            buf_printf(out, "- [x] **%s**: %s\n", it->label, it->value);
        else
            buf_printf(out, "- [ ] **%s** (%s)\n", it->label, it->hint);
    }
    if (support_number)
        buf_printf(out, "\nCustomer service: **%s**\n", support_number);
}

cJSON *checklist_json(const struct checklist *c, const char *support_number)
{
    cJSON *doc = cJSON_CreateObject(), *items;
    cJSON_AddStringToObject(doc, "issue", checklist_type_name(c->type));
    cJSON_AddStringToObject(doc, "source", c->source);
    items = cJSON_AddArrayToObject(doc, "items");
    for (int i = 0; i < c->n; i++) {
        const struct checklist_item *it = &c->items[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "key", it->key);
        cJSON_AddStringToObject(o, "label", it->label);
        if (it->done)
            cJSON_AddStringToObject(o, "value", it->value);
        else
            cJSON_AddNullToObject(o, "value");
        cJSON_AddBoolToObject(o, "done", it->done);
        cJSON_AddStringToObject(o, "hint", it->hint);
        cJSON_AddItemToArray(items, o);
    }
    if (support_number)
        cJSON_AddStringToObject(doc, "support_number", support_number);
    return doc;
}
