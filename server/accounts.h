/* Accounts: a customer sees and freezes their own; staff see and freeze an account once this
 * token verified it (POST /v1/accounts/verify, per-phone lockout). */
#ifndef CARHELP_SERVER_ACCOUNTS_H
#define CARHELP_SERVER_ACCOUNTS_H

#include <stdbool.h>

#define VERIFY_MAX_FAILURES 5
#define VERIFY_WINDOW_S (15 * 60)
#define FREEZE_REASON_MAX 500 /* characters */

struct request;

void accounts_get(struct request *req);
void accounts_verify(struct request *req);
void accounts_freeze(struct request *req);
/* Whether the caller's token has verified this account (staff). */
bool accounts_verified_by(const char *token_hash, const char *account_id);

#endif
