/*
 * h_produce.c -- Produce (key 0): validate each partition's record batch, append it as
 * sent, acknowledge per the acks and the flush policy.
 *
 * The hot path does no per-record work: the batch's 61-byte header is checked and its
 * CRC-32C computed over the whole batch (Kafka's own first line of defence: it covers
 * every record byte), then storage assigns the offsets in place in the request buffer and
 * writes the batch with one write(2).  Records inside a valid-CRC batch are stored as the
 * producer framed them, compressed or not ("every compression codec accepted and stored
 * as sent").
 *
 * Acknowledgement (broker_anchors.md §1.6, DESIGN.md "Durability"):
 *   acks=0   no response; if any partition failed, the connection is closed once what it
 *            is owed has been written, so the producer notices (KafkaApis does the same);
 *   acks=1   answered after the write (log.flush.policy=sync: after the fsync);
 *   acks=-1  answered after the fsync of the group-commit round that covers the append
 *            (log.flush.policy=os: after the write, as Apache Kafka's defaults);
 *   other    INVALID_REQUIRED_ACKS for every partition.
 */
#include <string.h>

#include "broker/server/handlers.h"
#include "proto/api_produce.h"
#include "proto/record_batch.h"

/*
 * Checks the one batch a v3+ produce carries for a partition (Kafka's
 * ProduceRequest.validateRecords and LogValidator's batch checks).  0 or a Kafka error.
 */
static int16_t validate_batch(const uint8_t *p, int32_t n, int16_t ver, rill_batch_header *h) {
    if (n <= 0)
        return RILL_ERR_INVALID_RECORD; /* "exactly one record batch" per partition */
    int rc = rill__batch_header_parse(p, (size_t)n, h);
    if (rc == RILL_BATCH_OLD_MAGIC)
        return RILL_ERR_INVALID_RECORD; /* v3+ carries magic 2 only */
    if (rc != RILL_BATCH_OK || h->size > (size_t)n)
        return RILL_ERR_CORRUPT_MESSAGE;
    if (h->size < (size_t)n)
        return RILL_ERR_INVALID_RECORD; /* a second batch or trailing bytes */
    if (!rill__batch_verify_crc(p, h))
        return RILL_ERR_CORRUPT_MESSAGE;
    int codec = rill__batch_codec(h);
    if (codec > RILL_CODEC_ZSTD || (codec == RILL_CODEC_ZSTD && ver < 7))
        return RILL_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    if (h->record_count <= 0 || (int64_t)h->last_offset_delta + 1 != h->record_count ||
        rill__batch_is_control(h) || (h->producer_id >= 0 && h->base_sequence < 0))
        return RILL_ERR_INVALID_RECORD;
    return 0;
}

static int16_t kafka_code(rill_err_t e) {
    return e > 0 ? (int16_t)e : e == 0 ? 0 : RILL_ERR_KAFKA_STORAGE_ERROR;
}

int rill__h_produce(rill_req *q) {
    rill_server *srv = q->srv;
    int16_t ver = q->h.api_version;
    rill_produce_req req;
    if (!RILL_REQ_DECODE(q, produce, &req))
        return -1;

    int acks_ok = req.acks == 0 || req.acks == 1 || req.acks == -1;
    rill_flush_policy pol = srv->cfg->flush_policy;
    int want_fsync =
        (req.acks == -1 && pol != RILL_FLUSH_OS) || (req.acks == 1 && pol == RILL_FLUSH_SYNC);
    uint64_t hold = 0;

    rill_produce_resp m;
    memset(&m, 0, sizeof(m));
    m.ntopics = req.ntopics;
    if (!RILL_REQ_ARRAY(q, m.topics, req.ntopics))
        return -1;
    for (int32_t ti = 0; ti < req.ntopics; ti++) {
        const rill_produce_req_topic *rt = &req.topics[ti];
        rill_produce_resp_topic *t = &m.topics[ti];
        t->name = rt->name;
        t->npartitions = rt->npartitions;
        if (!RILL_REQ_ARRAY(q, t->partitions, rt->npartitions))
            return -1;
        char name[RILL_TOPIC_NAME_MAX + 1];
        int name_ok = rill__topic_cstr(rt->name, name, sizeof(name)) == 0;
        rill_topic_stats *stats = NULL;
        for (int32_t pi = 0; pi < rt->npartitions; pi++) {
            const rill_produce_req_partition *rp = &rt->partitions[pi];
            rill_produce_resp_partition *p = &t->partitions[pi];
            p->index = rp->index;
            p->base_offset = -1;
            p->log_append_time_ms = -1;
            p->log_start_offset = -1;
            p->error_message = rill__str_null();
            rill_log *log = name_ok ? rill__storage_log(srv->st, name, rp->index) : NULL;
            rill_batch_header h;
            if (!acks_ok)
                p->error_code = RILL_ERR_INVALID_REQUIRED_ACKS;
            else if (!log)
                p->error_code = RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            else
                p->error_code = validate_batch(rp->records.ptr, rp->records.len, ver, &h);
            if (p->error_code) {
                rill__req_error(q, p->error_code);
                continue;
            }
            rill_log_append_info info;
            /* The request buffer is ours and writable: storage assigns offsets in place. */
            rill_err_t e = rill__log_append(log, (uint8_t *)rp->records.ptr,
                                            (size_t)rp->records.len, srv->now_ms, &info);
            if (e) {
                p->error_code = kafka_code(e);
                rill__req_error(q, p->error_code);
                continue;
            }
            if (want_fsync) {
                uint64_t seq = rill__flusher_note(&srv->flusher, log);
                if (seq == RILL_FLUSHER_FAILED) {
                    p->error_code = RILL_ERR_KAFKA_STORAGE_ERROR;
                    rill__req_error(q, p->error_code);
                    continue;
                }
                if (seq > hold)
                    hold = seq;
            }
            p->base_offset = info.base_offset;
            p->log_append_time_ms = info.log_append_time;
            p->log_start_offset = info.log_start_offset;
            if (!info.duplicate) {
                srv->append_gen++;
                if (!stats)
                    stats = rill__topic_stats(srv, name);
                if (stats) {
                    stats->bytes_in += (uint64_t)rp->records.len;
                    stats->msgs_in += (uint64_t)h.record_count;
                }
            }
        }
        if (stats)
            stats->produce_requests++;
    }

    if (req.acks == 0) {
        if (q->nerrors)
            q->s->close_when_done = 1; /* the producer learns of the error this way */
        rill__req_no_response(q);
        if (q->nerrors && !q->s->out_head)
            rill__session_close(q->s, RILL_LOG_DEBUG, "acks=0 produce failed");
        return 0;
    }
    if (rill__produce_resp_encode(&q->resp->buf, ver, &m) != 0)
        return -1;
    if (hold)
        rill__req_hold(q, hold);
    else
        rill__req_finish(q);
    return 0;
}
