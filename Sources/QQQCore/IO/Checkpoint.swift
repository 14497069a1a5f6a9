import Foundation

/// A Hugging Face checkpoint folder, seen as one set of named tensors across its shards.
///
/// Lookup order: `model.safetensors.index.json` (sharded; every shard it names must exist and
/// hold the tensors the index assigns to it), else `model.safetensors`, else every `*.safetensors`
/// file in the folder (a tensor name may then appear in only one of them).
public final class Checkpoint: @unchecked Sendable {
    public let directory: String
    /// The opened shards, in index (or file name) order.
    public let files: [SafetensorsFile]
    /// Path of the index file when the checkpoint is sharded.
    public let indexPath: String?
    /// Tensor names, shard by shard, each shard in offset order.
    public let names: [String]
    private let location: [String: Int]

    public static let indexFileName = "model.safetensors.index.json"
    public static let singleFileName = "model.safetensors"

    public init(directory: String) throws {
        self.directory = directory
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDir) else {
            throw QQQError.badFile(path: directory, reason: "no such directory")
        }
        guard isDir.boolValue else {
            throw QQQError.badFile(path: directory, reason: "not a directory (expected a checkpoint folder)")
        }
        let indexPath = (directory as NSString).appendingPathComponent(Self.indexFileName)
        let singlePath = (directory as NSString).appendingPathComponent(Self.singleFileName)

        var files: [SafetensorsFile] = []
        var location: [String: Int] = [:]
        var names: [String] = []
        if fm.fileExists(atPath: indexPath) {
            let map = try Self.readWeightMap(indexPath: indexPath)
            // Sorted shard names: HF numbers its shards, so this is shard order, and deterministic.
            let shardOrder = Set(map.values).sorted()
            for shard in shardOrder {
                let shardPath = (directory as NSString).appendingPathComponent(shard)
                guard fm.fileExists(atPath: shardPath) else {
                    throw QQQError.badFile(path: indexPath, reason: "shard '\(shard)' named in weight_map is missing")
                }
            }
            for shard in shardOrder {
                let file = try SafetensorsFile(path: (directory as NSString).appendingPathComponent(shard))
                let index = files.count
                files.append(file)
                for name in file.names where map[name] == shard {
                    location[name] = index
                    names.append(name)
                }
            }
            for (name, shard) in map.sorted(by: { $0.key < $1.key }) where location[name] == nil {
                throw QQQError.badTensor(path: indexPath, tensor: name,
                    reason: "listed in weight_map under '\(shard)' but absent from that shard")
            }
            self.indexPath = indexPath
        } else {
            var paths: [String]
            if fm.fileExists(atPath: singlePath) {
                paths = [singlePath]
            } else {
                let entries: [String]
                do { entries = try fm.contentsOfDirectory(atPath: directory) } catch {
                    throw QQQError.badFile(path: directory, reason: "cannot list directory")
                }
                paths = entries.filter { $0.hasSuffix(".safetensors") && !$0.hasPrefix(".") }.sorted()
                    .map { (directory as NSString).appendingPathComponent($0) }
                guard !paths.isEmpty else {
                    throw QQQError.badFile(path: directory,
                        reason: "no \(Self.indexFileName), \(Self.singleFileName) or other *.safetensors file")
                }
            }
            for path in paths {
                let file = try SafetensorsFile(path: path)
                let index = files.count
                files.append(file)
                for name in file.names {
                    if let other = location[name] {
                        throw QQQError.badTensor(path: path, tensor: name,
                            reason: "also present in \(files[other].path); without an index each tensor must be in one file")
                    }
                    location[name] = index
                    names.append(name)
                }
            }
            self.indexPath = nil
        }
        self.files = files
        self.location = location
        self.names = names
    }

    /// Reads `weight_map` (tensor -> shard file name) from an index file.
    private static func readWeightMap(indexPath: String) throws -> [String: String] {
        guard let data = FileManager.default.contents(atPath: indexPath) else {
            throw QQQError.badFile(path: indexPath, reason: "cannot read")
        }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw QQQError.badFile(path: indexPath, reason: "not a JSON object")
        }
        guard let raw = object["weight_map"] as? [String: Any] else {
            throw QQQError.badFile(path: indexPath, reason: "missing 'weight_map' object")
        }
        var map: [String: String] = [:]
        for (name, value) in raw {
            guard let shard = value as? String, !shard.isEmpty else {
                throw QQQError.badFile(path: indexPath, reason: "weight_map entry '\(name)' is \(JSONValue.describe(value)), expected a file name")
            }
            // Shards live in the checkpoint folder; refuse paths that would leave it.
            guard !shard.hasPrefix("/"), !shard.split(separator: "/").contains("..") else {
                throw QQQError.badFile(path: indexPath, reason: "weight_map entry '\(name)' points outside the folder: '\(shard)'")
            }
            map[name] = shard
        }
        guard !map.isEmpty else {
            throw QQQError.badFile(path: indexPath, reason: "weight_map is empty")
        }
        return map
    }

    public func contains(_ name: String) -> Bool { location[name] != nil }

    /// The file holding `name`.
    public func file(for name: String) throws -> SafetensorsFile {
        guard let i = location[name] else {
            throw QQQError.badTensor(path: directory, tensor: name, reason: "not found in the checkpoint")
        }
        return files[i]
    }

    public func info(_ name: String) throws -> TensorInfo {
        try file(for: name).info(name)
    }

    public func tensor(_ name: String) throws -> Tensor {
        try file(for: name).tensor(name)
    }

    /// Fetches `name` and checks its dtype is one of `dtypes` and its shape is exactly `shape`.
    public func tensor(_ name: String, shape: [Int], dtypes: Set<DType> = [.f32, .f16, .bf16]) throws -> Tensor {
        let t = try tensor(name)
        guard dtypes.contains(t.dtype) else {
            let allowed = dtypes.map(\.rawValue).sorted().joined(separator: ", ")
            throw QQQError.badTensor(path: t.path, tensor: name, reason: "dtype \(t.dtype.rawValue), expected one of [\(allowed)]")
        }
        guard t.shape == shape else {
            throw QQQError.badTensor(path: t.path, tensor: name, reason: "expected shape \(shape), got \(t.shape)")
        }
        return t
    }

    /// Total bytes of tensor data across all shards.
    public var totalTensorBytes: Int {
        files.reduce(0) { acc, f in f.tensors.values.reduce(acc) { $0 + $1.byteCount } }
    }
}
