import ProxyDaemon

// Everything else lives in the ProxyDaemon library, where it can be unit-tested. No `await` here:
// the main thread must stay an ordinary thread (see Sources/ProxyDaemon/MainThread.swift).
Daemon.main(arguments: Array(CommandLine.arguments.dropFirst()))
