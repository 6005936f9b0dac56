import FlyingFox
import FlyingSocks
import Foundation

/// A byte range of a result file as an HTTP body, read in 64 KiB chunks. With `dropAfter` set it
/// fails after that many bytes, so the server closes the connection mid-body (the download-drop
/// fault): the client sees fewer bytes than `Content-Length` promised.
struct FileRangeBody: AsyncBufferedSequence, Sendable {
    typealias Element = UInt8
    let url: URL
    let range: Range<Int>
    let dropAfter: Int?

    func makeAsyncIterator() -> Iterator { Iterator(url: url, range: range, dropAfter: dropAfter) }

    struct Dropped: Error {}

    struct Iterator: AsyncBufferedIteratorProtocol {
        let url: URL
        let range: Range<Int>
        let dropAfter: Int?
        var handle: FileHandle?
        var offset: Int
        var sent = 0

        init(url: URL, range: Range<Int>, dropAfter: Int?) {
            self.url = url
            self.range = range
            self.dropAfter = dropAfter
            self.offset = range.lowerBound
        }

        mutating func next() async throws -> UInt8? {
            try await nextBuffer(suggested: 1)?.first
        }

        mutating func nextBuffer(suggested count: Int) async throws -> Data? {
            guard offset < range.upperBound else { return nil }
            var n = Swift.min(Swift.max(count, 64 * 1024), range.upperBound - offset)
            if let drop = dropAfter {
                if sent >= drop { throw Dropped() }
                n = Swift.min(n, drop - sent)
            }
            if handle == nil {
                handle = try FileHandle(forReadingFrom: url)
                try handle!.seek(toOffset: UInt64(offset))
            }
            guard let data = try handle!.read(upToCount: n), !data.isEmpty else { return nil }
            offset += data.count
            sent += data.count
            if offset >= range.upperBound { try? handle?.close(); handle = nil }
            return data
        }
    }
}
