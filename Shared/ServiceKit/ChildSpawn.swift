import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Starting a child process the one way this project does (tests, the benchmark, tools):
/// posix_spawn with stdin from /dev/null, stdout and stderr to a file, and **no other descriptor
/// of the parent**. SwiftNIO accepts connections without `SOCK_CLOEXEC`, so a child started
/// while a server of the parent holds a connection would keep that connection's socket open:
/// when the server then closes it the client never sees the end (a broker node a test starts
/// lives for minutes). The child closes every descriptor from 3 up before it execs
/// (`posix_spawn_file_actions_addclosefrom_np`, glibc 2.34).
///
/// The wait is the caller's (``waitStatus(_:)`` on a thread of its own: Foundation's `Process`
/// has been seen to hang in `waitUntilExit` when several start at once).
public enum ChildSpawn {
    public struct Failed: Error, CustomStringConvertible {
        public var command: [String]
        public var message: String
        public var description: String { "\(command.first ?? "?"): \(message)" }
    }

    /// Starts `command` (looked up in PATH unless it holds a `/`) with `environment` as its whole
    /// environment; stdout and stderr to `outputPath` (truncated, or appended to).
    public static func spawn(_ command: [String], environment: [String: String], outputPath: String, append: Bool = false) throws -> pid_t {
        guard let program = command.first else { throw Failed(command: command, message: "no command") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        guard let closeFrom = Self.addCloseFrom else {
            throw Failed(command: command, message: "posix_spawn_file_actions_addclosefrom_np is missing (glibc 2.34 or later is needed)")
        }
        let rcClose = closeFrom(&actions, 3)
        guard rcClose == 0 else { throw Failed(command: command, message: "addclosefrom failed: \(String(cString: strerror(rcClose)))") }
        let argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv + envp { free(p) } }
        var pid: pid_t = 0
        let rc = program.contains("/")
            ? posix_spawn(&pid, program, &actions, nil, argv, envp)
            : posix_spawnp(&pid, program, &actions, nil, argv, envp)
        guard rc == 0 else { throw Failed(command: command, message: "posix_spawn failed: \(String(cString: strerror(rc)))") }
        return pid
    }

    /// Blocks until `pid` exits; its exit status (128 + signal when killed by one).
    public static func waitStatus(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS, spelled out (the macros are not imported).
        let exited = (status & 0x7f) == 0
        return exited ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// glibc declares it only under _GNU_SOURCE, which Swift's Glibc module does not see.
    nonisolated(unsafe) private static let addCloseFrom: AddCloseFrom? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()
}
