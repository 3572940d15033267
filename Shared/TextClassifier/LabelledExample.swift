import Foundation

/// One labelled report, as the corpus files and the desk's corrections store them (one JSON
/// object per line): `title`, optional `description`, the label (`serviceType`, or `label`),
/// optional `lang` (`zh`, `en`, `mixed`) and `family` (the symptom or request family, used to
/// hold whole families out of training when estimating accuracy on unseen phrasing). Other keys
/// (e.g. a correction's `ticketId`, `reason`) are kept by their writer and ignored here.
public struct LabelledExample: Sendable, Hashable, Codable {
    public var title: String
    public var description: String?
    public var label: String
    public var lang: String?
    public var family: String?

    public init(title: String, description: String? = nil, label: String, lang: String? = nil, family: String? = nil) {
        self.title = title
        self.description = description
        self.label = label
        self.lang = lang
        self.family = family
    }

    public var text: String { FeatureExtractor.text(title: title, description: description) }

    /// `lang` when given, else guessed from the script: `zh` when Han characters are at least a
    /// fifth of the letters, `mixed` when some are, `en` otherwise.
    public var language: String {
        if let lang, !lang.isEmpty { return lang }
        return Self.guessLanguage(text)
    }

    public static func guessLanguage(_ text: String) -> String {
        var han = 0
        var latin = 0
        for scalar in text.unicodeScalars {
            if FeatureExtractor.isHan(scalar.value) {
                han += 1
            } else if scalar.properties.isAlphabetic {
                latin += 1
            }
        }
        if han == 0 { return "en" }
        // A Han character carries about a word; Latin letters come about five to a word.
        return Double(han) >= Double(latin) / 5 ? (latin >= 12 ? "mixed" : "zh") : "mixed"
    }

    enum CodingKeys: String, CodingKey {
        case title, description, label, serviceType, lang, family
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        title = try container.decode(String.self, forKey: .title)
        description = try container.decodeIfPresent(String.self, forKey: .description)
        if let label = try container.decodeIfPresent(String.self, forKey: .serviceType) {
            self.label = label
        } else {
            label = try container.decode(String.self, forKey: .label)
        }
        lang = try container.decodeIfPresent(String.self, forKey: .lang)
        family = try container.decodeIfPresent(String.self, forKey: .family)
    }

    /// Written with `serviceType` as the label's key (the corpus's spelling).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(title, forKey: .title)
        try container.encodeIfPresent(description, forKey: .description)
        try container.encode(label, forKey: .serviceType)
        try container.encodeIfPresent(lang, forKey: .lang)
        try container.encodeIfPresent(family, forKey: .family)
    }
}

/// A problem in a labelled file, with its line.
public struct ExampleFileError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var message: String
    public var description: String { line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)" }
}

public enum ExampleFile {
    /// Reads JSONL (blank lines and lines starting with `#` are skipped). Every problem is
    /// reported with its line; `labels`, when given, are the only labels allowed.
    public static func read(path: String, labels: Set<String>? = nil) throws -> [LabelledExample] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ExampleFileError(file: path, line: 0, message: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ExampleFileError(file: path, line: 0, message: "the file is not UTF-8")
        }
        return try parse(text, file: path, labels: labels)
    }

    public static func parse(_ text: String, file: String, labels: Set<String>? = nil) throws -> [LabelledExample] {
        var examples: [LabelledExample] = []
        let decoder = JSONDecoder()
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let example: LabelledExample
            do {
                example = try decoder.decode(LabelledExample.self, from: Data(trimmed.utf8))
            } catch {
                throw ExampleFileError(
                    file: file, line: index + 1,
                    message: "not a labelled example (a JSON object with title and serviceType): \(describe(error))")
            }
            if example.title.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                throw ExampleFileError(file: file, line: index + 1, message: "title is empty")
            }
            if let labels, !labels.contains(example.label) {
                throw ExampleFileError(
                    file: file, line: index + 1,
                    message: "unknown label \"\(example.label)\" (use \(labels.sorted().joined(separator: ", ")))")
            }
            examples.append(example)
        }
        return examples
    }

    /// Reads a file, or every `*.jsonl` of a directory (sorted by name, so the order is stable).
    public static func read(paths: [String], labels: Set<String>? = nil) throws -> [LabelledExample] {
        var examples: [LabelledExample] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ExampleFileError(file: path, line: 0, message: "no such file or directory")
            }
            if isDirectory.boolValue {
                let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".jsonl") }.sorted()
                for name in names { examples += try read(path: (path as NSString).appendingPathComponent(name), labels: labels) }
            } else {
                examples += try read(path: path, labels: labels)
            }
        }
        return examples
    }

    public static func encode(_ examples: [LabelledExample]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return examples.map { String(decoding: (try? encoder.encode($0)) ?? Data(), as: UTF8.self) + "\n" }.joined()
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "missing \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let context): "\(context.codingPath.map(\.stringValue).joined(separator: ".")): wrong type"
        case DecodingError.dataCorrupted(let context): context.debugDescription
        default: "\(error)"
        }
    }
}
