/* Input validation before any request (cli.md "Input validation"). Every validator
 * normalises Chinese input-method forms first, then checks the shape, and names the field
 * and the expected form when it says no. ID numbers are never echoed back. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "validate.h"

#define ECHO_MAX 48   /* bytes of user input quoted back in an error */

/* Decodes one UTF-8 sequence strictly (no overlongs, no surrogates, <= U+10FFFF).
 * Returns its length, or 0 when invalid. */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t n;
    uint32_t c, min;
    if ((s[0] & 0xE0) == 0xC0) {
        n = 2, c = s[0] & 0x1F, min = 0x80;
    } else if ((s[0] & 0xF0) == 0xE0) {
        n = 3, c = s[0] & 0x0F, min = 0x800;
    } else if ((s[0] & 0xF8) == 0xF0) {
        n = 4, c = s[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;   /* also stops at the NUL terminator */
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return n;
}

static size_t utf8_encode(uint32_t c, char *out)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xC0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

enum norm_result { NORM_OK, NORM_BAD_UTF8, NORM_TOO_LONG };

static enum norm_result normalize(const char *in, char *out, size_t outsz)
{
    if (!in || !out || outsz == 0)
        return NORM_TOO_LONG;
    const unsigned char *s = (const unsigned char *)in;
    size_t o = 0;
    while (*s) {
        uint32_t c;
        size_t n = utf8_decode(s, &c);
        if (n == 0) {
            out[0] = '\0';
            return NORM_BAD_UTF8;
        }
        s += n;
        if (c >= 0xFF01 && c <= 0xFF5E)
            c -= 0xFEE0;            /* full-width ASCII; U+FF0C becomes ',' here */
        else if (c == 0x3000)
            c = ' ';
        else if (c == 0x3001)
            c = ',';
        char enc[4];
        size_t m = utf8_encode(c, enc);
        if (o + m >= outsz) {
            out[0] = '\0';
            return NORM_TOO_LONG;
        }
        memcpy(out + o, enc, m);
        o += m;
    }
    out[o] = '\0';
    size_t start = 0;
    while (start < o && is_space(out[start]))
        start++;
    while (o > start && is_space(out[o - 1]))
        o--;
    memmove(out, out + start, o - start);
    out[o - start] = '\0';
    return NORM_OK;
}

int normalize_input(const char *in, char *out, size_t outsz)
{
    return normalize(in, out, outsz) == NORM_OK ? 0 : CH_USAGE;
}

/* A printable, bounded copy of user input for an error message: control characters
 * (C0, DEL, C1: terminal escapes) become '?', long input is cut with "...". */
static void echo(char *dst, size_t dsz, const char *in)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t o = 0;
    while (*s) {
        uint32_t c;
        size_t n = utf8_decode(s, &c);
        if (n == 0) {
            n = 1;
            c = '?';
        }
        if (c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0))
            c = '?';
        char enc[4];
        size_t m = utf8_encode(c, enc);
        if (o + m > ECHO_MAX || o + m + 4 > dsz) {
            if (o + 4 <= dsz) {
                memcpy(dst + o, "...", 3);
                o += 3;
            }
            break;
        }
        memcpy(dst + o, enc, m);
        o += m;
        s += n;
    }
    dst[o] = '\0';
}

/* Normalises `in` into `buf` or fills err naming the field. */
static int normalize_field(const char *field, const char *code, const char *in, char *buf,
                           size_t bufsz, struct ch_error *err)
{
    switch (normalize(in ? in : "", buf, bufsz)) {
    case NORM_OK:
        return 0;
    case NORM_BAD_UTF8:
        return err_set(err, CH_USAGE, code, field, "not valid UTF-8 text");
    default:
        return err_set(err, CH_USAGE, code, field, "too long (at most %zu bytes)", bufsz - 1);
    }
}

static int copy_out(const char *field, const char *code, const char *s, char *out,
                    size_t outsz, struct ch_error *err)
{
    size_t n = strlen(s);
    if (!out || n >= outsz)
        return err_set(err, CH_USAGE, code, field, "internal error: output buffer too small");
    memcpy(out, s, n + 1);
    return 0;
}

/* ---------------------------------------------------------------- phone */

int validate_phone(const char *field, const char *in, char *out, size_t outsz, struct ch_error *err)
{
    static const char code[] = "invalid_phone";
    char norm[128], digits[128], shown[64];
    if (normalize_field(field, code, in, norm, sizeof norm, err))
        return CH_USAGE;
    size_t n = 0;
    for (const char *p = norm; *p; p++)
        if (*p != ' ' && *p != '-' && *p != '\t')
            digits[n++] = *p;
    digits[n] = '\0';
    const char *d = digits;
    if (strncmp(d, "+86", 3) == 0)
        d += 3;
    else if (strncmp(d, "0086", 4) == 0)
        d += 4;
    int ok = strlen(d) == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9';
    for (size_t i = 0; ok && i < 11; i++)
        ok = is_digit(d[i]);
    if (!ok) {
        echo(shown, sizeof shown, in);
        return err_set(err, CH_USAGE, code, field,
                       "expected a mainland mobile number (11 digits starting 13–19, optional +86), "
                       "got '%s'", shown);
    }
    return copy_out(field, code, d, out, outsz, err);
}

/* ---------------------------------------------------------------- ID numbers */

char id_check_digit(const char *first17)
{
    static const int weights[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
    static const char check[] = "10X98765432";
    if (!first17)
        return 0;
    int sum = 0;
    for (int i = 0; i < 17; i++) {
        if (!is_digit(first17[i]))
            return 0;
        sum += (first17[i] - '0') * weights[i];
    }
    return check[sum % 11];
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

static int parse_fixed(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

static int valid_date(int y, int m, int d)
{
    return m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

int validate_id_number(const char *field, const char *in, char *out, size_t outsz, struct ch_error *err)
{
    static const char code[] = "invalid_id_number";
    static const char form[] = "expected an 18-character resident ID number (17 digits, then a digit or X)";
    char norm[128];
    if (normalize_field(field, code, in, norm, sizeof norm, err))
        return CH_USAGE;
    size_t n = strlen(norm);
    if (n != 18)
        return err_set(err, CH_USAGE, code, field, "%s, got %zu characters", form, n);
    for (int i = 0; i < 17; i++)
        if (!is_digit(norm[i]))
            return err_set(err, CH_USAGE, code, field, "%s; character %d is not a digit", form, i + 1);
    if (norm[17] == 'x')
        norm[17] = 'X';
    if (!is_digit(norm[17]) && norm[17] != 'X')
        return err_set(err, CH_USAGE, code, field, "%s; the last character is not a digit or X", form);
    int y = parse_fixed(norm + 6, 4), m = parse_fixed(norm + 10, 2), d = parse_fixed(norm + 12, 2);
    if (y < 1900 || !valid_date(y, m, d))
        return err_set(err, CH_USAGE, code, field,
                       "the birth date (characters 7–14, YYYYMMDD) is not a valid date");
    if (id_check_digit(norm) != norm[17]) {
        err_set(err, CH_USAGE, code, field,
                "the check digit does not match (GB 11643); a character may be mistyped");
        err_hint(err, "compare the number with the ID card character by character");
        return CH_USAGE;
    }
    return copy_out(field, code, norm, out, outsz, err);
}

int validate_id_last4(const char *field, const char *in, char *out, size_t outsz, struct ch_error *err)
{
    static const char code[] = "invalid_id_last4";
    char norm[64];
    if (normalize_field(field, code, in, norm, sizeof norm, err))
        return CH_USAGE;
    if (norm[0] && norm[1] && norm[2] && norm[3] == 'x' && !norm[4])
        norm[3] = 'X';
    int ok = strlen(norm) == 4 && is_digit(norm[0]) && is_digit(norm[1]) && is_digit(norm[2]) &&
             (is_digit(norm[3]) || norm[3] == 'X');
    if (!ok)
        return err_set(err, CH_USAGE, code, field,
                       "expected the last 4 characters of the ID number (3 digits, then a digit or X)");
    return copy_out(field, code, norm, out, outsz, err);
}

/* ---------------------------------------------------------------- plates */

/* The 31 mainland province abbreviations. */
static const char *const provinces[] = {
    "京", "津", "沪", "渝", "冀", "豫", "云", "辽", "黑", "湘", "皖", "鲁", "新", "苏", "浙", "赣",
    "鄂", "桂", "甘", "晋", "蒙", "陕", "吉", "闽", "贵", "粤", "青", "藏", "川", "宁", "琼",
};

static size_t province_prefix(const char *s)
{
    for (size_t i = 0; i < sizeof provinces / sizeof provinces[0]; i++) {
        size_t n = strlen(provinces[i]);
        if (strncmp(s, provinces[i], n) == 0)
            return n;
    }
    return 0;
}

/* Serial characters: digits and letters except I and O (GA 36). */
static int is_serial(char c)
{
    return is_digit(c) || (c >= 'A' && c <= 'Z' && c != 'I' && c != 'O');
}

static int valid_tail(const char *t)
{
    size_t n = strlen(t);
    if (n == 5) {
        for (size_t i = 0; i < 5; i++)
            if (!is_serial(t[i]))
                return 0;
        return 1;
    }
    if (n != 6)
        return 0;
    /* GA 36-2018 new-energy: small cars D/F, a letter or digit, 4 digits;
     * large vehicles 5 digits then D/F. */
    if (t[0] == 'D' || t[0] == 'F') {
        if (!is_serial(t[1]))
            return 0;
        for (int i = 2; i < 6; i++)
            if (!is_digit(t[i]))
                return 0;
        return 1;
    }
    if (t[5] == 'D' || t[5] == 'F') {
        for (int i = 0; i < 5; i++)
            if (!is_digit(t[i]))
                return 0;
        return 1;
    }
    return 0;
}

int validate_plate(const char *field, const char *in, char *out, size_t outsz, struct ch_error *err)
{
    static const char code[] = "invalid_plate";
    char norm[128], plate[128], shown[64];
    if (normalize_field(field, code, in, norm, sizeof norm, err))
        return CH_USAGE;
    /* Separators people type or copy: spaces, '-', middle dots (U+00B7, U+30FB, U+2022). */
    size_t n = 0;
    for (const char *p = norm; *p;) {
        if (*p == ' ' || *p == '-') {
            p++;
        } else if (strncmp(p, "\xC2\xB7", 2) == 0) {
            p += 2;
        } else if (strncmp(p, "\xE3\x83\xBB", 3) == 0 || strncmp(p, "\xE2\x80\xA2", 3) == 0) {
            p += 3;
        } else {
            plate[n++] = (char)toupper((unsigned char)*p);
            p++;
        }
    }
    plate[n] = '\0';
    size_t pn = province_prefix(plate);
    int ok = pn > 0 && plate[pn] >= 'A' && plate[pn] <= 'Z' && valid_tail(plate + pn + 1);
    if (!ok) {
        echo(shown, sizeof shown, in);
        return err_set(err, CH_USAGE, code, field,
                       "expected a plate like 京A12345 or 京AD12345 (province character, a letter, "
                       "then 5 letters or digits without I and O, or 6 for new-energy), got '%s'",
                       shown);
    }
    return copy_out(field, code, plate, out, outsz, err);
}

/* ---------------------------------------------------------------- object IDs */

int validate_object_id(const char *field, const char *in, char *out, size_t outsz, struct ch_error *err)
{
    static const char code[] = "invalid_id";
    char norm[256], shown[64];
    int ok = normalize(in ? in : "", norm, sizeof norm) == NORM_OK;
    size_t n = ok ? strlen(norm) : 0;
    ok = ok && n >= 1 && n <= 64;
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)norm[i]) || norm[i] == '_' || norm[i] == '-';
    if (!ok) {
        echo(shown, sizeof shown, in ? in : "");
        return err_set(err, CH_USAGE, code, field,
                       "expected an ID of 1–64 letters, digits, '_' or '-', got '%s'", shown);
    }
    return copy_out(field, code, norm, out, outsz, err);
}

/* ---------------------------------------------------------------- numbers */

/* Strict decimal: [+-]?digits[.digits] or [+-]?.digits; no exponent, hex, inf or nan. */
static int parse_decimal(const char *s, double *out)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    size_t int_digits = 0, frac_digits = 0;
    while (is_digit(*p))
        p++, int_digits++;
    if (*p == '.') {
        p++;
        while (is_digit(*p))
            p++, frac_digits++;
    }
    if (*p || int_digits + frac_digits == 0)
        return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (*end || errno == ERANGE || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* Strict integer: [+-]?digits, no junk, no overflow. */
static int parse_long(const char *s, long *out)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (!is_digit(*p))
        return -1;
    for (const char *q = p; *q; q++)
        if (!is_digit(*q))
            return -1;
    errno = 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || errno == ERANGE)
        return -1;
    *out = v;
    return 0;
}

int validate_seconds(const char *field, const char *in, double max, double *out, struct ch_error *err)
{
    static const char code[] = "invalid_seconds";
    char norm[64], shown[64];
    double v = 0;
    int ok = normalize(in ? in : "", norm, sizeof norm) == NORM_OK && parse_decimal(norm, &v) == 0 &&
             v > 0 && v <= max;
    if (!ok) {
        echo(shown, sizeof shown, in ? in : "");
        return err_set(err, CH_USAGE, code, field,
                       "expected seconds, a positive number up to %g, got '%s'", max, shown);
    }
    if (out)
        *out = v;
    return 0;
}

int validate_int(const char *field, const char *in, long min, long max, long *out, struct ch_error *err)
{
    static const char code[] = "invalid_number";
    char norm[64], shown[64];
    long v = 0;
    int ok = normalize(in ? in : "", norm, sizeof norm) == NORM_OK && parse_long(norm, &v) == 0 &&
             v >= min && v <= max;
    if (!ok) {
        echo(shown, sizeof shown, in ? in : "");
        return err_set(err, CH_USAGE, code, field,
                       "expected a whole number from %ld to %ld, got '%s'", min, max, shown);
    }
    if (out)
        *out = v;
    return 0;
}

/* ---------------------------------------------------------------- since */

#define SINCE_MAX_DAYS 3650L

int validate_since(const char *field, const char *in, time_t now, time_t *out, struct ch_error *err)
{
    static const char code[] = "invalid_since";
    char norm[64], shown[64];
    echo(shown, sizeof shown, in ? in : "");
    if (normalize(in ? in : "", norm, sizeof norm) != NORM_OK)
        goto bad;
    size_t n = strlen(norm);
    if (n == 10 && norm[4] == '-' && norm[7] == '-') {
        for (size_t i = 0; i < n; i++)
            if (i != 4 && i != 7 && !is_digit(norm[i]))
                goto bad;
        int y = parse_fixed(norm, 4), m = parse_fixed(norm + 5, 2), d = parse_fixed(norm + 8, 2);
        if (y < 1970 || !valid_date(y, m, d))
            return err_set(err, CH_USAGE, code, field, "'%s' is not a valid date (YYYY-MM-DD)", shown);
        struct tm tm = { 0 };
        tm.tm_year = y - 1900;
        tm.tm_mon = m - 1;
        tm.tm_mday = d;
        tm.tm_isdst = -1;
        time_t t = mktime(&tm);
        if (t == (time_t)-1)
            return err_set(err, CH_USAGE, code, field, "'%s' is not a valid date (YYYY-MM-DD)", shown);
        if (t > now)
            return err_set(err, CH_USAGE, code, field, "'%s' is in the future", shown);
        if (out)
            *out = t;
        return 0;
    }
    if (n >= 2 && (norm[n - 1] == 'd' || norm[n - 1] == 'h' || norm[n - 1] == 'm')) {
        char unit = norm[n - 1];
        norm[n - 1] = '\0';
        for (const char *p = norm; *p; p++)
            if (!is_digit(*p))
                goto bad;
        long v;
        if (parse_long(norm, &v) != 0)
            goto range;
        long per = unit == 'd' ? 86400 : unit == 'h' ? 3600 : 60;
        if (v > SINCE_MAX_DAYS * 86400 / per)
            goto range;
        if (out)
            *out = now - (time_t)(v * per);
        return 0;
    }
bad:
    return err_set(err, CH_USAGE, code, field,
                   "expected a date (2026-11-25) or an age such as 7d, 24h or 30m, got '%s'", shown);
range:
    return err_set(err, CH_USAGE, code, field, "'%s' is too far back (at most %ldd)", shown,
                   SINCE_MAX_DAYS);
}

/* ---------------------------------------------------------------- coordinates */

int validate_coordinates(const char *field, const char *in, double *lat, double *lng, struct ch_error *err)
{
    static const char code[] = "invalid_coordinates";
    char norm[128], shown[64];
    echo(shown, sizeof shown, in ? in : "");
    if (normalize(in ? in : "", norm, sizeof norm) != NORM_OK)
        goto bad;
    char *comma = strchr(norm, ',');
    if (!comma || strchr(comma + 1, ','))
        goto bad;
    *comma = '\0';
    char *a = norm, *b = comma + 1;
    /* Spaces around the comma are fine ("39.9, 116.4"). */
    size_t an = strlen(a);
    while (an > 0 && is_space(a[an - 1]))
        a[--an] = '\0';
    while (is_space(*b))
        b++;
    double la, lo;
    if (parse_decimal(a, &la) != 0 || parse_decimal(b, &lo) != 0)
        goto bad;
    if (la < -90 || la > 90)
        return err_set(err, CH_USAGE, code, field, "latitude %s is out of range (-90 to 90)", a);
    if (lo < -180 || lo > 180)
        return err_set(err, CH_USAGE, code, field, "longitude %s is out of range (-180 to 180)", b);
    if (lat)
        *lat = la;
    if (lng)
        *lng = lo;
    return 0;
bad:
    return err_set(err, CH_USAGE, code, field,
                   "expected LAT,LNG in decimal degrees (WGS-84), e.g. 39.9087,116.3975, got '%s'",
                   shown);
}

/* ---------------------------------------------------------------- API URL */

static int is_loopback_host(const char *host, int bracketed)
{
    if (bracketed) {
        struct in6_addr a6;
        if (inet_pton(AF_INET6, host, &a6) != 1)
            return 0;
        if (IN6_IS_ADDR_LOOPBACK(&a6))
            return 1;
        return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
    }
    if (strcasecmp(host, "localhost") == 0 || strcasecmp(host, "localhost.") == 0)
        return 1;
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return 0;
}

static int valid_hostname(const char *h)
{
    if (!*h || strlen(h) > 253)
        return 0;
    for (const char *p = h; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' && *p != '_')
            return 0;
    return 1;
}

int validate_api_url(const char *field, const char *in, struct ch_error *err)
{
    static const char code[] = "invalid_api_url";
    char shown[64];
    const char *url = in ? in : "";
    echo(shown, sizeof shown, url);
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p <= 0x20 || *p == 0x7F)
            return err_set(err, CH_USAGE, code, field,
                           "expected a URL without spaces or control characters, got '%s'", shown);
    int https;
    const char *p;
    if (strncasecmp(url, "https://", 8) == 0)
        https = 1, p = url + 8;
    else if (strncasecmp(url, "http://", 7) == 0)
        https = 0, p = url + 7;
    else
        return err_set(err, CH_USAGE, code, field,
                       "expected an http:// or https:// URL such as https://api.example.com, got '%s'",
                       shown);
    size_t alen = strcspn(p, "/?#");
    char auth[300];
    if (alen == 0 || alen >= sizeof auth)
        return err_set(err, CH_USAGE, code, field, "expected a host name in the URL, got '%s'", shown);
    memcpy(auth, p, alen);
    auth[alen] = '\0';
    if (strchr(auth, '@'))
        return err_set(err, CH_USAGE, code, field,
                       "user names or passwords in the URL are not allowed (log in with `carhelp login`)");
    if (strpbrk(p + alen, "?#"))
        return err_set(err, CH_USAGE, code, field,
                       "expected a base URL without ?query or #fragment, got '%s'", shown);
    char *host = auth, *port = NULL;
    int bracketed = 0;
    if (auth[0] == '[') {
        char *close = strchr(auth, ']');
        struct in6_addr a6;
        if (!close)
            goto bad_host;
        *close = '\0';
        host = auth + 1;
        bracketed = 1;
        if (inet_pton(AF_INET6, host, &a6) != 1)
            goto bad_host;
        if (close[1] == ':')
            port = close + 2;
        else if (close[1])
            goto bad_host;
    } else {
        char *colon = strchr(auth, ':');
        if (colon) {
            *colon = '\0';
            port = colon + 1;
        }
        if (!valid_hostname(host))
            goto bad_host;
    }
    if (port) {
        long pv;
        int ok = *port && strlen(port) <= 5 && parse_long(port, &pv) == 0 && is_digit(port[0]) &&
                 pv >= 1 && pv <= 65535;
        if (!ok)
            return err_set(err, CH_USAGE, code, field,
                           "expected a port from 1 to 65535 in the URL, got '%s'", shown);
    }
    if (!https && !is_loopback_host(host, bracketed)) {
        err_set(err, CH_USAGE, "insecure_api_url", field,
                "plain http:// is allowed only for loopback hosts; use https://, got '%s'", shown);
        err_hint(err, "loopback hosts are 127.0.0.0/8, [::1] and localhost");
        return CH_USAGE;
    }
    return 0;
bad_host:
    return err_set(err, CH_USAGE, code, field, "expected a valid host name in the URL, got '%s'", shown);
}
