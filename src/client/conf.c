/*
 * conf.c -- rill_conf_t: the table of configuration keys, validation, and
 * the public rill_conf_* functions.
 *
 * Every key is one row of `props`: its type, where its typed value lives in
 * struct rill_conf, its range or allowed names, its default and a one-line
 * description.  Names, defaults and ranges follow librdkafka's
 * CONFIGURATION.md (and the Java client where the two differ in spelling
 * only, as aliases), so settings people already use carry over unchanged.
 * Defaults are applied through the same parser as user values, so a bad
 * default cannot hide: the unit test sets every default again.
 */
#include "client/conf.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum { T_STR, T_INT, T_INT64, T_DBL, T_BOOL, T_ENUM, T_LIST } conf_type;

/* A name accepted by an enum key (or an item of a list key) and its value. */
struct conf_name {
    const char *name;
    int val;
};

enum {
    F_NONEMPTY = 1 << 0,  /* string or list must not be empty */
    F_LOGNAMES = 1 << 1,  /* integer also accepts level names: error, warn, info, debug ... */
    F_BROKERS = 1 << 2,   /* string is a host:port list */
    F_PLAINTEXT = 1 << 3, /* enum: only value 0 is implemented yet */
    F_ASSIGNORS = 1 << 4, /* list: cooperative and eager assignors must not be mixed */
    F_BITS = 1 << 5,      /* list: OR of the item values is stored at off2 */
};

struct conf_prop {
    const char *name;
    conf_type type;
    size_t off;                    /* the typed field in struct rill_conf */
    int64_t min, max;              /* T_INT, T_INT64, T_DBL */
    const char *def;               /* default as a string; NULL: unset string */
    const struct conf_name *names; /* T_ENUM: accepted names; T_LIST: accepted items */
    size_t off2;                   /* F_BITS: int field for the item bits */
    unsigned flags;
    const char *desc;
};

/* Names that mean exactly the same as a key in the table. */
static const struct {
    const char *alias, *name;
} aliases[] = {
    {"metadata.broker.list", "bootstrap.servers"},
    {"request.required.acks", "acks"},
    {"queue.buffering.max.ms", "linger.ms"},
    {"compression.codec", "compression.type"},
    {"max.in.flight", "max.in.flight.requests.per.connection"},
    {"message.send.max.retries", "retries"},
    {"message.timeout.ms", "delivery.timeout.ms"},
    {"fetch.wait.max.ms", "fetch.max.wait.ms"},
    {"fetch.message.max.bytes", "max.partition.fetch.bytes"},
};

static const struct conf_name acks_names[] = {{"all", -1}, {"-1", -1}, {"0", 0}, {"1", 1}, {0}};
static const struct conf_name codec_names[] = {{"none", 0}, {"gzip", 1}, {"snappy", 2},
                                               {"lz4", 3},  {"zstd", 4}, {0}};
static const struct conf_name partitioner_names[] = {
    {"murmur2_random", RILL_PARTITIONER_MURMUR2_RANDOM},
    {"murmur2", RILL_PARTITIONER_MURMUR2},
    {"consistent_random", RILL_PARTITIONER_CONSISTENT_RANDOM},
    {"consistent", RILL_PARTITIONER_CONSISTENT},
    {"random", RILL_PARTITIONER_RANDOM},
    {"fnv1a_random", RILL_PARTITIONER_FNV1A_RANDOM},
    {"fnv1a", RILL_PARTITIONER_FNV1A},
    {0}};
static const struct conf_name security_names[] = {{"plaintext", RILL_SECURITY_PLAINTEXT},
                                                  {"ssl", RILL_SECURITY_SSL},
                                                  {"sasl_plaintext", RILL_SECURITY_SASL_PLAINTEXT},
                                                  {"sasl_ssl", RILL_SECURITY_SASL_SSL},
                                                  {0}};
static const struct conf_name reset_names[] = {{"latest", RILL_OFFSET_RESET_LATEST},
                                               {"earliest", RILL_OFFSET_RESET_EARLIEST},
                                               {"none", RILL_OFFSET_RESET_NONE},
                                               {"largest", RILL_OFFSET_RESET_LATEST},
                                               {"end", RILL_OFFSET_RESET_LATEST},
                                               {"smallest", RILL_OFFSET_RESET_EARLIEST},
                                               {"beginning", RILL_OFFSET_RESET_EARLIEST},
                                               {"error", RILL_OFFSET_RESET_NONE},
                                               {0}};
static const struct conf_name isolation_names[] = {
    {"read_committed", RILL_ISOLATION_READ_COMMITTED},
    {"read_uncommitted", RILL_ISOLATION_READ_UNCOMMITTED},
    {0}};
static const struct conf_name debug_names[] = {
    {"all", RILL_DBG_ALL},           {"generic", RILL_DBG_GENERIC},
    {"broker", RILL_DBG_BROKER},     {"topic", RILL_DBG_TOPIC},
    {"metadata", RILL_DBG_METADATA}, {"producer", RILL_DBG_PRODUCER},
    {"queue", RILL_DBG_QUEUE},       {"msg", RILL_DBG_MSG},
    {"protocol", RILL_DBG_PROTOCOL}, {"consumer", RILL_DBG_CONSUMER},
    {"cgrp", RILL_DBG_CGRP},         {"fetch", RILL_DBG_FETCH},
    {"admin", RILL_DBG_ADMIN},       {"eos", RILL_DBG_EOS},
    {"security", RILL_DBG_SECURITY}, {"assignor", RILL_DBG_ASSIGNOR},
    {"conf", RILL_DBG_CONF},         {0}};
/* val 1: cooperative; 0: eager (the two kinds cannot be mixed in one group). */
static const struct conf_name assignor_names[] = {
    {"range", 0}, {"roundrobin", 0}, {"cooperative-sticky", 1}, {0}};

#define OFF(f) offsetof(struct rill_conf, f)
#define I32MAX 2147483647

/* Row makers, so that the table reads as one line per key. */
#define STR(n, f, d, fl, desc)                                                                     \
    { n, T_STR, OFF(f), 0, 0, d, NULL, 0, fl, desc }
#define INT(n, f, lo, hi, d, desc)                                                                 \
    { n, T_INT, OFF(f), lo, hi, d, NULL, 0, 0, desc }
#define BOOL(n, f, d, desc)                                                                        \
    { n, T_BOOL, OFF(f), 0, 1, d, NULL, 0, 0, desc }
#define ENUM(n, f, names, d, fl, desc)                                                             \
    { n, T_ENUM, OFF(f), 0, 0, d, names, 0, fl, desc }

static const struct conf_prop props[] = {
    /* Connection. */
    STR("bootstrap.servers", bootstrap_servers, "localhost:9092", F_NONEMPTY | F_BROKERS,
        "Initial brokers, host:port[,host:port...]"),
    STR("client.id", client_id, "rill", 0, "Client identifier sent to the brokers"),
    ENUM("security.protocol", security_protocol, security_names, "plaintext", F_PLAINTEXT,
         "Protocol used to talk to brokers (only plaintext is supported yet)"),
    INT("request.timeout.ms", request_timeout_ms, 1, 900000, "30000",
        "How long a request may wait for its response"),
    INT("socket.connection.setup.timeout.ms", socket_connection_setup_timeout_ms, 1000, I32MAX,
        "30000", "Maximum time for a connection (TCP and handshake) to become usable"),
    INT("reconnect.backoff.ms", reconnect_backoff_ms, 0, 3600000, "100",
        "First wait before reconnecting to a broker; doubles up to reconnect.backoff.max.ms"),
    INT("reconnect.backoff.max.ms", reconnect_backoff_max_ms, 0, 3600000, "10000",
        "Longest wait before reconnecting to a broker"),
    INT("retry.backoff.ms", retry_backoff_ms, 1, 300000, "100",
        "First wait before retrying a request; doubles up to retry.backoff.max.ms"),
    INT("retry.backoff.max.ms", retry_backoff_max_ms, 1, 300000, "1000",
        "Longest wait before retrying a request"),
    INT("metadata.max.age.ms", metadata_max_age_ms, 1, 86400000, "900000",
        "Age after which cached metadata is no longer trusted"),
    INT("topic.metadata.refresh.interval.ms", topic_metadata_refresh_interval_ms, -1, 3600000,
        "300000", "Period of the metadata refresh (-1: only on errors)"),
    INT("api.version.request.timeout.ms", api_version_request_timeout_ms, 1, 300000, "10000",
        "Timeout of the ApiVersions request on a new connection"),
    INT("message.max.bytes", message_max_bytes, 1000, 1000000000, "1000000",
        "Largest Produce request (and so record batch) the client builds"),

    /* Producer. */
    ENUM("acks", acks, acks_names, "all", 0,
         "Acknowledgements the leader needs before answering: all (-1), 1, or 0 (no answer)"),
    {"linger.ms", T_DBL, OFF(linger_ms), 0, 900000, "5", NULL, 0, 0,
     "How long a batch waits for more messages before it is sent (fractions allowed)"},
    INT("batch.size", batch_size, 1, I32MAX, "1000000", "Largest record batch in bytes"),
    INT("batch.num.messages", batch_num_messages, 1, 1000000, "10000",
        "Most messages in one record batch"),
    ENUM("compression.type", compression, codec_names, "none", 0,
         "Compression codec for record batches"),
    INT("compression.level", compression_level, -1, 12, "-1",
        "Codec level (-1: the codec's default; gzip 0-9, lz4 0-12, zstd 1-12)"),
    BOOL("enable.idempotence", enable_idempotence, "true",
         "Producer ids and sequence numbers: no duplicates, no reordering across retries"),
    INT("max.in.flight.requests.per.connection", max_in_flight, 1, 1000000, "5",
        "Produce requests in flight per broker (at most 5 with idempotence)"),
    INT("retries", retries, 0, I32MAX, "2147483647",
        "How many times a failed batch is retried (within delivery.timeout.ms)"),
    INT("delivery.timeout.ms", delivery_timeout_ms, 0, I32MAX, "300000",
        "Time a message may take to be acknowledged, retries included (0: no limit)"),
    INT("queue.buffering.max.messages", queue_buffering_max_messages, 0, I32MAX, "100000",
        "Most messages queued or in flight (0: no limit)"),
    {"queue.buffering.max.kbytes", T_INT64, OFF(queue_buffering_max_kbytes), 1, I32MAX, "1048576",
     NULL, 0, 0, "Most KiB of messages queued or in flight"},
    ENUM("partitioner", partitioner, partitioner_names, "murmur2_random", 0,
         "How messages sent to any partition pick one (murmur2_random: as the Java client)"),
    INT("sticky.partitioning.linger.ms", sticky_partitioning_linger_ms, 0, 900000, "10",
        "How long messages without a key stick to one random partition"),

    /* Logging and statistics. */
    {"log_level", T_INT, OFF(log_level), 0, 7, "6", NULL, 0, F_LOGNAMES,
     "Log threshold, syslog levels 0-7 (or error, warn, notice, info, debug)"},
    {"debug", T_LIST, OFF(debug), 0, 0, NULL, debug_names, OFF(debug_flags), F_BITS,
     "Comma-separated debug contexts; turns on debug logging"},
    INT("statistics.interval.ms", statistics_interval_ms, 0, 86400000, "0",
        "Period of the statistics callback (0: off)"),

    /* Consumer. */
    STR("group.id", group_id, NULL, 0, "Consumer group id"),
    STR("group.instance.id", group_instance_id, NULL, 0,
        "Static group membership id (needs group.id)"),
    ENUM("auto.offset.reset", auto_offset_reset, reset_names, "latest", 0,
         "Where to start without a committed offset: latest, earliest, none"),
    BOOL("enable.auto.commit", enable_auto_commit, "true",
         "Commit consumed offsets in the background"),
    INT("auto.commit.interval.ms", auto_commit_interval_ms, 0, 86400000, "5000",
        "Period of background commits"),
    INT("session.timeout.ms", session_timeout_ms, 1, 3600000, "45000",
        "Time without heartbeats after which the coordinator drops a member"),
    INT("heartbeat.interval.ms", heartbeat_interval_ms, 1, 3600000, "3000",
        "Period of group heartbeats"),
    INT("max.poll.interval.ms", max_poll_interval_ms, 1, 86400000, "300000",
        "Longest time between polls before the member leaves the group"),
    INT("fetch.min.bytes", fetch_min_bytes, 1, 100000000, "1",
        "Bytes the broker waits for before answering a fetch"),
    INT("fetch.max.wait.ms", fetch_max_wait_ms, 0, 300000, "500",
        "Longest time the broker waits for fetch.min.bytes"),
    INT("fetch.max.bytes", fetch_max_bytes, 0, 2147483135, "52428800",
        "Most bytes in one fetch response"),
    INT("max.partition.fetch.bytes", max_partition_fetch_bytes, 1, 1000000000, "1048576",
        "Most bytes per partition in one fetch response"),
    ENUM("isolation.level", isolation_level, isolation_names, "read_committed", 0,
         "read_committed (skip aborted transactions) or read_uncommitted"),
    {"partition.assignment.strategy", T_LIST, OFF(partition_assignment_strategy), 0, 0,
     "range,roundrobin", assignor_names, 0, F_NONEMPTY | F_ASSIGNORS,
     "Assignors in order of preference: range, roundrobin, cooperative-sticky"},
    STR("client.rack", client_rack, NULL, 0, "Rack of this client (for rack-aware fetching)"),
    BOOL("enable.partition.eof", enable_partition_eof, "false",
         "Report an event when a partition's end is reached"),
    BOOL("check.crcs", check_crcs, "true",
         "Accepted for librdkafka configs; librill verifies every consumed batch CRC always"),
    INT("queued.max.messages.kbytes", queued_max_messages_kbytes, 1, 2097151, "65536",
        "Most KiB of prefetched messages held for the application"),
};

#define NPROPS (sizeof(props) / sizeof(props[0]))
_Static_assert(sizeof(props) / sizeof(props[0]) <= RILL__CONF_MAX_KEYS,
               "raise RILL__CONF_MAX_KEYS");

static void seterr(char *errstr, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *errstr, size_t size, const char *fmt, ...) {
    if (!errstr || !size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errstr, size, fmt, ap);
    va_end(ap);
}

static void *field(rill_conf_t *conf, size_t off) { return (char *)conf + off; }

static const struct conf_prop *find(const char *key) {
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
        if (!strcmp(key, aliases[i].alias)) {
            key = aliases[i].name;
            break;
        }
    for (size_t i = 0; i < NPROPS; i++)
        if (!strcmp(key, props[i].name))
            return &props[i];
    return NULL;
}

/* Edit distance, for "did you mean"; keys are short, so the O(n*m) table is tiny. */
static size_t distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return 99;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static void unknown_key(const char *key, char *errstr, size_t size) {
    const char *best = NULL;
    size_t bestd = 3; /* suggest only close misspellings */
    for (size_t i = 0; i < NPROPS; i++) {
        size_t d = distance(key, props[i].name);
        if (d < bestd) {
            bestd = d;
            best = props[i].name;
        }
    }
    if (best && bestd < strlen(key) / 2 + 1)
        seterr(errstr, size, "Unknown configuration key \"%s\" (did you mean \"%s\"?)", key, best);
    else
        seterr(errstr, size, "Unknown configuration key \"%s\"", key);
}

/* "a, b, c" of a name table, into buf. */
static const char *names_list(const struct conf_name *names, char *buf, size_t size) {
    size_t n = 0;
    buf[0] = '\0';
    for (const struct conf_name *e = names; e->name; e++) {
        int w = snprintf(buf + n, size - n, "%s%s", n ? ", " : "", e->name);
        if (w < 0 || (size_t)w >= size - n)
            break;
        n += (size_t)w;
    }
    return buf;
}

static const struct conf_name *match_name(const struct conf_name *names, const char *s,
                                          size_t len) {
    for (const struct conf_name *e = names; e->name; e++)
        if (strlen(e->name) == len && !strncasecmp(e->name, s, len))
            return e;
    return NULL;
}

/* The first name with the same value: "all" for "-1", "earliest" for "smallest". */
static const char *canonical(const struct conf_name *names, int val) {
    for (const struct conf_name *e = names; e->name; e++)
        if (e->val == val)
            return e->name;
    return "";
}

/* A whole base-10 integer, no spaces; -1 when not a number, -2 when out of int64. */
static int parse_int(const char *s, int64_t *out) {
    if (!*s || isspace((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end)
        return -1;
    if (errno == ERANGE)
        return -2;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double *out) {
    if (!*s || strspn(s, "0123456789.eE+-") != strlen(s))
        return -1; /* also keeps out strtod's "inf", "nan" and hex forms */
    char *end;
    double v = strtod(s, &end);
    if (*end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int parse_bool(const char *s) {
    static const char *yes[] = {"true", "1", "yes", "on"}, *no[] = {"false", "0", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (!strcasecmp(s, yes[i]))
            return 1;
        if (!strcasecmp(s, no[i]))
            return 0;
    }
    return -1;
}

/* host:port, [v6]:port or a bare host, without scheme. */
static int valid_broker(const char *s, size_t len) {
    const char *colon = NULL, *host_end = s + len;
    if (len && s[0] == '[') {
        const char *rb = memchr(s, ']', len);
        if (!rb || rb == s + 1)
            return 0;
        host_end = rb + 1;
        if (host_end < s + len) {
            if (*host_end != ':')
                return 0;
            colon = host_end;
        }
    } else {
        colon = memchr(s, ':', len);
        if (colon) {
            host_end = colon;
            if (memchr(colon + 1, ':', (size_t)(s + len - colon - 1)))
                return 0; /* a bare IPv6 address must be written [addr]:port */
        }
    }
    if (host_end == s)
        return 0;
    for (const char *p = s; p < host_end; p++)
        if (isspace((unsigned char)*p) || *p == '/')
            return 0;
    if (colon) {
        const char *p = colon + 1;
        size_t plen = (size_t)(s + len - p);
        if (plen == 0 || plen > 5)
            return 0;
        long port = 0;
        for (size_t i = 0; i < plen; i++) {
            if (!isdigit((unsigned char)p[i]))
                return 0;
            port = port * 10 + (p[i] - '0');
        }
        if (port < 1 || port > 65535)
            return 0;
    }
    return 1;
}

static int valid_broker_list(const char *s) {
    for (;;) {
        while (*s == ' ')
            s++;
        size_t len = strcspn(s, ",");
        size_t trimmed = len;
        while (trimmed && s[trimmed - 1] == ' ')
            trimmed--;
        if (!valid_broker(s, trimmed))
            return 0;
        if (!s[len])
            return 1;
        s += len + 1;
    }
}

/*
 * Parses a comma-separated list of known items into a normalized copy
 * ("a,b", lower case, no spaces; NULL for an empty list) and the OR of the
 * item values.  Returns 0, or -1 with errstr filled.
 */
static int parse_list(const struct conf_prop *p, const char *value, char **norm, int *bits,
                      char *errstr, size_t size) {
    size_t cap = strlen(value) + 1;
    char *out = malloc(cap);
    if (!out) {
        seterr(errstr, size, "Out of memory");
        return -1;
    }
    size_t n = 0;
    int acc = 0, coop = 0, eager = 0;
    const char *s = value;
    while (*s == ' ')
        s++;
    if (*s) {
        for (;;) {
            while (*s == ' ')
                s++;
            size_t len = strcspn(s, ",");
            size_t trimmed = len;
            while (trimmed && s[trimmed - 1] == ' ')
                trimmed--;
            const struct conf_name *e = match_name(p->names, s, trimmed);
            if (!e) {
                char list[512];
                seterr(errstr, size,
                       "Invalid value \"%s\" for \"%s\": unknown item \"%.*s\"; "
                       "expected a comma-separated list of %s",
                       value, p->name, (int)trimmed, s, names_list(p->names, list, sizeof(list)));
                free(out);
                return -1;
            }
            acc |= e->val;
            if (e->val)
                coop = 1;
            else
                eager = 1;
            n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? "," : "", e->name);
            if (!s[len])
                break;
            s += len + 1;
        }
    }
    if ((p->flags & F_NONEMPTY) && n == 0) {
        char list[512];
        seterr(errstr, size,
               "Invalid value \"%s\" for \"%s\": expected a comma-separated list of %s", value,
               p->name, names_list(p->names, list, sizeof(list)));
        free(out);
        return -1;
    }
    if ((p->flags & F_ASSIGNORS) && coop && eager) {
        seterr(errstr, size,
               "Invalid value \"%s\" for \"%s\": cooperative-sticky cannot be "
               "mixed with the eager assignors range and roundrobin",
               value, p->name);
        free(out);
        return -1;
    }
    if (n == 0) {
        free(out);
        out = NULL;
    }
    *norm = out;
    *bits = acc;
    return 0;
}

static void bad_number(const struct conf_prop *p, const char *value, char *errstr, size_t size) {
    const char *what = p->type == T_DBL ? "a number" : "an integer";
    if (p->flags & F_LOGNAMES)
        seterr(errstr, size,
               "Invalid value \"%s\" for \"%s\": expected %s from %lld to %lld "
               "or a level name (error, warn, notice, info, debug)",
               value, p->name, what, (long long)p->min, (long long)p->max);
    else
        seterr(errstr, size, "Invalid value \"%s\" for \"%s\": expected %s from %lld to %lld",
               value, p->name, what, (long long)p->min, (long long)p->max);
}

/*
 * Validates `value` for row p and, only when it is valid, stores the typed
 * value.  *norm receives a malloc'd normalized string form, or stays NULL
 * when the value itself is the string form.  Returns 0 or -1 (errstr filled).
 */
static int apply(rill_conf_t *conf, const struct conf_prop *p, const char *value, char **norm,
                 char *errstr, size_t size) {
    *norm = NULL;
    switch (p->type) {
    case T_STR: {
        char **f = field(conf, p->off);
        if (!value || !*value) {
            if (p->flags & F_NONEMPTY) {
                seterr(errstr, size, "Invalid value \"\" for \"%s\": expected a non-empty value",
                       p->name);
                return -1;
            }
            free(*f);
            *f = NULL;
            return 0;
        }
        if ((p->flags & F_BROKERS) && !valid_broker_list(value)) {
            seterr(errstr, size,
                   "Invalid value \"%s\" for \"%s\": expected host:port[,host:port...]", value,
                   p->name);
            return -1;
        }
        char *copy = strdup(value);
        if (!copy) {
            seterr(errstr, size, "Out of memory");
            return -1;
        }
        free(*f);
        *f = copy;
        return 0;
    }
    case T_INT:
    case T_INT64: {
        int64_t v = 0;
        int r = parse_int(value, &v);
        if (r == -1 && (p->flags & F_LOGNAMES) && rill__log_level_parse(value) >= 0) {
            v = rill__log_level_parse(value);
            r = 0;
        }
        if (r < 0 || v < p->min || v > p->max) {
            bad_number(p, value, errstr, size);
            return -1;
        }
        if (p->type == T_INT)
            *(int *)field(conf, p->off) = (int)v;
        else
            *(int64_t *)field(conf, p->off) = v;
        char buf[24];
        snprintf(buf, sizeof(buf), "%lld", (long long)v);
        *norm = strdup(buf);
        break;
    }
    case T_DBL: {
        double v;
        if (parse_double(value, &v) < 0 || v < (double)p->min || v > (double)p->max) {
            bad_number(p, value, errstr, size);
            return -1;
        }
        *(double *)field(conf, p->off) = v;
        return 0;
    }
    case T_BOOL: {
        int v = parse_bool(value);
        if (v < 0) {
            seterr(errstr, size, "Invalid value \"%s\" for \"%s\": expected true or false", value,
                   p->name);
            return -1;
        }
        *(int *)field(conf, p->off) = v;
        *norm = strdup(v ? "true" : "false");
        break;
    }
    case T_ENUM: {
        const struct conf_name *e = match_name(p->names, value, strlen(value));
        if (!e) {
            char list[512];
            seterr(errstr, size, "Invalid value \"%s\" for \"%s\": expected one of %s", value,
                   p->name, names_list(p->names, list, sizeof(list)));
            return -1;
        }
        if ((p->flags & F_PLAINTEXT) && e->val != 0) {
            seterr(errstr, size, "Invalid value \"%s\" for \"%s\": not supported yet (only %s is)",
                   value, p->name, p->names[0].name);
            return -1;
        }
        *(int *)field(conf, p->off) = e->val;
        *norm = strdup(canonical(p->names, e->val));
        break;
    }
    case T_LIST: {
        char *list;
        int bits;
        if (parse_list(p, value, &list, &bits, errstr, size) < 0)
            return -1;
        char **f = field(conf, p->off);
        free(*f);
        *f = list;
        if (p->flags & F_BITS)
            *(int *)field(conf, p->off2) = bits;
        *norm = strdup(list ? list : "");
        break;
    }
    }
    if (!*norm) {
        seterr(errstr, size, "Out of memory");
        return -1;
    }
    return 0;
}

static void free_strings(rill_conf_t *conf) {
    for (size_t i = 0; i < NPROPS; i++) {
        if (props[i].type == T_STR || props[i].type == T_LIST) {
            char **f = field(conf, props[i].off);
            free(*f);
            *f = NULL;
        }
        free(conf->strs[i]);
        conf->strs[i] = NULL;
    }
}

void rill__conf_free_fields(rill_conf_t *conf) {
    if (conf)
        free_strings(conf);
}

rill_conf_t *rill_conf_new(void) {
    rill_conf_t *conf = calloc(1, sizeof(*conf));
    if (!conf)
        return NULL;
    for (size_t i = 0; i < NPROPS; i++) {
        char *norm = NULL;
        if (!props[i].def)
            continue; /* an unset string: calloc left it NULL */
        if (apply(conf, &props[i], props[i].def, &norm, NULL, 0) < 0) {
            rill_conf_destroy(conf);
            return NULL; /* out of memory (a bad default fails the unit test) */
        }
        free(norm);
    }
    return conf;
}

static char *dup_or_null(const char *s, int *oom) {
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = 1;
    return d;
}

rill_conf_t *rill_conf_dup(const rill_conf_t *src) {
    if (!src)
        return NULL;
    rill_conf_t *conf = malloc(sizeof(*conf));
    if (!conf)
        return NULL;
    memcpy(conf, src, sizeof(*conf));
    int oom = 0;
    for (size_t i = 0; i < NPROPS; i++) {
        if (props[i].type == T_STR || props[i].type == T_LIST) {
            char **f = field(conf, props[i].off);
            *f = dup_or_null(*f, &oom);
        }
        conf->strs[i] = dup_or_null(src->strs[i], &oom);
    }
    if (oom) {
        rill_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

void rill_conf_destroy(rill_conf_t *conf) {
    if (!conf)
        return;
    free_strings(conf);
    free(conf);
}

rill_conf_res_t rill_conf_set(rill_conf_t *conf, const char *key, const char *value, char *errstr,
                              size_t errstr_size) {
    if (!conf || !key) {
        seterr(errstr, errstr_size, "No configuration key given");
        return RILL_CONF_INVALID;
    }
    const struct conf_prop *p = find(key);
    if (!p) {
        unknown_key(key, errstr, errstr_size);
        return RILL_CONF_INVALID;
    }
    size_t idx = (size_t)(p - props);
    char *norm = NULL;
    if (!value) {
        /* NULL resets the key to its default, as librdkafka does. */
        if (p->def) {
            if (apply(conf, p, p->def, &norm, errstr, errstr_size) < 0)
                return RILL_CONF_INVALID;
            free(norm);
        } else {
            char **f = field(conf, p->off);
            free(*f);
            *f = NULL;
            if (p->flags & F_BITS)
                *(int *)field(conf, p->off2) = 0;
        }
        free(conf->strs[idx]);
        conf->strs[idx] = NULL;
        return RILL_CONF_OK;
    }
    if (apply(conf, p, value, &norm, errstr, errstr_size) < 0)
        return RILL_CONF_INVALID;
    if (!norm && !(norm = strdup(value))) {
        seterr(errstr, errstr_size, "Out of memory");
        return RILL_CONF_INVALID;
    }
    free(conf->strs[idx]);
    conf->strs[idx] = norm;
    return RILL_CONF_OK;
}

const char *rill_conf_get(const rill_conf_t *conf, const char *key) {
    if (!conf || !key)
        return NULL;
    const struct conf_prop *p = find(key);
    if (!p)
        return NULL;
    const char *s = conf->strs[p - props];
    if (s)
        return s;
    return p->def ? p->def : "";
}

const char *rill__conf_key(size_t i) { return i < NPROPS ? props[i].name : NULL; }

int rill__conf_is_set(const rill_conf_t *conf, const char *key) {
    const struct conf_prop *p = find(key);
    return p && conf->strs[p - props] != NULL;
}

void rill_conf_set_opaque(rill_conf_t *conf, void *opaque) { conf->opaque = opaque; }

void rill_conf_set_log_cb(rill_conf_t *conf, rill_log_cb_t *cb) { conf->log_cb = cb; }

void rill_conf_set_stats_cb(rill_conf_t *conf, rill_stats_cb_t *cb) { conf->stats_cb = cb; }

void rill_conf_set_dr_cb(rill_conf_t *conf, rill_dr_cb_t *cb) { conf->dr_cb = cb; }

void rill_conf_set_rebalance_cb(rill_conf_t *conf, rill_rebalance_cb_t *cb) {
    conf->rebalance_cb = cb;
}

void rill_conf_set_commit_cb(rill_conf_t *conf, rill_commit_cb_t *cb) { conf->commit_cb = cb; }

/* A "max" key must not be below its "min" key (a backoff that could never grow). */
static int check_order(const char *lo_key, int lo, const char *hi_key, int hi, char *errstr,
                       size_t size) {
    if (hi >= lo)
        return 0;
    seterr(errstr, size, "\"%s\" (%d) must be at least \"%s\" (%d)", hi_key, hi, lo_key, lo);
    return -1;
}

int rill__conf_check_producer(rill_conf_t *conf, char *errstr, size_t size) {
    if (check_order("retry.backoff.ms", conf->retry_backoff_ms, "retry.backoff.max.ms",
                    conf->retry_backoff_max_ms, errstr, size) ||
        check_order("reconnect.backoff.ms", conf->reconnect_backoff_ms, "reconnect.backoff.max.ms",
                    conf->reconnect_backoff_max_ms, errstr, size))
        return -1;
    if (!conf->enable_idempotence)
        return 0;
    int conflict = conf->acks != -1 || conf->max_in_flight > 5 || conf->retries == 0;
    if (!conflict)
        return 0;
    if (!rill__conf_is_set(conf, "enable.idempotence")) {
        /* On only by default: the explicit setting wins, as in the Java client. */
        conf->enable_idempotence = 0;
        return 0;
    }
    if (conf->acks != -1)
        seterr(errstr, size, "\"enable.idempotence\"=true requires \"acks\"=all (got %d)",
               conf->acks);
    else if (conf->max_in_flight > 5)
        seterr(errstr, size,
               "\"enable.idempotence\"=true requires "
               "\"max.in.flight.requests.per.connection\" <= 5 (got %d)",
               conf->max_in_flight);
    else
        seterr(errstr, size, "\"enable.idempotence\"=true requires \"retries\" > 0");
    return -1;
}

int rill__conf_check_consumer(const rill_conf_t *conf, char *errstr, size_t size) {
    if (conf->heartbeat_interval_ms >= conf->session_timeout_ms) {
        seterr(errstr, size,
               "\"heartbeat.interval.ms\" (%d) must be lower than "
               "\"session.timeout.ms\" (%d)",
               conf->heartbeat_interval_ms, conf->session_timeout_ms);
        return -1;
    }
    if (conf->group_instance_id && !conf->group_id) {
        seterr(errstr, size, "\"group.instance.id\" requires \"group.id\"");
        return -1;
    }
    return 0;
}

void rill__conf_logger(const rill_conf_t *conf, rill_logger *lg) {
    lg->level = conf->debug_flags ? RILL_LOG_DEBUG : conf->log_level;
    lg->sink = conf->log_cb;
    lg->opaque = conf->opaque;
    lg->name = conf->client_id;
}

void rill__conf_print_keys(FILE *out) {
    static const char *types[] = {"string", "integer", "integer", "number", "bool", "enum", "list"};
    for (size_t i = 0; i < NPROPS; i++) {
        const struct conf_prop *p = &props[i];
        fprintf(out, "%-38s %-8s default %-16s %s", p->name, types[p->type],
                p->def && *p->def ? p->def : "(unset)", p->desc);
        if (p->type == T_INT || p->type == T_INT64 || p->type == T_DBL)
            fprintf(out, " [%lld..%lld]", (long long)p->min, (long long)p->max);
        else if (p->names) {
            char list[512];
            fprintf(out, " [%s]", names_list(p->names, list, sizeof(list)));
        }
        for (size_t a = 0; a < sizeof(aliases) / sizeof(aliases[0]); a++)
            if (!strcmp(aliases[a].name, p->name))
                fprintf(out, " (alias %s)", aliases[a].alias);
        fputc('\n', out);
    }
}
