#include "pii.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

bool phone_is_valid(const char *phone)
{
    if (strlen(phone) != 11 || phone[0] != '1' || phone[1] < '3' || phone[1] > '9')
        return false;
    for (int i = 0; i < 11; i++)
        if (!isdigit((unsigned char)phone[i]))
            return false;
    return true;
}

/* Keeps the first `head` and last `tail` characters, stars in between. */
static void mask_middle(const char *s, size_t head, size_t tail, char out[MASKED_LEN])
{
    size_t n = strlen(s);
    if (n <= head + tail || n >= MASKED_LEN) {
        snprintf(out, MASKED_LEN, "****");
        return;
    }
    memcpy(out, s, head);
    memset(out + head, '*', n - head - tail);
    memcpy(out + n - tail, s + n - tail, tail);
    out[n] = '\0';
}

void mask_phone(const char *phone, char out[MASKED_LEN])
{
    mask_middle(phone, 3, 4, out);
}

void mask_id_number(const char *id, char out[MASKED_LEN])
{
    mask_middle(id, 4, 4, out);
}
