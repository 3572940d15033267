// LTCApp: the ltc-extractor service's logic (filled in by its issue).
public enum LTCAppInfo { public static let product = "ltc-extractor" }
