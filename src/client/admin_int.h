/*
 * admin_int.h -- what the admin client's files share: the handle, and the
 * machinery that runs requests to brokers with retries until a deadline.
 *
 * Admin calls are synchronous: each drives the handle's event loop on the
 * caller's thread (rill__admin_run) until its requests are answered or the
 * call's deadline passes.  A request is a rill_aop: where it goes, how to
 * encode it, and the answer, kept as a private copy of the response body so
 * the call decodes it after the loop returns, with ordinary control flow.
 * Retrying is the call's job, in rounds: send what is pending, judge each
 * answer (done, failed, or retriable: a lost connection, a moved
 * controller, leader or coordinator), back off, refresh, send again.
 * rill__admin_call does that for calls made of one request.
 */
#ifndef RILL_CLIENT_ADMIN_INT_H
#define RILL_CLIENT_ADMIN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/cluster.h"
#include "client/conf.h"
#include "common/clock.h"
#include "proto/api_metadata.h"
#include "proto/arena.h"
#include "proto/reader.h"
#include "rill.h"

struct rill_admin {
    rill_conf_t *conf;
    rill_logger log;
    rill_loop *loop;
    rill_cluster cl;
};

typedef struct rill_aop rill_aop;

/* Encodes op's request body for version ver; 0 or -1. */
typedef int(rill__aop_enc_fn)(rill_buf *b, int16_t ver, const rill_aop *op);

/* One request of an admin call, and its answer. */
struct rill_aop {
    rill_cbroker *broker; /* where it goes */
    int16_t api, vmin, vmax;
    rill__aop_enc_fn *enc;
    void *ctx;  /* the call's state, for enc */
    size_t idx; /* which item(s) of the call it carries, for enc */
    /* Filled by rill__admin_run: */
    bool done;
    int err;       /* 0: answered, body below; else a local error */
    int16_t ver;   /* version sent */
    uint8_t *body; /* copy of the response body (after the header) */
    size_t len;
};

/* Frees op's answer and clears its result fields (before sending it again). */
void rill__aop_reset(rill_aop *op);
/* A reader over op's answer. */
static inline void rill__aop_reader(const rill_aop *op, rill_rd *r) {
    rill__rd_init(r, op->body, op->len);
}
/*
 * For a body that failed to decode (or had bytes left over): sets op->err
 * to RILL_ERR_BAD_MSG and drops the connection it came on, so the retry
 * starts on a fresh one (DESIGN: a malformed response is retried).
 */
void rill__aop_bad_msg(rill_admin_t *a, rill_aop *op);

/*
 * Sends ops[0..n) to their brokers and drives the loop until each one has
 * its answer or the deadline passes; what is still unanswered then is
 * cancelled (err RILL_ERR_TIMED_OUT).  No callback refers to ops after it
 * returns.
 */
void rill__admin_run(rill_admin_t *a, rill_aop *ops, size_t n, int64_t deadline_us);
/* Drives the loop (connections progress) until `until_us`: a retry backoff. */
void rill__admin_sleep(rill_admin_t *a, int64_t until_us);
/* Backs off before a retry round: false when the deadline leaves no time for one. */
bool rill__admin_backoff(rill_admin_t *a, int64_t deadline_us);

/* Whether a request that failed with err (local or Kafka) is worth another round. */
bool rill__admin_retriable(int err);

/* A broker that is up (connecting to one if needed), or NULL by the deadline. */
rill_cbroker *rill__admin_any_broker(rill_admin_t *a, int64_t deadline_us);

/* A Metadata answer, decoded, with what it points into. */
typedef struct rill_admin_md {
    rill_aop op;
    rill_arena ar;
    rill_metadata_resp m;
} rill_admin_md;

/*
 * Asks any broker for metadata: every topic (topics NULL, n SIZE_MAX), no
 * topic (n 0: brokers and controller only), or the n named ones (without
 * creating them where the version allows saying so; older versions are
 * asked for every topic).  Retries until the deadline; makes every broker
 * it names known to the cluster.  0 or a local error; free md either way.
 */
rill_err_t rill__admin_metadata(rill_admin_t *a, const char *const *topics, size_t n,
                                int64_t deadline_us, rill_admin_md *md);
void rill__admin_md_free(rill_admin_md *md);
const rill_metadata_topic *rill__admin_md_topic(const rill_admin_md *md, const char *name);
/* The broker with this id as md names it (NULL if it does not). */
rill_cbroker *rill__admin_md_broker(rill_admin_t *a, const rill_admin_md *md, int32_t id);

/*
 * Finds the coordinator of each of n groups (FindCoordinator to any broker,
 * one request per group, retried while retriable until the deadline).
 * out[i] is the broker, or NULL with errs[i] set.
 */
void rill__admin_coordinators(rill_admin_t *a, const char *const *groups, size_t n,
                              int64_t deadline_us, rill_cbroker **out, rill_err_t *errs);

/*
 * A call made of one request per group, each to the group's coordinator:
 * rounds of FindCoordinator and the request, until every group is
 * answered or the deadline passes.  Retriable errors (a lost connection,
 * NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, ...) send the group round
 * again, with its coordinator looked up anew.
 */
typedef struct rill_group_call {
    const char *const *groups;
    size_t n;
    int16_t api, vmin, vmax;
    rill__aop_enc_fn *enc; /* op->idx is the group's index, op->ctx is ctx */
    void *ctx;
    /* Reads group i's answer (op->err is 0): 0 done, RILL__ADMIN_RETRY, or its error. */
    int (*read)(rill_admin_t *a, void *ctx, size_t i, rill_aop *op);
    /* out, per group: 0, its error, or when time ran out RILL_ERR_TIMED_OUT (or
     * RILL_ERR_BAD_MSG if the last answer was malformed) */
    rill_err_t *errs;
    int32_t *coordinators; /* out, per group (optional): broker id, -1 when not found */
} rill_group_call;

/* Runs gc; returns 0, or RILL_ERR_NO_MEMORY. */
rill_err_t rill__admin_group_call(rill_admin_t *a, rill_group_call *gc, int64_t deadline_us);

/*
 * A call of one request: target picks the broker (NULL: not known yet,
 * try again after a backoff; *err may say why), the request is sent, and
 * judge reads the answer: 0 done, RILL__ADMIN_RETRY (after a backoff, a
 * new target), or a rill_err_t to return.  op keeps the last answer for
 * the caller, who frees it with rill__aop_reset.  Lost connections and
 * malformed answers are retried too; the deadline ends it with
 * RILL_ERR_TIMED_OUT (RILL_ERR_BAD_MSG if the last answer was malformed).
 */
#define RILL__ADMIN_RETRY INT32_MIN /* a judge's "ask again" (never a rill_err_t) */
typedef rill_cbroker *(rill__admin_target_fn)(rill_admin_t *a, void *ctx, int64_t deadline_us,
                                              rill_err_t *err);
typedef int(rill__admin_judge_fn)(rill_admin_t *a, void *ctx, rill_aop *op);
rill_err_t rill__admin_call(rill_admin_t *a, rill_aop *op, rill__admin_target_fn *target,
                            rill__admin_judge_fn *judge, void *ctx, int64_t deadline_us);

/* Targets: any broker that is up; the controller (from metadata). */
rill_cbroker *rill__admin_target_any(rill_admin_t *a, void *ctx, int64_t deadline_us,
                                     rill_err_t *err);
rill_cbroker *rill__admin_target_controller(rill_admin_t *a, void *ctx, int64_t deadline_us,
                                            rill_err_t *err);

/* The call's deadline from its timeout. */
static inline int64_t rill__admin_deadline(int timeout_ms) {
    return rill__mono_us() + (int64_t)timeout_ms * 1000;
}

/*
 * Results: every allocated result is one arena (its strings and arrays)
 * behind the public struct, freed at once.  rill__admin_res_new returns
 * the zeroed public struct of `size` bytes, NULL when out of memory.
 */
void *rill__admin_res_new(size_t size);
rill_arena *rill__admin_res_arena(void *res);
void rill__admin_res_free(void *res);
/* A NUL-terminated copy of s in ar; NULL for a null string (or out of memory: ar->err). */
const char *rill__admin_strdup(rill_arena *ar, rill_str s);
const char *rill__admin_cstrdup(rill_arena *ar, const char *s);

/* "name", err and errstr (msg, or the error's description) of a per-item result. */
void rill__admin_set_result(rill_topic_result_t *r, rill_str name, int err, rill_str msg);

#endif
