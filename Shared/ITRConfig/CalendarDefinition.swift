import Foundation

/// A coverage calendar: time zone, weekly hours, holidays and make-up working days, or 24x7.
public struct CalendarDefinition: Sendable, Hashable {
    /// Minutes after local midnight, `start < end`, `end` up to 1440.
    public struct Interval: Sendable, Hashable {
        public var start: Int
        public var end: Int
        public init(start: Int, end: Int) { self.start = start; self.end = end }
    }

    public var id: String
    public var name: String
    public var timeZone: TimeZone
    /// When true the calendar is always open and weekly hours, holidays and working days are ignored.
    public var is24x7: Bool
    /// Open intervals by ISO weekday (1 = Monday ... 7 = Sunday).
    public var weeklyHours: [Int: [Interval]]
    /// Days closed although the weekly hours say open (public holidays).
    public var holidays: Set<LocalDate>
    /// Days open with `workingDayHours` although the weekly hours say closed (China's 调休 make-up days).
    public var extraWorkingDays: Set<LocalDate>
    /// Hours of an extra working day; defaults to Monday's hours.
    public var workingDayHours: [Interval]

    public init(
        id: String, name: String = "", timeZone: TimeZone, is24x7: Bool = false,
        weeklyHours: [Int: [Interval]] = [:], holidays: Set<LocalDate> = [],
        extraWorkingDays: Set<LocalDate> = [], workingDayHours: [Interval]? = nil
    ) {
        self.id = id
        self.name = name
        self.timeZone = timeZone
        self.is24x7 = is24x7
        self.weeklyHours = weeklyHours
        self.holidays = holidays
        self.extraWorkingDays = extraWorkingDays
        self.workingDayHours = workingDayHours ?? weeklyHours[1] ?? []
    }

    static let weekdayNames = ["mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7]

    static func decode(_ node: ConfigNode) -> CalendarDefinition? {
        node.checkKeys(["id", "name", "timeZone", "coverage", "weeklyHours", "holidays", "extraWorkingDays"])
        let id = node.required("id")?.identifier()
        let name = node["name"]?.string() ?? ""
        var timeZone: TimeZone?
        if let zoneNode = node.required("timeZone"), let text = zoneNode.string() {
            timeZone = TimeZone(identifier: text)
            if timeZone == nil { zoneNode.error("unknown time zone \"\(text)\" (use an IANA name like Asia/Shanghai)") }
        }
        var is24x7 = false
        if let coverage = node.required("coverage"), let text = coverage.string() {
            switch text {
            case "24x7": is24x7 = true
            case "weekly": is24x7 = false
            default: coverage.error("expected 24x7 or weekly, got \"\(text)\"")
            }
        }
        var weekly: [Int: [Interval]] = [:]
        if let hoursNode = node["weeklyHours"], let entries = hoursNode.entries() {
            for (key, value) in entries {
                guard let weekday = weekdayNames[key.lowercased()] else {
                    value.error("unknown weekday (expected mon, tue, wed, thu, fri, sat, sun)")
                    continue
                }
                weekly[weekday] = decodeIntervals(value)
            }
        } else if !is24x7 && node["weeklyHours"] == nil {
            node.error(field: "weeklyHours", "missing required field (a weekly calendar needs opening hours)")
        }
        if !is24x7, node["weeklyHours"] != nil, weekly.values.allSatisfy(\.isEmpty) {
            node["weeklyHours"]?.error("a weekly calendar must be open at least once a week")
        }
        let holidays = Set(node["holidays"]?.list()?.compactMap { $0.localDate() } ?? [])
        let extra = Set(node["extraWorkingDays"]?.list()?.compactMap { $0.localDate() } ?? [])
        for day in holidays.intersection(extra) {
            node["extraWorkingDays"]?.error("\(day) is both a holiday and an extra working day")
        }
        guard let id, let timeZone else { return nil }
        return CalendarDefinition(
            id: id, name: name, timeZone: timeZone, is24x7: is24x7, weeklyHours: weekly,
            holidays: holidays, extraWorkingDays: extra)
    }

    /// Decodes `["09:00-12:00", "13:00-18:00"]` (or a single string); checks order and overlap.
    static func decodeIntervals(_ node: ConfigNode) -> [Interval] {
        guard let texts = node.stringList() else { return [] }
        var result: [Interval] = []
        for text in texts {
            let bounds = text.split(separator: "-")
            guard bounds.count == 2,
                  let start = ConfigValues.parseTimeOfDay(String(bounds[0])),
                  let end = ConfigValues.parseTimeOfDay(String(bounds[1])),
                  start < end else {
                node.error("expected opening hours like \"09:00-18:00\", got \"\(text)\"")
                continue
            }
            if let last = result.last, last.end > start {
                node.error("opening hours must be in order and must not overlap, got \"\(text)\"")
                continue
            }
            result.append(Interval(start: start, end: end))
        }
        return result
    }
}

/// `calendars.yaml`: the coverage calendars packages refer to.
public struct CalendarsSection: Sendable, Hashable {
    public static let fileName = "calendars.yaml"
    public var calendars: [CalendarDefinition]

    public init(calendars: [CalendarDefinition]) { self.calendars = calendars }

    public func calendar(_ id: String) -> CalendarDefinition? { calendars.first { $0.id == id } }

    static func decode(_ root: ConfigNode) -> CalendarsSection {
        root.checkKeys(["calendars"])
        let items = root.required("calendars")?.list() ?? []
        let calendars = items.compactMap(CalendarDefinition.decode)
        checkUnique(calendars.map(\.id), nodes: items, what: "calendar id")
        return CalendarsSection(calendars: calendars)
    }
}

/// Records an error at each repeated id (ids must be unique inside a list).
func checkUnique(_ ids: [String], nodes: [ConfigNode], what: String, idField: String = "id") {
    var seen: Set<String> = []
    for node in nodes {
        guard let id = node[idField]?.scalarText else { continue }
        if !seen.insert(id).inserted {
            node[idField]?.error("duplicate \(what) \"\(id)\"")
        }
    }
    _ = ids
}
