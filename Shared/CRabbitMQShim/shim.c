#include "CRabbitMQShim.h"
#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

amqp_rpc_reply_t crmq_login_plain(amqp_connection_state_t conn, const char *vhost, int channel_max,
                                  int frame_max, int heartbeat, const amqp_table_t *client_properties,
                                  const char *user, const char *password) {
    return amqp_login_with_properties(conn, vhost, channel_max, frame_max, heartbeat, client_properties,
                                      AMQP_SASL_METHOD_PLAIN, user, password);
}

amqp_rpc_reply_t crmq_login_external(amqp_connection_state_t conn, const char *vhost, int channel_max,
                                     int frame_max, int heartbeat, const amqp_table_t *client_properties,
                                     const char *identity) {
    return amqp_login_with_properties(conn, vhost, channel_max, frame_max, heartbeat, client_properties,
                                      AMQP_SASL_METHOD_EXTERNAL, identity);
}

#define FIELD(kind_, member, val)        \
    amqp_field_value_t f;                \
    f.kind = (kind_);                    \
    f.value.member = (val);              \
    return f;

amqp_field_value_t crmq_field_bool(int v) { FIELD(AMQP_FIELD_KIND_BOOLEAN, boolean, v ? 1 : 0) }
amqp_field_value_t crmq_field_i8(int8_t v) { FIELD(AMQP_FIELD_KIND_I8, i8, v) }
amqp_field_value_t crmq_field_i16(int16_t v) { FIELD(AMQP_FIELD_KIND_I16, i16, v) }
amqp_field_value_t crmq_field_i32(int32_t v) { FIELD(AMQP_FIELD_KIND_I32, i32, v) }
amqp_field_value_t crmq_field_i64(int64_t v) { FIELD(AMQP_FIELD_KIND_I64, i64, v) }
amqp_field_value_t crmq_field_u8(uint8_t v) { FIELD(AMQP_FIELD_KIND_U8, u8, v) }
amqp_field_value_t crmq_field_u16(uint16_t v) { FIELD(AMQP_FIELD_KIND_U16, u16, v) }
amqp_field_value_t crmq_field_u32(uint32_t v) { FIELD(AMQP_FIELD_KIND_U32, u32, v) }
amqp_field_value_t crmq_field_f32(float v) { FIELD(AMQP_FIELD_KIND_F32, f32, v) }
amqp_field_value_t crmq_field_f64(double v) { FIELD(AMQP_FIELD_KIND_F64, f64, v) }
amqp_field_value_t crmq_field_utf8(amqp_bytes_t v) { FIELD(AMQP_FIELD_KIND_UTF8, bytes, v) }
amqp_field_value_t crmq_field_bytes(amqp_bytes_t v) { FIELD(AMQP_FIELD_KIND_BYTES, bytes, v) }
amqp_field_value_t crmq_field_timestamp(uint64_t v) { FIELD(AMQP_FIELD_KIND_TIMESTAMP, u64, v) }
amqp_field_value_t crmq_field_table(amqp_table_t v) { FIELD(AMQP_FIELD_KIND_TABLE, table, v) }
amqp_field_value_t crmq_field_array(amqp_array_t v) { FIELD(AMQP_FIELD_KIND_ARRAY, array, v) }
amqp_field_value_t crmq_field_decimal(uint8_t decimals, uint32_t value) {
    amqp_decimal_t d;
    d.decimals = decimals;
    d.value = value;
    FIELD(AMQP_FIELD_KIND_DECIMAL, decimal, d)
}
amqp_field_value_t crmq_field_void(void) {
    amqp_field_value_t f;
    f.kind = AMQP_FIELD_KIND_VOID;
    f.value.u64 = 0;
    return f;
}

uint8_t crmq_field_kind(const amqp_field_value_t *v) { return v->kind; }
int crmq_field_get_bool(const amqp_field_value_t *v) { return v->value.boolean; }
int64_t crmq_field_get_signed(const amqp_field_value_t *v) {
    switch (v->kind) {
    case AMQP_FIELD_KIND_I8: return v->value.i8;
    case AMQP_FIELD_KIND_I16: return v->value.i16;
    case AMQP_FIELD_KIND_I32: return v->value.i32;
    default: return v->value.i64;
    }
}
uint64_t crmq_field_get_unsigned(const amqp_field_value_t *v) {
    switch (v->kind) {
    case AMQP_FIELD_KIND_U8: return v->value.u8;
    case AMQP_FIELD_KIND_U16: return v->value.u16;
    case AMQP_FIELD_KIND_U32: return v->value.u32;
    default: return v->value.u64;
    }
}
double crmq_field_get_double(const amqp_field_value_t *v) {
    return v->kind == AMQP_FIELD_KIND_F32 ? (double)v->value.f32 : v->value.f64;
}
amqp_decimal_t crmq_field_get_decimal(const amqp_field_value_t *v) { return v->value.decimal; }
amqp_bytes_t crmq_field_get_bytes(const amqp_field_value_t *v) { return v->value.bytes; }
amqp_table_t crmq_field_get_table(const amqp_field_value_t *v) { return v->value.table; }
amqp_array_t crmq_field_get_array(const amqp_field_value_t *v) { return v->value.array; }

amqp_method_number_t crmq_frame_method_id(const amqp_frame_t *f) { return f->payload.method.id; }
void *crmq_frame_method_decoded(const amqp_frame_t *f) { return f->payload.method.decoded; }
uint64_t crmq_frame_body_size(const amqp_frame_t *f) { return f->payload.properties.body_size; }
amqp_basic_properties_t *crmq_frame_properties(const amqp_frame_t *f) {
    return (amqp_basic_properties_t *)f->payload.properties.decoded;
}
amqp_bytes_t crmq_frame_body_fragment(const amqp_frame_t *f) { return f->payload.body_fragment; }

int crmq_close_reason(amqp_method_number_t id, void *decoded, uint16_t *code, amqp_bytes_t *text) {
    if (decoded == NULL) return 0;
    if (id == AMQP_CONNECTION_CLOSE_METHOD) {
        amqp_connection_close_t *m = (amqp_connection_close_t *)decoded;
        *code = m->reply_code;
        *text = m->reply_text;
        return 1;
    }
    if (id == AMQP_CHANNEL_CLOSE_METHOD) {
        amqp_channel_close_t *m = (amqp_channel_close_t *)decoded;
        *code = m->reply_code;
        *text = m->reply_text;
        return 1;
    }
    return 0;
}

int crmq_poll(int socket_fd, int wake_fd, int timeout_ms) {
    struct pollfd fds[2];
    int n = 0;
    if (socket_fd >= 0) {
        fds[n].fd = socket_fd;
        fds[n].events = POLLIN;
        fds[n].revents = 0;
        n++;
    }
    fds[n].fd = wake_fd;
    fds[n].events = POLLIN;
    fds[n].revents = 0;
    n++;
    int rc;
    do {
        rc = poll(fds, (nfds_t)n, timeout_ms);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) return -1;
    int mask = 0;
    if (socket_fd >= 0 && fds[0].revents) mask |= 1;
    if (fds[n - 1].revents) mask |= 2;
    return mask;
}

int crmq_eventfd_open(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }
void crmq_eventfd_signal(int fd) {
    uint64_t one = 1;
    ssize_t rc;
    do {
        rc = write(fd, &one, sizeof one);
    } while (rc < 0 && errno == EINTR);
}
void crmq_eventfd_drain(int fd) {
    uint64_t v;
    ssize_t rc;
    do {
        rc = read(fd, &v, sizeof v);
    } while (rc < 0 && errno == EINTR);
}
void crmq_fd_close(int fd) {
    if (fd >= 0) close(fd);
}
