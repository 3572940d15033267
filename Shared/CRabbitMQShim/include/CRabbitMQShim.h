// CRabbitMQShim: the few things Swift cannot call on librabbitmq directly.
//
// Everything here is prefixed `crmq_` and holds no logic beyond what Swift cannot express:
// the variadic login, building field values (a C union), reading frame payload unions,
// and poll(2) on the socket plus a wake-up eventfd; and the header-nesting guard (guard.c),
// which caps what librabbitmq's recursive table decoder would otherwise overflow the stack on.
#pragma once
#include "../../CRabbitMQ/CRabbitMQ.h"
#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// `amqp_login_with_properties` with SASL PLAIN (the C function is variadic).
amqp_rpc_reply_t crmq_login_plain(amqp_connection_state_t conn, const char *vhost, int channel_max,
                                  int frame_max, int heartbeat, const amqp_table_t *client_properties,
                                  const char *user, const char *password);

/// `amqp_login_with_properties` with SASL EXTERNAL (client certificate identity).
amqp_rpc_reply_t crmq_login_external(amqp_connection_state_t conn, const char *vhost, int channel_max,
                                     int frame_max, int heartbeat, const amqp_table_t *client_properties,
                                     const char *identity);

// Field values (amqp_field_value_t holds a union).
amqp_field_value_t crmq_field_bool(int v);
amqp_field_value_t crmq_field_i8(int8_t v);
amqp_field_value_t crmq_field_i16(int16_t v);
amqp_field_value_t crmq_field_i32(int32_t v);
amqp_field_value_t crmq_field_i64(int64_t v);
amqp_field_value_t crmq_field_u8(uint8_t v);
amqp_field_value_t crmq_field_u16(uint16_t v);
amqp_field_value_t crmq_field_u32(uint32_t v);
amqp_field_value_t crmq_field_f32(float v);
amqp_field_value_t crmq_field_f64(double v);
amqp_field_value_t crmq_field_decimal(uint8_t decimals, uint32_t value);
amqp_field_value_t crmq_field_utf8(amqp_bytes_t v);
amqp_field_value_t crmq_field_bytes(amqp_bytes_t v);
amqp_field_value_t crmq_field_timestamp(uint64_t v);
amqp_field_value_t crmq_field_table(amqp_table_t v);
amqp_field_value_t crmq_field_array(amqp_array_t v);
amqp_field_value_t crmq_field_void(void);

// Reading field values.
uint8_t crmq_field_kind(const amqp_field_value_t *v);
int crmq_field_get_bool(const amqp_field_value_t *v);
int64_t crmq_field_get_signed(const amqp_field_value_t *v);    // i8/i16/i32/i64
uint64_t crmq_field_get_unsigned(const amqp_field_value_t *v); // u8/u16/u32/u64/timestamp
double crmq_field_get_double(const amqp_field_value_t *v);     // f32/f64
amqp_decimal_t crmq_field_get_decimal(const amqp_field_value_t *v);
amqp_bytes_t crmq_field_get_bytes(const amqp_field_value_t *v); // utf8/bytes
amqp_table_t crmq_field_get_table(const amqp_field_value_t *v);
amqp_array_t crmq_field_get_array(const amqp_field_value_t *v);

// Frames (amqp_frame_t's payload is a union).
amqp_method_number_t crmq_frame_method_id(const amqp_frame_t *f);
void *crmq_frame_method_decoded(const amqp_frame_t *f);
uint64_t crmq_frame_body_size(const amqp_frame_t *f);
amqp_basic_properties_t *crmq_frame_properties(const amqp_frame_t *f);
amqp_bytes_t crmq_frame_body_fragment(const amqp_frame_t *f);

// The connection reply (amqp_rpc_reply_t has a union-free shape, but reading the server's
// close reason needs a cast of `reply.decoded`).
/// Reply code and text of a server connection.close / channel.close carried in a reply or frame.
int crmq_close_reason(amqp_method_number_t id, void *decoded, uint16_t *code, amqp_bytes_t *text);

/// poll(2) on the connection's socket and a wake-up fd. Returns a bitmask:
/// 1 = socket readable (or hung up / error), 2 = wake fd readable, 0 = timeout, -1 = error.
int crmq_poll(int socket_fd, int wake_fd, int timeout_ms);

/// An eventfd used to wake the connection thread; -1 on error.
int crmq_eventfd_open(void);
void crmq_eventfd_signal(int fd);
void crmq_eventfd_drain(int fd);
void crmq_fd_close(int fd);

/// Installs the header-nesting guard on a connection's socket (see guard.c): tables and
/// arrays nested deeper than `max_depth` reach librabbitmq as opaque byte arrays. Call after
/// the socket is created and before it is opened. 0 = installed; negative = not (unsupported
/// librabbitmq version, out of memory).
int crmq_guard_install(amqp_socket_t *socket, int max_depth);
/// For the next content header frame in stream order (on `channel`): 1 if the guard capped
/// its headers. Call once per header frame dispatched, in order.
int crmq_guard_take_header(amqp_socket_t *socket, uint16_t channel);
/// Bytes the guard holds that librabbitmq has not read yet (poll does not see them).
size_t crmq_guard_buffered(amqp_socket_t *socket);
/// Header frames capped on this socket so far.
uint64_t crmq_guard_capped_total(amqp_socket_t *socket);

#ifdef __cplusplus
}
#endif
