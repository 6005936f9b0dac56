import Testing

@testable import ShopifyAdmin

private func op(_ status: BulkOperation.Status, error: BulkOperation.ErrorCode? = nil, url: String? = nil, partial: String? = nil)
    -> BulkOperation
{
    BulkOperation(id: "gid://shopify/BulkOperation/1", status: status, errorCode: error, url: url, partialDataURL: partial)
}

extension BulkOperationPoller.Action {
    var waitSeconds: Double? { if case .wait(let d) = self { return d.seconds }; return nil }
    var completed: BulkOperation? { if case .completed(let o) = self { return o }; return nil }
    var failure: ShopifyError? { if case .failed(let e) = self { return e }; return nil }
    var isPoll: Bool { if case .poll = self { return true }; return false }
}

@Suite struct PollerTests {
    let policy = BulkPollingPolicy(initialInterval: .seconds(1), maximumInterval: .seconds(30), ageFraction: 0.1)

    @Test func startsWithAPollAndGrowsTheIntervalWithAge() {
        var poller = BulkOperationPoller(operationID: "x", policy: policy, now: 100)
        #expect(poller.start().isPoll)
        #expect(poller.observed(op(.created), now: 100).waitSeconds == 1)
        #expect(poller.observed(op(.running), now: 105).waitSeconds == 1)
        #expect(poller.observed(op(.running), now: 150).waitSeconds == 5)
        #expect(poller.observed(op(.running), now: 400).waitSeconds == 30)
        #expect(poller.observed(op(.running), now: 100_000).waitSeconds == 30)
        // Resuming an operation that is already an hour old: slow polling at once.
        let resumed = BulkOperationPoller(operationID: "x", policy: policy, now: 0, initialAge: 3600)
        #expect(resumed.interval(at: 0) == .seconds(30))
    }

    @Test func completedWithAndWithoutRows() {
        var poller = BulkOperationPoller(operationID: "x", policy: policy, now: 0)
        #expect(poller.observed(op(.completed, url: "https://storage/x.jsonl?sig=1"), now: 1).completed?.url != nil)
        var empty = BulkOperationPoller(operationID: "x", policy: policy, now: 0)
        let done = empty.observed(op(.completed), now: 1).completed
        #expect(done != nil && done?.url == nil)
    }

    @Test func accessDeniedFailsFastWithAScopeHint() {
        var poller = BulkOperationPoller(operationID: "x", policy: policy, now: 0)
        let e = poller.observed(op(.failed, error: .accessDenied), now: 1).failure
        #expect(e?.code == .accessDenied)
        #expect(e?.isRetryable == false)
        #expect(e?.message.contains("read_orders") == true)
    }

    @Test(arguments: [BulkOperation.ErrorCode.internalServerError, .timeout])
    func transientFailuresAreRetryableWithPartialData(_ code: BulkOperation.ErrorCode) {
        var poller = BulkOperationPoller(operationID: "x", policy: policy, now: 0)
        let e = poller.observed(op(.failed, error: code, partial: "https://storage/p.jsonl?sig=2"), now: 1).failure
        #expect(e?.code == .operationFailed)
        #expect(e?.isRetryable == true)
        #expect(e?.shopifyCode == code.rawValue)
        #expect(e?.partialDataURL == "https://storage/p.jsonl?sig=2")
        #expect(e?.message.contains("sig=2") == false)
    }

    @Test func failedWithoutCodeIsRetryableAndUnknownCodeIsNot() {
        var a = BulkOperationPoller(operationID: "x", policy: policy, now: 0)
        #expect(a.observed(op(.failed), now: 1).failure?.isRetryable == true)
        var b = BulkOperationPoller(operationID: "x", policy: policy, now: 0)
        let e = b.observed(op(.failed, error: BulkOperation.ErrorCode(rawValue: "QUOTA_EXCEEDED")), now: 1).failure
        #expect(e?.isRetryable == false)
        #expect(e?.shopifyCode == "QUOTA_EXCEEDED")
    }

    @Test func canceledExpiredAndNotFound() {
        var a = BulkOperationPoller(operationID: "x", policy: policy, now: 0)
        #expect(a.observed(op(.canceling), now: 1).waitSeconds != nil)
        let canceled = a.observed(op(.canceled, partial: "https://s/p"), now: 2).failure
        #expect(canceled?.code == .operationCanceled)
        #expect(canceled?.isRetryable == true)
        #expect(canceled?.partialDataURL == "https://s/p")
        var b = BulkOperationPoller(operationID: "x", policy: policy, now: 0)
        #expect(b.observed(op(.expired), now: 1).failure?.code == .expired)
        var c = BulkOperationPoller(operationID: "x", policy: policy, now: 0)
        #expect(c.observed(nil, now: 1).failure?.code == .operationNotFound)
    }

    @Test func unknownStatusIsToleratedForAWhile() {
        var poller = BulkOperationPoller(
            operationID: "x", policy: BulkPollingPolicy(maximumInterval: .seconds(10), maxUnknownStatusPolls: 2), now: 0)
        let odd = op(BulkOperation.Status(rawValue: "PAUSED"))
        #expect(poller.observed(odd, now: 1).waitSeconds == 10)
        #expect(poller.observed(odd, now: 2).waitSeconds == 10)
        #expect(poller.observed(odd, now: 3).failure?.code == .badResponse)
    }

    @Test func pollFailuresAreBounded() {
        var poller = BulkOperationPoller(operationID: "x", policy: BulkPollingPolicy(maxConsecutiveFailures: 2), now: 0)
        let transient = ShopifyError(code: .retriesExhausted, message: "x", isRetryable: true)
        #expect(poller.pollFailed(transient, now: 1).waitSeconds != nil)
        #expect(poller.pollFailed(transient, now: 2).waitSeconds != nil)
        // A successful poll resets the count.
        #expect(poller.observed(op(.running), now: 3).waitSeconds != nil)
        #expect(poller.pollFailed(transient, now: 4).waitSeconds != nil)
        #expect(poller.pollFailed(transient, now: 5).waitSeconds != nil)
        #expect(poller.pollFailed(transient, now: 6).failure?.code == .retriesExhausted)
        var other = BulkOperationPoller(operationID: "x", policy: policy, now: 0)
        #expect(other.pollFailed(ShopifyError(code: .unauthorized, message: "no"), now: 1).failure?.code == .unauthorized)
    }
}

@Suite struct SubmitDecisionTests {
    let policy = BulkSlotWaitPolicy(initialWait: .seconds(5), maximumWait: .seconds(60), maxTotalWait: .seconds(100), jitter: 0)

    @Test func invalidFailsWithShopifysMessageAndTheQueryName() {
        var state = BulkSubmitState(policy: policy, queryName: "orders.graphql")
        guard
            case .fail(let e) = state.next(after: [
                BulkUserError(field: ["query"], message: "Invalid bulk query: too many connections", code: .invalid)
            ])
        else { Issue.record("expected fail"); return }
        #expect(e.code == .userError)
        #expect(e.shopifyCode == "INVALID")
        #expect(e.queryName == "orders.graphql")
        #expect(e.message.contains("orders.graphql") && e.message.contains("too many connections"))
    }

    @Test(arguments: [BulkUserError.Code.operationInProgress, .limitReached])
    func busySlotsWaitWithBackoffThenGiveUp(_ code: BulkUserError.Code) {
        var state = BulkSubmitState(policy: policy, queryName: "q")
        let busy = [BulkUserError(message: "busy", code: code)]
        var waits: [Double] = []
        while case .waitForSlot(let d, let reason) = state.next(after: busy, random: 0.5) {
            #expect(reason.code == code)
            waits.append(d.seconds)
        }
        #expect(waits == [5, 10, 20, 40])  // 75 s; the next 60 s would pass the 100 s budget
        guard case .fail(let e) = state.next(after: busy) else { Issue.record("expected fail"); return }
        #expect(e.code == .noBulkSlot)
        #expect(e.message.contains("never cancelled"))
    }

    @Test func classifiesMessagesOfVersionsWithoutCodes() {
        let old = BulkUserError(
            message: "A bulk query operation for this app and shop is already in progress: gid://shopify/BulkOperation/7.")
        #expect(old.effectiveCode == .operationInProgress)
        var state = BulkSubmitState(policy: policy, queryName: nil)
        guard case .waitForSlot = state.next(after: [old]) else { Issue.record("expected wait"); return }
        guard case .fail(let e) = state.next(after: [BulkUserError(message: "Invalid bulk query: nope")]) else {
            Issue.record("expected fail"); return
        }
        #expect(e.code == .userError)
    }

    @Test func unknownCodesAndEmptyAnswersFail() {
        var state = BulkSubmitState(policy: policy, queryName: "q")
        guard case .fail(let e) = state.next(after: [BulkUserError(message: "new thing", code: .init(rawValue: "SOMETHING_NEW"))]) else {
            Issue.record("expected fail"); return
        }
        #expect(e.shopifyCode == "SOMETHING_NEW")
        guard case .fail(let empty) = state.next(after: []) else { Issue.record("expected fail"); return }
        #expect(empty.code == .badResponse)
    }
}

@Suite struct TokenRenewalTests {
    @Test func renewsAheadOfExpiry() {
        let policy = TokenRenewalPolicy()
        let day = TokenLifetime(issuedAt: 1000, expiresIn: 86399)
        #expect(abs(day.renewalTime(policy: policy)! - 87099) < 1e-9)
        #expect(day.decision(at: 1000 + 86000, policy: policy) == .use)
        #expect(day.decision(at: 1000 + 86099, policy: policy) == .renew)
        let short = TokenLifetime(issuedAt: 0, expiresIn: 10)
        #expect(abs(short.renewalTime(policy: policy)! - 9) < 1e-9)  // 90 % when 5 minutes is more than a tenth
        #expect(short.decision(at: 8.9, policy: policy) == .use)
        #expect(short.decision(at: 9.0, policy: policy) == .renew)
        #expect(TokenLifetime(issuedAt: 0, expiresIn: nil).decision(at: 1e12, policy: policy) == .use)
    }
}

@Suite struct ThrottleTests {
    let status = ThrottleStatus(maximumAvailable: 1000, currentlyAvailable: 100, restoreRate: 50)

    @Test func waitsJustLongEnough() {
        var bucket = ThrottleBucket()
        #expect(bucket.waitTime(for: 500, at: 0) == 0)  // unknown: the first response teaches it
        bucket.observe(status, at: 10)
        #expect(bucket.waitTime(for: 100, at: 10) == 0)
        #expect(bucket.waitTime(for: 200, at: 10) == 2)  // 100 missing at 50/s
        #expect(bucket.waitTime(for: 200, at: 11) == 1)
        #expect(bucket.waitTime(for: 200, at: 12) == 0)
        #expect(bucket.estimatedAvailable(at: 1000) == 1000)  // never above the maximum
        #expect(bucket.waitTime(for: 5000, at: 10) == 18)  // capped at the bucket's size
    }

    @Test func reservationsKeepConcurrentCallersWithinTheBucket() {
        var bucket = ThrottleBucket()
        bucket.observe(status, at: 0)
        bucket.reserve(60, at: 0)
        #expect(bucket.waitTime(for: 60, at: 0) == 0.4)  // 40 left, 20 missing
        bucket.reserve(40, at: 0)
        #expect(bucket.estimatedAvailable(at: 0) == 0)
        bucket.release(60)
        bucket.observe(ThrottleStatus(maximumAvailable: 1000, currentlyAvailable: 40, restoreRate: 50), at: 0.2)
        #expect(bucket.estimatedAvailable(at: 0.2)! == 0)  // 40 reported, 40 still reserved
    }

    @Test func throttledResponseWait() {
        let cost = QueryCost(
            requestedQueryCost: 101, actualQueryCost: nil,
            throttleStatus: ThrottleStatus(maximumAvailable: 1000, currentlyAvailable: 1, restoreRate: 50))
        #expect(ShopifyAdminClient.throttleWait(cost, fallbackCost: 10) == 2)
    }
}

@Suite struct RetryTests {
    let policy = RetryPolicy(
        maxAttempts: 3, maxThrottledRetries: 2, maxTotalTime: .seconds(60), initialBackoff: .seconds(1), maxBackoff: .seconds(10),
        jitter: 0.5)

    @Test func jitteredExponentialBackoffIsBounded() {
        var state = RetryState(policy: policy)
        #expect(state.next(after: .connection, elapsed: .zero, random: 0) == .retry(after: .milliseconds(500)))
        #expect(state.next(after: .status(500, retryAfter: nil), elapsed: .seconds(1), random: 1) == .retry(after: .seconds(3)))
        guard case .giveUp = state.next(after: .connection, elapsed: .seconds(5), random: 0.5) else {
            Issue.record("expected give up"); return
        }
    }

    @Test func honoursRetryAfterAndTheTimeBudget() {
        var state = RetryState(policy: policy)
        #expect(state.next(after: .status(429, retryAfter: 2), elapsed: .zero) == .retry(after: .seconds(2)))
        var late = RetryState(policy: policy)
        guard case .giveUp = late.next(after: .status(503, retryAfter: 30), elapsed: .seconds(45)) else {
            Issue.record("expected give up"); return
        }
    }

    @Test func throttlingHasItsOwnBudget() {
        var state = RetryState(policy: policy)
        #expect(state.next(after: .throttled(wait: 1.5), elapsed: .zero) == .retry(after: .milliseconds(1550)))
        #expect(state.next(after: .throttled(wait: 0), elapsed: .zero) == .retry(after: .milliseconds(50)))
        guard case .giveUp = state.next(after: .throttled(wait: 1), elapsed: .zero) else { Issue.record("expected give up"); return }
        #expect(state.attempts == 1)
    }
}

@Suite struct DecodingTests {
    @Test func decodesErrorsPathsCodesAndCost() throws {
        let body =
            #"{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED","documentation":"x"}},{"message":"Access denied","path":["customers",0,"email"],"extensions":{"code":"ACCESS_DENIED"}}],"extensions":{"cost":{"requestedQueryCost":101,"actualQueryCost":null,"throttleStatus":{"maximumAvailable":2000.0,"currentlyAvailable":54,"restoreRate":100.0}}}}"#
        let r = try GraphQLResponse.decode(Array(body.utf8))
        #expect(r.data == nil)
        #expect(r.isThrottled)
        #expect(r.errors[1].path == ["customers", "0", "email"])
        #expect(r.errors[1].code == "ACCESS_DENIED")
        #expect(r.cost?.requestedQueryCost == 101)
        #expect(r.cost?.actualQueryCost == nil)
        #expect(r.cost?.throttleStatus == ThrottleStatus(maximumAvailable: 2000, currentlyAvailable: 54, restoreRate: 100))
    }

    @Test func decodesStringAndObjectErrors() throws {
        let a = try GraphQLResponse.decode(Array(#"{"errors":"[API] Invalid API key or access token"}"#.utf8))
        #expect(a.errors.first?.message.contains("Invalid API key") == true)
        let b = try GraphQLResponse.decode(Array(#"{"errors":{"query":"Required parameter missing or invalid"}}"#.utf8))
        #expect(b.errors.first?.message == "query: Required parameter missing or invalid")
        #expect(throws: ShopifyError.self) { try GraphQLResponse.decode(Array("<html>".utf8)) }
    }

    @Test func decodesBulkOperationsWithStringCounts() throws {
        let json = try JSONValue.parse(
            Array(
                #"{"id":"gid://shopify/BulkOperation/9","status":"COMPLETED","errorCode":null,"createdAt":"2026-01-02T03:04:05Z","completedAt":"2026-01-02T03:05:05.5+01:00","objectCount":"57","rootObjectCount":"12","fileSize":"358","url":"https://s/x.jsonl?sig=abc","partialDataUrl":null,"query":"{ orders { edges { node { id } } } }"}"#
                    .utf8))
        let op = try BulkOperation(json: json)
        #expect(op.status == .completed)
        #expect(op.objectCount == 57 && op.rootObjectCount == 12 && op.fileSize == 358)
        #expect(op.createdAt?.timeIntervalSince1970 == 1_767_323_045)
        #expect(op.completedAt?.timeIntervalSince1970 == 1_767_323_105.5 - 3600)
        #expect(!op.description.contains("sig=abc"))
        let odd = try BulkOperation(json: ["id": "x", "status": "SOMETHING_NEW"])
        #expect(!odd.status.isKnown && odd.fileSize == nil)
    }
}
