/* Personal data: phone validation and the masks used in answers and logs. */
#ifndef CARHELP_SERVER_PII_H
#define CARHELP_SERVER_PII_H

#include <stdbool.h>

#define MASKED_LEN 24

/* Mainland mobile number: 11 digits, 1[3-9]... (the client normalises first). */
bool phone_is_valid(const char *phone);
/* 13800138000 -> 138****8000 */
void mask_phone(const char *phone, char out[MASKED_LEN]);
/* 11010519491231002X -> 1101**********002X */
void mask_id_number(const char *id, char out[MASKED_LEN]);

#endif
