import Foundation
import ServiceKit
import Testing

@Suite("The deployment's clock")
struct ServiceClockTests {
    @Test func scaledClockRunsAheadOfWallTimeFromItsEpoch() {
        let epoch = Date(timeIntervalSince1970: 1_790_000_000)
        let clock = ScaledClock(epoch: epoch, speed: 60)
        #expect(clock.reading(epoch) == epoch)
        #expect(clock.reading(epoch.addingTimeInterval(10)) == epoch.addingTimeInterval(600), "10 real seconds are 10 minutes")
        #expect(abs(clock.now().timeIntervalSince(clock.reading(Date()))) < 1)
        #expect(ScaledClock(epoch: epoch, speed: 0.5).speed == 1, "never slower than wall time")
    }

    @Test func wallTimeUnlessAnAcceleratedClockIsConfigured() throws {
        let plain = try ServiceSettings(product: "intake", environment: [:], arguments: ["intake"])
        #expect(plain.clock is SystemClock)
        let one = try ServiceSettings(product: "intake", environment: ["ITR_CLOCK_SPEED": "1"], arguments: ["intake"])
        #expect(one.clock is SystemClock)
        let fast = try ServiceSettings(
            product: "itr-router", environment: ["ITR_CLOCK_SPEED": "360", "ITR_CLOCK_EPOCH": "1790000000"], arguments: ["itr-router"])
        let scaled = try #require(fast.clock as? ScaledClock)
        #expect(scaled.speed == 360 && scaled.epoch == Date(timeIntervalSince1970: 1_790_000_000))
        let flags = try ServiceSettings(
            product: "intake", environment: [:], arguments: ["intake", "--itr-clock-speed", "60", "--itr-clock-epoch=1790000000"])
        #expect((flags.clock as? ScaledClock)?.speed == 60)
    }

    @Test func clockSettingsAreCheckedWithTheVariableNamed() {
        func error(_ env: [String: String]) -> ServiceSettingsError? {
            do {
                _ = try ServiceSettings(product: "intake", environment: env, arguments: ["intake"])
                return nil
            } catch { return error }
        }
        #expect(error(["ITR_CLOCK_SPEED": "fast"])?.variable == "ITR_CLOCK_SPEED")
        #expect(error(["ITR_CLOCK_SPEED": "0.5"])?.variable == "ITR_CLOCK_SPEED")
        #expect(error(["ITR_CLOCK_SPEED": "60", "ITR_CLOCK_EPOCH": "yesterday"])?.variable == "ITR_CLOCK_EPOCH")
        let missing = error(["ITR_CLOCK_SPEED": "60"])
        #expect(missing?.variable == "ITR_CLOCK_EPOCH", "every service must share one epoch, so none is guessed")
        #expect(missing?.description.contains("same Unix seconds for every service") == true)
    }

    @Test func manualClockWakesSleepersWhenItPassesTheirDeadline() async throws {
        let start = Date(timeIntervalSince1970: 1_790_000_000)
        let clock = ManualClock(start)
        let woke = Task { try await clock.sleep(until: start.addingTimeInterval(3_600)) }
        while clock.sleeperCount == 0 { await Task.yield() }
        clock.advance(by: 1_800)
        #expect(clock.sleeperCount == 1, "not due yet")
        clock.advance(by: 1_800)
        try await woke.value
        #expect(clock.sleeperCount == 0)
    }
}

@Suite("A pinned clock")
struct PinnedClockTests {
    @Test func aStartPinsTheDeploymentToADateAtWallSpeed() throws {
        let epoch = Date().timeIntervalSince1970
        let settings = try ServiceSettings(
            product: "ltc-extractor",
            environment: ["ITR_CLOCK_EPOCH": "\(epoch)", "ITR_CLOCK_START": "2026-11-23T06:00:00Z"], arguments: ["ltc-extractor"])
        let clock = try #require(settings.clock as? ScaledClock)
        #expect(clock.speed == 1)
        let pinned = ISO8601DateFormatter().date(from: "2026-11-23T06:00:00Z")!
        #expect(clock.reading(Date(timeIntervalSince1970: epoch + 90)) == pinned.addingTimeInterval(90))
        #expect(abs(clock.now().timeIntervalSince(pinned)) < 60)
        #expect(throws: ServiceSettingsError.self) {
            try ServiceSettings(product: "intake", environment: ["ITR_CLOCK_START": "2026-11-23T06:00:00Z"], arguments: ["intake"])
        }
        #expect(throws: ServiceSettingsError.self) {
            try ServiceSettings(
                product: "intake", environment: ["ITR_CLOCK_EPOCH": "1", "ITR_CLOCK_START": "tomorrow"], arguments: ["intake"])
        }
    }
}

@Suite("SQLite cache setting")
struct SQLiteCacheSettingTests {
    @Test func theWritersCacheComesFromTheEnvironmentWithinBounds() throws {
        #expect(try ServiceSettings(product: "itr-router", environment: [:], arguments: ["x"]).sqliteCacheKiB == 2000)
        let big = try ServiceSettings(product: "itr-router", environment: ["ITR_SQLITE_CACHE_KIB": "32768"], arguments: ["x"])
        #expect(big.sqliteCacheKiB == 32768)
        for bad in ["0", "63", "lots", "2000000"] {
            #expect(throws: ServiceSettingsError.self) {
                try ServiceSettings(product: "itr-router", environment: ["ITR_SQLITE_CACHE_KIB": bad], arguments: ["x"])
            }
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cache-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try ServiceStore(
            settings: ServiceSettings(
                product: "itr-router", environment: ["ITR_SQLITE_CACHE_KIB": "4096", "DATA_DIR": dir], arguments: ["x"]))
        let cache = try store.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA cache_size") }
        #expect(cache == -4096)
    }
}
