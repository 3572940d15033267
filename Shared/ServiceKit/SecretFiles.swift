import Foundation

/// Secrets given as files, the way container platforms hand them over (`/run/secrets/...`):
/// for each variable `X` of ``variables``, `X_FILE` names a file whose content (without a
/// trailing newline) is the value of `X`. Setting both is an error, as is a file that cannot be
/// read or is empty; the error names the variable and the path, never the content.
///
/// `AMQP_PASSWORD` (or `AMQP_PASSWORD_FILE`) is the broker password: it is put into every URL of
/// `AMQP_URL`, so the URL in the environment (visible in `docker inspect`) holds no secret, e.g.
/// `AMQP_URL=amqps://itr-router@rabbitmq:5671/%2f` + `AMQP_PASSWORD_FILE=/run/secrets/amqp_itr_router`.
/// (`API_TOKENS_FILE` is read by ``TokenAuthenticator``, which also takes `API_TOKENS` beside it.)
public enum SecretFiles {
    public static let variables = ["AMQP_URL", "AMQP_PASSWORD", "DATABASE_URL"]

    /// `environment` with every `X_FILE` read into `X` and the broker password put into `AMQP_URL`.
    public static func resolve(_ environment: [String: String]) throws(ServiceSettingsError) -> [String: String] {
        var resolved = environment
        for variable in variables {
            let fileVariable = variable + "_FILE"
            guard let path = environment[fileVariable], !path.isEmpty else { continue }
            if let inline = environment[variable], !inline.isEmpty {
                throw ServiceSettingsError(
                    code: .invalidValue, variable: fileVariable, message: "give \(variable) or \(fileVariable), not both")
            }
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw ServiceSettingsError(code: .invalidValue, variable: fileVariable, message: "cannot read \(path)")
            }
            let value = text.trimmingCharacters(in: .newlines)
            guard !value.isEmpty else {
                throw ServiceSettingsError(code: .invalidValue, variable: fileVariable, message: "\(path) is empty")
            }
            resolved[variable] = value
        }
        if let password = resolved["AMQP_PASSWORD"], !password.isEmpty {
            let url = resolved["AMQP_URL"] ?? ServiceSettings.defaultAMQPURL
            resolved["AMQP_URL"] = try url.split(separator: ",").map { (part) throws(ServiceSettingsError) -> String in
                try withPassword(String(part).trimmingCharacters(in: .whitespaces), password)
            }.joined(separator: ",")
            resolved["AMQP_PASSWORD"] = nil
        }
        return resolved
    }

    /// `url` with `password` as its password (percent-encoded); the URL must name a user.
    static func withPassword(_ url: String, _ password: String) throws(ServiceSettingsError) -> String {
        guard var components = URLComponents(string: url), let user = components.user, !user.isEmpty else {
            throw ServiceSettingsError(
                code: .invalidValue, variable: "AMQP_PASSWORD",
                message: "AMQP_URL must name the user the password is for (amqps://user@host:port/vhost)")
        }
        var allowed = CharacterSet.urlUserAllowed
        allowed.remove(charactersIn: ":@/?#[]%")
        components.percentEncodedPassword = password.addingPercentEncoding(withAllowedCharacters: allowed) ?? password
        return components.string ?? url
    }
}
