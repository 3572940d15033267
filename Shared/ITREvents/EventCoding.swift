import Foundation

/// Shared JSON coders for event data, and the mapping of decoding failures to
/// ``ValidationProblem``s with JSON paths.
///
/// `JSONEncoder` / `JSONDecoder` are `Sendable` and safe to use concurrently as long as nobody
/// mutates their options, so one configured instance of each serves every task.
public enum EventCoding {
    /// Sorted keys, `/` unescaped, non-ASCII written as UTF-8, dates as RFC 3339 (UTC).
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.format(date))
        }
        return encoder
    }()

    /// Dates as RFC 3339 with any offset and fractional seconds.
    public static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = RFC3339.parse(text) else {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: decoder.codingPath, debugDescription: "not an RFC 3339 timestamp: \(text)"))
            }
            return date
        }
        return decoder
    }()

    /// Decodes JSON into `T`, turning any failure into problems with paths under `pathPrefix`
    /// (`data.customer.account`, `data.attachments[2].uri`). Never traps.
    ///
    /// The text must first pass ``checkWellFormed(_:pathPrefix:)`` (strict RFC 8259): `JSONDecoder`
    /// alone would take a member named twice (one value silently winning) and nest as deep as its
    /// own recursion allows.
    public static func decode<T: Decodable>(
        _ type: T.Type, from data: Data, pathPrefix: String = "data"
    ) -> Result<T, ValidationFailure> {
        if let problem = checkWellFormed(data, pathPrefix: pathPrefix) { return .failure(ValidationFailure([problem])) }
        do {
            return .success(try decoder.decode(type, from: data))
        } catch let error as DecodingError {
            return .failure(ValidationFailure([problem(for: error, data: data, pathPrefix: pathPrefix)]))
        } catch {
            return .failure(ValidationFailure([ValidationProblem(path: pathPrefix, code: .malformedJSON, message: "\(error)")]))
        }
    }

    /// The problem with `data` as a JSON text, or nil when it is one well-formed JSON value: strict
    /// RFC 8259 over UTF-8, no member named twice in an object, at most
    /// ``CloudEventLimits/maxJSONDepth`` arrays and objects nested. Codes: `invalid-utf8`,
    /// `malformed-json`, `duplicate-key`, `too-deep`.
    public static func checkWellFormed(_ data: Data, pathPrefix: String = "data") -> ValidationProblem? {
        do {
            try JSONScanner.validate(data)
            return nil
        } catch {
            let code: ValidationProblem.Code = switch error.kind {
            case .malformed: .malformedJSON
            case .invalidUTF8: .invalidUTF8
            case .duplicateKey: .duplicateKey
            case .tooDeep: .tooDeep
            }
            let what = pathPrefix.isEmpty ? "the body" : pathPrefix
            return ValidationProblem(path: pathPrefix, code: code, message: "\(what) is not well-formed JSON: \(error)")
        }
    }

    /// Encodes `value` with the shared encoder.
    public static func encode<T: Encodable>(_ value: T) throws -> Data { try encoder.encode(value) }

    /// Maps one `DecodingError` to a path + code.
    public static func problem(for error: DecodingError, data: Data? = nil, pathPrefix: String = "data")
        -> ValidationProblem
    {
        switch error {
        case .keyNotFound(let key, let context):
            return ValidationProblem(
                path: path(pathPrefix, context.codingPath + [key]), code: .missing,
                message: "required field '\(key.stringValue)' is missing")
        case .valueNotFound(_, let context):
            return ValidationProblem(
                path: path(pathPrefix, context.codingPath), code: .missing, message: "value is null or missing")
        case .typeMismatch(let expected, let context):
            return ValidationProblem(
                path: path(pathPrefix, context.codingPath), code: .wrongType,
                message: "expected \(jsonTypeName(expected))")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                if let data, String(validating: data, as: UTF8.self) == nil {
                    return ValidationProblem(path: pathPrefix, code: .invalidUTF8, message: "data is not valid UTF-8")
                }
                return ValidationProblem(path: pathPrefix, code: .malformedJSON, message: "data is not well-formed JSON")
            }
            let p = path(pathPrefix, context.codingPath)
            if context.debugDescription.hasPrefix("Cannot initialize") {
                // Synthesised RawRepresentable decoding of an enum with an unknown raw value.
                return ValidationProblem(path: p, code: .unknownValue, message: context.debugDescription)
            }
            return ValidationProblem(path: p, code: .invalidFormat, message: context.debugDescription)
        @unknown default:
            return ValidationProblem(path: pathPrefix, code: .malformedJSON, message: "\(error)")
        }
    }

    /// `data` + `[.customer, .account]` → `data.customer.account`; indices as `[n]`.
    public static func path(_ prefix: String, _ codingPath: [any CodingKey]) -> String {
        var out = prefix
        for key in codingPath {
            if let index = key.intValue {
                out += "[\(index)]"
            } else {
                out += out.isEmpty ? key.stringValue : "." + key.stringValue
            }
        }
        return out
    }

    private static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "a boolean"
        case is Int.Type, is Int64.Type, is Int32.Type, is UInt64.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        case is [Any].Type: return "an array"
        case is [String: Any].Type: return "an object"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "\(name)"
        }
    }
}
