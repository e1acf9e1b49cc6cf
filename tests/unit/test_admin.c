/*
 * test_admin.c -- the admin client without a cluster: argument checks
 * (every call refuses bad input at once, before touching the network, and
 * leaves *out NULL), the allocated-result arena (alignment, strings,
 * freeing NULL), which errors a call retries, and that a call against a
 * closed port ends in RILL_ERR_TIMED_OUT within its timeout with every
 * per-item result saying so.  The calls against real brokers are in
 * tests/interop/test_admin_*.py and test_cli_admin.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/admin_int.h"
#include "common/clock.h"
#include "proto/fields.h"
#include "rill.h"

/* A 127.0.0.1 port nothing listens on (bound, then closed). */
static int closed_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    socklen_t len = sizeof(sa);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

static rill_admin_t *admin_at(int port) {
    rill_conf_t *conf = rill_conf_new();
    char addr[64], err[256];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    assert_int_equal(rill_conf_set(conf, "bootstrap.servers", addr, err, sizeof(err)),
                     RILL_CONF_OK);
    assert_int_equal(rill_conf_set(conf, "log_level", "0", err, sizeof(err)), RILL_CONF_OK);
    rill_admin_t *a = rill_admin_new(conf, err, sizeof(err));
    rill_conf_destroy(conf);
    assert_non_null(a);
    return a;
}

static void new_and_destroy(void **state) {
    (void)state;
    char err[128];
    assert_null(rill_admin_new(NULL, err, sizeof(err)));
    assert_string_equal(err, "conf is NULL");
    assert_null(rill_admin_new(NULL, NULL, 0)); /* errstr is optional */
    rill_admin_destroy(NULL);
}

/* Every call refuses bad arguments at once; a pointer that was set is cleared. */
static void bad_arguments(void **state) {
    (void)state;
    rill_admin_t *a = admin_at(closed_port());
    int64_t t0 = rill__mono_us();
    void *junk = (void *)&junk;
    const char *names[] = {"t", NULL};
    rill_topic_result_t res[2];

    rill_topic_list_t *tl = junk;
    assert_int_equal(rill_admin_list_topics(a, NULL, 1, 1000, &tl), RILL_ERR_INVALID_ARG);
    assert_null(tl);
    assert_int_equal(rill_admin_list_topics(a, names, 2, 1000, &tl), RILL_ERR_INVALID_ARG);
    assert_int_equal(rill_admin_list_topics(a, NULL, 0, 0, &tl), RILL_ERR_INVALID_ARG);
    assert_int_equal(rill_admin_list_topics(NULL, NULL, 0, 1000, &tl), RILL_ERR_INVALID_ARG);
    assert_int_equal(rill_admin_list_topics(a, NULL, 0, 1000, NULL), RILL_ERR_INVALID_ARG);

    rill_new_partitions_t np[] = {{"t", 0}, {NULL, 3}};
    assert_int_equal(rill_admin_create_partitions(a, np, 1, 1000, res), RILL_ERR_INVALID_ARG);
    assert_int_equal(rill_admin_create_partitions(a, np + 1, 1, 1000, res), RILL_ERR_INVALID_ARG);
    assert_int_equal(rill_admin_delete_topics(a, names, 2, 1000, res), RILL_ERR_INVALID_ARG);

    rill_configs_t *cfg = junk;
    rill_config_resource_t bad_broker = {RILL_RESOURCE_BROKER, "one"};
    rill_config_resource_t bad_type = {3, "x"};
    rill_config_resource_t no_name = {RILL_RESOURCE_TOPIC, NULL};
    assert_int_equal(rill_admin_describe_configs(a, &bad_broker, 1, 1000, &cfg),
                     RILL_ERR_INVALID_ARG);
    assert_null(cfg);
    assert_int_equal(rill_admin_describe_configs(a, &bad_type, 1, 1000, &cfg),
                     RILL_ERR_INVALID_ARG);
    assert_int_equal(rill_admin_describe_configs(a, &no_name, 1, 1000, &cfg), RILL_ERR_INVALID_ARG);

    rill_group_list_t *gl = junk;
    assert_int_equal(rill_admin_list_groups(a, -5, &gl), RILL_ERR_INVALID_ARG);
    assert_null(gl);
    rill_group_descriptions_t *gd = junk;
    assert_int_equal(rill_admin_describe_groups(a, names, 2, 1000, &gd), RILL_ERR_INVALID_ARG);
    assert_null(gd);
    assert_int_equal(rill_admin_delete_groups(a, names, 2, 1000, res), RILL_ERR_INVALID_ARG);

    rill_offset_query_t q[] = {{.topic = "t", .partition = -1, .spec = RILL_OFFSET_END},
                               {.topic = "t", .partition = 0, .spec = -3},
                               {.topic = NULL, .partition = 0, .spec = RILL_OFFSET_END}};
    for (int i = 0; i < 3; i++)
        assert_int_equal(rill_admin_list_offsets(a, &q[i], 1, 0, 1000), RILL_ERR_INVALID_ARG);

    rill_group_lag_t *lag = junk;
    rill_topic_partition_t tp = {"t", -1, 0, 0};
    assert_int_equal(rill_admin_group_lag(a, NULL, NULL, 0, 1000, &lag), RILL_ERR_INVALID_ARG);
    assert_null(lag);
    assert_int_equal(rill_admin_group_lag(a, "g", &tp, 1, 1000, &lag), RILL_ERR_INVALID_ARG);
    assert_int_equal(rill_admin_group_lag(a, "g", NULL, 1, 1000, &lag), RILL_ERR_INVALID_ARG);

    /* None of it waited for the network. */
    assert_true(rill__mono_us() - t0 < 500000);
    rill_admin_destroy(a);
}

/* Freeing NULL results is a no-op, as the header promises. */
static void free_null(void **state) {
    (void)state;
    rill_topic_list_free(NULL);
    rill_configs_free(NULL);
    rill_group_list_free(NULL);
    rill_group_descriptions_free(NULL);
    rill_group_lag_free(NULL);
}

static void result_arena(void **state) {
    (void)state;
    struct big {
        long double ld;
        int64_t x;
    } *r = rill__admin_res_new(sizeof(struct big));
    assert_non_null(r);
    assert_int_equal((uintptr_t)r % _Alignof(max_align_t), 0);
    assert_true(r->ld == 0 && r->x == 0); /* zeroed */
    rill_arena *ar = rill__admin_res_arena(r);
    const char *s = rill__admin_strdup(ar, (rill_str){"abcdef", 3});
    assert_string_equal(s, "abc");
    assert_null(rill__admin_strdup(ar, rill__str_null()));
    assert_string_equal(rill__admin_strdup(ar, (rill_str){NULL, 0}), "");
    assert_string_equal(rill__admin_cstrdup(ar, "xyz"), "xyz");
    assert_null(rill__admin_cstrdup(ar, NULL));
    /* Plenty of strings: the arena grows past its first chunk and frees them all. */
    for (int i = 0; i < 10000; i++)
        assert_non_null(rill__admin_cstrdup(ar, "a string that is kept until the result goes"));
    assert_int_equal(ar->err, 0);
    rill__admin_res_free(r);
}

static void retriable(void **state) {
    (void)state;
    /* Lost connections, garbled or slow answers, moved controllers, leaders, coordinators. */
    const int yes[] = {RILL_ERR_TRANSPORT,
                       RILL_ERR_BAD_MSG,
                       RILL_ERR_TIMED_OUT,
                       RILL_ERR_NOT_CONTROLLER,
                       RILL_ERR_NOT_COORDINATOR,
                       RILL_ERR_COORDINATOR_NOT_AVAILABLE,
                       RILL_ERR_COORDINATOR_LOAD_IN_PROGRESS,
                       RILL_ERR_NOT_LEADER_OR_FOLLOWER,
                       RILL_ERR_LEADER_NOT_AVAILABLE,
                       RILL_ERR_REQUEST_TIMED_OUT,
                       RILL_ERR_FENCED_LEADER_EPOCH};
    /* Answers: an admin call reports these at once rather than waiting out its timeout. */
    const int no[] = {0,
                      RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION,
                      RILL_ERR_UNSUPPORTED_FEATURE,
                      RILL_ERR_NO_MEMORY,
                      RILL_ERR_INVALID_PARTITIONS,
                      RILL_ERR_TOPIC_ALREADY_EXISTS,
                      RILL_ERR_GROUP_AUTHORIZATION_FAILED,
                      RILL_ERR_NON_EMPTY_GROUP,
                      RILL_ERR_GROUP_ID_NOT_FOUND,
                      RILL_ERR_CORRUPT_MESSAGE,
                      RILL__ADMIN_RETRY};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        assert_true(rill__admin_retriable(yes[i]));
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        assert_false(rill__admin_retriable(no[i]));
}

/* Against a closed port: TIMED_OUT, on time, and in every per-item result. */
static void unreachable_times_out(void **state) {
    (void)state;
    rill_admin_t *a = admin_at(closed_port());
    rill_topic_result_t res[2];
    memset(res, 0x5a, sizeof(res));
    rill_new_partitions_t np[] = {{"t1", 3}, {"t2", 4}};
    int64_t t0 = rill__mono_us();
    assert_int_equal(rill_admin_create_partitions(a, np, 2, 300, res), RILL_ERR_TIMED_OUT);
    int64_t took = rill__mono_us() - t0;
    assert_true(took >= 290000 && took < 1500000);
    assert_string_equal(res[0].name, "t1");
    assert_string_equal(res[1].name, "t2");
    assert_int_equal(res[0].err, RILL_ERR_TIMED_OUT);
    assert_int_equal(res[1].err, RILL_ERR_TIMED_OUT);
    assert_string_equal(res[1].errstr, rill_err_str(RILL_ERR_TIMED_OUT));

    rill_offset_query_t q = {.topic = "t", .partition = 0, .spec = RILL_OFFSET_END};
    assert_int_equal(rill_admin_list_offsets(a, &q, 1, 0, 300), RILL_ERR_TIMED_OUT);
    assert_int_equal(q.err, RILL_ERR_TIMED_OUT);
    assert_int_equal(q.offset, -1);

    /* A timed-out listing is an empty list, set and to be freed (rill.h). */
    rill_topic_list_t *tl = NULL;
    assert_int_equal(rill_admin_list_topics(a, NULL, 0, 300, &tl), RILL_ERR_TIMED_OUT);
    assert_non_null(tl);
    assert_int_equal(tl->topic_cnt, 0);
    assert_int_equal(tl->broker_cnt, 0);
    rill_topic_list_free(tl);

    rill_group_descriptions_t *d = NULL;
    const char *g = "g";
    assert_int_equal(rill_admin_describe_groups(a, &g, 1, 300, &d), RILL_ERR_TIMED_OUT);
    assert_non_null(d);
    assert_int_equal(d->group_cnt, 1);
    assert_string_equal(d->groups[0].group_id, "g");
    assert_int_equal(d->groups[0].err, RILL_ERR_TIMED_OUT);
    assert_int_equal(d->groups[0].coordinator, -1);
    assert_string_equal(d->groups[0].state, "");
    rill_group_descriptions_free(d);

    rill_configs_t *cfg = NULL;
    rill_config_resource_t what = {RILL_RESOURCE_BROKER, "1"};
    assert_int_equal(rill_admin_describe_configs(a, &what, 1, 300, &cfg), RILL_ERR_TIMED_OUT);
    assert_non_null(cfg);
    assert_int_equal(cfg->resources[0].err, RILL_ERR_TIMED_OUT);
    assert_string_equal(cfg->resources[0].name, "1");
    rill_configs_free(cfg);

    /* Zero items is answered at once. */
    assert_int_equal(rill_admin_list_offsets(a, NULL, 0, 0, 300), 0);
    rill_admin_destroy(a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(new_and_destroy), cmocka_unit_test(bad_arguments),
        cmocka_unit_test(free_null),       cmocka_unit_test(result_arena),
        cmocka_unit_test(retriable),       cmocka_unit_test(unreachable_times_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
