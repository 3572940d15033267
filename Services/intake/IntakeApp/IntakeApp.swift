// IntakeApp: the intake service's logic (filled in by its issue).
public enum IntakeAppInfo { public static let product = "intake" }
