import Foundation
import Logging
import ServiceLifecycle

/// Reloads the configuration when a file of the directory (or of a directory inside it, such as
/// `models/`) changes: polls names, sizes and modification times every `interval`, and reloads
/// once a change has held still for one more poll (so a file being written is not read half
/// way; writers that rename into place, like `itrctl classifier train`, are seen at once on the
/// next poll). The reload is the one SIGHUP runs: an invalid change keeps the last good rules.
struct ConfigWatchService: Service {
    let directory: String
    let interval: Double
    let reload: @Sendable () async -> Void
    let logger: Logger

    /// Name → (size, modification time) of every regular file, two levels deep.
    static func fingerprint(_ directory: String) -> [String: [Double]] {
        var result: [String: [Double]] = [:]
        let manager = FileManager.default
        func scan(_ path: String, depth: Int) {
            guard let names = try? manager.contentsOfDirectory(atPath: path) else { return }
            for name in names where !name.hasPrefix(".") {
                let full = (path as NSString).appendingPathComponent(name)
                guard let attributes = try? manager.attributesOfItem(atPath: full) else { continue }
                if attributes[.type] as? FileAttributeType == .typeDirectory {
                    if depth > 0 { scan(full, depth: depth - 1) }
                    continue
                }
                let size = (attributes[.size] as? NSNumber)?.doubleValue ?? -1
                let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? -1
                result[full] = [size, modified]
            }
        }
        scan(directory, depth: 1)
        return result
    }

    func run() async throws {
        var loaded = Self.fingerprint(directory)
        var pending: [String: [Double]]?
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: .seconds(interval))
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            let now = Self.fingerprint(directory)
            if now == loaded {
                pending = nil
            } else if now == pending {
                let changed = Set(now.keys).symmetricDifference(loaded.keys)
                    .union(now.keys.filter { loaded[$0] != nil && loaded[$0] != now[$0] })
                logger.info(
                    "configuration files changed: reloading",
                    metadata: ["files": "\(changed.sorted().map { ($0 as NSString).lastPathComponent }.joined(separator: ","))"])
                loaded = now
                pending = nil
                await reload()
            } else {
                pending = now
            }
        }
    }
}
