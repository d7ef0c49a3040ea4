/* The vehicles group: a vehicle's state by ID or plate, and remote commands (unlock, lock,
 * honk, flash) answered by a simulated vehicle after --vehicle-delay-ms.
 *
 * A command's life is decided when it is accepted (the plan: sent at, answered at, with
 * what) and its visible status is derived from the plan and the service clock whenever a
 * command or its vehicle is read: queued -> sent -> succeeded | failed | expired. The first
 * read past a step writes it to the row (and the vehicle's lock state, and the audit log
 * for staff commands), so the database and the API always agree. There is no worker thread:
 * nothing to stop on SIGTERM, and --now is honoured because only the service clock moves
 * commands on.
 *
 * Who sees what: staff every vehicle; a customer the vehicle of their own active order and
 * vehicles nobody rents (as a car-sharing map shows free cars), never one rented by another
 * customer (403). Commands: see vehicles_command_create's rules in vehicles.c. */
#ifndef CARHELP_SERVER_VEHICLES_H
#define CARHELP_SERVER_VEHICLES_H

struct request;

/* A command not answered within this long expires (not acknowledged). */
#define VEHICLE_COMMAND_TTL_MS 60000

void vehicles_get(struct request *req);
void vehicles_command_create(struct request *req);
void vehicles_command_get(struct request *req);

#endif
