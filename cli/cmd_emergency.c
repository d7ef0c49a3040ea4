/* emergency: safety guidance and the emergency numbers first, at once and offline (built in,
 * no login, no network), then an accident ticket (emergency priority, 30-minute SLA) with the
 * location and order if given, queued in the outbox when the service cannot be reached. */
#include <stdio.h>
#include <string.h>
#include "command.h"
#include "session.h"
#include "i18n.h"
#include "cmd_outbox.h"
#include "cmd_report.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/support.h"
#include "core/validate.h"

extern const struct command cmd_emergency;

static const char *const guidance[] = {
    N_("Stay calm. If anyone is hurt, call 120 first."),
    N_("Switch on the hazard lights; if it is safe, leave the car and stand behind the barrier."),
    N_("Place the warning triangle 50 m behind the car (150 m on a motorway)."),
    N_("Do not move injured people unless they are in danger where they are."),
    N_("Take photos of the scene, the damage and the other vehicle's plate; you can attach them "
       "later with `carhelp ticket attach`."),
};

static void print_guidance(FILE *f, bool col)
{
    fprintf(f, "%s%s%s\n", c_bold(col), _("EMERGENCY"), c_reset(col));
    for (size_t i = 0; i < sizeof guidance / sizeof guidance[0]; i++)
        fprintf(f, "  - %s\n", _(guidance[i]));
    fprintf(f, "\n%s\n", _("Emergency numbers (24 h, free of charge):"));
    for (const struct support_phone *p = support_phones; p->number; p++)
        if (strcmp(p->purpose, "emergency") == 0)
            fprintf(f, "  %s%-4s%s %s\n", c_bold(col), p->number, c_reset(col),
                    p->label ? _(p->label) : "");
    fprintf(f, "\n%s %s%s%s (%s %s-%s %s)\n", _("Customer service:"), c_bold(col),
            support_service_number(), c_reset(col), _("phone,"), SUPPORT_OPEN, SUPPORT_CLOSE,
            SUPPORT_TIME_ZONE);
    fflush(f);
}

static cJSON *numbers_json(void)
{
    cJSON *arr = cJSON_CreateArray();
    for (const struct support_phone *p = support_phones; p->number; p++) {
        if (strcmp(p->purpose, "emergency") != 0)
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "number", p->number);
        cJSON_AddStringToObject(o, "label", p->label ? p->label : "");
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

/* --location and --order, checked before anything else (the guidance is already out). */
static int emergency_args(const struct parsed *p, double *lat, double *lng, char *order,
                          size_t ordersz, struct ch_error *err)
{
    const char *location = arg_str(&cmd_emergency, p, "location");
    const char *order_in = arg_str(&cmd_emergency, p, "order");
    int rc = 0;
    if (location)
        rc = validate_coordinates("--location", location, lat, lng, err);
    if (!rc && order_in)
        rc = validate_object_id("--order", order_in, order, ordersz, err);
    return rc;
}

static int emergency_validate(const struct parsed *p, struct ch_error *err)
{
    double lat, lng;
    char order[80];
    return emergency_args(p, &lat, &lng, order, sizeof order, err);
}

/* First, before the config is read or anything could fail or wait. */
static void emergency_preface(struct session *s, const struct parsed *p)
{
    (void)p;
    print_guidance(s->json ? stderr : stdout, s->json ? s->color_err : s->color_out);
}

/* The problem (with its own hint), then what to do instead of the ticket. */
static int no_ticket(struct session *s, const struct ch_error *err)
{
    int rc = session_report(s, err);
    if (!s->json)
        fprintf(stderr, _("carhelp: no ticket was filed: call customer service on %s, or fix "
                          "this and run `carhelp emergency` again\n"),
                support_service_number());
    return rc;
}

static int emergency_exec(struct session *s, const struct parsed *p)
{
    const struct command *c = &cmd_emergency;
    struct ch_error err;
    err_clear(&err);
    /* A setup that cannot be used files nothing: a ticket sent with guessed settings could
     * go to the wrong service. The guidance is out already; say why, and the number. */
    if (s->no_service)
        return no_ticket(s, &s->setup_problem);
    const char *location = arg_str(c, p, "location"), *order_in = arg_str(c, p, "order");
    double lat = 0, lng = 0;
    char order[80];
    int rc = emergency_args(p, &lat, &lng, order, sizeof order, &err);
    if (!rc)
        rc = validate_api_url("api_url", s->cfg.api_url, &err);
    if (!rc)
        rc = session_load_auth(s, &err);
    if (rc)
        return no_ticket(s, &err);

    struct buf msg = BUF_INIT;
    buf_init(&msg);
    buf_puts(&msg, "Emergency reported with `carhelp emergency`.");
    if (location)
        buf_printf(&msg, " Location: %.6f,%.6f.", lat, lng);
    if (order_in)
        buf_printf(&msg, " Order: %s.", order);
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "category", "accident");
    cJSON_AddStringToObject(body, "priority", "emergency");
    cJSON_AddStringToObject(body, "message", msg.data);
    if (order_in)
        cJSON_AddStringToObject(body, "order_id", order);
    if (location) {
        cJSON *loc = cJSON_AddObjectToObject(body, "location");
        cJSON_AddNumberToObject(loc, "lat", lat);
        cJSON_AddNumberToObject(loc, "lng", lng);
    }
    char key[37], summary[160];
    http_new_idempotency_key(key);
    snprintf(summary, sizeof summary, "accident (emergency)%s%s", order_in ? ": order " : "",
             order_in ? order : "");
    struct outbox_request r = {
        .command = "emergency", .summary = summary,
        .profile = s->profile && *s->profile ? s->profile : "default",
        .api_url = s->cfg.api_url, .method = "POST", .path = "/v1/tickets", .body = body,
        .idempotency_key = key,
    };
    struct outbox_item it;
    rc = outbox_item_from_request(&r, &it, &err);
    cJSON_Delete(body);
    buf_free(&msg);
    if (rc)
        return session_report(s, &err);
    cJSON *ticket = NULL;
    rc = ticket_send_item(s, &it, &ticket);
    outbox_item_free(&it);
    if (rc) {
        fprintf(stderr, _("carhelp: call customer service on %s now if you need help\n"),
                support_service_number());
        return rc;
    }
    if (s->json) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddItemToObject(doc, "emergency_numbers", numbers_json());
        cJSON_AddStringToObject(doc, "customer_service", support_service_number());
        cJSON_AddItemToObject(doc, "ticket", ticket);
        ticket = NULL;
        session_print_json(s, doc);
        cJSON_Delete(doc);
    } else {
        printf("\n");
        ticket_print_created(s, ticket);
        printf(_("Call customer service on %s to speak to someone now.\n"),
               support_service_number());
    }
    cJSON_Delete(ticket);
    return CH_OK;
}

static const struct opt emergency_opts[] = {
    {"location", 0, OPT_STRING, "LAT,LNG", N_("where you are (WGS-84 decimal degrees)"), NULL, 0},
    {"order", 0, OPT_STRING, "ID", N_("the order (trip) you are on"), NULL, 0},
    OPT_END,
};

const struct command cmd_emergency = {
    .name = "emergency",
    .synopsis = "[--location LAT,LNG] [--order ID]",
    .summary = N_("safety guidance and emergency numbers at once, then an emergency ticket"),
    .description = N_("Prints safety guidance and the emergency numbers (122 traffic accident, "
                      "120 ambulance, 110 police, 119 fire) at once, from built-in data: no "
                      "network and no login needed. Then files an accident ticket (always "
                      "emergency priority, 30-minute SLA) with the location and order if given, "
                      "saved to the outbox (exit 10) when the service cannot be reached. Not "
                      "logged in: the guidance, the customer service number and exit 4."),
    .opts = emergency_opts,
    .min_args = 0,
    .max_args = 0,
    .flags = CMD_SAFETY,
    .exec = emergency_exec,
    .validate = emergency_validate,
    .preface = emergency_preface,
};
