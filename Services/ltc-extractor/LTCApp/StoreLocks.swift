import ServiceKit

/// The advisory locks one transaction of the extractor takes on PostgreSQL, so that instances
/// sharing the database apply events as one instance would (nothing on SQLite: one writer at a
/// time). Held until the transaction commits or rolls back.
///
/// What events share is keyed by ticket (`ltc_ticket`: what a ticket's events taught) or by
/// account (observations, whose keys start with the account; opportunities, one per account,
/// kind and product). A transaction locks the tickets it will read, then (their stored accounts
/// settled by those locks) the accounts, each set in sorted order, before it reads or writes any
/// of them. Two instances merging signals of one account merge them one after the other, the
/// second reading what the first committed: one opportunity per account, kind and product, no
/// ticket, count or revision lost. As every transaction takes its locks in that one order (tickets,
/// then accounts, each sorted), two batches do not deadlock on them.
final class StoreLocks {
    static let ticketLock = "ltc.ticket"
    static let accountLock = "ltc.account"

    let db: any SQLTransaction
    private var accounts: Set<String> = []

    init(_ db: any SQLTransaction) {
        self.db = db
    }

    /// Locks `tickets`, then `accounts` with the stored accounts of `tickets` and of the
    /// opportunities `opportunities` (an opportunity's account never changes).
    func take(tickets: Set<String> = [], accounts: Set<String>, opportunities: Set<String> = []) throws {
        guard db.dialect == .postgres else { return }
        let tickets = tickets.sorted()
        for ticket in tickets { try db.lock(Self.ticketLock, key: ticket) }
        var all = accounts
        if !tickets.isEmpty { all.formUnion(try LTCStore.accounts(db, ofTickets: tickets)) }
        if !opportunities.isEmpty { all.formUnion(try LTCStore.accounts(db, ofOpportunities: opportunities.sorted())) }
        for account in all.subtracting(self.accounts).sorted() {
            try db.lock(Self.accountLock, key: account)
            self.accounts.insert(account)
        }
    }

    /// Makes sure `account` is locked. The accounts of a batch are all foreseen up front
    /// (``take(for:)``): this is the safety net for one that was
    /// not. Taken out of order, such a lock can deadlock with another instance; PostgreSQL then
    /// ends one of the two transactions and the store runs it again.
    func account(_ account: String?) throws {
        guard db.dialect == .postgres, let account, !accounts.contains(account) else { return }
        try db.lock(Self.accountLock, key: account)
        accounts.insert(account)
    }

    /// Makes sure the account of opportunity `id` is locked.
    func account(ofOpportunity id: String) throws {
        guard db.dialect == .postgres else { return }
        try account(LTCStore.accounts(db, ofOpportunities: [id]).first)
    }
}

extension StoreLocks {
    /// Up front, for a batch: the tickets its events name, the accounts they name, those stored
    /// for their tickets and those of the opportunities sales reports name.
    func take(for deliveries: [OpportunityProcessor.Delivery]) throws {
        guard db.dialect == .postgres else { return }
        var tickets: Set<String> = []
        var accounts: Set<String> = []
        var opportunities: Set<String> = []
        for case .event(_, let input) in deliveries {
            if let ticket = input.ticketId { tickets.insert(ticket) }
            if let account = input.account { accounts.insert(account) }
            if let opportunity = input.opportunityId { opportunities.insert(opportunity) }
        }
        try take(tickets: tickets, accounts: accounts, opportunities: opportunities)
    }
}
