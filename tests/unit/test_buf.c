/* The growable buffer: always a C string, grows without bound, URL-encodes path segments. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"

static void a_new_buffer_is_an_empty_string(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    assert_non_null(b.data);
    assert_string_equal(b.data, "");
    assert_int_equal(b.len, 0);
    buf_free(&b);
    assert_null(b.data);
}

static void appends_grow_and_stay_terminated(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;   /* the static initialiser works without buf_init */
    for (int i = 0; i < 10000; i++)
        buf_putc(&b, (char)('a' + i % 26));
    assert_int_equal(b.len, 10000);
    assert_true(b.cap > b.len);
    assert_int_equal(b.data[10000], '\0');
    assert_int_equal(b.data[9999], 'a' + 9999 % 26);
    buf_append(&b, "\0x", 2);   /* binary-safe */
    assert_int_equal(b.len, 10002);
    assert_int_equal(b.data[10001], 'x');
    buf_free(&b);
}

static void printf_handles_long_output(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "id=");
    buf_printf(&b, "%d-%s", 42, "x");
    assert_string_equal(b.data, "id=42-x");
    char big[5000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    buf_printf(&b, "[%s]", big);
    assert_int_equal(b.len, 7 + 2 + 4999);
    assert_int_equal(b.data[b.len - 1], ']');
    assert_int_equal(strlen(b.data), b.len);
    buf_free(&b);
}

static void reset_keeps_the_allocation(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "something long enough to grow the buffer past its first size......");
    size_t cap = b.cap;
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    assert_int_equal(b.cap, cap);
    buf_free(&b);
}

static void detach_hands_over_and_reinitialises(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "hello");
    char *s = buf_detach(&b);
    assert_string_equal(s, "hello");
    assert_non_null(b.data);
    assert_string_equal(b.data, "");
    assert_int_equal(b.len, 0);
    free(s);
    buf_free(&b);
}

static void url_encoding_escapes_everything_but_unreserved(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    buf_put_urlencoded(&b, "AZaz09-_.~");
    assert_string_equal(b.data, "AZaz09-_.~");
    buf_reset(&b);
    buf_put_urlencoded(&b, "a b/c?d=e&f#g%");
    assert_string_equal(b.data, "a%20b%2Fc%3Fd%3De%26f%23g%25");
    buf_reset(&b);
    buf_put_urlencoded(&b, "京AD12345");   /* UTF-8 bytes, upper-case hex */
    assert_string_equal(b.data, "%E4%BA%ACAD12345");
    buf_reset(&b);
    buf_put_urlencoded(&b, "../..");
    assert_string_equal(b.data, "..%2F..");
    buf_free(&b);
}

static void string_helpers_copy(void **state)
{
    (void)state;
    char *a = xstrdup("abc");
    char *b = xstrndup("abcdef", 2);
    char *c = xstrndup("ab", 10);
    assert_string_equal(a, "abc");
    assert_string_equal(b, "ab");
    assert_string_equal(c, "ab");
    free(a);
    free(b);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_new_buffer_is_an_empty_string),
        cmocka_unit_test(appends_grow_and_stay_terminated),
        cmocka_unit_test(printf_handles_long_output),
        cmocka_unit_test(reset_keeps_the_allocation),
        cmocka_unit_test(detach_hands_over_and_reinitialises),
        cmocka_unit_test(url_encoding_escapes_everything_but_unreserved),
        cmocka_unit_test(string_helpers_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
