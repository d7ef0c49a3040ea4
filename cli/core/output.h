/* Human output helpers: display width of UTF-8 (Chinese is double width), aligned tables,
 * colour (auto/always/never, NO_COLOR), masking of personal data, money. No policy about
 * where things go: callers pass the FILE. */
#ifndef CARHELP_OUTPUT_H
#define CARHELP_OUTPUT_H
#include <stdio.h>
#include <stdbool.h>
#include <time.h>

/* Columns the UTF-8 string takes on a terminal (wcwidth per code point, invalid bytes 1). */
int display_width(const char *s);
/* Prints s then spaces up to `width` columns (never truncates). */
void print_padded(FILE *f, const char *s, int width);

struct table;
struct table *table_new(int ncols, const char *const *headers);
void table_add_row(struct table *t, const char *const *cells);  /* copies the cells */
/* Aligns columns by display width; the last column is not padded. Header in bold when colour. */
void table_print(const struct table *t, FILE *f, bool color);
void table_free(struct table *t);

/* Colour: resolved once from --color / NO_COLOR / isatty. */
enum color_when { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };
bool color_enabled(enum color_when when, int fd);
/* SGR wrappers; return "" when colour is off. */
const char *c_bold(bool on);
const char *c_red(bool on);
const char *c_green(bool on);
const char *c_yellow(bool on);
const char *c_dim(bool on);
const char *c_reset(bool on);

/* "13800138000" -> "138****8000"; anything else of length n keeps first 3 and last 4. */
void mask_phone(const char *phone, char *out, size_t outsz);
/* "11010519491231002X" -> "1101**********002X" (first 4, last 4). */
void mask_id_number(const char *id, char *out, size_t outsz);
/* 1240 -> "¥12.40", -300 -> "-¥3.00". */
void format_fen(long long fen, char *out, size_t outsz);
/* RFC 3339 -> time_t; -1 when it does not parse. */
time_t parse_rfc3339(const char *s);
/* time_t -> "2026-11-25 14:03" in local time; and RFC 3339 with the local offset. */
void format_local_time(time_t t, char *out, size_t outsz);
void format_rfc3339(time_t t, char *out, size_t outsz);
/* The CLI's clock: CARHELP_NOW (RFC 3339) when set (tests), else time(NULL). */
time_t ch_now(void);

#endif
