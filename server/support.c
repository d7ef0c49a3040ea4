#include "support.h"

#include <stdio.h>

#include "clock.h"
#include "db.h"
#include "http.h"

#define HOURS(h, m) ((h) * 60 + (m))
#define ALL_DAY_OPEN 0
#define ALL_DAY_CLOSE HOURS(24, 0)

struct phone {
    const char *purpose, *number, *label, *hours;
    bool for_support;
};

static const struct phone phones[] = {
    {"customer_service", "400-000-1234", NULL, "08:00-22:00", true},
    {"sales", "400-000-5678", NULL, "09:00-18:00", false},
    {"emergency", "122", "traffic accident", "24h", false},
    {"emergency", "120", "ambulance", "24h", false},
    {"emergency", "110", "police", "24h", false},
    {"emergency", "119", "fire", "24h", false},
};

/* Wait model per channel: base + per_ticket per queued ticket, capped. */
struct wait_model {
    int base_s, cap_s;
};

struct channel {
    const char *name, *hours;
    int open, close; /* minutes of the day, service zone */
    struct wait_model off_peak, peak;
};

static const struct channel channels[] = {
    {"phone", "08:00-22:00", HOURS(8, 0), HOURS(22, 0), {60, 180}, {300, 600}},
    {"app_chat", "24h", ALL_DAY_OPEN, ALL_DAY_CLOSE, {60, 180}, {60, 180}},
    {"wechat", "08:00-22:00", HOURS(8, 0), HOURS(22, 0), {300, 600}, {300, 600}},
};

#define WAIT_PER_TICKET_S 60

static bool within(int minute, int from, int to)
{
    return minute >= from && minute < to;
}

bool support_is_peak(int64_t t)
{
    struct local_time lt = clock_local(t);
    int m = lt.minute_of_day;
    if (lt.wday == 0 || lt.wday == 6)
        return within(m, HOURS(10, 0), HOURS(18, 0));
    return within(m, HOURS(7, 30), HOURS(9, 30)) || within(m, HOURS(17, 30), HOURS(20, 0));
}

static int queue_length(const char *channel)
{
    return (int)db_query_int("SELECT count(*) FROM tickets WHERE queue = ?"
                             " AND status NOT IN ('resolved','closed')",
                             channel, 0);
}

static cJSON *phones_json(void)
{
    cJSON *list = cJSON_CreateArray();
    for (size_t i = 0; i < sizeof phones / sizeof phones[0]; i++) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "purpose", phones[i].purpose);
        cJSON_AddStringToObject(p, "number", phones[i].number);
        if (phones[i].label)
            cJSON_AddStringToObject(p, "label", phones[i].label);
        cJSON_AddStringToObject(p, "hours", phones[i].hours);
        cJSON_AddBoolToObject(p, "for_support", phones[i].for_support);
        cJSON_AddItemToArray(list, p);
    }
    return list;
}

static cJSON *channel_json(const struct channel *c, int minute, bool peak)
{
    cJSON *o = cJSON_CreateObject();
    bool open = within(minute, c->open, c->close);
    int queued = queue_length(c->name);
    const struct wait_model *w = peak ? &c->peak : &c->off_peak;
    int wait = w->base_s + WAIT_PER_TICKET_S * queued;
    cJSON_AddStringToObject(o, "channel", c->name);
    cJSON_AddStringToObject(o, "hours", c->hours);
    cJSON_AddBoolToObject(o, "open_now", open);
    cJSON_AddNumberToObject(o, "queue_length", queued);
    if (open)
        cJSON_AddNumberToObject(o, "estimated_wait_s", wait > w->cap_s ? w->cap_s : wait);
    else
        cJSON_AddNullToObject(o, "estimated_wait_s");
    return o;
}

void support_status(struct request *req)
{
    int64_t now = clock_now();
    int minute = clock_local(now).minute_of_day;
    bool peak = support_is_peak(now);
    char now_text[RFC3339_LEN];
    cJSON *out = cJSON_CreateObject(), *hours, *list;
    clock_format(now, now_text);
    cJSON_AddStringToObject(out, "server_time", now_text);
    cJSON_AddStringToObject(out, "time_zone", SERVICE_TIME_ZONE);
    cJSON_AddBoolToObject(out, "open_now", within(minute, channels[0].open, channels[0].close));
    hours = cJSON_AddObjectToObject(out, "hours");
    cJSON_AddStringToObject(hours, "open", "08:00");
    cJSON_AddStringToObject(hours, "close", "22:00");
    cJSON_AddBoolToObject(out, "peak_now", peak);
    cJSON_AddItemToObject(out, "phones", phones_json());
    list = cJSON_AddArrayToObject(out, "channels");
    for (size_t i = 0; i < sizeof channels / sizeof channels[0]; i++)
        cJSON_AddItemToArray(list, channel_json(&channels[i], minute, peak));
    reply_json(req, 200, out);
}
