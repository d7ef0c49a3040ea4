#include "clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int64_t base_s;
static struct timespec base_mono;

static int64_t mono_elapsed_s(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t s = (int64_t)(now.tv_sec - base_mono.tv_sec);
    if (now.tv_nsec < base_mono.tv_nsec)
        s--;
    return s;
}

int clock_init(const char *start)
{
    clock_gettime(CLOCK_MONOTONIC, &base_mono);
    if (start == NULL) {
        base_s = (int64_t)time(NULL);
        return 0;
    }
    return clock_parse(start, &base_s);
}

int64_t clock_now(void)
{
    return base_s + mono_elapsed_s();
}

int64_t clock_now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t ns = (int64_t)(now.tv_sec - base_mono.tv_sec) * 1000000000 +
                 (int64_t)(now.tv_nsec - base_mono.tv_nsec);
    return base_s * 1000 + ns / 1000000;
}

int64_t clock_started(void)
{
    return base_s;
}

void clock_format(int64_t t, char out[RFC3339_LEN])
{
    time_t local = (time_t)(t + SERVICE_UTC_OFFSET_S);
    struct tm tm;
    gmtime_r(&local, &tm);
    snprintf(out, RFC3339_LEN, "%04d-%02d-%02dT%02d:%02d:%02d+08:00", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int parse_offset(const char *p, int *offset_s)
{
    int hh, mm, n = 0;
    if (strcmp(p, "Z") == 0 || strcmp(p, "z") == 0) {
        *offset_s = 0;
        return 0;
    }
    if ((p[0] != '+' && p[0] != '-') || sscanf(p + 1, "%2d:%2d%n", &hh, &mm, &n) != 2 ||
        n != 5 || p[6] != '\0' || hh > 23 || mm > 59)
        return -1;
    *offset_s = (p[0] == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
    return 0;
}

int clock_parse(const char *text, int64_t *out)
{
    struct tm tm = {0};
    int n = 0, offset_s;
    if (strlen(text) < 20 ||
        sscanf(text, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 || n != 19)
        return -1;
    const char *p = text + n;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    if (parse_offset(p, &offset_s) != 0 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
        tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = (int64_t)timegm(&tm) - offset_s;
    return 0;
}

struct local_time clock_local(int64_t t)
{
    time_t local = (time_t)(t + SERVICE_UTC_OFFSET_S);
    struct tm tm;
    gmtime_r(&local, &tm);
    return (struct local_time){.wday = tm.tm_wday, .minute_of_day = tm.tm_hour * 60 + tm.tm_min};
}
