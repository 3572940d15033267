import Foundation
import ITRConfig
import ITREvents

/// Values opportunities with the catalogue's price list, in whole cents (no binary floating point
/// on amounts: the price list's numbers are rounded to cents once, then only integers are added).
public struct Valuation: Sendable {
    public let catalogue: CatalogueSection

    public init(catalogue: CatalogueSection) { self.catalogue = catalogue }

    /// The price line for `quantity` of `sku`, or nil when the SKU is not in the price list.
    public func line(sku: String, quantity: Int) -> PriceLine? {
        guard let item = catalogue.price(sku: sku) else { return nil }
        return line(item, quantity: quantity)
    }

    public func line(_ item: PriceItem, quantity: Int) -> PriceLine {
        PriceLine(
            offering: item.sku, description: item.name, quantity: quantity,
            unitPrice: Money(amount: Valuation.format(cents: Valuation.cents(item.price)), currency: catalogue.currency))
    }

    /// The spare part's line by part number.
    public func sparePart(partNumber: String, quantity: Int) -> PriceLine? {
        catalogue.sparePart(partNumber: partNumber).map { line($0, quantity: quantity) }
    }

    /// Lines with the same offering and unit price folded together (quantities added), in first-seen order.
    public static func fold(_ lines: [PriceLine]) -> [PriceLine] {
        var folded: [PriceLine] = []
        for line in lines {
            if let i = folded.firstIndex(where: { $0.offering == line.offering && $0.unitPrice == line.unitPrice }) {
                folded[i].quantity += line.quantity
            } else {
                folded.append(line)
            }
        }
        return folded
    }

    /// The sum of the lines, or nil when there are none or they mix currencies.
    public static func total(_ lines: [PriceLine]) -> Money? {
        guard let currency = lines.first?.unitPrice.currency,
            lines.allSatisfy({ $0.unitPrice.currency == currency })
        else { return nil }
        var sum: Int64 = 0
        for line in lines {
            guard let cents = cents(line.unitPrice.amount) else { return nil }
            sum += cents * Int64(line.quantity)
        }
        return Money(amount: format(cents: sum), currency: currency)
    }

    /// A price-list number in cents.
    public static func cents(_ price: Double) -> Int64 { Int64((price * 100).rounded()) }

    /// A decimal string (`"12800.5"`, `"3"`) in cents; nil when malformed or finer than a cent.
    public static func cents(_ amount: String) -> Int64? {
        let negative = amount.hasPrefix("-")
        let digits = negative ? amount.dropFirst() : Substring(amount)
        let parts = digits.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first.flatMap({ Int64($0) }) else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let text = parts[1]
            guard text.count <= 2, let value = Int64(text) else { return nil }
            fraction = text.count == 1 ? value * 10 : value
        }
        let total = whole * 100 + fraction
        return negative ? -total : total
    }

    /// Cents as a decimal string with two places: `1280000` → `"12800.00"`.
    public static func format(cents: Int64) -> String {
        let sign = cents < 0 ? "-" : ""
        let value = cents.magnitude
        let fraction = value % 100
        return "\(sign)\(value / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
