import Foundation

/// What one `bulkOperationRunQuery` call produced.
public enum BulkSubmitOutcome: Sendable {
    case submitted(BulkOperation)
    case rejected([BulkUserError])
}

extension ShopifyAdminClient {
    // MARK: submit

    /// Submits a bulk query and returns the new operation. `groupObjects` is always sent explicitly on
    /// versions that have it (2025-07+) and never on older ones (which always group).
    ///
    /// `INVALID` (and any other complaint about the query) throws `userError` with Shopify's message
    /// and `queryName`. `OPERATION_IN_PROGRESS` / `LIMIT_REACHED` wait for a free slot with backoff
    /// (`configuration.slotWait`); no operation is ever cancelled to make room.
    ///
    /// The mutation is never repeated blindly: when a call fails in a way that may have come after
    /// Shopify created the operation (a 5xx, a timeout or a broken connection after sending), the
    /// shop's operations are listed first, and one with exactly this query created since the first
    /// call is returned instead of submitting again.
    public func submitBulkQuery(
        query: String, groupObjects: Bool = false, queryName: String? = nil,
        onSlotWait: @Sendable (BulkUserError, Duration) -> Void = { _, _ in }
    ) async throws -> BulkOperation {
        var state = BulkSubmitState(policy: configuration.slotWait, queryName: queryName, store: endpoint.store)
        var unknown = RetryState(policy: configuration.retry)
        let since = Date()
        var firstUnknown: ContinuousClock.Instant?
        while true {
            let outcome: BulkSubmitOutcome
            do {
                outcome = try await trySubmitBulkQuery(query: query, groupObjects: groupObjects, queryName: queryName)
            } catch let error as ShopifyError where error.code == .outcomeUnknown {
                if let created = try await createdBy(query, since: since, queryName: queryName) { return created }
                let started = firstUnknown ?? .now
                firstUnknown = started
                switch unknown.next(after: .connection, elapsed: ContinuousClock.now - started) {
                case .retry(let wait):
                    logger.warning(
                        "submission failed and Shopify has no such operation; submitting again",
                        metadata: ["error": "\(error.message)", "query_name": "\(queryName ?? "-")"])
                    try await Task.sleep(for: wait)
                    // Shopify may have been creating it meanwhile: look again right before submitting.
                    if let created = try await createdBy(query, since: since, queryName: queryName) { return created }
                    continue
                case .giveUp(let reason):
                    var failed = error
                    failed.message += " (\(reason); no operation with this query was created)"
                    failed.queryName = queryName
                    throw failed
                }
            }
            switch outcome {
            case .submitted(let operation):
                return operation
            case .rejected(let errors):
                switch state.next(after: errors) {
                case .fail(let error):
                    throw error
                case .waitForSlot(let wait, let reason):
                    logger.info(
                        "waiting for a free bulk operation slot",
                        metadata: [
                            "reason": "\(reason.effectiveCode?.rawValue ?? "busy")", "message": "\(reason.message)",
                            "wait_ms": "\(wait.milliseconds)", "query_name": "\(queryName ?? "-")",
                        ])
                    onSlotWait(reason, wait)
                    try await Task.sleep(for: wait)
                }
            }
        }
    }

    /// The live operation a submission of `query` whose answer was lost created, if any (a failed,
    /// canceled or expired one with the same text is an earlier attempt's, not this one's).
    private func createdBy(_ query: String, since: Date, queryName: String?) async throws -> BulkOperation? {
        guard let created = try await operation(withQuery: query, createdSince: since),
            ![BulkOperation.Status.failed, .canceling, .canceled, .expired].contains(created.status)
        else { return nil }
        logger.notice(
            "the submission's answer was lost but Shopify created the operation; using it",
            metadata: ["operation": "\(created.id)", "query_name": "\(queryName ?? "-")"])
        return created
    }

    /// One `bulkOperationRunQuery` call, without waiting for slots: for schedulers that decide themselves.
    public func trySubmitBulkQuery(query: String, groupObjects: Bool = false, queryName: String? = nil) async throws
        -> BulkSubmitOutcome
    {
        let version = endpoint.apiVersion
        let mutation = AdminOperations.submit(version)
        var variables: [String: JSONValue] = ["query": .string(query)]
        if version.hasGroupObjects {
            variables["groupObjects"] = .bool(groupObjects)
        } else if !groupObjects {
            logger.debug("API \(version) has no groupObjects argument: the result is grouped")
        }
        let data = try await strictGraphQL(query: mutation, variables: variables, estimatedCost: 10, repeatable: false)
        guard let payload = data["bulkOperationRunQuery"], payload.object != nil else {
            throw ShopifyError(
                code: .badResponse, message: "bulkOperationRunQuery returned no payload", store: endpoint.store, queryName: queryName)
        }
        let userErrors = (payload["userErrors"]?.array ?? []).map { entry in
            BulkUserError(
                field: entry["field"]?.array?.compactMap(\.string) ?? [], message: entry["message"]?.string ?? "(no message)",
                code: entry["code"]?.string.map(BulkUserError.Code.init(rawValue:)))
        }
        if let op = payload["bulkOperation"], !op.isNull, userErrors.isEmpty {
            let operation = try BulkOperation(json: op)
            logger.info(
                "bulk operation submitted",
                metadata: ["operation": "\(operation.id)", "query_name": "\(queryName ?? "-")", "group_objects": "\(groupObjects)"])
            return .submitted(operation)
        }
        return .rejected(userErrors)
    }

    // MARK: read

    /// The operation now: `bulkOperation(id:)` on 2026-01+, `node(id:)` before. nil when the shop does
    /// not know it (or it belongs to another app).
    public func bulkOperation(id: String) async throws -> BulkOperation? {
        let (query, key) = AdminOperations.poll(endpoint.apiVersion)
        let data = try await strictGraphQL(query: query, variables: ["id": .string(id)], estimatedCost: 1)
        guard let value = data[key], !value.isNull, value["id"] != nil else { return nil }
        return try BulkOperation(json: value)
    }

    /// Polls until the operation ends, with a cadence that grows with its age
    /// (`configuration.polling`). Returns the `COMPLETED` operation (`url == nil`: no rows); throws
    /// `ShopifyError` otherwise: `accessDenied` (not retryable), `operationFailed`
    /// (`INTERNAL_SERVER_ERROR`/`TIMEOUT`: retryable, `partialDataURL` offered), `operationCanceled`,
    /// `expired`, `operationNotFound`.
    ///
    /// - Parameters:
    ///   - initialAge: how long ago the operation was submitted (when resuming), for the cadence.
    ///   - onUpdate: called with every report (status, object counts).
    public func waitForCompletion(
        id: String, initialAge: Duration = .zero, onUpdate: @Sendable (BulkOperation) async -> Void = { _ in }
    ) async throws -> BulkOperation {
        let origin = ContinuousClock.now
        func now() -> Double { (ContinuousClock.now - origin).seconds }
        var poller = BulkOperationPoller(
            operationID: id, policy: configuration.polling, now: now(), initialAge: initialAge.seconds, store: endpoint.store)
        var action = poller.start()
        var lastStatus: BulkOperation.Status?
        while true {
            switch action {
            case .poll:
                do {
                    let operation = try await bulkOperation(id: id)
                    if let operation {
                        await onUpdate(operation)
                        if operation.status != lastStatus {
                            lastStatus = operation.status
                            logger.info(
                                "bulk operation status",
                                metadata: [
                                    "operation": "\(id)", "status": "\(operation.status)", "objects": "\(operation.objectCount)",
                                ])
                        }
                    }
                    action = poller.observed(operation, now: now())
                } catch let error as ShopifyError {
                    logger.warning("polling the bulk operation failed", metadata: ["operation": "\(id)", "error": "\(error.code)"])
                    action = poller.pollFailed(error, now: now())
                }
            case .wait(let duration):
                try await Task.sleep(for: duration)
                action = .poll
            case .completed(let operation):
                return operation
            case .failed(let error):
                logger.warning("bulk operation did not complete", metadata: ["operation": "\(id)", "error": "\(error.code)"])
                throw error
            }
        }
    }

    // MARK: cancel and list

    /// Asks Shopify to cancel the operation (it goes `CANCELING`, then `CANCELED`). Call it only for
    /// operations this tool started.
    @discardableResult
    public func cancel(id: String) async throws -> BulkOperation? {
        let mutation = AdminOperations.cancel
        let data = try await strictGraphQL(query: mutation, variables: ["id": .string(id)], estimatedCost: 10)
        let payload = data["bulkOperationCancel"]
        let messages = (payload?["userErrors"]?.array ?? []).compactMap { $0["message"]?.string }
        if !messages.isEmpty {
            throw ShopifyError(
                code: .userError, message: "cancelling \(id) was refused: \(messages.joined(separator: "; "))", store: endpoint.store)
        }
        logger.info("bulk operation cancel requested", metadata: ["operation": "\(id)"])
        guard let op = payload?["bulkOperation"], !op.isNull else { return nil }
        return try BulkOperation(json: op)
    }

    /// This app's newest query operation whose text is exactly `query`, created since `since` (less
    /// two minutes for the clocks' difference) and not among `excluding`, or nil: the one a lost answer
    /// or a crash left unrecorded. Before 2026-01 only the current one is seen.
    public func operation(withQuery query: String, createdSince since: Date?, excluding: Set<String> = []) async throws
        -> BulkOperation?
    {
        try await listOperations(status: nil, limit: 50).first { op in
            op.query == query && !excluding.contains(op.id)
                && (since.map { (op.createdAt ?? .distantFuture) >= $0.addingTimeInterval(-120) } ?? true)
        }
    }

    /// This app's bulk query operations, newest first, optionally only those with `status`. On 2026-01+
    /// `bulkOperations(first:query:)` (paged up to `limit`); before, `currentBulkOperation` (at most one).
    public func listOperations(status: BulkOperation.Status? = nil, limit: Int = 250) async throws -> [BulkOperation] {
        guard endpoint.apiVersion.hasBulkOperationQueries else {
            let data = try await strictGraphQL(
                query: AdminOperations.list(endpoint.apiVersion), estimatedCost: 1)
            guard let value = data["currentBulkOperation"], !value.isNull else { return [] }
            let operation = try BulkOperation(json: value)
            if let status, operation.status != status { return [] }
            return [operation]
        }
        var filter = "operation_type:query"
        if let status { filter += " status:\(status.rawValue.lowercased())" }
        var result: [BulkOperation] = []
        var after: String?
        while result.count < limit {
            let page = min(50, limit - result.count)
            var variables: [String: JSONValue] = ["first": .number(Double(page)), "query": .string(filter)]
            if let after { variables["after"] = .string(after) }
            let data = try await strictGraphQL(
                query: AdminOperations.list(endpoint.apiVersion), variables: variables, estimatedCost: Double(2 + page))
            let connection = data["bulkOperations"]
            for edge in connection?["edges"]?.array ?? [] {
                if let node = edge["node"] { result.append(try BulkOperation(json: node)) }
            }
            guard connection?["pageInfo"]?["hasNextPage"]?.bool == true,
                let cursor = connection?["pageInfo"]?["endCursor"]?.string
            else { break }
            after = cursor
        }
        return result
    }
}
