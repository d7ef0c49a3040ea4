/* QR rendering and the offline pass-shape check: every terminal rendering maps back to the
 * encoded modules (with the quiet zone light), images have the right size, and malformed or
 * cut-off passes are told apart from good ones without any request. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "qr.h"

/* A pass the service could have made: version 1, a 28-character id, times, 16-byte signature. */
static const char *const good_pass =
    "ARx0a3RfNTU0YjEzZGQxNjZjYjY5MDUwYjM3NjhhawbdKGsQF6jDh_3CrrxwjjaUmDiooY6u";

static void encode(struct qr_code *qr)
{
    assert_int_equal(qr_encode(good_pass, qr), 0);
    assert_true(qr->width >= 21 && (qr->width - 17) % 4 == 0);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void encoding_rejects_empty_text(void **state)
{
    (void)state;
    struct qr_code qr;
    assert_int_equal(qr_encode("", &qr), -1);
    assert_null(qr.dark);
}

static void finder_patterns_are_dark_and_outside_is_light(void **state)
{
    (void)state;
    struct qr_code qr;
    encode(&qr);
    assert_true(qr_is_dark(&qr, 0, 0));
    assert_true(qr_is_dark(&qr, 6, 6));
    assert_false(qr_is_dark(&qr, 1, 1));
    assert_true(qr_is_dark(&qr, qr.width - 1, 0));
    assert_false(qr_is_dark(&qr, -1, 0));
    assert_false(qr_is_dark(&qr, 0, qr.width));
    qr_free(&qr);
}

static void ascii_maps_back_to_the_modules(void **state)
{
    (void)state;
    struct qr_code qr;
    struct buf out = BUF_INIT;
    buf_init(&out);
    encode(&qr);
    qr_render_ascii(&qr, 2, &out);
    int side = qr.width + 4;
    assert_int_equal(count_lines(out.data), side);
    const char *line = out.data;
    for (int y = -2; y < qr.width + 2; y++) {
        const char *end = strchr(line, '\n');
        assert_int_equal(end - line, 2 * side);
        for (int x = -2; x < qr.width + 2; x++)
            assert_int_equal(line[2 * (x + 2)] == '#', qr_is_dark(&qr, x, y));
        line = end + 1;
    }
    buf_free(&out);
    qr_free(&qr);
}

static void utf8_half_blocks_map_back_to_the_modules(void **state)
{
    (void)state;
    struct qr_code qr;
    struct buf out = BUF_INIT;
    buf_init(&out);
    encode(&qr);
    qr_render_utf8(&qr, 2, false, &out);
    int side = qr.width + 4;
    assert_int_equal(count_lines(out.data), (side + 1) / 2);
    const unsigned char *p = (const unsigned char *)out.data;
    for (int y = -2; y < qr.width + 2; y += 2) {
        for (int x = -2; x < qr.width + 2; x++) {
            bool top = false, bottom = false;
            if (*p == ' ') {
                p++;
            } else {
                assert_int_equal(p[0], 0xe2);
                assert_int_equal(p[1], 0x96);
                top = p[2] == 0x80 || p[2] == 0x88;
                bottom = p[2] == 0x84 || p[2] == 0x88;
                assert_true(top || bottom);
                p += 3;
            }
            assert_int_equal(top, qr_is_dark(&qr, x, y));
            assert_int_equal(bottom, qr_is_dark(&qr, x, y + 1));
        }
        assert_int_equal(*p++, '\n');
    }
    assert_int_equal(*p, '\0');
    buf_free(&out);
    qr_free(&qr);
}

static void utf8_with_colour_is_black_on_white_and_reset(void **state)
{
    (void)state;
    struct qr_code qr;
    struct buf out = BUF_INIT;
    buf_init(&out);
    encode(&qr);
    qr_render_utf8(&qr, 1, true, &out);
    assert_memory_equal(out.data, "\033[30;107m", 9);
    assert_non_null(strstr(out.data, "\033[0m\n"));
    buf_free(&out);
    qr_free(&qr);
}

static void ansi_uses_background_cells_only(void **state)
{
    (void)state;
    struct qr_code qr;
    struct buf out = BUF_INIT;
    buf_init(&out);
    encode(&qr);
    qr_render_ansi(&qr, 0, &out);
    assert_int_equal(count_lines(out.data), qr.width);
    assert_null(strchr(out.data, '#'));
    assert_null(strstr(out.data, "\xe2\x96"));
    assert_memory_equal(out.data, "\033[40m", 5); /* the finder's corner is dark */
    buf_free(&out);
    qr_free(&qr);
}

static void svg_has_the_scaled_size(void **state)
{
    (void)state;
    struct qr_code qr;
    struct buf out = BUF_INIT;
    buf_init(&out);
    encode(&qr);
    qr_render_svg(&qr, 4, 10, &out);
    char want[64];
    snprintf(want, sizeof want, "width=\"%d\"", (qr.width + 8) * 10);
    assert_non_null(strstr(out.data, want));
    assert_non_null(strstr(out.data, "M4 4h7v1h-7z")); /* the top-left finder's first row */
    assert_non_null(strstr(out.data, "</svg>"));
    buf_free(&out);
    qr_free(&qr);
}

static void png_has_the_scaled_size(void **state)
{
    (void)state;
    struct qr_code qr;
    encode(&qr);
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(qr_write_png(&qr, 4, 3, f), 0);
    unsigned char head[24];
    rewind(f);
    assert_int_equal(fread(head, 1, sizeof head, f), sizeof head);
    assert_memory_equal(head, "\x89PNG\r\n\x1a\n", 8);
    uint32_t w = (uint32_t)head[16] << 24 | (uint32_t)head[17] << 16 | (uint32_t)head[18] << 8 |
                 head[19];
    assert_int_equal(w, (uint32_t)(qr.width + 8) * 3);
    fclose(f);
    qr_free(&qr);
}

static void pass_shapes_are_told_apart(void **state)
{
    (void)state;
    assert_int_equal(pass_check_shape(good_pass), PASS_OK);
    assert_int_equal(pass_check_shape(""), PASS_NOT_BASE64URL);
    assert_int_equal(pass_check_shape("AR+0a3Rf"), PASS_NOT_BASE64URL);
    assert_int_equal(pass_check_shape("ARx0a3Rf=="), PASS_NOT_BASE64URL);
    assert_int_equal(pass_check_shape("ARx0a3RfNTU0YjEzZGQxNjZjYjY5MDUwYjM3Njhh"), PASS_TRUNCATED);
    char cut[128];
    size_t len = strlen(good_pass);
    for (size_t n = 1; n < len; n++) {
        snprintf(cut, sizeof cut, "%.*s", (int)n, good_pass);
        assert_int_not_equal(pass_check_shape(cut), PASS_OK);
    }
    snprintf(cut, sizeof cut, "%sAA", good_pass);
    assert_int_equal(pass_check_shape(cut), PASS_TRUNCATED); /* wrong length for its id */
    snprintf(cut, sizeof cut, "%s", good_pass);
    cut[0] = 'B'; /* version 5 */
    assert_int_equal(pass_check_shape(cut), PASS_NOT_BASE64URL);
}

static void short_codes_ignore_case_spaces_and_dashes(void **state)
{
    (void)state;
    char out[9];
    assert_true(pass_short_code("a3ky-hfzp", out));
    assert_string_equal(out, "A3KYHFZP");
    assert_true(pass_short_code("A3KY HFZP", out));
    assert_false(pass_short_code("A3KYHFZ", out));
    assert_false(pass_short_code("A3KYHFZPQ", out));
    assert_false(pass_short_code("A3KY_HFZ", out));
    assert_false(pass_short_code(good_pass, out));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encoding_rejects_empty_text),
        cmocka_unit_test(finder_patterns_are_dark_and_outside_is_light),
        cmocka_unit_test(ascii_maps_back_to_the_modules),
        cmocka_unit_test(utf8_half_blocks_map_back_to_the_modules),
        cmocka_unit_test(utf8_with_colour_is_black_on_white_and_reset),
        cmocka_unit_test(ansi_uses_background_cells_only),
        cmocka_unit_test(svg_has_the_scaled_size),
        cmocka_unit_test(png_has_the_scaled_size),
        cmocka_unit_test(pass_shapes_are_told_apart),
        cmocka_unit_test(short_codes_ignore_case_spaces_and_dashes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
