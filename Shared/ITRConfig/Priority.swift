@_exported import ITREvents

// The vocabulary (service types, priorities, severities, pause reasons, quality
// responsibility) is the event-schema module's; configuration uses the same types.

/// Why a ticket waits; which reasons pause the SLA is configured in `lifecycle.yaml`.
public typealias PendingReason = PauseReason
