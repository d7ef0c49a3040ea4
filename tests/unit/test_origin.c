/* URL origins: what a stored token is bound to. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "origin.h"

static const char *origin_of(const char *url)
{
    static char out[ORIGIN_MAX];
    return url_origin(url, out, sizeof out) == 0 ? out : NULL;
}

static void the_default_port_is_filled_in(void **state)
{
    (void)state;
    assert_string_equal(origin_of("http://127.0.0.1"), "http://127.0.0.1:80");
    assert_string_equal(origin_of("https://api.example.com"), "https://api.example.com:443");
    assert_string_equal(origin_of("http://127.0.0.1:8765"), "http://127.0.0.1:8765");
}

static void scheme_and_host_are_lower_case(void **state)
{
    (void)state;
    assert_string_equal(origin_of("HTTPS://API.Example.COM:8443"), "https://api.example.com:8443");
    assert_string_equal(origin_of("HTTP://127.0.0.1:9/"), "http://127.0.0.1:9");
}

static void path_query_fragment_and_trailing_slash_are_ignored(void **state)
{
    (void)state;
    assert_string_equal(origin_of("http://127.0.0.1:9/"), "http://127.0.0.1:9");
    assert_string_equal(origin_of("http://127.0.0.1:9/v1/orders?limit=1#x"), "http://127.0.0.1:9");
    assert_true(same_origin("http://127.0.0.1:9/", "HTTP://127.0.0.1:9"));
    assert_true(same_origin("http://localhost", "http://localhost:80/"));
}

static void ipv6_literals_keep_their_brackets(void **state)
{
    (void)state;
    assert_string_equal(origin_of("http://[::1]:8765/"), "http://[::1]:8765");
    assert_string_equal(origin_of("https://[2001:DB8::1]"), "https://[2001:db8::1]:443");
}

static void different_scheme_host_or_port_is_another_origin(void **state)
{
    (void)state;
    assert_false(same_origin("http://127.0.0.1:8765", "http://127.0.0.1:8766"));
    assert_false(same_origin("http://127.0.0.1:443", "https://127.0.0.1:443"));
    assert_false(same_origin("http://127.0.0.1:80", "http://localhost:80"));
    assert_false(same_origin("https://api.example.com", "https://api.example.com.evil.test"));
}

static void what_has_no_origin_matches_nothing(void **state)
{
    (void)state;
    assert_null(origin_of(""));
    assert_null(origin_of(NULL));
    assert_null(origin_of("not a url"));
    assert_false(same_origin(NULL, NULL));
    assert_false(same_origin("", ""));
    assert_false(same_origin("not a url", "not a url"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_default_port_is_filled_in),
        cmocka_unit_test(scheme_and_host_are_lower_case),
        cmocka_unit_test(path_query_fragment_and_trailing_slash_are_ignored),
        cmocka_unit_test(ipv6_literals_keep_their_brackets),
        cmocka_unit_test(different_scheme_host_or_port_is_another_origin),
        cmocka_unit_test(what_has_no_origin_matches_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
