// RouterApp: the itr-router service's logic. Entry point: `RouterService.main()`.
public enum RouterAppInfo { public static let product = RouterService.product }
