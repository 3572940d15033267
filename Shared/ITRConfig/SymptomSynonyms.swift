import Foundation

/// The zh↔en synonym table of symptom texts (`synonyms:` in `problems.yaml`): every term is
/// replaced by its canonical token before `SymptomNormalizer` tokenizes, so a Chinese and an
/// English report of one fault (`电源模块故障`, `power module failure`) normalize alike.
///
/// Matching, on the NFKC-folded, lower-cased text (so case-insensitive), left to right, the
/// longest term first at each position, replaced terms never matched again:
/// - a term with any non-ASCII character (Chinese) matches as a substring (`端口宕机` → `port down`);
/// - an ASCII term (English, may hold spaces: `packet loss`) matches whole words only, not
///   inside a longer word (`download` is not `down`), and not inside a run the normalizer drops
///   as an id (`ge0/0/1-down` stays dropped); a space in a term matches any run of whitespace.
public struct SymptomSynonyms: Sendable, Hashable {
    /// No synonyms: `SymptomNormalizer` as without a table.
    public static let none = SymptomSynonyms()

    /// Folded term → canonical token.
    public let terms: [String: String]
    /// First scalar → (term scalars, token, is ASCII), longest term first.
    private let index: [Unicode.Scalar: [Entry]]

    private struct Entry: Sendable {
        var term: [Unicode.Scalar]
        var token: String
        var isASCII: Bool
    }

    /// `terms`: term → canonical token; terms are folded with ``fold(_:)``, tokens lower-cased.
    public init(_ terms: [String: String] = [:]) {
        var folded: [String: String] = [:]
        for (term, token) in terms {
            let key = Self.fold(term)
            if !key.isEmpty { folded[key] = token.lowercased() }
        }
        self.terms = folded
        var index: [Unicode.Scalar: [Entry]] = [:]
        for (term, token) in folded {
            let scalars = Array(term.unicodeScalars)
            index[scalars[0], default: []].append(Entry(term: scalars, token: token, isASCII: scalars.allSatisfy(\.isASCII)))
        }
        for key in index.keys {
            index[key]!.sort { $0.term.count != $1.term.count ? $0.term.count > $1.term.count : $0.term.lexicographicallyPrecedes($1.term) }
        }
        self.index = index
    }

    /// A term as it is matched: NFKC, lower-cased, trimmed, inner whitespace as single spaces.
    public static func fold(_ term: String) -> String {
        term.precomposedStringWithCompatibilityMapping.lowercased()
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    public var isEmpty: Bool { terms.isEmpty }

    /// The canonical token of a term (folded first), if it is in the table.
    public subscript(term: String) -> String? { terms[Self.fold(term)] }

    /// This table with `other`'s entries added (`other` wins for a term in both).
    public func merging(_ other: SymptomSynonyms) -> SymptomSynonyms {
        SymptomSynonyms(terms.merging(other.terms) { _, new in new })
    }

    /// This table without the given (folded) terms.
    public func removing(terms removed: Set<String>) -> SymptomSynonyms {
        SymptomSynonyms(terms.filter { !removed.contains($0.key) })
    }

    /// Replaces every term of already folded text by ` token ` (see the type's matching rules).
    public func apply(toFolded text: String) -> String {
        guard !index.isEmpty else { return text }
        let scalars = Array(text.unicodeScalars)
        var output = String.UnicodeScalarView()
        var position = 0
        while position < scalars.count {
            if let entries = index[scalars[position]],
               let (entry, end) = firstMatch(entries, in: scalars, at: position) {
                output.append(" ")
                output.append(contentsOf: entry.token.unicodeScalars)
                output.append(" ")
                position = end
            } else {
                output.append(scalars[position])
                position += 1
            }
        }
        return String(output)
    }

    private func firstMatch(_ entries: [Entry], in text: [Unicode.Scalar], at start: Int) -> (Entry, Int)? {
        for entry in entries {
            guard let end = Self.match(entry.term, in: text, at: start) else { continue }
            if entry.isASCII, !Self.isWholeWord(text, start, end) { continue }
            return (entry, end)
        }
        return nil
    }

    /// The end of `term` matched at `start` (a space in the term matches one or more whitespace scalars).
    private static func match(_ term: [Unicode.Scalar], in text: [Unicode.Scalar], at start: Int) -> Int? {
        var position = start
        for scalar in term {
            guard position < text.count else { return nil }
            if scalar == " " {
                guard text[position].properties.isWhitespace else { return nil }
                while position < text.count, text[position].properties.isWhitespace { position += 1 }
            } else {
                guard text[position] == scalar else { return nil }
                position += 1
            }
        }
        return position
    }

    /// No letter or digit right before or after, and the surrounding word run (as the normalizer
    /// cuts it: `a-z 0-9 _ . / : -`) holds no digit (the normalizer drops such runs as ids).
    private static func isWholeWord(_ text: [Unicode.Scalar], _ start: Int, _ end: Int) -> Bool {
        if start > 0, isWordScalar(text[start - 1]) { return false }
        if end < text.count, isWordScalar(text[end]) { return false }
        var lower = start
        while lower > 0, isRunScalar(text[lower - 1]) { lower -= 1 }
        var upper = end
        while upper < text.count, isRunScalar(text[upper]) { upper += 1 }
        for position in lower..<upper where ("0"..."9").contains(text[position]) { return false }
        return true
    }

    private static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar))
    }

    private static func isRunScalar(_ scalar: Unicode.Scalar) -> Bool {
        isWordScalar(scalar) || "_./:-".unicodeScalars.contains(scalar)
    }

    public static func == (lhs: SymptomSynonyms, rhs: SymptomSynonyms) -> Bool { lhs.terms == rhs.terms }
    public func hash(into hasher: inout Hasher) { hasher.combine(terms) }
}

extension SymptomSynonyms {
    /// Decodes `canonical token → [terms]` (a single term is accepted for a list of one).
    /// Every problem is recorded on the nodes: a token that does not normalize to itself as one
    /// word, an empty list, an empty term, a term the normalizer would drop entirely, a term
    /// listed under two tokens.
    static func decode(_ node: ConfigNode) -> SymptomSynonyms {
        guard let groups = node.entries() else { return .none }
        var terms: [String: String] = [:]
        for (token, value) in groups {
            let canonical = token.lowercased()
            if SymptomNormalizer.tokens(canonical) != [canonical] {
                value.error("a canonical token must be one word the normalizer keeps as it is, got \"\(token)\"")
            }
            let items: [ConfigNode]
            if value.scalarText != nil, !value.isNull { items = [value] } else { items = value.list() ?? [] }
            if items.isEmpty { value.error("expected at least one term") }
            for item in items {
                guard let text = item.string() else { continue }
                let term = fold(text)
                if term.isEmpty {
                    item.error("empty synonym term")
                    continue
                }
                if SymptomNormalizer.tokens(term).isEmpty {
                    item.error("the term \"\(text)\" has no word the normalizer keeps (numbers, ids and stop words are dropped)")
                    continue
                }
                if let other = terms[term], other != canonical {
                    item.error("the term \"\(text)\" is already a synonym of \"\(other)\"")
                    continue
                }
                terms[term] = canonical
            }
        }
        return SymptomSynonyms(terms)
    }
}
