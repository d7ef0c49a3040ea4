/* The outbox without a network: SHA-256 vectors, attachment types by content, items saved
 * atomically and read back, corrupt files moved aside (never deleted), changed attachments. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "attach.h"
#include "outbox.h"
#include "sha256.h"

static char dir[256];

static int make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/carhelp-outbox-test-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void sha256_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *in, *hex;
    } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct ch_sha256 s;
        char out[65];
        ch_sha256_init(&s);
        /* fed in two pieces, so the block boundary logic is exercised */
        size_t n = strlen(v[i].in), half = n / 2;
        ch_sha256_update(&s, v[i].in, half);
        ch_sha256_update(&s, v[i].in + half, n - half);
        ch_sha256_final_hex(&s, out);
        assert_string_equal(out, v[i].hex);
    }
}

static void types_by_content_not_name(void **state)
{
    (void)state;
    assert_string_equal(attach_sniff((const unsigned char *)"\xff\xd8\xff\xe0", 4), "image/jpeg");
    assert_string_equal(attach_sniff((const unsigned char *)"\x89PNG\r\n\x1a\n", 8), "image/png");
    assert_string_equal(attach_sniff((const unsigned char *)"%PDF-1.7", 8), "application/pdf");
    assert_string_equal(attach_sniff((const unsigned char *)"\0\0\0\x18" "ftypheic", 12),
                        "image/heic");
    assert_null(attach_sniff((const unsigned char *)"GIF89a", 6));
    assert_null(attach_sniff((const unsigned char *)"\0\0\0\x18" "ftypavif", 12));
    assert_null(attach_sniff((const unsigned char *)"\xff\xd8", 2));
}

static void save_then_load(void **state)
{
    (void)state;
    char photo[300];
    snprintf(photo, sizeof photo, "%s/p.png", dir);
    write_file(photo, "\x89PNG\r\n\x1a\nabc", 11);
    cJSON *body = cJSON_Parse("{\"category\":\"vehicle\",\"message\":\"左前轮\"}");
    const char *files[] = {photo, NULL};
    struct outbox_request r = {.command = "report", .summary = "vehicle: 左前轮",
                               .profile = NULL, .api_url = "http://127.0.0.1:1",
                               .method = "POST", .path = "/v1/tickets", .body = body,
                               .idempotency_key = "key-1", .attachments = files,
                               .attach_path = "/v1/tickets/{id}/attachments"};
    char id[OUTBOX_ID_MAX], box[300];
    struct ch_error e;
    err_clear(&e);
    snprintf(box, sizeof box, "%s/outbox", dir);
    assert_int_equal(outbox_save_request(box, &r, id, sizeof id, &e), 0);
    cJSON_Delete(body);
    assert_int_equal(outbox_count(box), 1);

    struct outbox_item *items;
    char **corrupt;
    int n;
    assert_int_equal(outbox_load_all(box, &items, &n, &corrupt, &e), 0);
    assert_int_equal(n, 1);
    assert_null(corrupt);
    assert_string_equal(items[0].id, id);
    assert_string_equal(items[0].profile, "default");
    assert_string_equal(items[0].idempotency_key, "key-1");
    assert_string_equal(cJSON_GetObjectItem(items[0].body, "message")->valuestring, "左前轮");
    assert_int_equal(items[0].natt, 1);
    assert_int_equal(items[0].att[0].size, 11);
    assert_string_equal(items[0].att[0].content_type, "image/png");
    assert_int_equal(outbox_check_attachments(&items[0], &e), 0);

    write_file(photo, "\x89PNG\r\n\x1a\nabd", 11);      /* same size, other bytes */
    assert_int_equal(outbox_check_attachments(&items[0], &e), CH_USAGE);
    assert_string_equal(e.code, "attachment_changed");

    struct stat st;
    assert_int_equal(stat(items[0].file, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(outbox_remove(&items[0], &e), 0);
    assert_int_equal(outbox_count(box), 0);
    outbox_free_items(items, n);
}

static void corrupt_files_are_moved_aside_not_deleted(void **state)
{
    (void)state;
    char box[300], path[400];
    struct ch_error e;
    err_clear(&e);
    snprintf(box, sizeof box, "%s/outbox2", dir);
    mkdir(box, 0700);
    snprintf(path, sizeof path, "%s/20260101-000000-00000000.json", box);
    write_file(path, "{\"version\":1", 12);
    snprintf(path, sizeof path, "%s/.tmp-half-written", box);   /* ignored: not an item */
    write_file(path, "x", 1);
    struct outbox_item *items;
    char **corrupt;
    int n;
    assert_int_equal(outbox_load_all(box, &items, &n, &corrupt, &e), 0);
    assert_int_equal(n, 0);
    assert_non_null(corrupt);
    assert_non_null(strstr(corrupt[0], "/corrupt/20260101-000000-00000000.json"));
    assert_int_equal(access(corrupt[0], R_OK), 0);
    assert_null(corrupt[1]);
    outbox_free_names(corrupt);
    outbox_free_items(items, n);
}

static void too_many_or_bad_attachments_save_nothing(void **state)
{
    (void)state;
    char gif[300], box[300];
    snprintf(gif, sizeof gif, "%s/a.png", dir);
    write_file(gif, "GIF89a", 6);
    snprintf(box, sizeof box, "%s/outbox3", dir);
    const char *files[] = {gif, NULL};
    struct outbox_request r = {.command = "report", .api_url = "http://127.0.0.1:1",
                               .method = "POST", .path = "/v1/tickets",
                               .idempotency_key = "k", .attachments = files,
                               .attach_path = "/x"};
    struct ch_error e;
    err_clear(&e);
    assert_int_equal(outbox_save_request(box, &r, NULL, 0, &e), CH_USAGE);
    assert_string_equal(e.what, "--attach");
    assert_int_equal(outbox_count(box), 0);
    const char *six[] = {gif, gif, gif, gif, gif, gif, NULL};
    r.attachments = six;
    assert_int_equal(outbox_save_request(box, &r, NULL, 0, &e), CH_USAGE);
    assert_string_equal(e.code, "too_many_attachments");
}

static void what_the_outbox_takes(void **state)
{
    (void)state;
    struct ch_error e;
    err_clear(&e);
    e.exit_code = CH_NETWORK;
    assert_true(outbox_accepts(&e));
    e.exit_code = CH_SERVICE;
    assert_true(outbox_accepts(&e));
    e.exit_code = CH_STATE;
    assert_false(outbox_accepts(&e));
    e.exit_code = CH_AUTH;
    assert_false(outbox_accepts(&e));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sha256_vectors),
        cmocka_unit_test(types_by_content_not_name),
        cmocka_unit_test(save_then_load),
        cmocka_unit_test(corrupt_files_are_moved_aside_not_deleted),
        cmocka_unit_test(too_many_or_bad_attachments_save_nothing),
        cmocka_unit_test(what_the_outbox_takes),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
