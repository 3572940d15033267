import Hummingbird
import Logging

/// Turns every error a route throws into an `application/problem+json` response:
/// ``ProblemDetails`` as is, Hummingbird's `HTTPError` with its status and message as the
/// detail, anything else as a 500 whose detail does not leak internals (the error is logged).
public struct ProblemDetailsMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return try Self.problem(for: error, request: request, context: context).response(from: request, context: context)
        }
    }

    static func problem(for error: any Error, request: Request, context: Context) -> ProblemDetails {
        switch error {
        case let problem as ProblemDetails:
            return problem
        case let httpError as HTTPError:
            var headers: [String: String] = [:]
            for field in httpError.headers where field.name != .contentType && field.name != .contentLength {
                headers[field.name.rawName] = field.value
            }
            return ProblemDetails(status: httpError.status, detail: httpError.body, headers: headers)
        case let responseError as any HTTPResponseError:
            return ProblemDetails(status: responseError.status, detail: "\(responseError)")
        default:
            context.logger.error(
                "request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)", "method": "\(request.method)"])
            return ProblemDetails(status: .internalServerError, detail: "An unexpected error occurred; see the service log.")
        }
    }
}
