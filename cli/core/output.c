/* Human output: the terminal sanitiser, display widths (Chinese is two columns in every
 * locale), tables, colour, masking, money and times. */
#include <langinfo.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <wchar.h>
#include "buf.h"
#include "output.h"

/* ---- display width ---- */

struct range { uint32_t lo, hi; };

/* East Asian Wide and Fullwidth blocks (Unicode 15, coarse but covering CJK, kana, hangul,
 * fullwidth forms and emoji), used when the C library cannot tell us. */
static const struct range wide[] = {
    { 0x1100, 0x115F }, { 0x231A, 0x231B }, { 0x2329, 0x232A }, { 0x23E9, 0x23EC },
    { 0x23F0, 0x23F0 }, { 0x23F3, 0x23F3 }, { 0x25FD, 0x25FE }, { 0x2614, 0x2615 },
    { 0x2648, 0x2653 }, { 0x267F, 0x267F }, { 0x2693, 0x2693 }, { 0x26A1, 0x26A1 },
    { 0x26AA, 0x26AB }, { 0x26BD, 0x26BE }, { 0x26C4, 0x26C5 }, { 0x26CE, 0x26CE },
    { 0x26D4, 0x26D4 }, { 0x26EA, 0x26EA }, { 0x26F2, 0x26F3 }, { 0x26F5, 0x26F5 },
    { 0x26FA, 0x26FA }, { 0x26FD, 0x26FD }, { 0x2705, 0x2705 }, { 0x270A, 0x270B },
    { 0x2728, 0x2728 }, { 0x274C, 0x274C }, { 0x274E, 0x274E }, { 0x2753, 0x2755 },
    { 0x2757, 0x2757 }, { 0x2795, 0x2797 }, { 0x27B0, 0x27B0 }, { 0x27BF, 0x27BF },
    { 0x2B1B, 0x2B1C }, { 0x2B50, 0x2B50 }, { 0x2B55, 0x2B55 }, { 0x2E80, 0x303E },
    { 0x3041, 0x33FF }, { 0x3400, 0x4DBF }, { 0x4E00, 0x9FFF }, { 0xA000, 0xA4CF },
    { 0xA960, 0xA97F }, { 0xAC00, 0xD7A3 }, { 0xF900, 0xFAFF }, { 0xFE10, 0xFE19 },
    { 0xFE30, 0xFE6F }, { 0xFF00, 0xFF60 }, { 0xFFE0, 0xFFE6 }, { 0x16FE0, 0x16FE4 },
    { 0x17000, 0x18CFF }, { 0x1B000, 0x1B2FF }, { 0x1F004, 0x1F004 }, { 0x1F0CF, 0x1F0CF },
    { 0x1F18E, 0x1F18E }, { 0x1F191, 0x1F19A }, { 0x1F200, 0x1F251 }, { 0x1F260, 0x1F265 },
    { 0x1F300, 0x1F64F }, { 0x1F680, 0x1F6FF }, { 0x1F7E0, 0x1F7EB }, { 0x1F90C, 0x1F9FF },
    { 0x1FA70, 0x1FAFF }, { 0x20000, 0x2FFFD }, { 0x30000, 0x3FFFD },
};

/* Combining marks and other zero-width code points. */
static const struct range zero[] = {
    { 0x0300, 0x036F }, { 0x0483, 0x0489 }, { 0x0591, 0x05BD }, { 0x0610, 0x061A },
    { 0x064B, 0x065F }, { 0x0E31, 0x0E31 }, { 0x0E34, 0x0E3A }, { 0x0E47, 0x0E4E },
    { 0x1AB0, 0x1AFF }, { 0x1DC0, 0x1DFF }, { 0x200B, 0x200F }, { 0x202A, 0x202E },
    { 0x2060, 0x2064 }, { 0x20D0, 0x20FF }, { 0x302A, 0x302D }, { 0x3099, 0x309A },
    { 0xFE00, 0xFE0F }, { 0xFE20, 0xFE2F }, { 0xFEFF, 0xFEFF }, { 0xE0100, 0xE01EF },
};

static int in_ranges(uint32_t cp, const struct range *r, size_t n)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < r[mid].lo)
            hi = mid;
        else if (cp > r[mid].hi)
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

static int table_width(uint32_t cp)
{
    if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0))
        return 0;
    if (in_ranges(cp, zero, sizeof zero / sizeof zero[0]))
        return 0;
    if (in_ranges(cp, wide, sizeof wide / sizeof wide[0]))
        return 2;
    return 1;
}

/* Decodes one UTF-8 sequence; returns its length, or 0 when the byte at s does not start a
 * valid one (overlong forms, surrogates and values past U+10FFFF are invalid). */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        len = 2; v = c & 0x1F; min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3; v = c & 0x0F; min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4; v = c & 0x07; min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

/* ---- the terminal sanitiser ---- */

/* Invisible format characters that can hide, join or reorder what a field shows: soft
 * hyphen, Arabic letter mark, Hangul fillers, Mongolian vowel separator, zero-width space,
 * (non-)joiner, LRM/RLM, line/paragraph separators, the bidi embeddings/overrides (U+202A..E),
 * word joiner and invisible operators, the bidi isolates (U+2066..9) and deprecated format
 * controls, byte order mark, interlinear annotations and the tag characters. */
static const struct range hidden[] = {
    { 0x00AD, 0x00AD }, { 0x061C, 0x061C }, { 0x115F, 0x1160 }, { 0x180E, 0x180E },
    { 0x200B, 0x200F }, { 0x2028, 0x202E }, { 0x2060, 0x206F }, { 0x3164, 0x3164 },
    { 0xFEFF, 0xFEFF }, { 0xFFA0, 0xFFA0 }, { 0xFFF9, 0xFFFB }, { 0xE0000, 0xE007F },
};

bool term_char_is_hidden(unsigned long cp)
{
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
        return true;
    return cp <= 0x10FFFF && in_ranges((uint32_t)cp, hidden, sizeof hidden / sizeof hidden[0]);
}

/* Decodes the well-formed sequence at s (left > 0 bytes): returns its length with *cp set, or
 * 0 with *bad the length of the maximal ill-formed subpart (Unicode's "best practice" for
 * U+FFFD: a truncated sequence is one replacement, a stray byte is one). */
static size_t utf8_next(const unsigned char *s, size_t left, uint32_t *cp, size_t *bad)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t len;
    *bad = 1;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else
        return 0;
    if (left < 2 || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++) {
        if (i >= left || (s[i] & 0xC0) != 0x80) {
            *bad = i;
            return 0;
        }
    }
    size_t n = utf8_decode(s, cp);
    return n == len ? len : 0;
}

/* One piece of the safe form of s: the character as it is, its escape, or U+FFFD. Writes at
 * most 11 bytes to out (the longest is "\U000e007f") and returns the input bytes it used. */
static size_t safe_piece(const unsigned char *s, size_t left, unsigned flags, char *out,
                         size_t *outlen)
{
    uint32_t cp;
    size_t bad;
    size_t n = utf8_next(s, left, &cp, &bad);
    if (n == 0) {
        memcpy(out, "\xEF\xBF\xBD", 3);
        *outlen = 3;
        return bad;
    }
    if (flags & TERM_MULTILINE) {
        size_t eol = cp == '\n' ? 1 : (cp == '\r' && left > 1 && s[1] == '\n') ? 2 : 0;
        if (eol) {
            out[0] = '\n';
            *outlen = 1;
            return eol;
        }
    }
    if (cp < 0x20 || cp == 0x7F)
        *outlen = (size_t)snprintf(out, 12, "\\x%02x", (unsigned)cp);
    else if (term_char_is_hidden(cp))
        *outlen = (size_t)snprintf(out, 12, cp > 0xFFFF ? "\\U%08x" : "\\u%04x", (unsigned)cp);
    else {
        memcpy(out, s, n);
        *outlen = n;
    }
    return n;
}

void term_safe_append(struct buf *b, const char *s, unsigned flags)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t left = strlen((const char *)p);
    while (left > 0) {
        char piece[12];
        size_t plen, used = safe_piece(p, left, flags, piece, &plen);
        buf_append(b, piece, plen);
        p += used;
        left -= used;
    }
}

/* Pieces into out while they fit in `room` bytes and `cols` columns (cols < 0: any);
 * returns the bytes written and sets *cut when something was left out. */
static size_t safe_fit(const char *s, char *out, size_t room, int cols, bool *cut)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t left = strlen((const char *)p), o = 0;
    int w = 0;
    *cut = false;
    while (left > 0) {
        char piece[12];
        size_t plen, used = safe_piece(p, left, TERM_ONE_LINE, piece, &plen);
        int pw = 0;
        if (cols >= 0) {
            piece[plen] = '\0';
            pw = display_width(piece);
        }
        if (o + plen > room || (cols >= 0 && w + pw > cols)) {
            *cut = true;
            break;
        }
        memcpy(out + o, piece, plen);
        o += plen;
        w += pw;
        p += used;
        left -= used;
    }
    out[o] = '\0';
    return o;
}

char *term_safe(const char *s, char *out, size_t outsz)
{
    bool cut;
    if (!out || outsz == 0)
        return out;
    safe_fit(s, out, outsz - 1, -1, &cut);
    return out;
}

#define ELLIPSIS "\xE2\x80\xA6"   /* "…", one column */

char *term_safe_cols(const char *s, int cols, char *out, size_t outsz)
{
    bool cut;
    if (!out || outsz == 0)
        return out;
    if (cols < 1)
        cols = 1;
    safe_fit(s, out, outsz - 1, cols, &cut);
    if (!cut)
        return out;
    if (outsz <= sizeof ELLIPSIS) {   /* no room for the mark: nothing rather than a lie */
        out[0] = '\0';
        return out;
    }
    size_t o = safe_fit(s, out, outsz - sizeof ELLIPSIS, cols - 1, &cut);
    memcpy(out + o, ELLIPSIS, sizeof ELLIPSIS);
    return out;
}

char *term_safe_dup(const char *s, unsigned flags)
{
    struct buf b = BUF_INIT;
    buf_init(&b);
    term_safe_append(&b, s, flags);
    char *out = buf_detach(&b);
    buf_free(&b);   /* detach leaves a fresh empty buffer */
    return out;
}

void term_print(FILE *f, const char *s, unsigned flags, const char *indent)
{
    char *safe = term_safe_dup(s, flags);
    for (const char *p = safe; *p; p++) {
        fputc(*p, f);
        if (*p == '\n' && indent && p[1])
            fputs(indent, f);
    }
    free(safe);
}

static bool token_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/' || c == '=' || c == '-' || c == '_';
}

bool looks_like_token(const char *s)
{
    size_t run = 0;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        run = token_char(*p) ? run + 1 : 0;
        if (run >= 32)
            return true;
    }
    return false;
}

bool term_word(const char *word, int max_chars, char *out, size_t outsz)
{
    if (!out || outsz == 0)
        return false;
    bool token = looks_like_token(word);
    size_t keep = token ? 4 : (size_t)(max_chars > 0 ? max_chars : 1);
    const unsigned char *p = (const unsigned char *)(word ? word : "");
    size_t left = strlen((const char *)p), off = 0, chars = 0;
    while (off < left && chars < keep) {   /* the first `keep` characters of the input */
        uint32_t cp;
        size_t bad, n = utf8_next(p + off, left - off, &cp, &bad);
        off += n ? n : bad;
        chars++;
    }
    char *head = xstrndup((const char *)p, off);
    struct buf b = BUF_INIT;
    buf_init(&b);
    term_safe_append(&b, head, TERM_ONE_LINE);
    if (off < left)
        buf_puts(&b, ELLIPSIS);
    free(head);
    bool cut;
    safe_fit(b.data, out, outsz - 1, -1, &cut);
    buf_free(&b);
    return token;
}

static int locale_is_utf8(void)
{
    const char *cs = nl_langinfo(CODESET);
    return cs && (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "utf8") == 0);
}

int display_width(const char *s)
{
    if (!s)
        return 0;
    const int use_libc = locale_is_utf8();
    const unsigned char *p = (const unsigned char *)s;
    size_t left = strlen(s);
    mbstate_t st;
    memset(&st, 0, sizeof st);
    int w = 0;
    while (left > 0) {
        uint32_t cp;
        size_t n;
        if (use_libc) {
            wchar_t wc;
            n = mbrtowc(&wc, (const char *)p, left, &st);
            if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
                memset(&st, 0, sizeof st);
                w += 1;   /* an invalid byte shows as one replacement glyph */
                p++;
                left--;
                continue;
            }
            cp = (uint32_t)wc;
            int cw = wcwidth(wc);
            /* An old C library may not know a newer character: ask the table. */
            w += cw >= 0 ? cw : table_width(cp);
        } else {
            n = utf8_decode(p, &cp);
            if (n == 0 || n > left) {
                w += 1;
                p++;
                left--;
                continue;
            }
            w += table_width(cp);
        }
        p += n;
        left -= n;
    }
    return w;
}

void print_padded(FILE *f, const char *s, int width)
{
    if (!s)
        s = "";
    fputs(s, f);
    for (int pad = width - display_width(s); pad > 0; pad--)
        fputc(' ', f);
}

/* ---- tables ---- */

struct table {
    int ncols;
    char **headers;
    char ***rows;
    size_t nrows, cap;
};

/* Cells come from the service: control characters (escape sequences, newlines) would let a
 * field repaint the terminal or break alignment, so cells are kept in their safe form and the
 * widths are those of what is printed. */
static char *clean_cell(const char *s)
{
    return term_safe_dup(s, TERM_ONE_LINE);
}

struct table *table_new(int ncols, const char *const *headers)
{
    struct table *t = xcalloc(1, sizeof *t);
    t->ncols = ncols > 0 ? ncols : 1;
    t->headers = xcalloc((size_t)t->ncols, sizeof *t->headers);
    for (int i = 0; i < t->ncols; i++)
        t->headers[i] = clean_cell(headers ? headers[i] : "");
    return t;
}

void table_add_row(struct table *t, const char *const *cells)
{
    if (t->nrows == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 8;
        t->rows = xrealloc(t->rows, t->cap * sizeof *t->rows);
    }
    char **row = xcalloc((size_t)t->ncols, sizeof *row);
    for (int i = 0; i < t->ncols; i++)
        row[i] = clean_cell(cells ? cells[i] : "");
    t->rows[t->nrows++] = row;
}

static void print_row(FILE *f, char *const *cells, const int *widths, int ncols)
{
    for (int i = 0; i < ncols; i++) {
        if (i == ncols - 1) {
            fputs(cells[i], f);
        } else {
            print_padded(f, cells[i], widths[i]);
            fputs("  ", f);
        }
    }
    fputc('\n', f);
}

void table_print(const struct table *t, FILE *f, bool color)
{
    int *widths = xcalloc((size_t)t->ncols, sizeof *widths);
    for (int i = 0; i < t->ncols; i++) {
        widths[i] = display_width(t->headers[i]);
        for (size_t r = 0; r < t->nrows; r++) {
            int w = display_width(t->rows[r][i]);
            if (w > widths[i])
                widths[i] = w;
        }
    }
    /* The last column is not padded, so trailing spaces never appear. */
    fputs(c_bold(color), f);
    for (int i = 0; i < t->ncols; i++) {
        if (i == t->ncols - 1) {
            fputs(t->headers[i], f);
        } else {
            print_padded(f, t->headers[i], widths[i]);
            fputs("  ", f);
        }
    }
    fputs(c_reset(color), f);
    fputc('\n', f);
    for (size_t r = 0; r < t->nrows; r++)
        print_row(f, t->rows[r], widths, t->ncols);
    free(widths);
}

void table_free(struct table *t)
{
    if (!t)
        return;
    for (size_t r = 0; r < t->nrows; r++) {
        for (int i = 0; i < t->ncols; i++)
            free(t->rows[r][i]);
        free(t->rows[r]);
    }
    for (int i = 0; i < t->ncols; i++)
        free(t->headers[i]);
    free(t->rows);
    free(t->headers);
    free(t);
}

/* ---- colour ---- */

bool color_enabled(enum color_when when, int fd)
{
    if (when == COLOR_ALWAYS)
        return true;
    if (when == COLOR_NEVER)
        return false;
    const char *no = getenv("NO_COLOR");
    if (no && *no)
        return false;
    const char *term = getenv("TERM");
    if (term && strcmp(term, "dumb") == 0)
        return false;
    return isatty(fd) == 1;
}

const char *c_bold(bool on)   { return on ? "\033[1m" : ""; }
const char *c_red(bool on)    { return on ? "\033[31m" : ""; }
const char *c_green(bool on)  { return on ? "\033[32m" : ""; }
const char *c_yellow(bool on) { return on ? "\033[33m" : ""; }
const char *c_dim(bool on)    { return on ? "\033[2m" : ""; }
const char *c_reset(bool on)  { return on ? "\033[0m" : ""; }

/* ---- masking ---- */

/* Keeps the first `head` and last `tail` characters (code points, so a stray multibyte
 * character is never cut in half) and stars the rest; too short to keep both: all stars. */
static void mask_keep(const char *s, size_t head, size_t tail, char *out, size_t outsz)
{
    if (!out || outsz == 0)
        return;
    out[0] = '\0';
    if (!s)
        return;
    size_t starts[256], n = 0;   /* byte offset of each character */
    const unsigned char *p = (const unsigned char *)s;
    size_t off = 0, len = strlen(s);
    while (off < len && n < sizeof starts / sizeof starts[0]) {
        uint32_t cp;
        size_t k = utf8_decode(p + off, &cp);
        starts[n++] = off;
        off += (k == 0 || off + k > len) ? 1 : k;
    }
    if (off < len)   /* absurdly long: nothing of it is shown */
        head = tail = 0;
    struct buf b = BUF_INIT;
    buf_init(&b);
    if (n <= head + tail) {
        for (size_t i = 0; i < n; i++)
            buf_putc(&b, '*');
    } else {
        buf_append(&b, s, starts[head]);
        for (size_t i = head; i < n - tail; i++)
            buf_putc(&b, '*');
        if (tail)
            buf_puts(&b, s + starts[n - tail]);
    }
    snprintf(out, outsz, "%s", b.data);
    buf_free(&b);
}

void mask_phone(const char *phone, char *out, size_t outsz)
{
    mask_keep(phone, 3, 4, out, outsz);
}

void mask_id_number(const char *id, char *out, size_t outsz)
{
    mask_keep(id, 4, 4, out, outsz);
}

/* ---- money ---- */

void format_fen(long long fen, char *out, size_t outsz)
{
    /* Unsigned arithmetic so LLONG_MIN has a magnitude too; never a float for money. */
    unsigned long long mag = fen < 0 ? 0ULL - (unsigned long long)fen : (unsigned long long)fen;
    snprintf(out, outsz, "%s¥%llu.%02llu", fen < 0 ? "-" : "", mag / 100, mag % 100);
}

/* ---- time ---- */

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return 0;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return 1;
}

static int expect(const char **p, char c)
{
    if (**p != c)
        return 0;
    (*p)++;
    return 1;
}

static int days_in_month(int y, int m)
{
    static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return d[m - 1];
}

time_t parse_rfc3339(const char *s)
{
    if (!s)
        return -1;
    const char *p = s;
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
    if (!digits(&p, 4, &y) || !expect(&p, '-') || !digits(&p, 2, &mo) || !expect(&p, '-') ||
        !digits(&p, 2, &d))
        return -1;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return -1;
    p++;
    if (!digits(&p, 2, &h) || !expect(&p, ':') || !digits(&p, 2, &mi) || !expect(&p, ':') ||
        !digits(&p, 2, &sec))
        return -1;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return -1;
        while (*p >= '0' && *p <= '9')
            p++;   /* sub-second precision is dropped */
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        p++;
        if (!digits(&p, 2, &oh) || !expect(&p, ':') || !digits(&p, 2, &om))
            return -1;
    } else {
        return -1;
    }
    if (*p != '\0')
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
        sec > 60 || oh > 23 || om > 59)
        return -1;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec == 60 ? 59 : sec;   /* a leap second is the second before it */
    time_t t = timegm(&tm);
    if (t == (time_t)-1 && !(y == 1969 && mo == 12 && d == 31))
        return -1;
    return t - (time_t)sign * (oh * 3600 + om * 60);
}

void format_local_time(time_t t, char *out, size_t outsz)
{
    struct tm tm;
    if (!localtime_r(&t, &tm) || strftime(out, outsz, "%Y-%m-%d %H:%M", &tm) == 0)
        snprintf(out, outsz, "?");
}

void format_rfc3339(time_t t, char *out, size_t outsz)
{
    struct tm tm;
    char base[32];
    if (!localtime_r(&t, &tm) || strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
        snprintf(out, outsz, "?");
        return;
    }
    long off = tm.tm_gmtoff;
    char sign = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    snprintf(out, outsz, "%s%c%02ld:%02ld", base, sign, off / 3600, (off % 3600) / 60);
}

time_t ch_now(void)
{
    const char *fixed = getenv("CARHELP_NOW");
    if (fixed && *fixed) {
        time_t t = parse_rfc3339(fixed);
        if (t != (time_t)-1)
            return t;
    }
    return time(NULL);
}
