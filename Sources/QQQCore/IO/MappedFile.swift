import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only into memory. Checkpoints are mapped, not read: the kernel pages
/// weights in on demand and can drop them again under pressure, so a 7B model costs no heap.
/// MAP_PRIVATE so a concurrent writer of the same path cannot change what we have validated
/// (writers here replace files by rename, which leaves an existing mapping intact anyway).
public final class MappedFile: @unchecked Sendable {
    public let path: String
    /// The file's bytes; empty (nil base address) for an empty file.
    public let bytes: UnsafeRawBufferPointer

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw QQQError.badFile(path: path, reason: "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw QQQError.badFile(path: path, reason: "cannot stat: \(String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw QQQError.badFile(path: path, reason: "not a regular file")
        }
        let size = Int(st.st_size)
        if size == 0 {
            // mmap rejects length 0; an empty mapping is still a valid (empty) file.
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw QQQError.badFile(path: path, reason: "cannot map \(size) bytes: \(String(cString: strerror(errno)))")
        }
        bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(p), count: size)
    }

    deinit {
        if let base = bytes.baseAddress {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        }
    }

    /// Hint that `range` will be read soon (e.g. the next layer's weights), so the kernel starts
    /// paging it in. Purely advisory; errors are ignored.
    public func willNeed(_ range: Range<Int>) {
        adviseRange(range, MADV_WILLNEED)
    }

    /// Hint that `range` is no longer needed, so its pages may be dropped first under pressure.
    public func dontNeed(_ range: Range<Int>) {
        adviseRange(range, MADV_DONTNEED)
    }

    private func adviseRange(_ range: Range<Int>, _ advice: Int32) {
        guard let base = bytes.baseAddress else { return }
        let lo = max(0, range.lowerBound), hi = min(bytes.count, range.upperBound)
        guard lo < hi else { return }
        // madvise needs a page-aligned start.
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (Int(bitPattern: base) + lo) & ~(page - 1)
        let end = Int(bitPattern: base) + hi
        _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, advice)
    }
}
