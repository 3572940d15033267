import Foundation

/// A PostgreSQL database of a benchmark stage's own (`postgres.sh create-database` on the
/// cluster `--postgres NAME`): every service of the fleet stores in it, as its own role, in the
/// schema named after its product; dropped when the stage ends.
struct BenchDatabase: Sendable {
    let name: String
    let cluster: String
    let script: String
    /// product → its role's URL on this database.
    let urls: [String: String]

    static func create(cluster: String, script: String, products: [String]) async throws -> BenchDatabase {
        let name = "itr_bench_\(UInt32.random(in: 0...UInt32.max))"
        try await ChildProcess.check(["bash", script, "create-database", name, "--name", cluster])
        let env = try await ChildProcess.check(["bash", script, "env", "--name", cluster])
        var urls: [String: String] = [:]
        for product in products {
            let variable = "ITR_DATABASE_URL_" + product.uppercased().replacingOccurrences(of: "-", with: "_")
            guard let line = env.split(separator: "\n").first(where: { $0.hasPrefix("export \(variable)=") }),
                var url = URLComponents(string: String(line.dropFirst("export \(variable)=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "'\"")))
            else { throw BenchError("postgres.sh env --name \(cluster) printed no \(variable)") }
            url.path = "/" + name
            urls[product] = url.string
        }
        return BenchDatabase(name: name, cluster: cluster, script: script, urls: urls)
    }

    func drop() async {
        _ = try? await ChildProcess.run(["bash", script, "drop-database", name, "--name", cluster])
    }
}
