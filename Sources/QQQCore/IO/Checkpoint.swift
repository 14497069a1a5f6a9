import Foundation

/// A Hugging Face checkpoint folder. File selection: `model.safetensors.index.json` first (every shard
/// it names must exist, and every tensor it lists must be in its shard); else `model.safetensors`; else
/// every `*.safetensors` file in the folder (names must not repeat across files).
public final class Checkpoint: @unchecked Sendable {
    public let directory: String
    public let files: [SafetensorsFile]
    private let location: [String: Int]  // tensor name -> index in files

    public init(directory: String) throws {
        self.directory = directory
        let fm = FileManager.default
        let indexPath = (directory as NSString).appendingPathComponent("model.safetensors.index.json")
        let singlePath = (directory as NSString).appendingPathComponent("model.safetensors")
        var files: [SafetensorsFile] = []
        var location: [String: Int] = [:]
        if fm.fileExists(atPath: indexPath) {
            guard let data = fm.contents(atPath: indexPath),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let weightMap = object["weight_map"] as? [String: String] else {
                throw QQQError.badFile(path: indexPath, reason: "corrupt index: no \"weight_map\" object of tensor -> file")
            }
            var fileIndex: [String: Int] = [:]
            for shard in Set(weightMap.values).sorted() {
                let shardPath = (directory as NSString).appendingPathComponent(shard)
                guard fm.fileExists(atPath: shardPath) else {
                    throw QQQError.badFile(path: shardPath, reason: "missing: shard named by model.safetensors.index.json")
                }
                fileIndex[shard] = files.count
                files.append(try SafetensorsFile(path: shardPath))
            }
            for (name, shard) in weightMap {
                let i = fileIndex[shard]!
                guard files[i].tensors[name] != nil else {
                    throw QQQError.badTensor(path: files[i].path, tensor: name, reason: "listed in model.safetensors.index.json but absent from the shard")
                }
                location[name] = i
            }
        } else {
            var paths: [String] = []
            if fm.fileExists(atPath: singlePath) {
                paths = [singlePath]
            } else {
                let names = (try? fm.contentsOfDirectory(atPath: directory)) ?? []
                paths = names.filter { $0.hasSuffix(".safetensors") }.sorted().map { (directory as NSString).appendingPathComponent($0) }
            }
            guard !paths.isEmpty else {
                throw QQQError.badFile(path: directory, reason: "no model.safetensors, model.safetensors.index.json or *.safetensors file")
            }
            for path in paths {
                let file = try SafetensorsFile(path: path)
                for name in file.tensors.keys {
                    if let other = location[name] {
                        throw QQQError.badTensor(path: path, tensor: name, reason: "also present in \(files[other].path)")
                    }
                    location[name] = files.count
                }
                files.append(file)
            }
        }
        self.files = files
        self.location = location
    }

    public var names: [String] { location.keys.sorted() }

    public func contains(_ name: String) -> Bool { location[name] != nil }

    public func info(_ name: String) throws -> TensorInfo {
        guard let i = location[name] else { throw missing(name) }
        return files[i].tensors[name]!
    }

    public func tensor(_ name: String) throws -> Tensor {
        guard let i = location[name] else { throw missing(name) }
        return try files[i].tensor(name)
    }

    /// The tensor, checked for dtype and exact shape.
    public func tensor(_ name: String, shape: [Int], dtypes: Set<DType> = [.f32, .f16, .bf16]) throws -> Tensor {
        let t = try tensor(name)
        guard dtypes.contains(t.dtype) else {
            throw QQQError.badTensor(path: t.file.path, tensor: name,
                                     reason: "dtype \(t.dtype.rawValue), expected one of \(dtypes.map(\.rawValue).sorted().joined(separator: ", "))")
        }
        guard t.shape == shape else {
            throw QQQError.badTensor(path: t.file.path, tensor: name, reason: "expected shape \(shape), got \(t.shape)")
        }
        return t
    }

    private func missing(_ name: String) -> QQQError {
        let where_ = files.count == 1 ? files[0].path : directory
        return QQQError.badTensor(path: where_, tensor: name, reason: "missing")
    }
}
