import Foundation
import ITREvents

/// The published figures recomputed independently from the `itr.events` stream alone (issue 13):
/// what `itrctl summary`, `GET /v1/service-levels` and the router's `/metrics` must say when they
/// reflect the same events. Only the events are read here, never a store: a contradiction between
/// the figures and the stream (100 % OLA on time next to OLA breaches) cannot pass.
///
/// The router's figures are those of its first `routerCut` events in publication order
/// (`ServiceLevelReport.eventsEmitted` names the prefix a report reflects); events of the other
/// services are all taken.
struct EventLedger {
    struct Counts: Equatable, CustomStringConvertible {
        var decided = 0
        var met = 0
        var description: String { "\(met)/\(decided)" }
    }

    /// Tickets by "serviceType|priority" (their latest classification).
    var tickets: [String: Int] = [:]
    var backlog = 0
    /// Response and resolution clocks by "serviceType|priority": decided and met.
    var response: [String: Counts] = [:]
    var resolution: [String: Counts] = [:]
    /// OLA stints by tier: decided and on time.
    var ola: [String: Counts] = [:]
    /// What the router's counters must have counted: clock, outcome → count (a met resolution made
    /// undecided by a reopen and decided again counts twice, see ServiceLevelMetrics).
    var slaCounter: [String: Int] = [:]
    var olaCounter: [String: Int] = [:]
    /// Events by type (the router's within the cut).
    var events: [String: Int] = [:]
    var opportunities = 0
    var defects = 0

    init(_ all: [CloudEvent], routerCut: Int) {
        var routerSeen = 0
        var taken: [CloudEvent] = []
        for event in all {
            if event.source == "//itr/itr-router" {
                routerSeen += 1
                if routerSeen > routerCut { continue }
            }
            taken.append(event)
        }
        var byTicket: [String: [(type: String, data: [String: Any])]] = [:]
        var order: [String] = []
        var opportunityIds = Set<String>()
        var defectIds = Set<String>()
        for event in taken {
            events[event.type, default: 0] += 1
            let data = (event.data.flatMap { try? JSONSerialization.jsonObject(with: $0) } as? [String: Any]) ?? [:]
            switch event.type {
            case EventType.opportunityIdentified.rawValue:
                if let id = data["opportunityId"] as? String { opportunityIds.insert(id) }
            case EventType.defectReported.rawValue:
                if let id = data["defectId"] as? String { defectIds.insert(id) }
            default:
                break
            }
            guard event.source == "//itr/itr-router", let ticket = data["ticketId"] as? String else { continue }
            if byTicket[ticket] == nil { order.append(ticket) }
            byTicket[ticket, default: []].append((event.type, data))
        }
        opportunities = opportunityIds.count
        defects = defectIds.count
        for id in order { add(byTicket[id] ?? []) }
    }

    /// One ticket's router events, in order.
    private mutating func add(_ stream: [(type: String, data: [String: Any])]) {
        var key: String?
        var open = true
        var responseStopped = false
        var responseBreached = false
        var resolutionStopped = false
        var resolutionBreached = false
        // Resolution episodes end at a reopen: did this one stop, was a breach announced in it?
        var episodeStopped = false
        var episodeBreached = false
        var stints: [(tier: String, ended: Bool, breached: Bool)] = []
        func endStint() { if let last = stints.indices.last, !stints[last].ended { stints[last].ended = true } }
        func closeEpisode() {
            if episodeStopped, !episodeBreached, !resolutionBreached { slaCounter["resolution met", default: 0] += 1 }
        }
        for (type, data) in stream {
            switch type {
            case EventType.ticketClassified.rawValue:
                key = "\(data["serviceType"] as? String ?? "?")|\(data["priority"] as? String ?? "?")"
            case EventType.ticketAssigned.rawValue:
                endStint()
                stints.append((data["tier"] as? String ?? "?", false, false))
            case EventType.ticketEscalated.rawValue:
                if data["kind"] as? String == "functional", let to = data["toTier"] as? String {
                    endStint()
                    stints.append((to, false, false))
                }
            case EventType.ticketUpdated.rawValue:
                if data["action"] as? String == "acknowledge" { responseStopped = true }
            case EventType.ticketResolved.rawValue:
                responseStopped = true
                resolutionStopped = true
                episodeStopped = true
                endStint()
                open = false
            case EventType.ticketClosed.rawValue:
                responseStopped = true
                if !resolutionStopped { episodeStopped = true }
                resolutionStopped = true
                endStint()
                open = false
            case EventType.ticketReopened.rawValue:
                closeEpisode()
                if episodeBreached { resolutionBreached = true }
                episodeStopped = false
                episodeBreached = false
                resolutionStopped = false
                open = true
                if let tier = stints.last?.tier { stints.append((tier, false, false)) }
            case EventType.slaBreached.rawValue:
                if data["clock"] as? String == "response" {
                    responseBreached = true
                } else {
                    episodeBreached = true
                }
            case EventType.olaBreached.rawValue:
                // Announced once per stint: the current one's when it is of that tier, else the
                // latest ended one of that tier not announced yet (announced after it ended).
                let tier = data["tier"] as? String
                if let last = stints.indices.last, !stints[last].ended, !stints[last].breached, stints[last].tier == tier {
                    stints[last].breached = true
                } else if let index = stints.indices.last(where: { !stints[$0].breached && stints[$0].tier == tier }) {
                    stints[index].breached = true
                }
            default:
                break
            }
        }
        closeEpisode()
        if episodeBreached { resolutionBreached = true }
        guard let key else { return }
        tickets[key, default: 0] += 1
        if open { backlog += 1 }
        if responseStopped || responseBreached {
            response[key, default: Counts()].decided += 1
            if !responseBreached { response[key, default: Counts()].met += 1 }
            slaCounter["response \(responseBreached ? "breached" : "met")", default: 0] += 1
        }
        if resolutionStopped || resolutionBreached {
            resolution[key, default: Counts()].decided += 1
            if !resolutionBreached { resolution[key, default: Counts()].met += 1 }
        }
        if resolutionBreached { slaCounter["resolution breached", default: 0] += 1 }
        for stint in stints where stint.ended || stint.breached {
            ola[stint.tier, default: Counts()].decided += 1
            if !stint.breached { ola[stint.tier, default: Counts()].met += 1 }
            olaCounter["\(stint.tier) \(stint.breached ? "breached" : "on-time")", default: 0] += 1
        }
    }

    var totalTickets: Int { tickets.values.reduce(0, +) }
    var olaDecided: Int { ola.values.reduce(0) { $0 + $1.decided } }
    var olaOnTime: Int { ola.values.reduce(0) { $0 + $1.met } }
    func sum(_ counts: [String: Counts]) -> Counts {
        counts.values.reduce(into: Counts()) { $0.decided += $1.decided; $0.met += $1.met }
    }
}
