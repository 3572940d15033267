import AMQPClient
import Foundation
import ITREvents
import ServiceKit

extension OpportunityProcessor {
    /// One event's application: reads and writes the extractor's tables, writes the outbox. What
    /// another instance may touch at once is locked first (``StoreLocks``; up front for the batch).
    struct Context {
        let db: any SQLTransaction
        let locks: StoreLocks
        let detector: SignalDetector
        let cause: CloudEvent
        let processor: OpportunityProcessor
        var changes: [Change] = []

        init(db: any SQLTransaction, locks: StoreLocks, detector: SignalDetector, cause: CloudEvent, processor: OpportunityProcessor) {
            self.db = db
            self.locks = locks
            self.detector = detector
            self.cause = cause
            self.processor = processor
        }

        var rules: OpportunitySignals { detector.rules }
        var eventTime: Date { cause.time ?? processor.now() }

        // MARK: Ticket events

        mutating func opened(_ opened: TicketOpened) throws -> Disposition {
            var ticket = try LTCStore.ticket(db, id: opened.ticketId) ?? TicketFacts(ticketId: opened.ticketId)
            ticket.record(opened)
            try LTCStore.save(db, ticket: ticket)
            guard !ticket.isComplaint, let code = ticket.alarmCode,
                let observation = detector.capacityObservation(ticket, alarmCode: code, ref: cause.id, at: opened.occurredAt)
            else { return .processed }
            let seen = try observe(observation, of: ticket.account, window: rules.expansionRecurrence.window)
            if let signal = detector.expansion(ticket, observations: seen, at: opened.occurredAt) {
                try merge(signal, ticketId: ticket.ticketId)
            }
            return .processed
        }

        mutating func correlated(_ correlated: TicketCorrelated) throws -> Disposition {
            guard !correlated.cleared, let ticket = try LTCStore.ticket(db, id: correlated.ticketId), !ticket.isComplaint,
                let observation = detector.capacityObservation(
                    ticket, alarmCode: correlated.alarmCode, ref: correlated.reportId, at: correlated.lastSeenAt)
            else { return .processed }
            let seen = try observe(observation, of: ticket.account, window: rules.expansionRecurrence.window)
            if let signal = detector.expansion(ticket, observations: seen, at: correlated.lastSeenAt) {
                try merge(signal, ticketId: ticket.ticketId)
            }
            return .processed
        }

        mutating func classified(_ classified: TicketClassified) throws -> Disposition {
            var ticket = try LTCStore.ticket(db, id: classified.ticketId) ?? TicketFacts(ticketId: classified.ticketId)
            ticket.record(classified)
            try LTCStore.save(db, ticket: ticket)
            guard !ticket.isComplaint, let account = ticket.account else { return .processed }
            let at = ticket.openedAt ?? eventTime

            if let signal = detector.newRequirement(ticket, account: account, at: at) {
                try merge(signal, ticketId: ticket.ticketId)
            }
            if let signal = detector.renewal(ticket, account: account, at: at) {
                try merge(signal, ticketId: ticket.ticketId)
            }
            if let observation = detector.endOfSupportObservation(ticket, at: at) {
                let seen = try observe(observation, of: account, window: rules.upgradeRecurrence.window)
                if let signal = detector.upgrade(ticket, observations: seen, at: at) {
                    try merge(signal, ticketId: ticket.ticketId)
                }
            }
            try pressure(
                ticketId: ticket.ticketId, account: account, package: ticket.contractPackage, priority: ticket.priority,
                breach: false, at: at)
            return .processed
        }

        mutating func resolved(_ resolved: TicketResolved) throws -> Disposition {
            if try LTCStore.ticket(db, id: resolved.ticketId)?.isComplaint == true { return .processed }
            if let signal = detector.partsQuote(resolved) {
                try merge(signal, ticketId: resolved.ticketId)
            }
            return .processed
        }

        mutating func breached(_ breach: SLABreached) throws -> Disposition {
            let ticket = try LTCStore.ticket(db, id: breach.ticketId)
            guard ticket?.isComplaint != true, breach.serviceType != .complaint,
                let account = breach.account ?? ticket?.account
            else { return .processed }
            try pressure(
                ticketId: breach.ticketId, account: account, package: breach.contractPackage ?? ticket?.contractPackage,
                priority: breach.priority, breach: true, at: breach.dueAt)
            return .processed
        }

        private mutating func pressure(
            ticketId: String, account: String, package: String?, priority: Priority?, breach: Bool, at: Date
        ) throws {
            guard let observation = detector.pressureObservation(
                ticketId: ticketId, account: account, package: package, priority: priority, breach: breach, at: at)
            else { return }
            let seen = try observe(observation, of: account, window: rules.packageUpgradeRecurrence.window)
            if let signal = detector.packageUpgrade(account: account, package: package, observations: seen, at: at) {
                try merge(signal, ticketId: ticketId)
            }
        }

        /// Records the observation and returns those of its kind and key within `window`. Its key
        /// starts with `account`: under that account's lock.
        private func observe(_ observation: Observation, of account: String?, window: TimeInterval) throws -> [Observation] {
            try locks.account(account)
            return try LTCStore.observe(db, observation, window: window)
        }

        // MARK: Sales reports back

        mutating func status(_ report: OpportunityStatus) throws -> Disposition {
            try locks.account(ofOpportunity: report.opportunityId)
            guard var opportunity = try LTCStore.opportunity(db, id: report.opportunityId) else {
                return .invalid(reasonCode: "unknown-opportunity", message: "no opportunity \(report.opportunityId)")
            }
            do {
                guard try opportunity.apply(report, at: eventTime) else { return .processed }
            } catch {
                return .invalid(reasonCode: "invalid-transition", message: error.description)
            }
            try LTCStore.update(db, opportunity: opportunity)
            // Carries the latest state: a deferred update of earlier signals is folded in.
            try LTCStore.clearPending(db, id: opportunity.id)
            try emit(opportunity, identified: false, correlation: opportunity.id, change: "status-\(report.status.rawValue)")
            return .processed
        }

        // MARK: Merge and emit

        /// One open opportunity per account, kind and product within the merge window.
        mutating func merge(_ signal: OpportunitySignal, ticketId: String) throws {
            try locks.account(signal.account)
            let latest = try LTCStore.latestOpportunity(
                db, account: signal.account, kind: signal.kind, productKey: signal.productKey)
            switch Opportunity.decide(latest: latest, signal: signal, window: rules.mergeWindow) {
            case .identify:
                let opportunity = Opportunity(id: processor.newID(), signal: signal)
                try LTCStore.insert(db, opportunity: opportunity, signal: signal)
                try emit(opportunity, identified: true, correlation: ticketId, change: "identified")
            case .update:
                guard var opportunity = latest,
                    try LTCStore.absorb(
                        db, &opportunity, signal: signal, confidencePerTicket: rules.confidencePerTicket,
                        maximumConfidence: rules.maximumConfidence)
                else { return }
                let interval = processor.updateInterval ?? rules.updateInterval
                if interval > 0 {
                    // Debounced: marked in this transaction, emitted by the flusher (`flushPendingUpdates`).
                    try LTCStore.markPending(
                        db, id: opportunity.id, since: processor.now(),
                        cause: .init(
                            eventId: cause.id, correlationId: ticketId, traceparent: cause.traceparent,
                            tracestate: cause.tracestate))
                    changes.append(Change(
                        id: opportunity.id, kind: opportunity.kind, account: opportunity.account, change: "changed",
                        ticketId: ticketId, eventId: cause.id, traceId: OpportunityProcessor.traceID(cause)))
                } else {
                    try LTCStore.loadLinks(db, into: &opportunity)
                    try emit(opportunity, identified: false, correlation: ticketId, change: "updated")
                }
            case .suppress:
                processor.logger.debug(
                    "signal within the window of a closed opportunity",
                    metadata: ["opportunity_id": "\(latest?.id ?? "")", "ticket_id": "\(ticketId)", "event_id": "\(cause.id)"])
            }
        }

        private mutating func emit(_ opportunity: Opportunity, identified: Bool, correlation: String, change: String) throws {
            let event: CloudEvent
            if identified {
                event = try CloudEvent.caused(
                    by: cause, source: OpportunityProcessor.source, payload: opportunity.payload(OpportunityIdentified.self),
                    subject: opportunity.id, time: processor.now(), correlationID: correlation)
            } else {
                event = try CloudEvent.caused(
                    by: cause, source: OpportunityProcessor.source, payload: opportunity.payload(OpportunityUpdated.self),
                    subject: opportunity.id, time: processor.now(), correlationID: correlation)
            }
            try Outbox.enqueue(
                db, message: AMQPCloudEventCodec.encode(event), exchange: ITRNames.eventsExchange, routingKey: event.type)
            changes.append(Change(
                id: opportunity.id, kind: opportunity.kind, account: opportunity.account, change: change,
                ticketId: correlation == opportunity.id ? nil : correlation, eventId: cause.id,
                traceId: OpportunityProcessor.traceID(cause)))
        }
    }
}
