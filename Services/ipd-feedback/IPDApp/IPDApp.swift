// IPDApp: the ipd-feedback service's logic (filled in by its issue).
public enum IPDAppInfo { public static let product = "ipd-feedback" }
