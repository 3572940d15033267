import ITRConfig

/// The configuration sections the four services add to ITRConfig's core sections, so that
/// `itrctl config validate` runs the same validation as the services.
public enum ServiceConfigSections {
    public static var all: [any ConfigSection.Type] { [] }
}
