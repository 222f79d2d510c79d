import Foundation

/// `user = NAME`: give up root once the listeners are bound, as `mariadbd --user` does.
enum PrivilegeDrop {
    enum Failure: Error, CustomStringConvertible {
        case unknownUser(String)
        case failed(String, Int32)

        var description: String {
            switch self {
            case .unknownUser(let name): return "option 'user': no such user '\(name)'"
            case .failed(let step, let code): return "option 'user': \(step) failed: \(String(cString: strerror(code)))"
            }
        }
    }

    /// Returns nil when nothing had to be done (not root), a note otherwise; throws when the switch failed.
    static func switchUser(to name: String) throws -> String? {
        guard geteuid() == 0 else {
            return "option 'user' ignored: one can only switch user when started as root"
        }
        guard let entry = getpwnam(name) else { throw Failure.unknownUser(name) }
        let uid = entry.pointee.pw_uid
        let gid = entry.pointee.pw_gid
        guard uid != 0 else { return nil }
        // Order matters: supplementary groups and gid while still root, uid last.
        if initgroups(name, gid) != 0 { throw Failure.failed("initgroups", errno) }
        if setgid(gid) != 0 { throw Failure.failed("setgid", errno) }
        if setuid(uid) != 0 { throw Failure.failed("setuid", errno) }
        if setuid(0) == 0 { throw Failure.failed("dropping root (setuid(0) still works)", EPERM) }
        return "switched to user \(name) (uid \(uid), gid \(gid))"
    }
}
