import Foundation

/// Normalizes free symptom text (Chinese and English) so that reports of the same symptom
/// compare equal.
///
/// Recipe:
/// 1. NFKC (full-width letters/digits/punctuation become ASCII) and lower-case; then every term of
///    the synonym table (`SymptomSynonyms`, `synonyms:` in `problems.yaml`) is replaced by its
///    canonical token (Chinese as substrings, English as whole words), so `电源模块故障` and
///    `power module failure` meet.
/// 2. Split into runs: ASCII word runs (`a-z 0-9 _ . / : -`), CJK ideograph runs, everything else separates.
/// 3. ASCII runs containing a digit are dropped whole (ids, IPs, ports like `ge0/0/1`, versions,
///    timestamps, counts); long hex-looking runs are dropped (hashes, MACs without digits are rare);
///    the rest are split at `_ . / : -` into words; one-letter words and English stop words are dropped.
/// 4. CJK runs are split at function characters (的 了 着 在 是 和 与 及 也 都 就 被 把 又 很 并)
///    and the pieces kept as they are (no segmentation dictionary: "端口宕机" stays one token).
/// 5. The tokens are de-duplicated and sorted, then joined with single spaces, so word order and
///    repetitions do not matter.
public enum SymptomNormalizer {
    static let stopWords: Set<String> = [
        "a", "an", "the", "is", "are", "was", "were", "be", "been", "on", "in", "at", "of", "to", "for",
        "and", "or", "with", "after", "from", "by", "it", "its", "this", "that", "has", "have", "had",
        "again", "please", "help", "urgent", "we", "our", "my", "i", "there", "when", "while",
    ]
    static let cjkStopCharacters: Set<Character> = ["的", "了", "着", "在", "是", "和", "与", "及", "也", "都", "就", "被", "把", "又", "很", "并"]

    public static func normalize(_ text: String, synonyms: SymptomSynonyms = .none) -> String {
        tokens(text, synonyms: synonyms).joined(separator: " ")
    }

    public static func tokens(_ text: String, synonyms: SymptomSynonyms = .none) -> [String] {
        let folded = synonyms.apply(toFolded: text.precomposedStringWithCompatibilityMapping.lowercased())
        var tokens: Set<String> = []
        var ascii = ""
        var cjk = ""
        func flushASCII() {
            defer { ascii = "" }
            guard !ascii.isEmpty, !ascii.contains(where: \.isNumber) else { return }
            if ascii.count >= 8, ascii.allSatisfy(\.isHexDigit) { return }
            for word in ascii.split(whereSeparator: { "_./:-".contains($0) }) {
                let word = String(word)
                if word.count > 1, !stopWords.contains(word) { tokens.insert(word) }
            }
        }
        func flushCJK() {
            defer { cjk = "" }
            for piece in cjk.split(whereSeparator: { cjkStopCharacters.contains($0) }) {
                tokens.insert(String(piece))
            }
        }
        for character in folded {
            if character.isASCII, character.isLetter || character.isNumber || "_./:-".contains(character) {
                flushCJK()
                ascii.append(character)
            } else if isCJK(character) {
                flushASCII()
                cjk.append(character)
            } else {
                flushASCII()
                flushCJK()
            }
        }
        flushASCII()
        flushCJK()
        return tokens.sorted()
    }

    static func isCJK(_ character: Character) -> Bool {
        character.unicodeScalars.allSatisfy { scalar in
            switch scalar.value {
            case 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0x20000...0x2FA1F: true
            default: false
            }
        }
    }
}
