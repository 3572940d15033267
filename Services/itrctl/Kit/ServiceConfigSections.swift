import IPDApp
import ITRConfig
import IntakeApp
import LTCApp

/// The configuration sections the services add to ITRConfig's core sections, so that
/// `itrctl config validate` runs the same validation as the services at start-up:
/// `intake.yaml` (intake), `ltc.yaml` (ltc-extractor's opportunity signals), `ipd.yaml`
/// (ipd-feedback's defect rules), `access.yaml` (itr-router's broker actors). The zh↔en symptom
/// synonyms shared by itr-router, intake and ipd-feedback are the core `problems.yaml`'s
/// `synonyms:` and so validated with it.
public enum ServiceConfigSections {
    public static var all: [any ConfigSection.Type] {
        [IntakeConfiguration.self, OpportunitySignals.self, IPDRules.self, BrokerActors.self]
    }
}
