/* Human output helpers: the terminal sanitiser every service string passes through, display
 * width of UTF-8 (Chinese is double width), aligned tables, colour (auto/always/never,
 * NO_COLOR), masking of personal data, money. No policy about where things go: callers pass
 * the FILE. */
#ifndef CARHELP_OUTPUT_H
#define CARHELP_OUTPUT_H
#include <stdio.h>
#include <stdbool.h>
#include <time.h>
#include "buf.h"

/* ---- the sanitiser: text from outside (the service, a file, a pasted word) on a terminal ----
 * Controls and invisible characters are shown escaped, never sent to the terminal:
 *   C0 controls and DEL              -> \x1b  (two lowercase hex digits)
 *   C1 controls U+0080..U+009F,
 *   bidi controls and other invisible
 *   format characters (see
 *   term_char_is_hidden)             -> \u202e (four hex digits; \U000e0041 above U+FFFF)
 *   ill-formed UTF-8                 -> U+FFFD, one per maximal ill-formed subpart
 * Everything else (CJK, emoji, combining marks) is kept as it is. With TERM_MULTILINE a
 * newline (and a CR right before it) stays a real line break; every other control is escaped
 * in both modes. The result is valid UTF-8; its display_width is what the terminal shows. */
#define TERM_ONE_LINE 0u
#define TERM_MULTILINE 1u

/* True for the code points shown escaped (controls, C1, bidi, invisible format characters). */
bool term_char_is_hidden(unsigned long cp);
/* Appends the safe form of s to b. NULL is "". */
void term_safe_append(struct buf *b, const char *s, unsigned flags);
/* The safe one-line form of s into out, cut at a character or escape boundary when it does
 * not fit (never half of one); returns out. */
char *term_safe(const char *s, char *out, size_t outsz);
/* Like term_safe, then cut to at most `cols` display columns with "…" when cut. */
char *term_safe_cols(const char *s, int cols, char *out, size_t outsz);
/* Allocated safe form (caller frees). */
char *term_safe_dup(const char *s, unsigned flags);
/* Prints the safe form of s; with TERM_MULTILINE each line after the first starts with
 * `indent` (NULL: none). */
void term_print(FILE *f, const char *s, unsigned flags, const char *indent);
/* A run of at least 32 hex/base64/base64url characters: what a pasted token looks like. */
bool looks_like_token(const char *s);
/* A word the user typed, fit to be echoed in an error message: its first `max_chars`
 * characters (code points) made safe, with "…" when cut; a word that looks like a token shows
 * only its first 4 characters and "…". Returns true when it looked like a token. */
bool term_word(const char *word, int max_chars, char *out, size_t outsz);

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
