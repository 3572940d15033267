extension ConfigBundle {
    /// Checks references between files; errors are located at the referring field.
    func crossCheck(_ roots: [String: ConfigNode]) {
        let calendarIds = Set(calendars.calendars.map(\.id))
        let packageIds = Set(catalogue.packages.map(\.id))
        let productLineIds = Set(catalogue.productLines.map(\.id))

        if let root = roots[CatalogueSection.fileName], let packages = root["packages"]?.list() {
            for node in packages {
                guard let ref = node["calendar"], let id = ref.scalarText, !calendarIds.isEmpty || roots[CalendarsSection.fileName] != nil else { continue }
                if !calendarIds.contains(id) {
                    ref.error("unknown calendar \"\(id)\" (defined in \(CalendarsSection.fileName): \(calendarIds.sorted().joined(separator: ", ")))")
                }
            }
        }
        if let root = roots[ContractsSection.fileName], let contracts = root["contracts"]?.list(),
           roots[CatalogueSection.fileName] != nil {
            for node in contracts {
                if let ref = node["package"], let id = ref.scalarText, !packageIds.contains(id) {
                    ref.error("unknown package \"\(id)\" (defined in \(CatalogueSection.fileName): \(packageIds.sorted().joined(separator: ", ")))")
                }
                checkProductLines(node["products"], known: productLineIds)
            }
        }
        if roots[CatalogueSection.fileName] != nil {
            for (file, key) in [(ClassificationSection.fileName, "serviceTypes"), (ClassificationSection.fileName, "impact"),
                                (ClassificationSection.fileName, "urgency"), (AssignmentSection.fileName, "groups")] {
                guard let rules = roots[file]?[key]?.list() else { continue }
                for rule in rules {
                    guard let when = rule["when"], when.scalarText == nil else { continue }
                    checkProductLines(when["productLine"], known: productLineIds)
                }
            }
        }
        crossCheckRouterSettings(roots)
        // OLAs per tier must fit inside the SLA: the chain's total per priority must not exceed
        // any package's resolution target for that priority.
        if let root = roots[AssignmentSection.fileName], let olaNode = root["ola"], !assignment.functionalChain.isEmpty {
            for priority in Priority.allCases {
                let total = assignment.olaTotal(for: priority)
                for package in catalogue.packages {
                    guard let target = package.targets[priority]?.resolution, total > target else { continue }
                    olaNode.error(
                        "OLA budgets for \(priority.rawValue) add up to \(ConfigValues.formatDuration(total)), more than package "
                            + "\"\(package.id)\"'s resolution target \(ConfigValues.formatDuration(target))")
                }
            }
        }
    }

    /// The package of an account without a valid contract: `lifecycle.yaml`'s `uncontractedPackage`,
    /// else the package with the longest P3 resolution target.
    public var uncontractedPackage: ServicePackage? {
        if let id = lifecycle.uncontractedPackage, let package = catalogue.package(id) { return package }
        return catalogue.packages.max { ($0.targets[.p3]?.resolution ?? 0) < ($1.targets[.p3]?.resolution ?? 0) }
    }

    /// References from the router's own settings (uncontracted package, fix-release resolution code).
    func crossCheckRouterSettings(_ roots: [String: ConfigNode]) {
        if let root = roots[LifecycleSection.fileName], let node = root["uncontractedPackage"], let id = node.scalarText,
           roots[CatalogueSection.fileName] != nil, catalogue.package(id) == nil {
            node.error("unknown package \"\(id)\" (defined in \(CatalogueSection.fileName): \(catalogue.packages.map(\.id).sorted().joined(separator: ", ")))")
        }
        if let root = roots[ProblemsSection.fileName], let node = root["fixReleased"]?["resolutionCode"], let code = node.scalarText,
           roots[QualitySection.fileName] != nil, quality.resolutionCode(code) == nil {
            node.error("unknown resolution code \"\(code)\" (defined in \(QualitySection.fileName))")
        }
    }

    private func checkProductLines(_ node: ConfigNode?, known: Set<String>) {
        guard let node else { return }
        let items: [ConfigNode] = node.scalarText != nil ? [node] : (node.list() ?? [])
        for item in items {
            guard let id = item.scalarText, !known.contains(id) else { continue }
            item.error("unknown product line \"\(id)\" (defined in \(CatalogueSection.fileName): \(known.sorted().joined(separator: ", ")))")
        }
    }
}
