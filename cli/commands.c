/* The one command table: every command and group the CLI knows, in the order --help lists them. */
#include <stddef.h>
#include "command.h"

extern const struct command cmd_login, cmd_logout, cmd_auth, cmd_doctor, cmd_contact,
    cmd_completion, cmd_complete, cmd_help;
extern const struct command cmd_account;
extern const struct command cmd_order;
extern const struct command cmd_report, cmd_ticket, cmd_emergency, cmd_outbox;
extern const struct command cmd_vehicle, cmd_unlock, cmd_lock;
extern const struct command cmd_checklist;
extern const struct command cmd_shell, cmd_triage;

const struct command *const commands[] = {
    &cmd_login,
    &cmd_logout,
    &cmd_auth,
    &cmd_account,
    &cmd_order,
    &cmd_report,
    &cmd_ticket,
    &cmd_emergency,
    &cmd_outbox,
    &cmd_vehicle,
    &cmd_unlock,
    &cmd_lock,
    &cmd_doctor,
    &cmd_contact,
    &cmd_checklist,
    &cmd_shell,
    &cmd_triage,
    &cmd_completion,
    &cmd_help,
    &cmd_complete,
    NULL,
};
