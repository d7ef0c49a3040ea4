/* carhelp-server: the reference implementation of the carhelp API for local use, demos
 * and tests. Options, startup, and a clean stop on SIGTERM/SIGINT. */
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "seed.h"

enum { OPT_LISTEN = 256, OPT_DB, OPT_SEED, OPT_VEHICLE_DELAY, OPT_FAULTS, OPT_TLS_CERT,
       OPT_TLS_KEY, OPT_NOW, OPT_HELP, OPT_VERSION };

static const struct option long_options[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"db", required_argument, NULL, OPT_DB},
    {"seed", required_argument, NULL, OPT_SEED},
    {"vehicle-delay-ms", required_argument, NULL, OPT_VEHICLE_DELAY},
    {"faults", no_argument, NULL, OPT_FAULTS},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"now", required_argument, NULL, OPT_NOW},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *out)
{
    fputs("usage: carhelp-server [OPTIONS]\n"
          "\n"
          "The reference carhelp API service (libmicrohttpd + SQLite).\n"
          "\n"
          "  --listen ADDR:PORT      address to listen on (default " DEFAULT_LISTEN
          "; port 0 picks a free one)\n"
          "  --db FILE               SQLite database file (default: in memory)\n"
          "  --seed demo             load the demo dataset (no-op when already loaded)\n"
          "  --vehicle-delay-ms N    simulated vehicle answer time (default 800)\n"
          "  --faults                honour the test-only X-Fault request header\n"
          "  --tls-cert FILE         serve HTTPS with this certificate (PEM) ...\n"
          "  --tls-key FILE          ... and this private key (PEM)\n"
          "  --now RFC3339           start the service clock at this time (tests)\n"
          "  --help                  show this help\n"
          "  --version               show the version\n"
          "\n"
          "The first line on stdout is 'listening on URL'. SIGTERM or SIGINT stops the\n"
          "service cleanly.\n",
          out);
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("carhelp-server: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'carhelp-server --help'.\n", stderr);
    return 2;
}

static int parse_delay(const char *text, long *out)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (end == text || *end || v < 0 || v > 3600000)
        return -1;
    *out = v;
    return 0;
}

/* Returns -1 to go on, or an exit status. */
static int parse_options(int argc, char **argv, struct server_config *cfg)
{
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        switch (c) {
        case OPT_LISTEN: cfg->listen = optarg; break;
        case OPT_DB: cfg->db_path = optarg; break;
        case OPT_SEED: cfg->seed = optarg; break;
        case OPT_FAULTS: cfg->faults = true; break;
        case OPT_TLS_CERT: cfg->tls_cert = optarg; break;
        case OPT_TLS_KEY: cfg->tls_key = optarg; break;
        case OPT_NOW: cfg->now = optarg; break;
        case OPT_VEHICLE_DELAY:
            if (parse_delay(optarg, &cfg->vehicle_delay_ms) != 0)
                return usage_error("--vehicle-delay-ms: expected milliseconds 0..3600000, "
                                   "got '%s'", optarg);
            break;
        case OPT_HELP: usage(stdout); return 0;
        case OPT_VERSION: puts(SERVER_NAME " " CARHELP_VERSION); return 0;
        case ':': return usage_error("option %s needs a value", argv[optind - 1]);
        default: return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    return -1;
}

static int check_options(const struct server_config *cfg)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (http_parse_listen(cfg->listen, &ss, &len) != 0)
        return usage_error("--listen: expected ADDR:PORT such as 127.0.0.1:8765, got '%s'",
                           cfg->listen);
    if (!cfg->tls_cert != !cfg->tls_key)
        return usage_error("%s", "--tls-cert and --tls-key go together");
    if (cfg->seed && !seed_known(cfg->seed))
        return usage_error("--seed: unknown dataset '%s' (known: demo)", cfg->seed);
    if (clock_init(cfg->now) != 0)
        return usage_error("--now: expected an RFC 3339 time such as "
                           "2026-11-25T19:41:00+08:00, got '%s'", cfg->now);
    return -1;
}

static int open_database(const struct server_config *cfg)
{
    char err[256];
    if (db_open(cfg->db_path, err, sizeof err) != 0) {
        fprintf(stderr, "carhelp-server: %s\n", err);
        return 1;
    }
    if (cfg->seed && seed_load(cfg->seed) != 0) {
        fprintf(stderr, "carhelp-server: cannot load the %s dataset\n", cfg->seed);
        db_close();
        return 1;
    }
    return 0;
}

/* Threads started later inherit the blocked mask, so only sigwait sees these. */
static void block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static void announce(const struct server_config *cfg, uint16_t port)
{
    char host[128];
    const char *colon = strrchr(cfg->listen, ':');
    snprintf(host, sizeof host, "%.*s", (int)(colon - cfg->listen), cfg->listen);
    printf("listening on %s://%s:%u\n", cfg->tls_cert ? "https" : "http", host, port);
    fflush(stdout);
    if (strcmp(host, "127.0.0.1") != 0 && strcmp(host, "[::1]") != 0)
        fprintf(stderr, "carhelp-server: warning: listening beyond loopback on %s\n", host);
}

static int serve(const struct server_config *cfg)
{
    char err[256];
    uint16_t port = 0;
    sigset_t set;
    int sig = 0;
    block_signals(&set);
    struct MHD_Daemon *daemon = http_start(cfg, &port, err, sizeof err);
    if (!daemon) {
        fprintf(stderr, "carhelp-server: %s\n", err);
        return 1;
    }
    announce(cfg, port);
    while (sigwait(&set, &sig) != 0)
        ;
    fprintf(stderr, "carhelp-server: %s received, stopping\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM");
    http_stop(daemon);
    return 0;
}

/* glibc gives a thread's arena memory back with madvise as soon as 128 KiB lie free at its
 * top, and requests free about that much each time: under load a good share of the CPU went
 * to madvise and the TLB flushes it sends to every core. Keep freed memory for reuse (up to
 * 64 MiB per arena); blocks over 4 MiB are still mapped and unmapped on their own. */
static void tune_malloc(void)
{
    mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
    mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
}

int main(int argc, char **argv)
{
    struct server_config cfg = {.listen = DEFAULT_LISTEN,
                                .vehicle_delay_ms = DEFAULT_VEHICLE_DELAY_MS};
    int rc = parse_options(argc, argv, &cfg);
    if (rc < 0)
        rc = check_options(&cfg);
    if (rc >= 0)
        return rc;
    tune_malloc();
    if (open_database(&cfg) != 0)
        return 1;
    rc = serve(&cfg);
    db_lock();
    db_close();
    db_unlock();
    return rc;
}
