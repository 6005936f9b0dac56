import Foundation
import TestSupport

/// Network namespaces for the workers of a fleet test (`ip netns`, root only): one namespace per
/// worker, each joined to the root namespace by a veth pair of its own in a private /30 of one
/// random 10.x.y.0/24. PostgreSQL and the simulators listen on the first pair's root-side address
/// (the server address); every namespace routes to it through its own pair, so a worker's database
/// sessions are real TCP over veth.
///
/// shopbulk speaks plain http only to loopback, so the simulators' URLs name 127.0.0.1: in each
/// namespace an nftables rule DNATs TCP to 127.0.0.1 to the server address (and masquerades it
/// behind the namespace's veth address, `route_localnet` letting loopback-addressed packets leave
/// on veth), so the shop API and the result downloads cross the veth pair too, and its counter
/// says how many connections did.
///
/// Names carry the creating process's pid and a random tag; `remove()` deletes the namespaces and
/// the pairs (idempotent, also after a failed set-up), and creating a new set first deletes the
/// namespaces of earlier runs whose process is gone (a test runner killed before its clean-up).
final class WorkerNamespaces: @unchecked Sendable {
    static let prefix = "sbfleet-"
    /// Tests may use namespaces: as root (CI runs as root; there a failure to create them fails the test).
    static var available: Bool { getuid() == 0 }

    let names: [String]
    let hostLinks: [String]
    let namespaceAddresses: [String]
    /// The first pair's root-side address: where PostgreSQL and the simulators listen.
    let serverAddress: String
    /// The /24 the pairs are carved from (PostgreSQL's pg_hba line for the workers).
    let network: String
    let ip: String
    let nft: String
    private let folder: String
    private var removed = false

    /// The workers' network for `FleetRig`: the server address, `ip netns exec NS` per worker,
    /// PostgreSQL also listening on the server address and trusting the /24.
    var fleetNetwork: FleetNetwork {
        FleetNetwork(
            serverAddress: serverAddress, launchers: names.map { [ip, "netns", "exec", $0] }, databaseListen: serverAddress,
            databaseNetwork: network)
    }

    init(count: Int) throws {
        guard
            let ip = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first(where: {
                FileManager.default.isExecutableFile(atPath: $0)
            })
        else { throw TestEnvironmentError(message: "no ip command (iproute2): run scripts/install-deps") }
        self.ip = ip
        guard let nft = ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"].first(where: { FileManager.default.isExecutableFile(atPath: $0) })
        else { throw TestEnvironmentError(message: "no nft command (nftables): run scripts/install-deps") }
        self.nft = nft
        let tag = String(UInt32.random(in: 0...0xff_ffff), radix: 16)
        folder = NSTemporaryDirectory() + "sb-netns-\(getpid())-\(tag)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        names = (1...count).map { "\(Self.prefix)\(getpid())-\(tag)-\($0)" }
        hostLinks = (1...count).map { "sbf\(tag)-\($0)" }
        let used = Self.usedSubnets()
        var a = 0
        var b = 0
        repeat {
            a = Int.random(in: 64...250)
            b = Int.random(in: 0...255)
        } while used.contains("10.\(a).\(b).")
        network = "10.\(a).\(b).0/24"
        namespaceAddresses = (0..<count).map { "10.\(a).\(b).\(4 * $0 + 2)" }
        serverAddress = "10.\(a).\(b).1"
        Self.removeStale(ip: ip, folder: folder)
        do {
            for (k, name) in names.enumerated() {
                let host = "10.\(a).\(b).\(4 * k + 1)", inside = namespaceAddresses[k], link = hostLinks[k]
                try run(["netns", "add", name])
                try run(["-n", name, "link", "set", "lo", "up"])
                try run(["link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", name])
                try run(["addr", "add", "\(host)/30", "dev", link])
                try run(["link", "set", link, "up"])
                try run(["-n", name, "addr", "add", "\(inside)/30", "dev", "eth0"])
                try run(["-n", name, "link", "set", "eth0", "up"])
                try run(["-n", name, "route", "add", "default", "via", host])
                try run(["netns", "exec", name, "/bin/sh", "-c", "echo 1 > /proc/sys/net/ipv4/conf/all/route_localnet"])
                let rules = folder + "/\(name).nft"
                try """
                table ip shopbulk_fleet {
                    chain output {
                        type nat hook output priority -100; policy accept;
                        ip daddr 127.0.0.1 meta l4proto tcp counter dnat to \(serverAddress)
                    }
                    chain postrouting {
                        type nat hook postrouting priority 100; policy accept;
                        oifname "eth0" ip saddr 127.0.0.0/8 masquerade
                    }
                }

                """.write(toFile: rules, atomically: true, encoding: .utf8)
                try run(["netns", "exec", name, nft, "-f", rules])
            }
        } catch {
            remove()
            throw error
        }
    }

    deinit { remove() }

    /// Deletes the namespaces and the veth pairs (deleting either end deletes the pair).
    func remove() {
        guard !removed else { return }
        removed = true
        for name in names { _ = try? runDaemonizing(ip, ["netns", "delete", name], outputFile: folder + "/remove.out") }
        for link in hostLinks where FileManager.default.fileExists(atPath: "/sys/class/net/\(link)") {
            _ = try? runDaemonizing(ip, ["link", "delete", link], outputFile: folder + "/remove.out")
        }
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// TCP connections to 127.0.0.1 DNATed onto veth, per namespace (the nat chain sees each
    /// connection's first packet only).
    func dnatConnections() throws -> [Int] {
        try names.map { name in
            let out = try run(["netns", "exec", name, nft, "list", "chain", "ip", "shopbulk_fleet", "output"])
            guard let range = out.range(of: #"counter packets [0-9]+"#, options: .regularExpression),
                let n = Int(out[range].split(separator: " ").last ?? "")
            else { throw TestEnvironmentError(message: "no counter in the nft rules of \(name): \(out)") }
            return n
        }
    }

    /// Bytes received by the root side of each pair (what the namespace sent).
    func hostReceivedBytes() -> [Int] {
        hostLinks.map { link in
            Int(
                ((try? String(contentsOfFile: "/sys/class/net/\(link)/statistics/rx_bytes", encoding: .utf8)) ?? "").trimmingCharacters(
                    in: .whitespacesAndNewlines)) ?? 0
        }
    }

    @discardableResult
    private func run(_ arguments: [String]) throws -> String {
        let r = try runDaemonizing(ip, arguments, outputFile: folder + "/ip.out")
        guard r.status == 0 else {
            throw TestEnvironmentError(message: "ip \(arguments.joined(separator: " ")) failed (exit \(r.status)): \(r.output.prefix(500))")
        }
        return r.output
    }

    /// The 10.x.y. prefixes of the addresses and routes the machine has now.
    private static func usedSubnets() -> Set<String> {
        let text = ((try? String(contentsOfFile: "/proc/net/fib_trie", encoding: .utf8)) ?? "")
        var used = Set<String>()
        for word in text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "/" }) where word.hasPrefix("10.") {
            let parts = word.split(separator: ".")
            if parts.count == 4 { used.insert("10.\(parts[1]).\(parts[2]).") }
        }
        return used
    }

    /// Deletes `sbfleet-PID-…` namespaces whose process no longer runs.
    private static func removeStale(ip: String, folder: String) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/run/netns") else { return }
        for name in entries where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count).prefix { $0 != "-" }), kill(pid, 0) != 0, errno == ESRCH else { continue }
            _ = try? runDaemonizing(ip, ["netns", "delete", name], outputFile: folder + "/stale.out")
        }
    }
}
