// RouterApp: the itr-router service's logic (filled in by its issue).
public enum RouterAppInfo { public static let product = "itr-router" }
