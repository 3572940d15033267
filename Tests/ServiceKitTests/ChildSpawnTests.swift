import Foundation
import ITRTestSupport
import ServiceKit
import Testing

/// A child process gets stdin, stdout and stderr and nothing else of its parent: an inherited
/// server socket would keep a connection open after the server closed it (the slow-client test
/// saw its connection outlive the server's close by minutes while a broker node a test had
/// started held a copy).
@Suite struct ChildSpawnTests {
    @Test func noDescriptorOfTheParentReachesTheChild() async throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)  // without O_CLOEXEC, like the sockets SwiftNIO accepts
        defer { close(fds[0]); close(fds[1]) }
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socketFD) }
        let script = "for fd in \(fds[0]) \(fds[1]) \(socketFD); do [ -e /proc/$$/fd/$fd ] && echo leaked $fd; done; echo checked"
        let (status, output) = try await runCommand(["bash", "-c", script])
        #expect(status == 0)
        #expect(output.contains("checked") && !output.contains("leaked"), "\(output)")
    }

    @Test func exitStatusAndSignalsAreReported() async throws {
        #expect(try await runCommand(["sh", "-c", "exit 7"]).status == 7)
        #expect(try await runCommand(["sh", "-c", "kill -9 $$"]).status == 128 + 9)
        await #expect(throws: CommandFailed.self) { try await runCommand(["/nonexistent/program"]) }
    }
}
