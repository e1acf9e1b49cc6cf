/*
 * rill-broker -- the single-node Kafka-protocol broker daemon: argument parsing, signals,
 * and nothing else (the broker is src/broker).
 *
 *   rill-broker [--listen HOST:PORT]... [--advertise HOST:PORT] [--data-dir DIR]
 *               [--config FILE] [--metrics HOST:PORT] [--log-level LEVEL] [-X key=value]...
 *
 * Settings are applied in this order, later ones winning: built-in defaults, the --config
 * file, then the other options from left to right.  Bad arguments or settings exit with
 * status 2 and a message naming the culprit; a broker that cannot start (data directory
 * locked by another broker, port taken) exits with 1.  SIGTERM and SIGINT stop it
 * gracefully (exit 0).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/server/server.h"
#include "common/log.h"

static rill_server *volatile g_srv;
static volatile sig_atomic_t g_stop; /* a signal came before the server existed */

static void on_signal(int sig) {
    (void)sig;
    g_stop = 1;
    if (g_srv)
        rill__server_stop(g_srv);
}

static void usage(FILE *f) {
    fprintf(f, "usage: rill-broker [options]\n"
               "  --listen HOST:PORT     accept clients here (repeatable; default 127.0.0.1:9092)\n"
               "  --advertise HOST:PORT  address given to clients in metadata (default: the first\n"
               "                         listener)\n"
               "  --data-dir DIR         where the logs live (default ./rill-data)\n"
               "  --config FILE          Kafka-style key=value settings (server.properties)\n"
               "  --metrics HOST:PORT    serve Prometheus metrics at http://HOST:PORT/metrics\n"
               "  --log-level LEVEL      error, warn, notice, info (default) or debug\n"
               "  -X key=value           one setting, as in the config file (repeatable)\n"
               "  --help, --version\n"
               "Settings: num.partitions, auto.create.topics.enable, node.id, message.max.bytes,\n"
               "socket.request.max.bytes, log.segment.bytes, log.retention.ms|minutes|hours,\n"
               "log.retention.bytes, log.roll.ms|hours, log.flush.interval.messages,\n"
               "log.flush.interval.ms, log.flush.policy (acks-all | sync | os), ...\n");
}

static int bad(const char *fmt, const char *a, const char *b) {
    fprintf(stderr, "rill-broker: ");
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, "\n(see rill-broker --help)\n");
    return 2;
}

/* Options that take a value; returns it (advancing *i) or NULL when missing. */
static const char *value_of(int argc, char **argv, int *i) {
    const char *arg = argv[*i];
    const char *eq = strchr(arg, '=');
    if (arg[0] == '-' && arg[1] == '-' && eq)
        return eq + 1; /* --opt=value */
    if (arg[1] == 'X' && arg[2])
        return arg + 2; /* -Xkey=value */
    if (*i + 1 >= argc)
        return NULL;
    return argv[++*i];
}

static int is_opt(const char *arg, const char *name) {
    size_t n = strlen(name);
    return strncmp(arg, name, n) == 0 && (arg[n] == '\0' || (arg[n] == '=' && name[1] == '-'));
}

int main(int argc, char **argv) {
    rill_broker_config cfg;
    rill__broker_config_defaults(&cfg);
    char err[1024];

    /* The config file first, wherever it is on the line: options override it. */
    for (int i = 1; i < argc; i++) {
        if (is_opt(argv[i], "--config")) {
            const char *v = value_of(argc, argv, &i);
            if (!v)
                return bad("%s needs a value%s", "--config", "");
            if (rill__broker_config_load(&cfg, v, err, sizeof(err)) != 0)
                return bad("%s%s", err, "");
        }
    }
    int nlisten = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--version")) {
            printf("rill-broker 0.1.0\n");
            return 0;
        }
        if (is_opt(a, "--config")) {
            value_of(argc, argv, &i);
            continue;
        }
        int known = is_opt(a, "--listen") || is_opt(a, "--advertise") || is_opt(a, "--data-dir") ||
                    is_opt(a, "--metrics") || is_opt(a, "--log-level") || !strncmp(a, "-X", 2);
        if (!known)
            return bad("unknown option '%s'%s", a, "");
        if (!(v = value_of(argc, argv, &i)))
            return bad("%s needs a value%s", a, "");
        if (is_opt(a, "--listen")) {
            if (nlisten >= RILL_BROKER_MAX_LISTENERS)
                return bad("at most %s listeners%s", "8", "");
            if (rill__hostport_parse(v, &cfg.listeners[nlisten]) != 0 ||
                cfg.listeners[nlisten].port < 0)
                return bad("--listen: '%s' is not HOST:PORT%s", v, "");
            cfg.nlisteners = ++nlisten;
        } else if (is_opt(a, "--advertise")) {
            if (rill__hostport_parse(v, &cfg.advertise) != 0)
                return bad("--advertise: '%s' is not HOST:PORT%s", v, "");
            cfg.has_advertise = 1;
        } else if (is_opt(a, "--metrics")) {
            if (rill__hostport_parse(v, &cfg.metrics) != 0)
                return bad("--metrics: '%s' is not HOST:PORT%s", v, "");
            cfg.has_metrics = 1;
        } else if (is_opt(a, "--data-dir")) {
            if (!*v || strlen(v) >= sizeof(cfg.data_dir))
                return bad("--data-dir: '%s' is not a usable directory name%s", v, "");
            snprintf(cfg.data_dir, sizeof(cfg.data_dir), "%s", v);
        } else if (is_opt(a, "--log-level")) {
            int lvl = rill__log_level_parse(v);
            if (lvl < 0)
                return bad("--log-level: '%s' is not error, warn, notice, info or debug%s", v, "");
            cfg.log_level = lvl;
        } else {
            if (rill__broker_config_set_kv(&cfg, v, err, sizeof(err)) != 0)
                return bad("-X %s%s", err, "");
        }
    }

    rill_logger lg = {.level = cfg.log_level, .sink = NULL, .opaque = NULL, .name = NULL};
    /* Line-buffered output so that the "listening on" line reaches a pipe at once. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    setvbuf(stderr, NULL, _IOLBF, 0);

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL); /* sendfile to a closed socket must not kill us */
    /* Before the "listening on" line: a stop request right after it must be graceful. */
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    rill_server *srv;
    if (rill__server_new(&cfg, &lg, &srv, err, sizeof(err)) != 0) {
        rill__log(&lg, RILL_LOG_ERR, "broker", "cannot start: %s", err);
        return 1;
    }
    g_srv = srv;
    if (g_stop)
        rill__server_stop(srv);

    int rc = rill__server_run(srv);
    g_srv = NULL;
    if (rill__server_destroy(srv) != 0)
        rc = -1;
    rill__log(&lg, RILL_LOG_NOTICE, "broker", "stopped%s", rc ? " with errors" : "");
    return rc ? 1 : 0;
}
