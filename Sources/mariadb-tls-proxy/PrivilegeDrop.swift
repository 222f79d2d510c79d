import FoundationEssentials
import Glibc
import ProxyTLS

/// `user = NAME`: give up root once the listeners are bound, as `mariadbd --user` does.
///
/// The user is looked up at startup (and by `--check`), before anything is bound or started, so an
/// unknown name stops the daemon cleanly; the switch itself happens once the listeners are bound.
struct PrivilegeDrop: Sendable {
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

    let name: String
    let uid: uid_t
    let gid: gid_t

    /// The switch to make, or nil with a note when there is none: not started as root (the option is
    /// then ignored, as mariadbd does) or the user is root itself.
    static func resolve(_ name: String) throws -> (drop: PrivilegeDrop?, note: String?) {
        guard geteuid() == 0 else {
            return (nil, "option 'user' ignored: one can only switch user when started as root")
        }
        guard let entry = getpwnam(name) else { throw Failure.unknownUser(name) }
        guard entry.pointee.pw_uid != 0 else { return (nil, nil) }
        return (PrivilegeDrop(name: name, uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid), nil)
    }

    /// Switches every thread of the process; returns the line to log, throws when a step failed.
    func apply() throws -> String {
        // Order matters: supplementary groups and gid while still root, uid last.
        if initgroups(name, gid) != 0 { throw Failure.failed("initgroups", errno) }
        if setgid(gid) != 0 { throw Failure.failed("setgid", errno) }
        if setuid(uid) != 0 { throw Failure.failed("setuid", errno) }
        if setuid(0) == 0 { throw Failure.failed("dropping root (setuid(0) still works)", EPERM) }
        return "switched to user \(name) (uid \(uid), gid \(gid))"
    }
}

extension PrivateKeyPermissions.ServiceIdentity {
    /// Who serves once `drop` (if any) has been applied: its user and the groups `initgroups`
    /// gives it, or else this process's effective user and groups.
    static func serving(after drop: PrivilegeDrop?) -> Self {
        guard let drop else { return current }
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        while getgrouplist(drop.name, drop.gid, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
        }
        return Self(uid: drop.uid, groups: Set(groups.prefix(Int(count))).union([drop.gid]))
    }

    /// This process's effective user and groups (after any switch).
    static var current: Self {
        let count = getgroups(0, nil)
        var groups = [gid_t](repeating: 0, count: Int(max(count, 0)))
        let filled = getgroups(count, &groups)
        return Self(uid: geteuid(), groups: Set(groups.prefix(Int(max(filled, 0)))).union([getegid()]))
    }
}
