/// The status of a `sync_runs` row: the one place that names them and groups them. The engine,
/// `status`, `cancel`, the progress board and the SQL (the CHECK constraint on `sync_runs.status`
/// and the partial index of open runs, migration 0005) all use these sets.
///
/// A window's life: planned → submitting → submitted → running → completed → downloading → loaded
/// (or partial, with rejected lines; or empty, when Shopify found nothing). A window that timed out
/// is superseded by its two halves; one that failed transiently is retried by a successor; failed
/// and canceled end it. A parent run (a whole full or delta import) stays running until every
/// window is done, then becomes loaded. `loading` is a local file load (`shopbulk load`).
public enum RunStatus: String, Sendable, CaseIterable, Codable {
    case planned
    case submitting
    case submitted
    case running
    case completed
    case downloading
    case loading
    case loaded
    case partial
    case empty
    case failed
    case canceled
    case expired
    case superseded
    case retried

    /// Not finished: something may still happen to the run (the partial index `sync_runs_open_idx`).
    public static let open: Set<RunStatus> = [.planned, .submitting, .submitted, .running, .completed, .downloading, .loading]
    /// A bulk operation exists at Shopify (or may: `submitting` is resolved by adoption) and has not
    /// been loaded yet: what `cancel` may cancel and what the progress board shows as in flight.
    public static let atShopify: Set<RunStatus> = [.submitted, .running]
    /// Finished with its data committed (or with nothing to commit).
    public static let done: Set<RunStatus> = [.loaded, .partial, .empty]
    /// Stands for nothing any more: another run replaced it.
    public static let replaced: Set<RunStatus> = [.superseded, .retried]
    /// Finished without its data: an import with such a window is not complete.
    public static let unsuccessful: Set<RunStatus> = [.failed, .canceled, .expired]
    /// Finished one way or another.
    public static var terminal: Set<RunStatus> { done.union(replaced).union(unsuccessful) }
    /// A window in one of these states is picked up again by the next run of the same import.
    public static var resumable: Set<RunStatus> { open.subtracting([.loading]) }
    /// Windows that keep their parent import from being finished.
    public static var blocksCompletion: Set<RunStatus> { Set(allCases).subtracting(done).subtracting(replaced) }

    public var isOpen: Bool { Self.open.contains(self) }
    public var isTerminal: Bool { Self.terminal.contains(self) }

    /// `'a', 'b'` for an SQL `IN (…)` list, in declaration order (values are fixed identifiers).
    public static func sqlList(_ set: Set<RunStatus>) -> String {
        allCases.filter(set.contains).map { "'\($0.rawValue)'" }.joined(separator: ", ")
    }

    /// The statuses as a PostgreSQL text array parameter value (`{a,b}`).
    public static func arrayParameter(_ set: Set<RunStatus>) -> [String] {
        allCases.filter(set.contains).map(\.rawValue)
    }
}
