import Foundation

extension ImportEngine {
    /// Imports several shops, up to `jobs` at once, each under its own lock and with its own sessions
    /// (`ConnectionBudget`); one failing does not stop the others. Results come in the order of
    /// `names`. When the task is cancelled no further shop starts and the running ones stop as a
    /// single import does (their runs left resumable).
    public func run(shops names: [String], mode: ImportMode, options: ImportOptions, jobs: Int) async
        -> [(shop: String, result: Result<ImportReport, any Error>)]
    {
        var results = [Result<ImportReport, any Error>?](repeating: nil, count: names.count)
        let importShop: @Sendable (Int) async -> (Int, Result<ImportReport, any Error>) = { index in
            do {
                return (index, .success(try await self.run(shop: names[index], mode: mode, options: options)))
            } catch {
                return (index, .failure(error))
            }
        }
        // No nested function capturing the group: a release build of `start()` capturing `group`
        // and `next` lost results (shops reported as cancelled) and once trapped.
        await withTaskGroup(of: (Int, Result<ImportReport, any Error>).self) { group in
            var next = 0
            while next < names.count && next < max(1, jobs) {
                let index = next
                group.addTask { await importShop(index) }
                next += 1
            }
            while let (index, result) = await group.next() {
                results[index] = result
                if case .failure(let error) = result, !(error is CancellationError) {
                    logger.error("import failed", metadata: ["shop": "\(names[index])", "error": "\(error)"])
                }
                if next < names.count && !Task.isCancelled {
                    let index = next
                    group.addTask { await importShop(index) }
                    next += 1
                }
            }
        }
        return names.enumerated().map { i, name in (name, results[i] ?? .failure(CancellationError())) }
    }
}
