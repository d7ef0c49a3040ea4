/* The built-in support model: numbers, channels, hours, peak windows and wait estimates of
 * the customer service line (api.md "support"). This is the one place the CLI keeps this
 * table; `contact` uses it when the service cannot be reached, for `--at`, and for the best
 * time to call. Pure functions of a time_t: the service zone (Asia/Shanghai, UTC+8, no DST)
 * is computed arithmetically, never through tzdata. */
#ifndef CARHELP_SUPPORT_H
#define CARHELP_SUPPORT_H
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define SUPPORT_TIME_ZONE   "Asia/Shanghai"
#define SUPPORT_TZ_OFFSET_S (8 * 3600)
#define SUPPORT_OPEN        "08:00"
#define SUPPORT_CLOSE       "22:00"
#define SUPPORT_OPEN_MIN    (8 * 60)      /* minutes after midnight, service zone */
#define SUPPORT_CLOSE_MIN   (22 * 60)
/* A "best time" must leave at least this long before the quiet slot ends. */
#define SUPPORT_MIN_SLOT_S  (15 * 60)

struct support_phone {
    const char *purpose;     /* customer_service | sales | emergency */
    const char *number;
    const char *label;       /* emergency: "traffic accident"; NULL otherwise */
    const char *hours;       /* "08:00-22:00" | "24h" */
    bool for_support;
};

struct support_channel {
    const char *channel;     /* phone | app_chat | wechat */
    const char *name;        /* human name: "App chat" */
    const char *hours;       /* "08:00-22:00" | "24h" */
    bool always_open;
    const char *good_for;    /* what the channel is good for, one line */
};

/* NULL-terminated (number == NULL) tables. */
extern const struct support_phone support_phones[];
extern const struct support_channel support_channels[];

/* The customer service number (support_phones' customer_service entry). */
const char *support_service_number(void);
/* The built-in channel entry by id ("wechat"), or NULL. */
const struct support_channel *support_channel_find(const char *channel);

/* Wall-clock time in the service zone. wday: 0 = Sunday. */
struct zone_time {
    int year, month, day, wday, hour, minute, second;
};
void support_zone_time(time_t t, struct zone_time *zt);
/* Service-zone wall clock -> time_t (no range checks). */
time_t support_zone_mktime(int year, int month, int day, int hour, int minute, int second);

/* The phone line is open 08:00 (inclusive) to 22:00 (exclusive), every day. */
bool support_is_open(time_t t);
/* Peak windows: weekdays 07:30-09:30 and 17:30-20:00, weekends 10:00-18:00 (start
 * inclusive, end exclusive), whether or not the line is open. */
bool support_is_peak(time_t t);
/* Expected phone wait in seconds: peak 300-600, off-peak 60-180. false (and 0s) when closed. */
bool support_wait_range(time_t t, int *min_s, int *max_s);
/* t when open, else the next opening (08:00 of today or tomorrow). */
time_t support_next_open(time_t t);
/* The next closing time (22:00) at or after t when open; -1 when closed. */
time_t support_next_close(time_t t);
/* The first moment in [t, t + 24 h) when the line is open and off-peak with at least
 * SUPPORT_MIN_SLOT_S left in that quiet slot; *until (may be NULL) gets the slot's end.
 * -1 when there is none. */
time_t support_best_time(time_t t, time_t *until);

/* Parses `contact --at`: "2026-11-25T08:15[:SS]" (or with a space) in the service zone,
 * "08:15[:SS]" today in the service zone (the day of `now`), or RFC 3339 with "Z" or an
 * offset. 0 and *out on success, -1 when the text is not one of these or out of range. */
int support_parse_at(const char *s, time_t now, time_t *out);

/* "2026-11-25 08:15" (service zone), "08:15", and RFC 3339 with +08:00. */
void support_format_zone(time_t t, char *out, size_t outsz);
void support_format_hhmm(time_t t, char *out, size_t outsz);
void support_format_rfc3339(time_t t, char *out, size_t outsz);

#endif
