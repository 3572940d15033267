import Foundation

/// A fresh RabbitMQ virtual host for one benchmark phase, made and removed with
/// `deploy/scripts/broker.sh ctl` on the node `nodeName`, so the services' fixed queue names
/// start empty and nothing of another run (or another user of the broker) is in the way.
struct BenchVhost: Sendable {
    var name: String
    var url: String
    var brokerScript: String
    var nodeName: String

    /// `baseURL` is the broker's URL (any vhost); the result points at the new vhost.
    static func create(prefix: String, baseURL: String, brokerScript: String, nodeName: String) async throws -> BenchVhost {
        let name = "\(prefix)-\(UInt32.random(in: 0...UInt32.max))"
        try await ChildProcess.check(["bash", brokerScript, "ctl", "--name", nodeName, "--", "add_vhost", name])
        try await ChildProcess.check([
            "bash", brokerScript, "ctl", "--name", nodeName, "--", "set_permissions", "-p", name, "guest", ".*", ".*", ".*",
        ])
        let root: String
        if let slash = baseURL.range(of: "/", options: .backwards), baseURL.distance(from: baseURL.startIndex, to: slash.lowerBound) > 8 {
            root = String(baseURL[..<slash.lowerBound])
        } else {
            root = baseURL
        }
        return BenchVhost(name: name, url: "\(root)/\(name)", brokerScript: brokerScript, nodeName: nodeName)
    }

    func delete() async {
        _ = try? await ChildProcess.run(["bash", brokerScript, "ctl", "--name", nodeName, "--", "delete_vhost", name])
    }
}
