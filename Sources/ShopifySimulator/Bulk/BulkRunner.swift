import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Runs one bulk query operation on its own thread: walks the shop snapshot, writes JSONL lines
/// to the result file as they are produced (a 256 KiB buffer, never the whole file), and
/// publishes progress, status and faults through the shared state.
final class BulkRunner: @unchecked Sendable {
    let state: SimulatorState
    let op: BulkOperationRecord
    let plan: BulkPlan
    let snapshot: ShopSnapshot
    let faults: [OperationFault]
    let accessDenied: Bool
    let speed: OperationSpeed
    let startDelay: Double
    let cancelDelay: Double

    // output
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []
    private var written = 0
    private var lines = 0
    private var roots = 0
    private var lastLineLength = 0
    private var emittedObjects = 0
    private var emittedRoots = 0
    private var pending: [(bytes: [UInt8], root: Bool, parent: String?)] = []
    private var rng: UInt64
    private var writer = JSONWriter(capacity: 1024)
    private var lastProgress = 0.0
    private let started = Date().timeIntervalSince1970
    private var rate: Double?  // units per second
    private var paceOnRoots = false

    static let flushSize = 256 * 1024
    static let interleaveWindow = 64

    init(
        state: SimulatorState, op: BulkOperationRecord, plan: BulkPlan, snapshot: ShopSnapshot, faults: [OperationFault],
        accessDenied: Bool, speed: OperationSpeed, startDelay: Double, cancelDelay: Double
    ) {
        self.state = state
        self.op = op
        self.plan = plan
        self.snapshot = snapshot
        self.faults = faults
        self.accessDenied = accessDenied
        self.speed = speed
        self.startDelay = startDelay
        self.cancelDelay = cancelDelay
        self.rng = Mix.splitmix(UInt64(op.number) ^ snapshot.generator.seed)
    }

    func start() {
        let t = Thread { self.run() }
        t.name = "bulk-\(op.number)"
        t.start()
    }

    private struct Stop: Error { var reason: Reason; enum Reason { case canceled, fault(OperationFault) } }

    private func run() {
        sleepChecking(startDelay)
        var canceledEarly = false
        state.locked {
            if op.cancelRequested { canceledEarly = true } else { op.status = "RUNNING" }
        }
        if canceledEarly { finishCanceled(); return }
        if accessDenied {
            Thread.sleep(forTimeInterval: 0.01)
            state.locked {
                op.status = "FAILED"; op.errorCode = "ACCESS_DENIED"; op.endedAt = state.clock.now()
            }
            return
        }
        let file = state.dataDirectory.appendingPathComponent("bulk/\(op.number).jsonl")
        fd = open(file.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else {
            state.locked {
                op.status = "FAILED"; op.errorCode = "INTERNAL_SERVER_ERROR"; op.endedAt = state.clock.now()
            }
            return
        }
        state.locked { op.file = file }
        buffer.reserveCapacity(BulkRunner.flushSize + 64 * 1024)
        configurePace()

        var stop: Stop?
        do {
            try emitRoots()
            drainPending()
        } catch let s as Stop {
            stop = s
            drainPending()
        } catch {
            stop = Stop(reason: .fault(OperationFault(operation: op.ordinal, kind: .internalServerError)))
        }
        flush()
        if stop == nil, let t = faults.first(where: { $0.kind == .truncatedLastLine }), t.kind == .truncatedLastLine, lastLineLength > 2 {
            let cut = lastLineLength / 2 + 1
            _ = ftruncate(fd, off_t(written - cut))
            written -= cut
        }
        close(fd)
        let now = state.clock.now()
        switch stop?.reason {
        case nil:
            state.locked {
                publishProgress()
                op.status = "COMPLETED"; op.completedAt = now; op.endedAt = now; op.resultIsComplete = true
                if op.objectCount == 0 { try? FileManager.default.removeItem(at: file); op.file = nil }
            }
        case .canceled?:
            finishCanceled()
        case .fault(let f)?:
            state.locked {
                publishProgress()
                op.endedAt = now
                op.resultIsComplete = false
                if f.kind == .canceled {
                    op.status = "CANCELED"
                } else {
                    op.status = "FAILED"; op.errorCode = f.kind == .failedWithoutCode ? nil : f.kind.rawValue
                }
                if op.objectCount == 0 { try? FileManager.default.removeItem(at: file); op.file = nil }
            }
        }
    }

    private func finishCanceled() {
        state.locked {
            publishProgress(); op.status = "CANCELING"
        }
        Thread.sleep(forTimeInterval: cancelDelay)
        state.locked {
            op.status = "CANCELED"; op.endedAt = state.clock.now(); op.resultIsComplete = false
            if op.objectCount == 0, let f = op.file { try? FileManager.default.removeItem(at: f); op.file = nil }
        }
    }

    private func configurePace() {
        if let slow = faults.first(where: { $0.kind == .slow }) {
            rate = slow.rowsPerSecond ?? 20
            return
        }
        switch speed {
        case .unlimited: rate = nil
        case .rowsPerSecond(let r): rate = r > 0 ? r : nil
        case .duration(let d):
            if plan.empty { rate = nil; return }
            var n = 0
            rootQuery().forEach { _ in
                n += 1; return true
            }
            if d > 0, n > 0 { rate = Double(n) / d; paceOnRoots = true }
        }
    }

    private func rootQuery() -> ShopQuery {
        ShopQuery(
            snapshot: snapshot, kind: plan.root.name == "customers" ? .customer : .order,
            search: SearchQuery.parse(plan.root.arg("query")?.string),
            sortKey: plan.root.arg("sortKey")?.string, reverse: plan.root.arg("reverse")?.bool ?? false)
    }

    // MARK: walking the shop

    private func emitRoots() throws {
        if plan.empty { return }
        let q = rootQuery()
        let rw = RecordWriter(snapshot: snapshot, bulk: true)
        let failAt = faults.first { [.internalServerError, .timeout, .canceled, .failedWithoutCode].contains($0.kind) }
        var sinceCheck = 0
        try q.forEach { i in
            if q.kind == .customer {
                guard let c = snapshot.customer(at: i) else { return true }
                try emitCustomer(c, plan.node, rw, parent: nil)
            } else {
                guard let o = snapshot.order(at: i) else { return true }
                try emitOrder(o, plan.node, rw, parent: nil)
            }
            if let failAt, emittedObjects >= (failAt.afterObjects ?? 10) { throw Stop(reason: .fault(failAt)) }
            try pace()
            sinceCheck += 1
            if sinceCheck >= 256 {
                sinceCheck = 0
                try checkpoint()
            }
            return true
        }
    }

    private func emitCustomer(_ c: SimCustomer, _ p: BulkNodePlan, _ rw: RecordWriter, parent: String?) throws {
        writer.reset()
        rw.writeCustomer(p.fields, c, &writer, parentId: parent)
        emit(root: parent == nil, parent: parent)
        for n in p.connections {
            switch n.field.name {
            case "metafields":
                emitMetafields(c.metafields, n, rw, parent: c.gid)
            case "addressesV2":
                for a in c.addresses {
                    writer.reset()
                    rw.writeAddress(n.plan.fields, a, &writer, parentId: c.gid)
                    emit(root: false, parent: c.gid)
                }
            case "orders":
                let search = SearchQuery.parse(n.field.arg("query")?.string)
                for oi in snapshot.orderIndices(ofCustomer: c.index) {
                    guard let o = snapshot.order(at: oi) else { continue }
                    if !search.isEmpty,
                        !search.matches(
                            date: { $0 == "updated_at" ? o.updatedAtEpoch : ($0 == "created_at" ? o.createdAtEpoch : nil) }, id: o.id)
                    {
                        continue
                    }
                    try emitOrder(o, n.plan, rw, parent: c.gid)
                }
            default: break
            }
        }
    }

    private func emitOrder(_ o: SimOrder, _ p: BulkNodePlan, _ rw: RecordWriter, parent: String?) throws {
        writer.reset()
        rw.writeOrder(p.fields, o, &writer, parentId: parent)
        emit(root: parent == nil, parent: parent)
        for n in p.connections {
            switch n.field.name {
            case "lineItems":
                for li in o.lineItems {
                    writer.reset()
                    rw.writeLineItem(n.plan.fields, li, &writer, parentId: o.gid)
                    emit(root: false, parent: o.gid)
                }
            case "discountApplications":
                // No id: the lines carry only __parentId.
                for d in o.discountApplications {
                    writer.reset()
                    rw.writeDiscountApplication(n.plan.fields(for: d.typename), d, &writer, parentId: o.gid)
                    emit(root: false, parent: o.gid)
                }
            case "metafields":
                emitMetafields(o.metafields, n, rw, parent: o.gid)
            default:
                break  // a connection the simulator does not model has no nodes
            }
        }
    }

    private func emitMetafields(_ all: [SimMetafield], _ n: BulkNodePlan.Nested, _ rw: RecordWriter, parent: String) {
        let selected = MetafieldSelection.many(all, namespace: n.field.arg("namespace")?.string, keys: n.field.arg("keys")?.stringList)
        for m in selected {
            writer.reset()
            rw.writeMetafield(n.plan.fields, m, &writer, parentId: parent)
            emit(root: false, parent: parent)
        }
    }

    // MARK: output

    /// `parent`: the GID in the line's `__parentId` (nil for a top-level line).
    private func emit(root: Bool, parent: String? = nil) {
        emittedObjects += 1
        if root { emittedRoots += 1 }
        if op.groupObjects {
            writeLine(writer.bytes, root: root)
        } else {
            // Ungrouped: lines leave a small random window in random order, so children can come
            // before their parent and parents can be separated from their children; one parent's
            // children keep their order among themselves.
            pending.append((writer.bytes, root, parent))
            if pending.count > BulkRunner.interleaveWindow { writeOnePending() }
        }
    }

    /// Writes a random pending line, or the first pending sibling before it (same parent).
    private func writeOnePending() {
        rng = Mix.splitmix(rng)
        var k = Int(rng % UInt64(pending.count))
        if let parent = pending[k].parent, let first = pending.firstIndex(where: { $0.parent == parent }) { k = first }
        let l = pending.remove(at: k)
        writeLine(l.bytes, root: l.root)
    }

    private func drainPending() {
        while !pending.isEmpty { writeOnePending() }
    }

    private func writeLine(_ bytes: [UInt8], root: Bool) {
        lines += 1
        if root { roots += 1 }
        if let c = faults.first(where: { $0.kind == .corruptLine }), (c.line ?? 1) == lines {
            buffer.append(contentsOf: bytes.prefix(bytes.count / 2))
            buffer.append(contentsOf: [0xFF, 0xFE, UInt8(ascii: "\""), UInt8(ascii: ",")])
            lastLineLength = bytes.count / 2 + 5
        } else {
            buffer.append(contentsOf: bytes)
            lastLineLength = bytes.count + 1
        }
        buffer.append(0x0A)
        if buffer.count >= BulkRunner.flushSize { flush(); state.locked { publishProgress() } }
    }

    private func flush() {
        guard !buffer.isEmpty else { return }
        buffer.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = write(fd, raw.baseAddress! + off, raw.count - off)
                if n <= 0 { if errno == EINTR { continue }; break }
                off += n
            }
        }
        written += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }

    /// Call with the lock held.
    private func publishProgress() {
        op.objectCount = lines
        op.rootObjectCount = roots
        op.fileSize = written
    }

    private func checkpoint() throws {
        let now = Date().timeIntervalSince1970
        var cancel = false
        if now - lastProgress > 0.05 {
            lastProgress = now
            if rate != nil { flush() }
            state.locked {
                publishProgress(); cancel = op.cancelRequested
            }
        } else {
            state.locked { cancel = op.cancelRequested }
        }
        if cancel { throw Stop(reason: .canceled) }
    }

    private func pace() throws {
        guard let rate else { return }
        let units = Double(paceOnRoots ? emittedRoots : emittedObjects)
        let due = started + units / rate
        let now = Date().timeIntervalSince1970
        if due - now > 0.002 {
            try sleepChecked(due - now)
        }
    }

    private func sleepChecked(_ seconds: Double) throws {
        var left = seconds
        while left > 0 {
            let s = min(left, 0.05)
            Thread.sleep(forTimeInterval: s)
            left -= s
            try checkpoint()
        }
    }

    private func sleepChecking(_ seconds: Double) {
        var left = seconds
        while left > 0 {
            let s = min(left, 0.05)
            Thread.sleep(forTimeInterval: s)
            left -= s
            if state.locked({ op.cancelRequested }) { return }
        }
    }
}
