import Foundation
import ITREvents

/// The ordering score of a defect (higher = more urgent for R&D):
///
///     score = customer  × distinct customers
///           + incident  × ln(1 + incidents)          (a storm counts, but less than its size)
///           + priority[highest priority]              (P1 weighs most)
///           + slaBreach × SLA breaches
///           + Σ packages[p] over the affected customers' distinct contract packages
///
/// rounded to two decimals. The weights are in `ipd.yaml` (`score:`).
public enum ImpactScore {
    public static func score(
        customers: Int, incidents: Int, highestPriority: Priority?, slaBreaches: Int, packages: Set<String>,
        weights: IPDRules.ScoreWeights
    ) -> Double {
        var score = weights.customer * Double(customers)
        score += weights.incident * log(1 + Double(incidents))
        if let highestPriority { score += weights.priority[highestPriority] ?? 0 }
        score += weights.slaBreach * Double(slaBreaches)
        score += packages.reduce(0) { $0 + (weights.packages[$1] ?? 0) }
        return (score * 100).rounded() / 100
    }
}
