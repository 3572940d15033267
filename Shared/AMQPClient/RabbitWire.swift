import CRabbitMQShim
import Foundation

/// The one thin layer over the librabbitmq calls the connection thread makes: each turns a
/// status code (or a nil RPC result) into a thrown ``AMQPError`` — `.unencodable` for what
/// librabbitmq could not encode, `.connectionLost` for socket trouble, `.channelClosed` for a
/// channel the broker closed — so that ``ConnectionCore`` decides with `catch`, never by
/// comparing codes at each call site. No state, no policy: only the calls.
struct RabbitWire {
    let conn: amqp_connection_state_t

    private func check(_ rc: Int32, _ context: @autoclosure () -> String) throws(AMQPError) {
        if rc != AMQP_STATUS_OK.rawValue { throw CRead.statusError(rc, context()) }
    }

    func publish(
        channel: UInt16, exchange: amqp_bytes_t, routingKey: amqp_bytes_t, mandatory: Bool,
        properties: inout amqp_basic_properties_t, body: Data, context: @autoclosure () -> String
    ) throws(AMQPError) {
        let rc: Int32 = body.withUnsafeBytes { raw in
            let bytes = amqp_bytes_t(len: raw.count, bytes: UnsafeMutableRawPointer(mutating: raw.baseAddress))
            return amqp_basic_publish(conn, channel, exchange, routingKey, mandatory ? 1 : 0, 0, &properties, bytes)
        }
        try check(rc, "basic.publish \(context())")
    }

    func ack(channel: UInt16, tag: UInt64, multiple: Bool) throws(AMQPError) {
        try check(amqp_basic_ack(conn, channel, tag, multiple ? 1 : 0), "basic.ack")
    }

    func nack(channel: UInt16, tag: UInt64, multiple: Bool, requeue: Bool) throws(AMQPError) {
        try check(amqp_basic_nack(conn, channel, tag, multiple ? 1 : 0, requeue ? 1 : 0), "basic.nack")
    }

    func reject(channel: UInt16, tag: UInt64, requeue: Bool) throws(AMQPError) {
        try check(amqp_basic_reject(conn, channel, tag, requeue ? 1 : 0), "basic.reject")
    }

    func channelCloseOK(_ channel: UInt16) throws(AMQPError) {
        var ok = amqp_channel_close_ok_t(dummy: 0)
        try check(amqp_send_method(conn, channel, AMQPMethod.channelCloseOK, &ok), "channel.close-ok")
    }

    func connectionCloseOK() throws(AMQPError) {
        var ok = amqp_connection_close_ok_t(dummy: 0)
        try check(amqp_send_method(conn, 0, AMQPMethod.connectionCloseOK, &ok), "connection.close-ok")
    }

    func heartbeat() throws(AMQPError) {
        var frame = amqp_frame_t()
        frame.frame_type = UInt8(AMQP_FRAME_HEARTBEAT)
        frame.channel = 0
        try check(amqp_send_frame(conn, &frame), "heartbeat")
    }

    /// Reads the next frame if one can be had without waiting; false when none is there.
    func nextFrame(_ frame: inout amqp_frame_t) throws(AMQPError) -> Bool {
        var zero = timeval(tv_sec: 0, tv_usec: 0)
        let rc = amqp_simple_wait_frame_noblock(conn, &frame, &zero)
        if rc == AMQP_STATUS_TIMEOUT.rawValue { return false }
        try check(rc, "reading from the broker")
        return true
    }

    /// librabbitmq's RPC calls return nil on failure: the error the last reply stands for.
    func rpc(_ result: UnsafeMutableRawPointer?, _ context: @autoclosure () -> String) throws(AMQPError) {
        guard result == nil else { return }
        let reply = amqp_get_rpc_reply(conn)
        if reply.reply_type == AMQP_RESPONSE_NORMAL { return }
        throw CRead.error(reply, context())
    }

    func close() {
        _ = amqp_connection_close(conn, Int32(AMQP_REPLY_SUCCESS))
    }
}
