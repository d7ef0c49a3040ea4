/* The built-in support model (see support.h). */
#include <stdio.h>
#include <string.h>
#include <ctype.h>
#include "support.h"
#include "i18n.h"

const struct support_phone support_phones[] = {
    { "customer_service", "400-000-1234", NULL, "08:00-22:00", true },
    { "sales", "400-000-5678", NULL, "09:00-18:00", false },
    { "emergency", "122", N_("traffic accident"), "24h", false },
    { "emergency", "120", N_("ambulance"), "24h", false },
    { "emergency", "110", N_("police"), "24h", false },
    { "emergency", "119", N_("fire"), "24h", false },
    { NULL, NULL, NULL, NULL, false },
};

const struct support_channel support_channels[] = {
    { "phone", "Phone", "08:00-22:00", false,
      N_("anything urgent: unlocking, a car that will not start") },
    { "app_chat", "App chat", "24h", true, N_("billing questions and receipts") },
    { "wechat", "WeChat", "08:00-22:00", false, N_("photos and follow-ups") },
    { NULL, NULL, NULL, false, NULL },
};

const char *support_service_number(void)
{
    for (const struct support_phone *p = support_phones; p->number; p++)
        if (strcmp(p->purpose, "customer_service") == 0)
            return p->number;
    return support_phones[0].number;
}

const struct support_channel *support_channel_find(const char *channel)
{
    if (!channel)
        return NULL;
    for (const struct support_channel *c = support_channels; c->channel; c++)
        if (strcmp(c->channel, channel) == 0)
            return c;
    return NULL;
}

/* Howard Hinnant's civil-calendar algorithms: days since 1970-01-01 <-> y/m/d. */
static long long days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(long long z, int *year, int *month, int *day)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long y = yoe + era * 400;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = (int)(y + (m <= 2));
    *month = m;
    *day = d;
}

static long long floor_div(long long a, long long b)
{
    long long q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

void support_zone_time(time_t t, struct zone_time *zt)
{
    long long local = (long long)t + SUPPORT_TZ_OFFSET_S;
    long long days = floor_div(local, 86400);
    long long secs = local - days * 86400;
    civil_from_days(days, &zt->year, &zt->month, &zt->day);
    zt->wday = (int)(((days % 7) + 11) % 7);   /* 1970-01-01 was a Thursday (4) */
    zt->hour = (int)(secs / 3600);
    zt->minute = (int)(secs / 60 % 60);
    zt->second = (int)(secs % 60);
}

time_t support_zone_mktime(int year, int month, int day, int hour, int minute, int second)
{
    long long days = days_from_civil(year, month, day);
    return (time_t)(days * 86400 + hour * 3600LL + minute * 60LL + second
                    - SUPPORT_TZ_OFFSET_S);
}

/* Seconds since service-zone midnight, and the midnight itself. */
static long second_of_day(time_t t, time_t *midnight, int *wday)
{
    struct zone_time zt;
    support_zone_time(t, &zt);
    long sod = zt.hour * 3600L + zt.minute * 60L + zt.second;
    if (midnight)
        *midnight = t - sod;
    if (wday)
        *wday = zt.wday;
    return sod;
}

static bool in_window(long sod, int from_min, int to_min)
{
    return sod >= from_min * 60L && sod < to_min * 60L;
}

bool support_is_open(time_t t)
{
    return in_window(second_of_day(t, NULL, NULL), SUPPORT_OPEN_MIN, SUPPORT_CLOSE_MIN);
}

bool support_is_peak(time_t t)
{
    int wday;
    long sod = second_of_day(t, NULL, &wday);
    if (wday == 0 || wday == 6)
        return in_window(sod, 10 * 60, 18 * 60);
    return in_window(sod, 7 * 60 + 30, 9 * 60 + 30) || in_window(sod, 17 * 60 + 30, 20 * 60);
}

bool support_wait_range(time_t t, int *min_s, int *max_s)
{
    int lo = 0, hi = 0;
    bool open = support_is_open(t);
    if (open) {
        bool peak = support_is_peak(t);
        lo = peak ? 300 : 60;
        hi = peak ? 600 : 180;
    }
    if (min_s)
        *min_s = lo;
    if (max_s)
        *max_s = hi;
    return open;
}

time_t support_next_open(time_t t)
{
    time_t midnight;
    long sod = second_of_day(t, &midnight, NULL);
    if (in_window(sod, SUPPORT_OPEN_MIN, SUPPORT_CLOSE_MIN))
        return t;
    if (sod < SUPPORT_OPEN_MIN * 60L)
        return midnight + SUPPORT_OPEN_MIN * 60L;
    return midnight + 86400 + SUPPORT_OPEN_MIN * 60L;
}

time_t support_next_close(time_t t)
{
    time_t midnight;
    long sod = second_of_day(t, &midnight, NULL);
    if (!in_window(sod, SUPPORT_OPEN_MIN, SUPPORT_CLOSE_MIN))
        return -1;
    return midnight + SUPPORT_CLOSE_MIN * 60L;
}

/* Every minute-of-day at which open or peak can change (midnight covers the weekday change). */
static const int boundaries_min[] = { 7 * 60 + 30, 8 * 60, 9 * 60 + 30, 10 * 60, 17 * 60 + 30,
                                      18 * 60, 20 * 60, 22 * 60, 24 * 60 };

static time_t next_boundary(time_t t)
{
    time_t midnight;
    long sod = second_of_day(t, &midnight, NULL);
    for (size_t i = 0; i < sizeof boundaries_min / sizeof boundaries_min[0]; i++)
        if (boundaries_min[i] * 60L > sod)
            return midnight + boundaries_min[i] * 60L;
    return midnight + 86400;   /* not reached: 24:00 is always after sod */
}

static bool quiet(time_t t)
{
    return support_is_open(t) && !support_is_peak(t);
}

/* End of the quiet slot containing t. */
static time_t quiet_until(time_t t)
{
    time_t b = next_boundary(t);
    for (int i = 0; i < 32 && quiet(b); i++)
        b = next_boundary(b);
    return b;
}

time_t support_best_time(time_t t, time_t *until)
{
    time_t end = t + 86400;
    for (time_t c = t; c < end; c = next_boundary(c)) {
        if (!quiet(c))
            continue;
        time_t u = quiet_until(c);
        if (u - c < SUPPORT_MIN_SLOT_S)
            continue;
        if (until)
            *until = u;
        return c;
    }
    if (until)
        *until = -1;
    return -1;
}

/* Reads exactly n digits; -1 when not digits. */
static int digits(const char **p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    return v;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

/* "HH:MM[:SS]" at *p; advances. */
static int parse_clock(const char **p, int *h, int *mi, int *sec)
{
    *h = digits(p, 2);
    if (*h < 0 || **p != ':')
        return -1;
    (*p)++;
    *mi = digits(p, 2);
    if (*mi < 0)
        return -1;
    *sec = 0;
    if (**p == ':') {
        (*p)++;
        *sec = digits(p, 2);
        if (*sec < 0)
            return -1;
        if (**p == '.') {   /* fractional seconds are accepted and dropped */
            (*p)++;
            if (!isdigit((unsigned char)**p))
                return -1;
            while (isdigit((unsigned char)**p))
                (*p)++;
        }
    }
    if (*h > 23 || *mi > 59 || *sec > 59)
        return -1;
    return 0;
}

int support_parse_at(const char *s, time_t now, time_t *out)
{
    if (!s)
        return -1;
    const char *p = s;
    int y, mo, d, h, mi, sec;
    size_t n = strlen(s);
    if (n >= 5 && n <= 8 && s[2] == ':') {
        if (parse_clock(&p, &h, &mi, &sec) < 0 || *p)
            return -1;
        struct zone_time zt;
        support_zone_time(now, &zt);
        *out = support_zone_mktime(zt.year, zt.month, zt.day, h, mi, sec);
        return 0;
    }
    y = digits(&p, 4);
    if (y < 0 || *p++ != '-')
        return -1;
    mo = digits(&p, 2);
    if (mo < 1 || mo > 12 || *p++ != '-')
        return -1;
    d = digits(&p, 2);
    if (d < 1 || d > days_in_month(y, mo))
        return -1;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return -1;
    p++;
    if (parse_clock(&p, &h, &mi, &sec) < 0)
        return -1;
    long offset = SUPPORT_TZ_OFFSET_S;   /* no offset: service-zone wall time */
    if (*p == 'Z' || *p == 'z') {
        offset = 0;
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        p++;
        int oh = digits(&p, 2);
        if (oh < 0 || oh > 23 || *p++ != ':')
            return -1;
        int om = digits(&p, 2);
        if (om < 0 || om > 59)
            return -1;
        offset = sign * (oh * 3600L + om * 60L);
    }
    if (*p)
        return -1;
    *out = support_zone_mktime(y, mo, d, h, mi, sec) + SUPPORT_TZ_OFFSET_S - offset;
    return 0;
}

void support_format_zone(time_t t, char *out, size_t outsz)
{
    struct zone_time zt;
    support_zone_time(t, &zt);
    snprintf(out, outsz, "%04d-%02d-%02d %02d:%02d", zt.year, zt.month, zt.day, zt.hour,
             zt.minute);
}

void support_format_hhmm(time_t t, char *out, size_t outsz)
{
    struct zone_time zt;
    support_zone_time(t, &zt);
    snprintf(out, outsz, "%02d:%02d", zt.hour, zt.minute);
}

void support_format_rfc3339(time_t t, char *out, size_t outsz)
{
    struct zone_time zt;
    support_zone_time(t, &zt);
    snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d+08:00", zt.year, zt.month, zt.day,
             zt.hour, zt.minute, zt.second);
}
