import Foundation
@testable import RouterApp
import Testing

@Suite("Accelerated clock")
struct ScaledClockTests {
    @Test func mapsOutsideInstantsAndNowOnTheSameScale() throws {
        let epoch = Date(timeIntervalSince1970: 1_790_000_000)
        let clock = ScaledClock(epoch: epoch, speed: 60)
        #expect(clock.map(epoch) == epoch)
        #expect(clock.map(epoch.addingTimeInterval(10)) == epoch.addingTimeInterval(600), "10 real seconds are 10 minutes")
        let now = clock.now()
        #expect(abs(now.timeIntervalSince(clock.map(Date()))) < 1)
    }

    @Test func readsItsSettingsFromTheEnvironmentWithClearErrors() throws {
        #expect(try ScaledClock.fromEnvironment([:]) == nil)
        #expect(try ScaledClock.fromEnvironment(["ITR_CLOCK_SPEED": "1"]) == nil)
        let c = try #require(try ScaledClock.fromEnvironment(["ITR_CLOCK_SPEED": "360", "ITR_CLOCK_EPOCH": "1790000000"]))
        #expect(c.speed == 360 && c.epoch == Date(timeIntervalSince1970: 1_790_000_000))
        #expect(throws: ClockSettingError.self) { try ScaledClock.fromEnvironment(["ITR_CLOCK_SPEED": "fast"]) }
        #expect(throws: ClockSettingError.self) { try ScaledClock.fromEnvironment(["ITR_CLOCK_SPEED": "60", "ITR_CLOCK_EPOCH": "yesterday"]) }
    }
}
