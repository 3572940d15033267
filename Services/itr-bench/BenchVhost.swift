import Foundation

/// A fresh RabbitMQ virtual host for one benchmark phase, made and removed with
/// `deploy/scripts/broker.sh ctl` on the node `nodeName`, so the services' fixed queue names
/// start empty and nothing of another run (or another user of the broker) is in the way.
/// The broker users of `deploy/rabbitmq/users.json` get their rights there too: the service
/// desk's actions go as `itr-desk` (`deskURL`), the user the router accepts actions from.
struct BenchVhost: Sendable {
    var name: String
    var url: String
    var deskURL: String
    var brokerScript: String
    var nodeName: String

    /// `baseURL` is the broker's URL (any vhost); the result points at the new vhost.
    static func create(prefix: String, baseURL: String, brokerScript: String, nodeName: String) async throws -> BenchVhost {
        let name = "\(prefix)-\(UInt32.random(in: 0...UInt32.max))"
        try await ChildProcess.check(["bash", brokerScript, "ctl", "--name", nodeName, "--", "add_vhost", name])
        try await ChildProcess.check([
            "bash", brokerScript, "ctl", "--name", nodeName, "--", "set_permissions", "-p", name, "guest", ".*", ".*", ".*",
        ])
        try await ChildProcess.check(["bash", brokerScript, "users", "--name", nodeName, "--vhost", name])
        let desk = try await ChildProcess.check(["bash", brokerScript, "url", "--name", nodeName, "--user", "itr-desk"])
        return BenchVhost(
            name: name, url: on(name, baseURL), deskURL: on(name, desk.trimmingCharacters(in: .whitespacesAndNewlines)),
            brokerScript: brokerScript, nodeName: nodeName)
    }

    /// `url` with its virtual host replaced by `vhost`.
    static func on(_ vhost: String, _ url: String) -> String {
        if let slash = url.range(of: "/", options: .backwards), url.distance(from: url.startIndex, to: slash.lowerBound) > 8 {
            return "\(url[..<slash.lowerBound])/\(vhost)"
        }
        return "\(url)/\(vhost)"
    }

    func delete() async {
        _ = try? await ChildProcess.run(["bash", brokerScript, "ctl", "--name", nodeName, "--", "delete_vhost", name])
    }
}
