/// A stable fingerprint of the configuration: FNV-1a 64 over the files sorted by name
/// (name, NUL, contents, NUL for each), as 16 lower-case hex digits.
/// Every decision records it, so a decision can be traced to the exact rules it used.
public enum RulesVersion {
    public static func hash(files: [String: String]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func feed(_ bytes: some Sequence<UInt8>) {
            for byte in bytes {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01b3
            }
        }
        for name in files.keys.sorted() {
            feed(name.utf8)
            feed(CollectionOfOne(0))
            feed(files[name]!.utf8)
            feed(CollectionOfOne(0))
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
