import ServiceKit

/// The router runs on the deployment's shared clock (`ServiceClock` in ServiceKit: wall time,
/// the accelerated `ScaledClock` of `ITR_CLOCK_SPEED`, or a `ManualClock` in tests).
public typealias RouterClock = ServiceClock
