/* QR codes for ticket passes: encoding with libqrencode, and pure renderers (UTF-8 half
 * blocks, ANSI colour cells, plain ASCII, SVG, PNG) that never print or exit. Also the
 * offline check of a pass's shape, so a mistyped or cut-off pass is refused without a
 * request. */
#ifndef CARHELP_QR_H
#define CARHELP_QR_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "buf.h"

struct qr_code {
    int width;               /* modules per side */
    unsigned char *dark;     /* width*width, 1 = dark module */
};

#define QR_MARGIN_TERMINAL 2 /* quiet zone (modules) for terminal renderings */
#define QR_MARGIN_FILE 4     /* the standard's quiet zone for PNG and SVG */
#define QR_MARGIN_MAX 16
#define QR_SCALE_DEFAULT 8   /* pixels per module for PNG and SVG */
#define QR_SCALE_MAX 64

/* 0, or -1 when the text cannot be encoded (empty or too long). Byte mode, level M. */
int qr_encode(const char *text, struct qr_code *out);
void qr_free(struct qr_code *qr);
/* Outside the symbol is light (the quiet zone). */
bool qr_is_dark(const struct qr_code *qr, int x, int y);

/* Two module rows per text line: U+2580/U+2584/U+2588 for dark, space for light. With
 * color, every line is black on white (SGR) so the code reads right on dark terminals too. */
void qr_render_utf8(const struct qr_code *qr, int margin, bool color, struct buf *out);
/* Each module two background-coloured cells (black / bright white), nothing in the glyphs. */
void qr_render_ansi(const struct qr_code *qr, int margin, struct buf *out);
/* "##" for dark, two spaces for light: one line per module row. */
void qr_render_ascii(const struct qr_code *qr, int margin, struct buf *out);
void qr_render_svg(const struct qr_code *qr, int margin, int scale, struct buf *out);
/* 8-bit greyscale PNG; 0 or -1 with errno-style failure (write error). */
int qr_write_png(const struct qr_code *qr, int margin, int scale, FILE *f);

/* Pass shape (server/passes.h): unpadded base64url of version 1, id length, id, two
 * 32-bit times and a 16-byte signature. */
enum pass_shape { PASS_OK, PASS_NOT_BASE64URL, PASS_TRUNCATED };
enum pass_shape pass_check_shape(const char *text);
/* An 8-character short code after dropping spaces and dashes and upper-casing; false when
 * the text is not one. out holds 9 bytes. */
bool pass_short_code(const char *text, char out[9]);

#endif
