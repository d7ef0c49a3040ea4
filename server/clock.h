/* The service clock. It reads real time, or starts at --now and advances in real time,
 * so tests can pin "now" (peak hours, token expiry) without faking the system clock.
 * The service zone is Asia/Shanghai, a fixed UTC+08:00 (no DST since 1991). */
#ifndef CARHELP_SERVER_CLOCK_H
#define CARHELP_SERVER_CLOCK_H

#include <stdint.h>

#define SERVICE_TIME_ZONE "Asia/Shanghai"
#define SERVICE_UTC_OFFSET_S (8 * 3600)
#define RFC3339_LEN 64 /* room for any year snprintf could meet */

/* start: NULL for real time, or an RFC 3339 time. Returns -1 when start is invalid. */
int clock_init(const char *start);
/* Seconds since the epoch on the service clock. */
int64_t clock_now(void);
/* The same clock in milliseconds (clock_now_ms() / 1000 == clock_now()), for timings
 * shorter than a second (the simulated vehicle's --vehicle-delay-ms). */
int64_t clock_now_ms(void);
/* The service clock at startup (the demo seed is relative to it). */
int64_t clock_started(void);
/* "2026-11-25T19:41:00+08:00" */
void clock_format(int64_t t, char out[RFC3339_LEN]);
int clock_parse(const char *text, int64_t *out);

struct local_time {
    int wday; /* 0 = Sunday */
    int minute_of_day;
};
struct local_time clock_local(int64_t t);

#endif
