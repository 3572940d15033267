import Foundation

/// Why a model file cannot be used; the message says what is wrong and where.
public struct ModelFileError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The model file (`*.itrm`), little-endian:
///
///     "ITRTXTM1"                      8 bytes: magic and format version 1
///     u32 n, n bytes                  the header, JSON (``ModelHeader``)
///     f32 × labels                    bias
///     u32 r                           rows that have a non-zero weight
///     r × (u32 row, f32 × labels)     ascending rows
///     u64                             FNV-1a 64 of every byte before it
///
/// Rows never touched by training are left out, so the file holds what was learnt and the loaded
/// table is the full `buckets × labels`. Reading checks everything (magic, lengths, the
/// checksum, labels, settings, row order and range, finite weights) and names the first problem.
public enum ModelFile {
    public static let magic = Array("ITRTXTM1".utf8)
    /// The extension the shipped models use.
    public static let pathExtension = "itrm"

    public static func encode(_ model: TextModel) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let header = try encoder.encode(model.header)
        var bytes = magic
        append(&bytes, UInt32(header.count))
        bytes.append(contentsOf: header)
        for value in model.bias { append(&bytes, value.bitPattern) }
        let labels = model.labels.count
        var rows: [Int] = []
        for row in 0..<model.header.features.buckets {
            let base = row * labels
            if (0..<labels).contains(where: { model.weights[base + $0] != 0 }) { rows.append(row) }
        }
        append(&bytes, UInt32(rows.count))
        for row in rows {
            append(&bytes, UInt32(row))
            for k in 0..<labels { append(&bytes, model.weights[row * labels + k].bitPattern) }
        }
        append(&bytes, checksum(bytes))
        return Data(bytes)
    }

    /// Writes next to the destination and renames, so a reader sees the old file or the new one.
    public static func write(_ model: TextModel, to path: String) throws {
        let data = try encode(model)
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        try data.write(to: temporary)
        // rename(2) replaces the destination atomically.
        guard rename(temporary.path, url.path) == 0 else {
            let message = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw ModelFileError("cannot write \(path): \(message)")
        }
    }

    public static func read(path: String) throws(ModelFileError) -> TextModel {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelFileError(FileManager.default.fileExists(atPath: path) ? "cannot read the model file" : "model file not found")
        }
        return try decode(data)
    }

    public static func decode(_ data: Data) throws(ModelFileError) -> TextModel {
        let bytes = [UInt8](data)
        guard bytes.count >= magic.count, Array(bytes[0..<magic.count]) == magic else {
            if bytes.count >= 7, Array(bytes[0..<7]) == Array(magic[0..<7]) {
                throw ModelFileError("model format \(Character(UnicodeScalar(bytes[7]))) is not supported (this build reads format 1)")
            }
            throw ModelFileError("not an ITR text-classifier model (the file does not start with \"ITRTXTM1\")")
        }
        guard bytes.count >= magic.count + 4 + 8 else { throw ModelFileError("model file truncated: \(bytes.count) bytes") }
        let stored = UInt64(littleEndian: load(bytes, at: bytes.count - 8))
        let computed = checksum(bytes[0..<(bytes.count - 8)])
        guard stored == computed else {
            throw ModelFileError(
                "model file corrupt or truncated: checksum \(hex(computed)) does not match the stored \(hex(stored))")
        }
        var reader = Reader(bytes: bytes, end: bytes.count - 8, position: magic.count)
        let headerLength = Int(try reader.u32("header length"))
        let headerBytes = try reader.take(headerLength, "header")
        let header: ModelHeader
        do {
            header = try JSONDecoder().decode(ModelHeader.self, from: Data(headerBytes))
        } catch {
            throw ModelFileError("model header is not valid: \(error)")
        }
        let problems = header.features.problems
        guard problems.isEmpty else { throw ModelFileError("model header: \(problems.joined(separator: "; "))") }
        guard header.labels.count >= 2 else { throw ModelFileError("model header: at least two labels are needed, got \(header.labels.count)") }
        guard Set(header.labels).count == header.labels.count else { throw ModelFileError("model header: labels repeat") }
        guard !header.version.isEmpty else { throw ModelFileError("model header: version is empty") }
        let labels = header.labels.count
        let buckets = header.features.buckets
        var bias: [Float] = []
        for _ in 0..<labels { bias.append(try reader.f32("bias")) }
        let rowCount = Int(try reader.u32("row count"))
        guard rowCount <= buckets else { throw ModelFileError("model has \(rowCount) rows for \(buckets) buckets") }
        var weights = [Float](repeating: 0, count: buckets * labels)
        var previous = -1
        for index in 0..<rowCount {
            let row = Int(try reader.u32("row \(index)"))
            guard row < buckets, row > previous else {
                throw ModelFileError("model row \(index): bucket \(row) out of order or beyond \(buckets)")
            }
            previous = row
            for k in 0..<labels { weights[row * labels + k] = try reader.f32("row \(index)") }
        }
        guard reader.position == reader.end else {
            throw ModelFileError("model file has \(reader.end - reader.position) unexpected bytes after the weights")
        }
        if let bad = (bias + weights).firstIndex(where: { !$0.isFinite }) {
            throw ModelFileError("model weight \(bad) is not a finite number")
        }
        return TextModel(header: header, weights: weights, bias: bias)
    }

    // MARK: Bytes

    struct Reader {
        let bytes: [UInt8]
        let end: Int
        var position: Int

        mutating func take(_ count: Int, _ what: String) throws(ModelFileError) -> ArraySlice<UInt8> {
            guard count >= 0, position + count <= end else {
                throw ModelFileError("model file truncated in the \(what) (at byte \(position))")
            }
            defer { position += count }
            return bytes[position..<(position + count)]
        }

        mutating func u32(_ what: String) throws(ModelFileError) -> UInt32 {
            _ = try take(4, what)
            return UInt32(littleEndian: ModelFile.load(bytes, at: position - 4))
        }

        mutating func f32(_ what: String) throws(ModelFileError) -> Float {
            Float(bitPattern: try u32(what))
        }
    }

    static func load<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int) -> T {
        var value: T = 0
        for index in 0..<MemoryLayout<T>.size { value |= T(bytes[offset + index]) << (8 * index) }
        return value
    }

    static func append<T: FixedWidthInteger>(_ bytes: inout [UInt8], _ value: T) {
        for index in 0..<MemoryLayout<T>.size { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * index))) }
    }

    static func checksum<C: Collection>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
        var h: UInt64 = FeatureExtractor.offset
        for byte in bytes { h = (h ^ UInt64(byte)) &* FeatureExtractor.prime }
        return h
    }

    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 16 - digits.count)) + digits
    }
}
