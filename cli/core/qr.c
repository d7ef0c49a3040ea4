#include "qr.h"

#include <ctype.h>
#include <png.h>
#include <qrencode.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PASS_SIG_LEN 16
#define PASS_ID_MAX 64

int qr_encode(const char *text, struct qr_code *out)
{
    out->width = 0;
    out->dark = NULL;
    if (!text || !*text)
        return -1;
    QRcode *q = QRcode_encodeData((int)strlen(text), (const unsigned char *)text, 0, QR_ECLEVEL_M);
    if (!q)
        return -1;
    size_t n = (size_t)q->width * (size_t)q->width;
    out->width = q->width;
    out->dark = xmalloc(n);
    for (size_t i = 0; i < n; i++)
        out->dark[i] = q->data[i] & 1;
    QRcode_free(q);
    return 0;
}

void qr_free(struct qr_code *qr)
{
    free(qr->dark);
    qr->dark = NULL;
    qr->width = 0;
}

bool qr_is_dark(const struct qr_code *qr, int x, int y)
{
    if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
        return false;
    return qr->dark[(size_t)y * (size_t)qr->width + (size_t)x] != 0;
}

void qr_render_utf8(const struct qr_code *qr, int margin, bool color, struct buf *out)
{
    int lo = -margin, hi = qr->width + margin;
    for (int y = lo; y < hi; y += 2) {
        if (color)
            buf_puts(out, "\033[30;107m");
        for (int x = lo; x < hi; x++) {
            bool top = qr_is_dark(qr, x, y), bottom = y + 1 < hi && qr_is_dark(qr, x, y + 1);
            buf_puts(out, top && bottom ? "\xe2\x96\x88" : top ? "\xe2\x96\x80"
                          : bottom ? "\xe2\x96\x84" : " ");
        }
        if (color)
            buf_puts(out, "\033[0m");
        buf_putc(out, '\n');
    }
}

void qr_render_ansi(const struct qr_code *qr, int margin, struct buf *out)
{
    int lo = -margin, hi = qr->width + margin;
    for (int y = lo; y < hi; y++) {
        bool last = false;
        for (int x = lo; x < hi; x++) {
            bool d = qr_is_dark(qr, x, y);
            if (x == lo || d != last)
                buf_puts(out, d ? "\033[40m" : "\033[107m");
            buf_puts(out, "  ");
            last = d;
        }
        buf_puts(out, "\033[0m\n");
    }
}

void qr_render_ascii(const struct qr_code *qr, int margin, struct buf *out)
{
    int lo = -margin, hi = qr->width + margin;
    for (int y = lo; y < hi; y++) {
        for (int x = lo; x < hi; x++)
            buf_puts(out, qr_is_dark(qr, x, y) ? "##" : "  ");
        buf_putc(out, '\n');
    }
}

void qr_render_svg(const struct qr_code *qr, int margin, int scale, struct buf *out)
{
    int side = (qr->width + 2 * margin) * scale;
    buf_printf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
                    " viewBox=\"0 0 %d %d\" shape-rendering=\"crispEdges\">\n"
                    "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n<path fill=\"#000000\" d=\"",
               side, side, qr->width + 2 * margin, qr->width + 2 * margin, qr->width + 2 * margin,
               qr->width + 2 * margin);
    /* One horizontal run of dark modules per path segment, in module units. */
    for (int y = 0; y < qr->width; y++) {
        for (int x = 0; x < qr->width;) {
            if (!qr_is_dark(qr, x, y)) {
                x++;
                continue;
            }
            int run = 0;
            while (x + run < qr->width && qr_is_dark(qr, x + run, y))
                run++;
            buf_printf(out, "M%d %dh%dv1h-%dz", x + margin, y + margin, run, run);
            x += run;
        }
    }
    buf_puts(out, "\"/>\n</svg>\n");
}

int qr_write_png(const struct qr_code *qr, int margin, int scale, FILE *f)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    int side = (qr->width + 2 * margin) * scale;
    png_bytep row = NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return -1;
    }
    row = xmalloc((size_t)side);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(row);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)side, (png_uint_32)side, 8, PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int py = 0; py < side; py++) {
        int y = py / scale - margin;
        for (int px = 0; px < side; px++)
            row[px] = qr_is_dark(qr, px / scale - margin, y) ? 0 : 255;
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);
    return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}

static int b64url_value(char c)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char *p = c ? strchr(alphabet, c) : NULL;
    return p ? (int)(p - alphabet) : -1;
}

enum pass_shape pass_check_shape(const char *text)
{
    size_t len = strlen(text);
    unsigned char head[2] = {0, 0};
    if (len == 0)
        return PASS_NOT_BASE64URL;
    for (size_t i = 0; i < len; i++)
        if (b64url_value(text[i]) < 0)
            return PASS_NOT_BASE64URL;
    if (len % 4 == 1)
        return PASS_TRUNCATED;
    size_t bytes = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
    if (len >= 3) {
        uint32_t v = (uint32_t)b64url_value(text[0]) << 18 | (uint32_t)b64url_value(text[1]) << 12 |
                     (uint32_t)b64url_value(text[2]) << 6;
        head[0] = (unsigned char)(v >> 16);
        head[1] = (unsigned char)(v >> 8);
    }
    if (bytes < 2 || head[0] != 1 || head[1] == 0 || head[1] > PASS_ID_MAX)
        return bytes < 2 + 1 + 8 + PASS_SIG_LEN ? PASS_TRUNCATED : PASS_NOT_BASE64URL;
    return bytes == 2 + (size_t)head[1] + 8 + PASS_SIG_LEN ? PASS_OK : PASS_TRUNCATED;
}

bool pass_short_code(const char *text, char out[9])
{
    size_t n = 0;
    for (; *text; text++) {
        if (*text == '-' || *text == ' ')
            continue;
        if (n == 8 || !isalnum((unsigned char)*text))
            return false;
        out[n++] = (char)toupper((unsigned char)*text);
    }
    out[n] = '\0';
    return n == 8;
}
