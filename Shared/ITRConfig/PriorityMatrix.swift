/// ITIL priority matrix: impact (1 extensive ... 4 minor) x urgency (1 critical ... 4 low) → P1...P5.
public struct PriorityMatrix: Sendable, Hashable {
    /// `cells[impact - 1][urgency - 1]`
    public var cells: [[Priority]]

    public init(cells: [[Priority]]) { self.cells = cells }

    public func priority(impact: Int, urgency: Int) -> Priority {
        let row = min(max(impact, 1), 4) - 1
        let column = min(max(urgency, 1), 4) - 1
        return cells[row][column]
    }

    static func decode(_ node: ConfigNode) -> PriorityMatrix? {
        node.checkKeys(["1", "2", "3", "4"])
        var cells: [[Priority]] = []
        var complete = true
        for impact in 1...4 {
            guard let row = node.required(String(impact)), let items = row.list() else {
                complete = false
                continue
            }
            let values = items.compactMap { $0.oneOf(Priority.self) }
            if items.count != 4 {
                row.error("priority matrix incomplete: impact \(impact) needs 4 priorities (urgency 1...4), got \(items.count)")
                complete = false
            } else if values.count != 4 {
                complete = false
            }
            cells.append(values)
        }
        return complete ? PriorityMatrix(cells: cells) : nil
    }
}
