import Foundation

/// How a text becomes features: the settings a model was trained with travel in its file, so
/// classifying uses exactly what training used.
///
/// - Latin-script words (letters and digits; every digit read as `0`, so `V200R019C10` and
///   `V300R001C00` are one word shape, `40 ports` and `48 ports` one phrase): the word, the pair of
///   neighbouring words, and the word's character n-grams of `subwordMin...subwordMax` with
///   boundary marks (`<crash>` → `<cr`, `cra`, ..., `sh>`), which carry typos and inflections
///   ("crashes", "crashed", "crsh") to the same weights;
/// - Han runs (Chinese needs no word segmentation): character n-grams of `1...hanMax`.
///
/// Each scalar is folded first (``FeatureExtractor/fold(_:)``): full-width ASCII forms become ASCII,
/// the ideographic space a space, letters lower case.
/// Features are hashed (FNV-1a 64, the same on every platform and run) into `buckets` rows.
public struct FeatureSettings: Codable, Sendable, Hashable {
    /// Rows of the weight table: a power of two.
    public var buckets: Int
    public var subwordMin: Int
    public var subwordMax: Int
    public var hanMax: Int
    /// Word pairs (bigrams) on or off.
    public var wordPairs: Bool

    public init(buckets: Int = 1 << 17, subwordMin: Int = 3, subwordMax: Int = 5, hanMax: Int = 3, wordPairs: Bool = true) {
        self.buckets = buckets
        self.subwordMin = subwordMin
        self.subwordMax = subwordMax
        self.hanMax = hanMax
        self.wordPairs = wordPairs
    }

    /// Problems with the settings (empty when usable).
    public var problems: [String] {
        var problems: [String] = []
        if buckets < 2 || buckets > 1 << 24 || buckets & (buckets - 1) != 0 {
            problems.append("buckets must be a power of two between 2 and 16777216, got \(buckets)")
        }
        if subwordMin < 1 || subwordMax < subwordMin || subwordMax > 12 {
            problems.append("subword n-grams must satisfy 1 <= subwordMin <= subwordMax <= 12, got \(subwordMin)...\(subwordMax)")
        }
        if hanMax < 1 || hanMax > 6 { problems.append("hanMax must be 1...6, got \(hanMax)") }
        return problems
    }
}

/// A text's features: hashed rows, one entry per occurrence, all of the same weight
/// (1/√count, so the vector has unit length whatever the text's length).
public struct FeatureVector: Sendable, Hashable {
    public var rows: [Int32]
    public var weight: Float

    public var isEmpty: Bool { rows.isEmpty }
}

/// Turns text into a ``FeatureVector``. Stateless; `Sendable`.
public struct FeatureExtractor: Sendable {
    public let settings: FeatureSettings
    private let mask: UInt64

    public init(_ settings: FeatureSettings) {
        self.settings = settings
        mask = UInt64(settings.buckets - 1)
    }

    /// The text a report is classified on: its title and its description, as training joins them.
    public static func text(title: String, description: String?) -> String {
        guard let description, !description.isEmpty else { return title }
        return title + "\n" + description
    }

    public func features(_ text: String) -> FeatureVector {
        var rows: [Int32] = []
        rows.reserveCapacity(text.utf8.count * 3)
        // The current Latin word between "<" and ">" marks, and the current Han run.
        var marked: [UInt32] = [0x3C]
        var han: [UInt32] = []
        var previousWord: UInt64?

        func flushWord() {
            guard marked.count > 1 else { return }
            let whole = Self.hash(marked[1...], seed: Self.wordSeed)
            rows.append(row(whole))
            if settings.wordPairs, let previous = previousWord {
                rows.append(row(Self.mix(previous, whole)))
            }
            previousWord = whole
            // Character n-grams of "<word>".
            marked.append(0x3E)
            let count = marked.count
            for n in settings.subwordMin...settings.subwordMax where n <= count {
                let seed = Self.subwordSeed &+ UInt64(n)
                for start in 0...(count - n) {
                    rows.append(row(Self.hash(marked[start..<(start + n)], seed: seed)))
                }
            }
            marked.removeSubrange(1...)
        }
        func flushHan() {
            guard !han.isEmpty else { return }
            let count = han.count
            for n in 1...settings.hanMax where n <= count {
                let seed = Self.hanSeed &+ UInt64(n)
                for start in 0...(count - n) {
                    rows.append(row(Self.hash(han[start..<(start + n)], seed: seed)))
                }
            }
            han.removeAll(keepingCapacity: true)
            // A Han run separates Latin words: "升级后BGP邻居" has no pair across it.
            previousWord = nil
        }

        for original in text.unicodeScalars {
            let scalar = Self.fold(original)
            let value = scalar.value
            if Self.isHan(value) {
                flushWord()
                han.append(value)
            } else if Self.isWordScalar(scalar) {
                flushHan()
                marked.append((0x30...0x39).contains(value) ? 0x30 : value)
            } else {
                flushWord()
                flushHan()
            }
        }
        flushWord()
        flushHan()
        let weight: Float = rows.isEmpty ? 0 : 1 / Float(rows.count).squareRoot()
        return FeatureVector(rows: rows, weight: weight)
    }

    /// The text with every scalar folded (``fold(_:)``): what keyword rules and features compare.
    public static func folded(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars { scalars.append(fold(scalar)) }
        return String(scalars)
    }

    /// One scalar as features read it: ASCII letters lower case by arithmetic; full-width ASCII
    /// forms (U+FF01...U+FF5E, common in Chinese input) as ASCII; the ideographic space as a
    /// space; other letters lower case when they have a one-scalar lower case.
    @inline(__always)
    public static func fold(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        var value = scalar.value
        if value >= 0xFF01 && value <= 0xFF5E { value -= 0xFEE0 }
        if value < 0x80 {
            if value >= 0x41 && value <= 0x5A { value += 0x20 }
            return Unicode.Scalar(value)!
        }
        if value == 0x3000 { return " " }
        if isHan(value) || !scalar.properties.isUppercase { return scalar }
        let lower = scalar.properties.lowercaseMapping.unicodeScalars
        return lower.count == 1 ? lower.first! : scalar
    }

    @inline(__always) private func row(_ hash: UInt64) -> Int32 { Int32(truncatingIfNeeded: hash & mask) }

    // MARK: Scalars

    static func isHan(_ value: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(value) || (0x3400...0x4DBF).contains(value) || (0xF900...0xFAFF).contains(value)
            || (0x20000...0x2FA1F).contains(value) || (0x3040...0x30FF).contains(value)  // kana read like Han
    }

    static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 {
            return (0x30...0x39).contains(value) || (0x61...0x7A).contains(value) || (0x41...0x5A).contains(value)
        }
        return scalar.properties.isAlphabetic || scalar.properties.numericType != nil
    }

    // MARK: Hashing (FNV-1a 64 over scalar values; fixed seeds per feature kind)

    static let wordSeed: UInt64 = 0x11
    static let subwordSeed: UInt64 = 0x20
    static let hanSeed: UInt64 = 0x40
    static let offset: UInt64 = 0xcbf2_9ce4_8422_2325
    static let prime: UInt64 = 0x0000_0100_0000_01b3

    @inline(__always)
    static func hash<C: Collection>(_ scalars: C, seed: UInt64) -> UInt64 where C.Element == UInt32 {
        var h = offset ^ seed
        h = h &* prime
        for value in scalars {
            h = (h ^ UInt64(value & 0xFF)) &* prime
            h = (h ^ UInt64(value >> 8)) &* prime
        }
        return finalise(h)
    }

    @inline(__always)
    static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        finalise((a &* 0x9E37_79B9_7F4A_7C15) ^ b)
    }

    /// SplitMix64's finaliser: spreads FNV's low bits, which the bucket mask keeps.
    @inline(__always)
    static func finalise(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
