import Foundation
import ITRConfig
import ITREvents

/// `intake.yaml`: intake's own settings (all optional, sane defaults).
///
///     stormWindow: 15m          # monitoring alarms of one site/device/code within this fold into one ticket
///     maxRequestBytes: 1048576  # largest HTTP request body (a batch), else 413
///     maxBatchEvents: 500       # most events in one HTTP batch
///     keptBytesPerTokenPerMinute: 16777216  # refused HTTP bodies kept whole in itr.rejected, per token
///     limits:
///       maxBodyBytes: 262144    # largest event (AMQP body / event data)
///       maxSummaryLength: 512
///       maxDescriptionLength: 32768
///       maxFieldLength: 256
///       maxAttachments: 20
///       maxFutureSkew: 5m       # how far in the future occurredAt / time may lie
public struct IntakeConfiguration: ConfigSection, Hashable {
    public static let fileName = "intake.yaml"
    public static let isRequired = false

    public var stormWindow: TimeInterval = 15 * 60
    public var maxRequestBytes: Int = 1 << 20
    public var maxBatchEvents: Int = 500
    /// How many bytes of refused HTTP input one token may have kept whole in `itr.rejected` per
    /// minute (bursts up to the same amount); past it each copy is kept cut to
    /// ``keptCutBytes``, marked, and counted (`itr_intake_rejected_cut_total{submitter}`).
    public var keptBytesPerTokenPerMinute: Int = 16 << 20
    /// What is kept of a refused body once its token's budget is spent.
    public static let keptCutBytes = 4096
    public var limits: ReportLimits = .default

    public init() {}

    public static func decode(_ root: ConfigNode, core: ConfigBundle) -> IntakeConfiguration? {
        var configuration = IntakeConfiguration()
        root.checkKeys(["stormWindow", "maxRequestBytes", "maxBatchEvents", "keptBytesPerTokenPerMinute", "limits"])
        if let value = root["stormWindow"]?.duration() { configuration.stormWindow = value }
        if let value = root["maxRequestBytes"]?.int(in: 1024...(256 << 20)) { configuration.maxRequestBytes = value }
        if let value = root["maxBatchEvents"]?.int(in: 1...100_000) { configuration.maxBatchEvents = value }
        if let value = root["keptBytesPerTokenPerMinute"]?.int(in: 65536...(1 << 34)) {
            configuration.keptBytesPerTokenPerMinute = value
        }
        if let limits = root["limits"] {
            limits.checkKeys([
                "maxBodyBytes", "maxSummaryLength", "maxDescriptionLength", "maxFieldLength", "maxAttachments",
                "maxFutureSkew",
            ])
            if let v = limits["maxBodyBytes"]?.int(in: 256...(64 << 20)) { configuration.limits.maxBodyBytes = v }
            if let v = limits["maxSummaryLength"]?.int(in: 1...65536) { configuration.limits.maxSummaryLength = v }
            if let v = limits["maxDescriptionLength"]?.int(in: 1...(16 << 20)) { configuration.limits.maxDescriptionLength = v }
            if let v = limits["maxFieldLength"]?.int(in: 1...65536) { configuration.limits.maxFieldLength = v }
            if let v = limits["maxAttachments"]?.int(in: 0...10_000) { configuration.limits.maxAttachments = v }
            if let v = limits["maxFutureSkew"]?.duration() { configuration.limits.maxFutureSkew = v }
        }
        if configuration.maxRequestBytes < configuration.limits.maxBodyBytes {
            root["maxRequestBytes"]?.error("must be at least limits.maxBodyBytes (\(configuration.limits.maxBodyBytes))")
        }
        return configuration
    }
}
