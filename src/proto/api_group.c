/*
 * api_group.c -- consumer-group API codecs (see api_group.h).
 *
 * Each function follows its message schema field by field; the version
 * tests next to the fields say in which versions a field exists.
 */
#include "proto/api_group.h"

#include "proto/api.h"
#include "proto/fields.h"

/* Least bytes a string, a bytes/array length and a tag section take. */
#define STR_MIN(fx) ((fx) ? 1u : 2u)
#define LEN_MIN(fx) ((fx) ? 1u : 4u)
#define TAG_MIN(fx) ((fx) ? 1u : 0u)

static bool ver_ok(int16_t ver, int16_t lo, int16_t hi) { return ver >= lo && ver <= hi; }

static void rd_tags(rill_rd *r, bool fx) {
    if (fx)
        rill__rd_tags(r);
}

static int enc_end(rill_buf *b, bool fx) {
    rill__wr_tags(b, fx);
    return b->err ? -1 : 0;
}

static int dec_end(rill_rd *r, bool fx) {
    rd_tags(r, fx);
    return r->err ? -1 : 0;
}

/* A one-element array from the arena (the v0-N single field of a batch). */
static void *one(rill_rd *r, rill_arena *a, size_t size, int32_t *count) {
    void *p = rill__arena_calloc(a, 1, size);
    *count = p ? 1 : 0;
    if (!p)
        r->err = 1;
    return p;
}

/* ---- FindCoordinator ---- */

int rill__find_coordinator_req_encode(rill_buf *b, int16_t ver,
                                      const rill_find_coordinator_req *m) {
    if (!ver_ok(ver, RILL_FIND_COORDINATOR_MIN_VER, RILL_FIND_COORDINATOR_MAX_VER))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_FIND_COORDINATOR, ver);
    if (ver < 4) {
        if (m->nkeys != 1)
            return rill__enc_fail(b);
        rill__wr_str(b, fx, false, m->keys[0]);
    }
    if (ver >= 1)
        rill__wr_i8(b, m->key_type);
    else if (m->key_type != RILL_COORDINATOR_GROUP)
        return rill__enc_fail(b); /* v0 knows only groups */
    if (ver >= 4)
        rill__wr_str_array(b, fx, false, m->keys, m->nkeys);
    return enc_end(b, fx);
}

int rill__find_coordinator_req_decode(rill_rd *r, int16_t ver, rill_find_coordinator_req *m,
                                      rill_arena *a) {
    m->key_type = RILL_COORDINATOR_GROUP;
    m->keys = NULL;
    m->nkeys = 0;
    if (!ver_ok(ver, RILL_FIND_COORDINATOR_MIN_VER, RILL_FIND_COORDINATOR_MAX_VER))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(RILL_API_FIND_COORDINATOR, ver);
    if (ver < 4) {
        rill_str key = rill__rd_str_nn(r, fx);
        if ((m->keys = one(r, a, sizeof(*m->keys), &m->nkeys)))
            m->keys[0] = key;
    }
    if (ver >= 1)
        m->key_type = rill__rd_i8(r);
    if (ver >= 4)
        m->keys = rill__rd_str_array(r, fx, false, a, &m->nkeys);
    return dec_end(r, fx);
}

int rill__find_coordinator_resp_encode(rill_buf *b, int16_t ver,
                                       const rill_find_coordinator_resp *m) {
    if (!ver_ok(ver, RILL_FIND_COORDINATOR_MIN_VER, RILL_FIND_COORDINATOR_MAX_VER))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_FIND_COORDINATOR, ver);
    if (ver >= 1)
        rill__wr_i32(b, m->throttle_time_ms);
    if (ver < 4) {
        if (m->ncoordinators != 1)
            return rill__enc_fail(b);
        const rill_find_coordinator *c = &m->coordinators[0];
        rill__wr_i16(b, c->error_code);
        if (ver >= 1)
            rill__wr_str(b, fx, true, c->error_message);
        rill__wr_i32(b, c->node_id);
        rill__wr_str(b, fx, false, c->host);
        rill__wr_i32(b, c->port);
        return enc_end(b, fx);
    }
    rill__wr_array_n(b, fx, false, m->ncoordinators);
    for (int32_t i = 0; i < m->ncoordinators; i++) {
        const rill_find_coordinator *c = &m->coordinators[i];
        rill__wr_str(b, fx, false, c->key);
        rill__wr_i32(b, c->node_id);
        rill__wr_str(b, fx, false, c->host);
        rill__wr_i32(b, c->port);
        rill__wr_i16(b, c->error_code);
        rill__wr_str(b, fx, true, c->error_message);
        rill__wr_tags(b, fx);
    }
    return enc_end(b, fx);
}

int rill__find_coordinator_resp_decode(rill_rd *r, int16_t ver, rill_find_coordinator_resp *m,
                                       rill_arena *a) {
    m->throttle_time_ms = 0;
    m->coordinators = NULL;
    m->ncoordinators = 0;
    if (!ver_ok(ver, RILL_FIND_COORDINATOR_MIN_VER, RILL_FIND_COORDINATOR_MAX_VER))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(RILL_API_FIND_COORDINATOR, ver);
    if (ver >= 1)
        m->throttle_time_ms = rill__rd_i32(r);
    if (ver < 4) {
        rill_find_coordinator *c = one(r, a, sizeof(*c), &m->ncoordinators);
        m->coordinators = c;
        if (!c)
            return -1;
        c->key = rill__str("");
        c->error_code = rill__rd_i16(r);
        c->error_message = ver >= 1 ? rill__rd_str(r, fx) : rill__str_null();
        c->node_id = rill__rd_i32(r);
        c->host = rill__rd_str_nn(r, fx);
        c->port = rill__rd_i32(r);
        return dec_end(r, fx);
    }
    /* key, node id, host, port, error code, message, tags */
    RILL_RD_ARRAY(r, fx, false, 3 * STR_MIN(fx) + 10 + TAG_MIN(fx), a, m->coordinators,
                  m->ncoordinators);
    for (int32_t i = 0; i < m->ncoordinators && !r->err; i++) {
        rill_find_coordinator *c = &m->coordinators[i];
        c->key = rill__rd_str_nn(r, fx);
        c->node_id = rill__rd_i32(r);
        c->host = rill__rd_str_nn(r, fx);
        c->port = rill__rd_i32(r);
        c->error_code = rill__rd_i16(r);
        c->error_message = rill__rd_str(r, fx);
        rd_tags(r, fx);
    }
    return dec_end(r, fx);
}

/* ---- JoinGroup ---- */

int rill__join_group_req_encode(rill_buf *b, int16_t ver, const rill_join_group_req *m) {
    if (!ver_ok(ver, RILL_JOIN_GROUP_MIN_VER, RILL_JOIN_GROUP_MAX_VER))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_JOIN_GROUP, ver);
    rill__wr_str(b, fx, false, m->group_id);
    rill__wr_i32(b, m->session_timeout_ms);
    if (ver >= 1)
        rill__wr_i32(b, m->rebalance_timeout_ms);
    rill__wr_str(b, fx, false, m->member_id);
    if (ver >= 5)
        rill__wr_str(b, fx, true, m->group_instance_id);
    else if (!rill__str_is_null(m->group_instance_id))
        return rill__enc_fail(b); /* static membership needs v5 */
    rill__wr_str(b, fx, false, m->protocol_type);
    rill__wr_array_n(b, fx, false, m->nprotocols);
    for (int32_t i = 0; i < m->nprotocols; i++) {
        rill__wr_str(b, fx, false, m->protocols[i].name);
        rill__wr_bytes(b, fx, m->protocols[i].metadata.ptr, m->protocols[i].metadata.len);
        rill__wr_tags(b, fx);
    }
    if (ver >= 8)
        rill__wr_str(b, fx, true, m->reason);
    return enc_end(b, fx);
}

int rill__join_group_req_decode(rill_rd *r, int16_t ver, rill_join_group_req *m, rill_arena *a) {
    memset(m, 0, sizeof(*m));
    m->rebalance_timeout_ms = -1;
    m->group_instance_id = rill__str_null();
    m->reason = rill__str_null();
    if (!ver_ok(ver, RILL_JOIN_GROUP_MIN_VER, RILL_JOIN_GROUP_MAX_VER))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(RILL_API_JOIN_GROUP, ver);
    m->group_id = rill__rd_str_nn(r, fx);
    m->session_timeout_ms = rill__rd_i32(r);
    if (ver >= 1)
        m->rebalance_timeout_ms = rill__rd_i32(r);
    m->member_id = rill__rd_str_nn(r, fx);
    if (ver >= 5)
        m->group_instance_id = rill__rd_str(r, fx);
    m->protocol_type = rill__rd_str_nn(r, fx);
    RILL_RD_ARRAY(r, fx, false, STR_MIN(fx) + LEN_MIN(fx) + TAG_MIN(fx), a, m->protocols,
                  m->nprotocols);
    for (int32_t i = 0; i < m->nprotocols && !r->err; i++) {
        m->protocols[i].name = rill__rd_str_nn(r, fx);
        m->protocols[i].metadata = rill__rd_bytes(r, fx);
        if (m->protocols[i].metadata.len < 0)
            r->err = 1;
        rd_tags(r, fx);
    }
    if (ver >= 8)
        m->reason = rill__rd_str(r, fx);
    return dec_end(r, fx);
}

int rill__join_group_resp_encode(rill_buf *b, int16_t ver, const rill_join_group_resp *m) {
    if (!ver_ok(ver, RILL_JOIN_GROUP_MIN_VER, RILL_JOIN_GROUP_MAX_VER))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_JOIN_GROUP, ver);
    if (ver >= 2)
        rill__wr_i32(b, m->throttle_time_ms);
    rill__wr_i16(b, m->error_code);
    rill__wr_i32(b, m->generation_id);
    if (ver >= 7)
        rill__wr_str(b, fx, true, m->protocol_type);
    /* Before v7 the name cannot be null: an error response carries "". */
    rill_str name = m->protocol_name;
    if (ver < 7 && rill__str_is_null(name))
        name = rill__str("");
    rill__wr_str(b, fx, ver >= 7, name);
    rill__wr_str(b, fx, false, m->leader);
    if (ver >= 9)
        rill__wr_bool(b, m->skip_assignment);
    rill__wr_str(b, fx, false, m->member_id);
    rill__wr_array_n(b, fx, false, m->nmembers);
    for (int32_t i = 0; i < m->nmembers; i++) {
        const rill_join_group_member *mb = &m->members[i];
        rill__wr_str(b, fx, false, mb->member_id);
        if (ver >= 5)
            rill__wr_str(b, fx, true, mb->group_instance_id);
        rill__wr_bytes(b, fx, mb->metadata.ptr, mb->metadata.len);
        rill__wr_tags(b, fx);
    }
    return enc_end(b, fx);
}

int rill__join_group_resp_decode(rill_rd *r, int16_t ver, rill_join_group_resp *m, rill_arena *a) {
    memset(m, 0, sizeof(*m));
    m->generation_id = -1;
    m->protocol_type = rill__str_null();
    if (!ver_ok(ver, RILL_JOIN_GROUP_MIN_VER, RILL_JOIN_GROUP_MAX_VER))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(RILL_API_JOIN_GROUP, ver);
    if (ver >= 2)
        m->throttle_time_ms = rill__rd_i32(r);
    m->error_code = rill__rd_i16(r);
    m->generation_id = rill__rd_i32(r);
    if (ver >= 7)
        m->protocol_type = rill__rd_str(r, fx);
    m->protocol_name = ver >= 7 ? rill__rd_str(r, fx) : rill__rd_str_nn(r, fx);
    m->leader = rill__rd_str_nn(r, fx);
    if (ver >= 9)
        m->skip_assignment = rill__rd_bool(r);
    m->member_id = rill__rd_str_nn(r, fx);
    size_t min = STR_MIN(fx) + (ver >= 5 ? STR_MIN(fx) : 0) + LEN_MIN(fx) + TAG_MIN(fx);
    RILL_RD_ARRAY(r, fx, false, min, a, m->members, m->nmembers);
    for (int32_t i = 0; i < m->nmembers && !r->err; i++) {
        rill_join_group_member *mb = &m->members[i];
        mb->member_id = rill__rd_str_nn(r, fx);
        mb->group_instance_id = ver >= 5 ? rill__rd_str(r, fx) : rill__str_null();
        mb->metadata = rill__rd_bytes(r, fx);
        if (mb->metadata.len < 0)
            r->err = 1;
        rd_tags(r, fx);
    }
    return dec_end(r, fx);
}

/*
 * GroupId, GenerationId, MemberId and GroupInstanceId (v3+): the prefix
 * Heartbeat and SyncGroup requests share.  An instance id needs v3.
 */
static int wr_member_prefix(rill_buf *b, int16_t ver, bool fx, rill_str group, int32_t generation,
                            rill_str member, rill_str instance) {
    rill__wr_str(b, fx, false, group);
    rill__wr_i32(b, generation);
    rill__wr_str(b, fx, false, member);
    if (ver >= 3)
        rill__wr_str(b, fx, true, instance);
    else if (!rill__str_is_null(instance))
        return rill__enc_fail(b);
    return 0;
}

static void rd_member_prefix(rill_rd *r, int16_t ver, bool fx, rill_str *group, int32_t *generation,
                             rill_str *member, rill_str *instance) {
    *group = rill__rd_str_nn(r, fx);
    *generation = rill__rd_i32(r);
    *member = rill__rd_str_nn(r, fx);
    *instance = ver >= 3 ? rill__rd_str(r, fx) : rill__str_null();
}

/* ---- Heartbeat ---- */

int rill__heartbeat_req_encode(rill_buf *b, int16_t ver, const rill_heartbeat_req *m) {
    if (!ver_ok(ver, RILL_HEARTBEAT_MIN_VER, RILL_HEARTBEAT_MAX_VER))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_HEARTBEAT, ver);
    if (wr_member_prefix(b, ver, fx, m->group_id, m->generation_id, m->member_id,
                         m->group_instance_id) != 0)
        return -1;
    return enc_end(b, fx);
}

int rill__heartbeat_req_decode(rill_rd *r, int16_t ver, rill_heartbeat_req *m, rill_arena *a) {
    (void)a;
    memset(m, 0, sizeof(*m));
    m->group_instance_id = rill__str_null();
    if (!ver_ok(ver, RILL_HEARTBEAT_MIN_VER, RILL_HEARTBEAT_MAX_VER))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(RILL_API_HEARTBEAT, ver);
    rd_member_prefix(r, ver, fx, &m->group_id, &m->generation_id, &m->member_id,
                     &m->group_instance_id);
    return dec_end(r, fx);
}

int rill__heartbeat_resp_encode(rill_buf *b, int16_t ver, const rill_heartbeat_resp *m) {
    if (!ver_ok(ver, RILL_HEARTBEAT_MIN_VER, RILL_HEARTBEAT_MAX_VER))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_HEARTBEAT, ver);
    if (ver >= 1)
        rill__wr_i32(b, m->throttle_time_ms);
    rill__wr_i16(b, m->error_code);
    return enc_end(b, fx);
}

int rill__heartbeat_resp_decode(rill_rd *r, int16_t ver, rill_heartbeat_resp *m, rill_arena *a) {
    (void)a;
    memset(m, 0, sizeof(*m));
    if (!ver_ok(ver, RILL_HEARTBEAT_MIN_VER, RILL_HEARTBEAT_MAX_VER))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(RILL_API_HEARTBEAT, ver);
    if (ver >= 1)
        m->throttle_time_ms = rill__rd_i32(r);
    m->error_code = rill__rd_i16(r);
    return dec_end(r, fx);
}

/* ---- LeaveGroup ---- */

int rill__leave_group_req_encode(rill_buf *b, int16_t ver, const rill_leave_group_req *m) {
    if (!ver_ok(ver, RILL_LEAVE_GROUP_MIN_VER, RILL_LEAVE_GROUP_MAX_VER))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_LEAVE_GROUP, ver);
    rill__wr_str(b, fx, false, m->group_id);
    if (ver < 3) {
        if (m->nmembers != 1 || !rill__str_is_null(m->members[0].group_instance_id))
            return rill__enc_fail(b);
        rill__wr_str(b, fx, false, m->members[0].member_id);
        return enc_end(b, fx);
    }
    rill__wr_array_n(b, fx, false, m->nmembers);
    for (int32_t i = 0; i < m->nmembers; i++) {
        rill__wr_str(b, fx, false, m->members[i].member_id);
        rill__wr_str(b, fx, true, m->members[i].group_instance_id);
        if (ver >= 5)
            rill__wr_str(b, fx, true, m->members[i].reason);
        rill__wr_tags(b, fx);
    }
    return enc_end(b, fx);
}

int rill__leave_group_req_decode(rill_rd *r, int16_t ver, rill_leave_group_req *m, rill_arena *a) {
    memset(m, 0, sizeof(*m));
    if (!ver_ok(ver, RILL_LEAVE_GROUP_MIN_VER, RILL_LEAVE_GROUP_MAX_VER))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(RILL_API_LEAVE_GROUP, ver);
    m->group_id = rill__rd_str_nn(r, fx);
    if (ver < 3) {
        rill_str id = rill__rd_str_nn(r, fx);
        if (!(m->members = one(r, a, sizeof(*m->members), &m->nmembers)))
            return -1;
        m->members[0].member_id = id;
        m->members[0].group_instance_id = rill__str_null();
        m->members[0].reason = rill__str_null();
        return dec_end(r, fx);
    }
    RILL_RD_ARRAY(r, fx, false, 2 * STR_MIN(fx) + TAG_MIN(fx), a, m->members, m->nmembers);
    for (int32_t i = 0; i < m->nmembers && !r->err; i++) {
        rill_leave_group_member *mb = &m->members[i];
        mb->member_id = rill__rd_str_nn(r, fx);
        mb->group_instance_id = rill__rd_str(r, fx);
        mb->reason = ver >= 5 ? rill__rd_str(r, fx) : rill__str_null();
        rd_tags(r, fx);
    }
    return dec_end(r, fx);
}

int rill__leave_group_resp_encode(rill_buf *b, int16_t ver, const rill_leave_group_resp *m) {
    if (!ver_ok(ver, RILL_LEAVE_GROUP_MIN_VER, RILL_LEAVE_GROUP_MAX_VER))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_LEAVE_GROUP, ver);
    if (ver >= 1)
        rill__wr_i32(b, m->throttle_time_ms);
    rill__wr_i16(b, m->error_code);
    if (ver >= 3) {
        rill__wr_array_n(b, fx, false, m->nmembers);
        for (int32_t i = 0; i < m->nmembers; i++) {
            rill__wr_str(b, fx, false, m->members[i].member_id);
            rill__wr_str(b, fx, true, m->members[i].group_instance_id);
            rill__wr_i16(b, m->members[i].error_code);
            rill__wr_tags(b, fx);
        }
    }
    return enc_end(b, fx);
}

int rill__leave_group_resp_decode(rill_rd *r, int16_t ver, rill_leave_group_resp *m,
                                  rill_arena *a) {
    memset(m, 0, sizeof(*m));
    if (!ver_ok(ver, RILL_LEAVE_GROUP_MIN_VER, RILL_LEAVE_GROUP_MAX_VER))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(RILL_API_LEAVE_GROUP, ver);
    if (ver >= 1)
        m->throttle_time_ms = rill__rd_i32(r);
    m->error_code = rill__rd_i16(r);
    if (ver >= 3) {
        RILL_RD_ARRAY(r, fx, false, 2 * STR_MIN(fx) + 2 + TAG_MIN(fx), a, m->members, m->nmembers);
        for (int32_t i = 0; i < m->nmembers && !r->err; i++) {
            m->members[i].member_id = rill__rd_str_nn(r, fx);
            m->members[i].group_instance_id = rill__rd_str(r, fx);
            m->members[i].error_code = rill__rd_i16(r);
            rd_tags(r, fx);
        }
    }
    return dec_end(r, fx);
}

/* ---- SyncGroup ---- */

int rill__sync_group_req_encode(rill_buf *b, int16_t ver, const rill_sync_group_req *m) {
    if (!ver_ok(ver, RILL_SYNC_GROUP_MIN_VER, RILL_SYNC_GROUP_MAX_VER))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_SYNC_GROUP, ver);
    if (wr_member_prefix(b, ver, fx, m->group_id, m->generation_id, m->member_id,
                         m->group_instance_id) != 0)
        return -1;
    if (ver >= 5) {
        rill__wr_str(b, fx, true, m->protocol_type);
        rill__wr_str(b, fx, true, m->protocol_name);
    }
    rill__wr_array_n(b, fx, false, m->nassignments);
    for (int32_t i = 0; i < m->nassignments; i++) {
        const rill_sync_group_assignment *as = &m->assignments[i];
        rill__wr_str(b, fx, false, as->member_id);
        rill__wr_bytes(b, fx, as->assignment.ptr, as->assignment.len);
        rill__wr_tags(b, fx);
    }
    return enc_end(b, fx);
}

int rill__sync_group_req_decode(rill_rd *r, int16_t ver, rill_sync_group_req *m, rill_arena *a) {
    memset(m, 0, sizeof(*m));
    m->group_instance_id = rill__str_null();
    m->protocol_type = rill__str_null();
    m->protocol_name = rill__str_null();
    if (!ver_ok(ver, RILL_SYNC_GROUP_MIN_VER, RILL_SYNC_GROUP_MAX_VER))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(RILL_API_SYNC_GROUP, ver);
    rd_member_prefix(r, ver, fx, &m->group_id, &m->generation_id, &m->member_id,
                     &m->group_instance_id);
    if (ver >= 5) {
        m->protocol_type = rill__rd_str(r, fx);
        m->protocol_name = rill__rd_str(r, fx);
    }
    RILL_RD_ARRAY(r, fx, false, STR_MIN(fx) + LEN_MIN(fx) + TAG_MIN(fx), a, m->assignments,
                  m->nassignments);
    for (int32_t i = 0; i < m->nassignments && !r->err; i++) {
        m->assignments[i].member_id = rill__rd_str_nn(r, fx);
        m->assignments[i].assignment = rill__rd_bytes(r, fx);
        if (m->assignments[i].assignment.len < 0)
            r->err = 1;
        rd_tags(r, fx);
    }
    return dec_end(r, fx);
}

int rill__sync_group_resp_encode(rill_buf *b, int16_t ver, const rill_sync_group_resp *m) {
    if (!ver_ok(ver, RILL_SYNC_GROUP_MIN_VER, RILL_SYNC_GROUP_MAX_VER))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_SYNC_GROUP, ver);
    if (ver >= 1)
        rill__wr_i32(b, m->throttle_time_ms);
    rill__wr_i16(b, m->error_code);
    if (ver >= 5) {
        rill__wr_str(b, fx, true, m->protocol_type);
        rill__wr_str(b, fx, true, m->protocol_name);
    }
    /* An error response carries empty (never null) assignment bytes. */
    rill__wr_bytes(b, fx, m->assignment.ptr ? m->assignment.ptr : (const uint8_t *)"",
                   m->assignment.len < 0 ? 0 : m->assignment.len);
    return enc_end(b, fx);
}

int rill__sync_group_resp_decode(rill_rd *r, int16_t ver, rill_sync_group_resp *m, rill_arena *a) {
    (void)a;
    memset(m, 0, sizeof(*m));
    m->protocol_type = rill__str_null();
    m->protocol_name = rill__str_null();
    if (!ver_ok(ver, RILL_SYNC_GROUP_MIN_VER, RILL_SYNC_GROUP_MAX_VER))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(RILL_API_SYNC_GROUP, ver);
    if (ver >= 1)
        m->throttle_time_ms = rill__rd_i32(r);
    m->error_code = rill__rd_i16(r);
    if (ver >= 5) {
        m->protocol_type = rill__rd_str(r, fx);
        m->protocol_name = rill__rd_str(r, fx);
    }
    m->assignment = rill__rd_bytes(r, fx);
    if (m->assignment.len < 0) {
        /* Not nullable in the schema, but librdkafka's mock cluster sends null with an
         * error: read as empty there; a successful answer without one is malformed. */
        if (m->error_code)
            m->assignment.len = 0;
        else
            r->err = 1;
    }
    return dec_end(r, fx);
}

/* ---- DescribeGroups ---- */

int rill__describe_groups_req_encode(rill_buf *b, int16_t ver, const rill_describe_groups_req *m) {
    if (!ver_ok(ver, RILL_DESCRIBE_GROUPS_MIN_VER, RILL_DESCRIBE_GROUPS_MAX_VER))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_DESCRIBE_GROUPS, ver);
    rill__wr_str_array(b, fx, false, m->groups, m->ngroups);
    if (ver >= 3)
        rill__wr_bool(b, m->include_authorized_operations);
    return enc_end(b, fx);
}

int rill__describe_groups_req_decode(rill_rd *r, int16_t ver, rill_describe_groups_req *m,
                                     rill_arena *a) {
    memset(m, 0, sizeof(*m));
    if (!ver_ok(ver, RILL_DESCRIBE_GROUPS_MIN_VER, RILL_DESCRIBE_GROUPS_MAX_VER))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(RILL_API_DESCRIBE_GROUPS, ver);
    m->groups = rill__rd_str_array(r, fx, false, a, &m->ngroups);
    if (ver >= 3)
        m->include_authorized_operations = rill__rd_bool(r);
    return dec_end(r, fx);
}

static void wr_described_members(rill_buf *b, int16_t ver, bool fx, const rill_described_group *g) {
    rill__wr_array_n(b, fx, false, g->nmembers);
    for (int32_t j = 0; j < g->nmembers; j++) {
        const rill_described_member *mb = &g->members[j];
        rill__wr_str(b, fx, false, mb->member_id);
        if (ver >= 4)
            rill__wr_str(b, fx, true, mb->group_instance_id);
        rill__wr_str(b, fx, false, mb->client_id);
        rill__wr_str(b, fx, false, mb->client_host);
        rill__wr_bytes(b, fx, mb->member_metadata.ptr, mb->member_metadata.len);
        rill__wr_bytes(b, fx, mb->member_assignment.ptr, mb->member_assignment.len);
        rill__wr_tags(b, fx);
    }
}

int rill__describe_groups_resp_encode(rill_buf *b, int16_t ver,
                                      const rill_describe_groups_resp *m) {
    if (!ver_ok(ver, RILL_DESCRIBE_GROUPS_MIN_VER, RILL_DESCRIBE_GROUPS_MAX_VER))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_DESCRIBE_GROUPS, ver);
    if (ver >= 1)
        rill__wr_i32(b, m->throttle_time_ms);
    rill__wr_array_n(b, fx, false, m->ngroups);
    for (int32_t i = 0; i < m->ngroups; i++) {
        const rill_described_group *g = &m->groups[i];
        rill__wr_i16(b, g->error_code);
        rill__wr_str(b, fx, false, g->group_id);
        rill__wr_str(b, fx, false, g->group_state);
        rill__wr_str(b, fx, false, g->protocol_type);
        rill__wr_str(b, fx, false, g->protocol_data);
        wr_described_members(b, ver, fx, g);
        if (ver >= 3)
            rill__wr_i32(b, g->authorized_operations);
        rill__wr_tags(b, fx);
    }
    return enc_end(b, fx);
}

static void rd_described_members(rill_rd *r, int16_t ver, bool fx, rill_described_group *g,
                                 rill_arena *a) {
    size_t min = (ver >= 4 ? 4 : 3) * STR_MIN(fx) + 2 * LEN_MIN(fx) + TAG_MIN(fx);
    RILL_RD_ARRAY(r, fx, false, min, a, g->members, g->nmembers);
    for (int32_t j = 0; j < g->nmembers && !r->err; j++) {
        rill_described_member *mb = &g->members[j];
        mb->member_id = rill__rd_str_nn(r, fx);
        mb->group_instance_id = ver >= 4 ? rill__rd_str(r, fx) : rill__str_null();
        mb->client_id = rill__rd_str_nn(r, fx);
        mb->client_host = rill__rd_str_nn(r, fx);
        mb->member_metadata = rill__rd_bytes(r, fx);
        mb->member_assignment = rill__rd_bytes(r, fx);
        if (mb->member_metadata.len < 0 || mb->member_assignment.len < 0)
            r->err = 1;
        rd_tags(r, fx);
    }
}

int rill__describe_groups_resp_decode(rill_rd *r, int16_t ver, rill_describe_groups_resp *m,
                                      rill_arena *a) {
    memset(m, 0, sizeof(*m));
    if (!ver_ok(ver, RILL_DESCRIBE_GROUPS_MIN_VER, RILL_DESCRIBE_GROUPS_MAX_VER))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(RILL_API_DESCRIBE_GROUPS, ver);
    if (ver >= 1)
        m->throttle_time_ms = rill__rd_i32(r);
    size_t min = 2 + 4 * STR_MIN(fx) + LEN_MIN(fx) + (ver >= 3 ? 4 : 0) + TAG_MIN(fx);
    RILL_RD_ARRAY(r, fx, false, min, a, m->groups, m->ngroups);
    for (int32_t i = 0; i < m->ngroups && !r->err; i++) {
        rill_described_group *g = &m->groups[i];
        g->error_code = rill__rd_i16(r);
        g->group_id = rill__rd_str_nn(r, fx);
        g->group_state = rill__rd_str_nn(r, fx);
        g->protocol_type = rill__rd_str_nn(r, fx);
        g->protocol_data = rill__rd_str_nn(r, fx);
        rd_described_members(r, ver, fx, g, a);
        g->authorized_operations = ver >= 3 ? rill__rd_i32(r) : INT32_MIN;
        rd_tags(r, fx);
    }
    return dec_end(r, fx);
}

/* ---- ListGroups ---- */

int rill__list_groups_req_encode(rill_buf *b, int16_t ver, const rill_list_groups_req *m) {
    if (!ver_ok(ver, RILL_LIST_GROUPS_MIN_VER, RILL_LIST_GROUPS_MAX_VER))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_LIST_GROUPS, ver);
    if (ver >= 4)
        rill__wr_str_array(b, fx, false, m->states_filter, m->nstates_filter);
    if (ver >= 5)
        rill__wr_str_array(b, fx, false, m->types_filter, m->ntypes_filter);
    return enc_end(b, fx);
}

int rill__list_groups_req_decode(rill_rd *r, int16_t ver, rill_list_groups_req *m, rill_arena *a) {
    memset(m, 0, sizeof(*m));
    if (!ver_ok(ver, RILL_LIST_GROUPS_MIN_VER, RILL_LIST_GROUPS_MAX_VER))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(RILL_API_LIST_GROUPS, ver);
    if (ver >= 4)
        m->states_filter = rill__rd_str_array(r, fx, false, a, &m->nstates_filter);
    if (ver >= 5)
        m->types_filter = rill__rd_str_array(r, fx, false, a, &m->ntypes_filter);
    return dec_end(r, fx);
}

int rill__list_groups_resp_encode(rill_buf *b, int16_t ver, const rill_list_groups_resp *m) {
    if (!ver_ok(ver, RILL_LIST_GROUPS_MIN_VER, RILL_LIST_GROUPS_MAX_VER))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_LIST_GROUPS, ver);
    if (ver >= 1)
        rill__wr_i32(b, m->throttle_time_ms);
    rill__wr_i16(b, m->error_code);
    rill__wr_array_n(b, fx, false, m->ngroups);
    for (int32_t i = 0; i < m->ngroups; i++) {
        const rill_listed_group *g = &m->groups[i];
        rill__wr_str(b, fx, false, g->group_id);
        rill__wr_str(b, fx, false, g->protocol_type);
        if (ver >= 4)
            rill__wr_str(b, fx, false, g->group_state);
        if (ver >= 5)
            rill__wr_str(b, fx, false, g->group_type);
        rill__wr_tags(b, fx);
    }
    return enc_end(b, fx);
}

int rill__list_groups_resp_decode(rill_rd *r, int16_t ver, rill_list_groups_resp *m,
                                  rill_arena *a) {
    memset(m, 0, sizeof(*m));
    if (!ver_ok(ver, RILL_LIST_GROUPS_MIN_VER, RILL_LIST_GROUPS_MAX_VER))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(RILL_API_LIST_GROUPS, ver);
    if (ver >= 1)
        m->throttle_time_ms = rill__rd_i32(r);
    m->error_code = rill__rd_i16(r);
    size_t nstr = 2 + (ver >= 4) + (ver >= 5);
    RILL_RD_ARRAY(r, fx, false, nstr * STR_MIN(fx) + TAG_MIN(fx), a, m->groups, m->ngroups);
    for (int32_t i = 0; i < m->ngroups && !r->err; i++) {
        rill_listed_group *g = &m->groups[i];
        g->group_id = rill__rd_str_nn(r, fx);
        g->protocol_type = rill__rd_str_nn(r, fx);
        g->group_state = ver >= 4 ? rill__rd_str_nn(r, fx) : rill__str("");
        g->group_type = ver >= 5 ? rill__rd_str_nn(r, fx) : rill__str("");
        rd_tags(r, fx);
    }
    return dec_end(r, fx);
}

/* ---- DeleteGroups ---- */

int rill__delete_groups_req_encode(rill_buf *b, int16_t ver, const rill_delete_groups_req *m) {
    if (!ver_ok(ver, RILL_DELETE_GROUPS_MIN_VER, RILL_DELETE_GROUPS_MAX_VER))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_DELETE_GROUPS, ver);
    rill__wr_str_array(b, fx, false, m->groups, m->ngroups);
    return enc_end(b, fx);
}

int rill__delete_groups_req_decode(rill_rd *r, int16_t ver, rill_delete_groups_req *m,
                                   rill_arena *a) {
    memset(m, 0, sizeof(*m));
    if (!ver_ok(ver, RILL_DELETE_GROUPS_MIN_VER, RILL_DELETE_GROUPS_MAX_VER))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(RILL_API_DELETE_GROUPS, ver);
    m->groups = rill__rd_str_array(r, fx, false, a, &m->ngroups);
    return dec_end(r, fx);
}

int rill__delete_groups_resp_encode(rill_buf *b, int16_t ver, const rill_delete_groups_resp *m) {
    if (!ver_ok(ver, RILL_DELETE_GROUPS_MIN_VER, RILL_DELETE_GROUPS_MAX_VER))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_DELETE_GROUPS, ver);
    rill__wr_i32(b, m->throttle_time_ms);
    rill__wr_array_n(b, fx, false, m->nresults);
    for (int32_t i = 0; i < m->nresults; i++) {
        rill__wr_str(b, fx, false, m->results[i].group_id);
        rill__wr_i16(b, m->results[i].error_code);
        rill__wr_tags(b, fx);
    }
    return enc_end(b, fx);
}

int rill__delete_groups_resp_decode(rill_rd *r, int16_t ver, rill_delete_groups_resp *m,
                                    rill_arena *a) {
    memset(m, 0, sizeof(*m));
    if (!ver_ok(ver, RILL_DELETE_GROUPS_MIN_VER, RILL_DELETE_GROUPS_MAX_VER))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(RILL_API_DELETE_GROUPS, ver);
    m->throttle_time_ms = rill__rd_i32(r);
    RILL_RD_ARRAY(r, fx, false, STR_MIN(fx) + 2 + TAG_MIN(fx), a, m->results, m->nresults);
    for (int32_t i = 0; i < m->nresults && !r->err; i++) {
        m->results[i].group_id = rill__rd_str_nn(r, fx);
        m->results[i].error_code = rill__rd_i16(r);
        rd_tags(r, fx);
    }
    return dec_end(r, fx);
}
