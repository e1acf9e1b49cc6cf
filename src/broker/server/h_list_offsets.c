/*
 * h_list_offsets.c -- ListOffsets (key 2): earliest (-2), latest (-1), max timestamp (-3,
 * v7+), earliest local (-4, v8+: the same as earliest, there is no tiered storage), and
 * the first offset at or after a timestamp, all answered by storage's offset lookup.
 *
 * v0 answers with a list of offsets (old_style_offsets): the one offset found, or an
 * empty list when none.
 *
 * Storage finds the batch by its time index but cannot look inside a compressed batch;
 * rill__list_offsets_ts_finder (its ts_finder hook) inflates it with the record batch
 * reader of src/proto to find the exact record.  Leader epochs are 0: this node has led every
 * partition since it was created, and storage writes epoch 0 into every batch.
 */
#include <string.h>

#include "broker/server/handlers.h"
#include "proto/api_list_offsets.h"
#include "proto/record_batch.h"

int rill__list_offsets_ts_finder(void *opaque, const uint8_t *batch, size_t len, int64_t ts,
                                 int32_t *offset_delta, int64_t *found_ts) {
    rill_batch_reader *rd = opaque;
    rill_batch_header h;
    const uint8_t *recs;
    size_t n;
    if (rill__batch_header_parse(batch, len, &h) != RILL_BATCH_OK || h.size > len ||
        rill__batch_records(rd, batch, &h, &recs, &n) != 0)
        return -1;
    rill_record_iter it;
    rill__record_iter_init(&it, recs, n, &h);
    rill_record r;
    int rc;
    while ((rc = rill__record_iter_next(&it, &r)) == 1)
        if (r.timestamp >= ts) {
            *offset_delta = r.offset_delta;
            *found_ts = r.timestamp;
            return 1;
        }
    return rc < 0 ? -1 : 0;
}

int rill__h_list_offsets(rill_req *q) {
    rill_server *srv = q->srv;
    rill_arena *a = &srv->arena;
    int16_t ver = q->h.api_version;
    rill_list_offsets_req req;
    if (!RILL_REQ_DECODE(q, list_offsets, &req))
        return -1;
    rill_list_offsets_resp m;
    memset(&m, 0, sizeof(m));
    m.ntopics = req.ntopics;
    if (!RILL_REQ_ARRAY(q, m.topics, req.ntopics))
        return -1;
    for (int32_t t = 0; t < req.ntopics; t++) {
        const rill_list_offsets_req_topic *rt = &req.topics[t];
        rill_list_offsets_resp_topic *ot = &m.topics[t];
        ot->name = rt->name;
        ot->npartitions = rt->npartitions;
        if (!RILL_REQ_ARRAY(q, ot->partitions, rt->npartitions))
            return -1;
        char name[RILL_TOPIC_NAME_MAX + 1];
        int name_ok = rill__topic_cstr(rt->name, name, sizeof(name)) == 0;
        for (int32_t i = 0; i < rt->npartitions; i++) {
            const rill_list_offsets_req_partition *rp = &rt->partitions[i];
            rill_list_offsets_resp_partition *p = &ot->partitions[i];
            p->partition_index = rp->partition_index;
            p->timestamp = -1;
            p->offset = -1;
            p->leader_epoch = -1;
            rill_log *log = name_ok ? rill__storage_log(srv->st, name, rp->partition_index) : NULL;
            if (!log) {
                p->error_code = RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                rill__req_error(q, p->error_code);
                continue;
            }
            int64_t ts = rp->timestamp;
            if (ts == RILL_LIST_OFFSETS_EARLIEST_LOCAL)
                ts = RILL_LIST_OFFSETS_EARLIEST;
            int64_t off = -1, found = -1;
            rill_err_t e = rill__log_offset_for_time(log, ts, &off, &found);
            if (e) {
                p->error_code = e > 0 ? (int16_t)e : RILL_ERR_KAFKA_STORAGE_ERROR;
                rill__req_error(q, p->error_code);
                continue;
            }
            p->offset = off;
            p->timestamp = found;
            p->leader_epoch = off >= 0 ? 0 : -1;
            if (ver == 0) {
                p->nold_style_offsets = off >= 0 ? 1 : 0;
                p->old_style_offsets = rill__arena_alloc(a, sizeof(int64_t));
                if (!p->old_style_offsets)
                    return -1;
                p->old_style_offsets[0] = off;
            }
        }
    }
    return RILL_REQ_REPLY(q, list_offsets, &m);
}
