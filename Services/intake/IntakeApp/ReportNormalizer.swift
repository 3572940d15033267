import Foundation
import ITREvents

/// Brings a report from any channel into the one ticket shape, without touching the words
/// (Chinese and English text pass byte for byte, apart from surrounding whitespace).
///
/// - every channel: identifiers and texts trimmed of surrounding whitespace, an empty optional
///   text becomes absent, the contact e-mail lower-cased;
/// - `email`: reply/forward prefixes (`RE:`, `FW:`, `Fwd:`, `回复：`, `转发：`, `答复：`) removed from the summary;
/// - `phone` (and any contact phone): spaces, dashes, dots and brackets removed (`+86 10-8888 0000` → `+861088880000`);
/// - `monitoring`: the alarm's device defaults to the product's serial, the alarm's severity is kept as the alarm severity.
enum ReportNormalizer {
    static let replyPrefixes = ["re:", "fw:", "fwd:", "aw:", "回复:", "回复：", "转发:", "转发：", "答复:", "答复："]

    static func normalize(_ report: ReportSubmitted) -> ReportSubmitted {
        var r = report
        r.sourceSystem = trim(r.sourceSystem)
        r.upstreamId = trim(r.upstreamId)
        r.customer.account = trim(r.customer.account)
        r.customer.name = optional(r.customer.name)
        if var contact = r.customer.contact {
            contact.name = optional(contact.name)
            contact.email = optional(contact.email)?.lowercased()
            contact.phone = optional(contact.phone).map(normalizePhone)
            r.customer.contact = contact
        }
        r.product.line = trim(r.product.line)
        r.product.model = optional(r.product.model)
        r.product.version = optional(r.product.version)
        r.product.serial = optional(r.product.serial)
        r.product.site = optional(r.product.site)
        r.product.component = optional(r.product.component)
        r.summary = trim(r.summary)
        r.description = optional(r.description)
        r.categoryHint = optional(r.categoryHint)
        switch r.channel {
        case .email:
            r.summary = stripReplyPrefixes(r.summary)
        case .monitoring:
            if var alarm = r.alarm {
                alarm.code = trim(alarm.code)
                alarm.device = optional(alarm.device) ?? r.product.serial
                r.alarm = alarm
            }
        case .phone, .portal, .field, .api:
            break
        }
        return r
    }

    static func trim(_ text: String) -> String {
        guard let first = text.unicodeScalars.first, let last = text.unicodeScalars.last,
            first.properties.isWhitespace || last.properties.isWhitespace
        else { return text }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func optional(_ text: String?) -> String? {
        guard let text else { return nil }
        let trimmed = trim(text)
        return trimmed.isEmpty ? nil : trimmed
    }

    static func stripReplyPrefixes(_ summary: String) -> String {
        var text = summary
        var changed = true
        while changed {
            changed = false
            let lower = text.lowercased()
            for prefix in replyPrefixes where lower.hasPrefix(prefix) {
                let stripped = trim(String(text.dropFirst(prefix.count)))
                if !stripped.isEmpty {
                    text = stripped
                    changed = true
                }
                break
            }
        }
        return text
    }

    static func normalizePhone(_ phone: String) -> String {
        String(phone.unicodeScalars.filter { !" -.()\u{3000}".unicodeScalars.contains($0) }.map(Character.init))
    }
}
