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
        await withTaskGroup(of: (Int, Result<ImportReport, any Error>).self) { group in
            var next = 0
            func start() {
                let index = next
                next += 1
                group.addTask {
                    do {
                        return (index, .success(try await self.run(shop: names[index], mode: mode, options: options)))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            while next < names.count && next < max(1, jobs) { start() }
            while let (index, result) = await group.next() {
                results[index] = result
                if case .failure(let error) = result, !(error is CancellationError) {
                    logger.error("import failed", metadata: ["shop": "\(names[index])", "error": "\(error)"])
                }
                if next < names.count && !Task.isCancelled { start() }
            }
        }
        return names.enumerated().map { i, name in (name, results[i] ?? .failure(CancellationError())) }
    }
}
